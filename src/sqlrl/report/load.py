"""Read what sqlrl's commands write, and tell which command wrote a path.

- ``sqlrl eval spider|bird|spider2|paverl --out DIR``: ``<stem>.json`` (summary) and ``<stem>.jsonl``
  (one line per example); either file, or the folder when it holds one such pair, is an input.
- ``sqlrl train``: the output folder (``state.json``, ``summary.json``, ``<phase>/eval-<split>.jsonl``,
  ``<stage>/val-<step>.jsonl``).
- ``sqlrl generate --out DIR``: ``samples.jsonl`` (and ``generate.json``).
- ``sqlrl verbal --out DIR``: ``trajectories.jsonl`` (and ``summary.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlrl.data import _files
from sqlrl.data.errors import DatasetError
from sqlrl.errors import SqlrlError

__all__ = ["ReportInputError", "Run", "load_run", "read_json", "read_jsonl"]


class ReportInputError(SqlrlError, ValueError):
    """An input of ``sqlrl report`` is missing, unreadable, or not something a sqlrl command writes."""


@dataclass
class Run:
    """One command's output.

    Attributes:
        kind: ``eval``, ``train``, ``generate`` or ``verbal``.
        path: the file or folder it was read from.
        summary: the summary JSON (eval summary, train ``state.json``, ``generate.json``, verbal summary).
        records: the per-example lines (eval JSONL, generate samples, verbal trajectories; empty for train).
        extra: kind-specific files (train: ``summary.json`` and the eval records of each phase).
    """

    kind: str
    path: Path
    summary: dict[str, Any]
    records: list[dict[str, Any]] = field(default_factory=list)
    extra: dict[str, Any] = field(default_factory=dict)


def read_json(path: Path, what: str) -> Any:
    """A JSON file (:func:`sqlrl.data._files.read_json`); a missing or broken file raises
    :class:`ReportInputError` naming it."""
    try:
        return _files.read_json(path, what)
    except DatasetError as e:
        raise ReportInputError(str(e)) from None


def read_jsonl(path: Path, what: str) -> list[dict[str, Any]]:
    """A JSON Lines file of objects (:func:`sqlrl.data._files.iter_jsonl`: blank lines skipped); a broken
    line raises :class:`ReportInputError` naming file and line."""
    try:
        return [dict(obj) for _, obj in _files.iter_jsonl(path, what)]
    except DatasetError as e:
        raise ReportInputError(str(e)) from None


def _eval_pair(path: Path) -> tuple[Path, Path]:
    """The summary and per-example files of an eval output given as either file or its folder."""
    if path.is_dir():
        stems = sorted(p.stem for p in path.glob("*.jsonl") if (p.with_suffix(".json")).is_file())
        found = [s for s in stems if _is_eval_summary(path / f"{s}.json")]
        if not found:
            raise ReportInputError(
                f"{path}: no sqlrl output here (an eval's <stem>.json and <stem>.jsonl, a train folder's "
                f"state.json, generate's samples.jsonl or verbal's trajectories.jsonl)"
            )
        if len(found) > 1:
            raise ReportInputError(f"{path} holds several evaluations ({', '.join(found)}): name the .json file")
        return path / f"{found[0]}.json", path / f"{found[0]}.jsonl"
    if path.suffix == ".jsonl":
        return path.with_suffix(".json"), path
    return path, path.with_suffix(".jsonl")


def _is_eval_summary(path: Path) -> bool:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False
    return isinstance(data, dict) and "benchmark" in data and "summary" in data


def detect(path: Path) -> str:
    """Which command wrote ``path``: ``eval``, ``train``, ``generate`` or ``verbal``."""
    if not path.exists():
        raise ReportInputError(f"{path}: no such file or folder")
    if path.is_dir():
        if (path / "state.json").is_file():
            return "train"
        if (path / "samples.jsonl").is_file():
            return "generate"
        if (path / "trajectories.jsonl").is_file():
            return "verbal"
        return "eval"
    if path.name == "state.json":
        return "train"
    if path.name == "samples.jsonl" or path.name == "generate.json":
        return "generate"
    if path.name == "trajectories.jsonl":
        return "verbal"
    return "eval"


def load_run(path: str | Path) -> Run:
    """Read one command's output (see the module); raises :class:`ReportInputError` for anything else."""
    path = Path(path)
    kind = detect(path)
    if kind == "eval":
        summary_path, records_path = _eval_pair(path)
        summary = read_json(summary_path, "evaluation summary (<stem>.json of sqlrl eval --out)")
        if not isinstance(summary, dict) or "benchmark" not in summary or "summary" not in summary:
            raise ReportInputError(
                f"{summary_path}: not the summary of sqlrl eval (no 'benchmark' and 'summary' fields)"
            )
        records = read_jsonl(records_path, "per-example results (<stem>.jsonl of sqlrl eval --out)")
        for n, r in enumerate(records, 1):
            if "index" not in r or "metrics" not in r:
                raise ReportInputError(f"{records_path}, line {n}: not an eval example (no 'index' and 'metrics')")
        return Run("eval", summary_path, summary, records)
    folder = path if path.is_dir() else path.parent
    if kind == "train":
        state = read_json(folder / "state.json", "training state (state.json of sqlrl train)")
        if not isinstance(state, dict) or not isinstance(state.get("phases"), dict):
            raise ReportInputError(f"{folder / 'state.json'}: not the state of sqlrl train (no 'phases')")
        extra: dict[str, Any] = {}
        if (folder / "summary.json").is_file():
            extra["summary"] = read_json(folder / "summary.json", "training summary (summary.json)")
        evals: dict[str, dict[str, list[dict[str, Any]]]] = {}
        vals: dict[str, dict[int, list[dict[str, Any]]]] = {}
        for name in state["phases"]:
            for f in sorted((folder / name).glob("eval-*.jsonl")):
                evals.setdefault(name, {})[f.stem[len("eval-") :]] = read_jsonl(f, "eval records of sqlrl train")
            for f in (folder / name).glob("val-*.jsonl"):
                if f.stem[len("val-") :].isdigit():
                    vals.setdefault(name, {})[int(f.stem[len("val-") :])] = read_jsonl(f, "validation records")
        extra["evals"] = evals
        extra["vals"] = {name: dict(sorted(steps.items())) for name, steps in vals.items()}
        return Run("train", folder, state, extra=extra)
    if kind == "generate":
        samples = path if path.suffix == ".jsonl" else folder / "samples.jsonl"
        meta_path = samples.parent / "generate.json"
        meta = read_json(meta_path, "generate.json") if meta_path.is_file() else {}
        return Run("generate", samples, meta, read_jsonl(samples, "samples of sqlrl generate"))
    trajectories = path if path.is_file() else folder / "trajectories.jsonl"
    meta_path = trajectories.parent / "summary.json"
    meta = read_json(meta_path, "summary.json of sqlrl verbal") if meta_path.is_file() else {}
    return Run("verbal", trajectories, meta, read_jsonl(trajectories, "trajectories of sqlrl verbal"))
