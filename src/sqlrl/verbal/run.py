"""Run the verbal loop over a dataset: resumable trajectories, official prediction files, a summary.

Output folder:

- ``trajectories.jsonl``: one line per finished question (see :mod:`sqlrl.verbal.trajectory`),
  appended as questions finish; a second run with the same folder skips the questions already
  there (``resume``), after dropping a line cut short by an interruption.
- predictions in the benchmark's official format, for the finished questions in dataset order:
  sqlrl-toy and Spider ``pred.sql`` (one query per line) with ``gold.sql`` (``SQL<TAB>db_id`` of
  the same questions) for ``sqlrl eval spider``; BIRD ``predict_dev.json`` with ``dev_gold.sql`` and
  ``dev.jsonl`` (difficulties) for ``sqlrl eval bird``; Spider 2.0 ``sql/<instance_id>.sql`` for
  ``sqlrl eval spider2 --mode sql``; and for every dataset ``predictions.jsonl`` (``id``, ``pred``)
  for ``sqlrl eval paverl``.
- ``summary.json``: counts, reasons of the choices, request and judge statistics, and (when the
  gold is known) the execution-match rate of the prediction, of the first sample and of the
  majority vote over the same samples, and of "any candidate" (an upper bound).

The files are written by :mod:`sqlrl.eval.pred_files`, as ``sqlrl generate`` writes them: a line of
``pred.sql`` holds its query with tabs and line breaks turned into spaces (the format has one query
per line, so a line break inside a string literal becomes a space; other spaces are kept), and a
question without SQL gets :data:`~sqlrl.verbal.loop.NO_SQL`.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlrl.data.example import Example, ExampleSet
from sqlrl.eval.pred_files import (
    write_bird_difficulties,
    write_bird_predictions,
    write_gold_lines,
    write_spider2_folder,
    write_spider_predictions,
)
from sqlrl.models.chat import ChatModel
from sqlrl.verbal.config import VerbalConfig
from sqlrl.verbal.loop import NO_SQL, VerbalLoop
from sqlrl.verbal.trajectory import read_trajectories

__all__ = ["RunSummary", "dataset_kind", "run_verbal", "write_predictions"]

PathLike = str | os.PathLike[str]
TRAJECTORIES = "trajectories.jsonl"


def dataset_kind(dataset: ExampleSet) -> str:
    """``toy``, ``spider``, ``bird``, ``spider2`` or ``jsonl``, from the dataset's name."""
    name = dataset.name.lower()
    if name == "sqlrl-toy":
        return "toy"
    if name.startswith("spider2"):
        return "spider2"
    if name.startswith("bird"):
        return "bird"
    if name.startswith("spider"):
        return "spider"
    return "jsonl"


@dataclass
class RunSummary:
    """What :func:`run_verbal` did and wrote."""

    out_dir: Path
    total: int
    done: int
    skipped: int
    ran: int
    errors: int
    elapsed: float
    files: dict[str, Path] = field(default_factory=dict)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "out_dir": str(self.out_dir),
            "questions": self.total,
            "finished": self.done,
            "skipped_as_finished": self.skipped,
            "ran": self.ran,
            "errors": self.errors,
            "elapsed_s": round(self.elapsed, 3),
            "files": {k: str(v) for k, v in self.files.items()},
            **self.stats,
        }


def write_predictions(
    dataset: ExampleSet, records: Sequence[dict[str, Any]], out_dir: PathLike, kind: str
) -> dict[str, Path]:
    """Write the predictions of ``records`` (trajectory records) in ``kind``'s official format.

    Only questions with a record are written, in dataset order. Returns the files by role.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    by_id = {str(r["id"]): r for r in records}
    done = [ex for ex in dataset if ex.id in by_id]
    preds = [(ex, by_id[ex.id].get("prediction") or NO_SQL) for ex in done]
    files: dict[str, Path] = {}
    jsonl = out / "predictions.jsonl"
    jsonl.write_text("".join(json.dumps({"id": ex.id, "db_id": ex.db_id, "pred": sql}, ensure_ascii=False) + "\n"
                             for ex, sql in preds), encoding="utf-8")  # fmt: skip
    files["predictions"] = jsonl
    gold = [(ex.gold_sql, ex.db_id) for ex, _ in preds]
    if kind in ("toy", "spider"):
        files["pred"] = write_spider_predictions(out / "pred.sql", [sql for _, sql in preds], no_sql=NO_SQL)
        files["gold"] = write_gold_lines(out / "gold.sql", gold, no_sql=NO_SQL)
    elif kind == "bird":
        pairs = [(sql, ex.db_id) for ex, sql in preds]
        files["pred"] = write_bird_predictions(out / "predict_dev.json", pairs, no_sql=NO_SQL)
        files["gold"] = write_gold_lines(out / "dev_gold.sql", gold, no_sql=NO_SQL)
        difficulties = [(ex.id, ex.db_id, ex.difficulty) for ex, _ in preds]
        files["difficulty"] = write_bird_difficulties(out / "dev.jsonl", difficulties)
    elif kind == "spider2":
        files["pred"] = write_spider2_folder(out / "sql", [(ex.id, sql) for ex, sql in preds], no_sql=NO_SQL)
    return files


def _summarize(records: Sequence[dict[str, Any]]) -> dict[str, Any]:
    reasons = Counter(r.get("reason", "?") for r in records)
    totals: Counter[str] = Counter()
    for r in records:
        for k, v in (r.get("stats") or {}).items():
            if isinstance(v, (int, float)):
                totals[k] += v
    out: dict[str, Any] = {"reasons": dict(reasons), "totals": dict(totals)}
    scored = [
        r["gold_match"] for r in records if isinstance(r.get("gold_match"), dict) and "prediction" in r["gold_match"]
    ]
    if scored:
        n = len(scored)
        out["gold_match"] = {
            "questions": n,
            "mode": scored[0].get("mode"),
            **{
                key: round(sum(bool(g.get(key)) for g in scored) / n, 4)
                for key in ("prediction", "single", "majority", "any")
            },
        }
    return out


def run_verbal(
    dataset: ExampleSet,
    generator: ChatModel,
    judge: ChatModel | None = None,
    *,
    out_dir: PathLike,
    config: VerbalConfig | None = None,
    kind: str | None = None,
    workers: int = 1,
    resume: bool = True,
    progress: bool | None = None,
    pool: Any = None,
) -> RunSummary:
    """Run the verbal loop on every example of ``dataset`` and write the outputs into ``out_dir``.

    Args:
        dataset: any loaded dataset (:func:`sqlrl.data.load_toy`, ``load_spider``, ``load_bird``, ...).
        generator: the chat model that writes SQL (:class:`~sqlrl.models.chat.ChatModel`).
        judge: the chat model that scores (default: the generator).
        out_dir: output folder (created).
        config: loop settings.
        kind: prediction format (default: from the dataset's name, see :func:`dataset_kind`).
        workers: questions solved at the same time (threads; an HTTP backend's own ``concurrency``
            bounds the requests in flight).
        resume: skip the questions already in ``trajectories.jsonl``; False starts the file afresh.
        progress: show a progress bar (None: when stderr is a terminal).
        pool: an :class:`~sqlrl.sandbox.service.ExecutionService` to execute in (default: one from the config).

    Example failures (a prompt that cannot be built, a missing database) are recorded with
    ``reason="error"`` and the prediction :data:`~sqlrl.verbal.loop.NO_SQL`; a resumed run tries them
    again. Ctrl-C stops after the questions in progress, whose trajectories are written.
    """
    from sqlrl.sandbox.parallel import parallel_map

    cfg = config or VerbalConfig()
    kind = kind or dataset_kind(dataset)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    path = out / TRAJECTORIES
    t0 = time.perf_counter()
    if not resume and path.exists():
        path.unlink()
    previous = read_trajectories(path, repair=True)
    finished = {str(r["id"]) for r in previous if r.get("reason") != "error"}
    todo = [ex for ex in dataset if ex.id not in finished]
    mode = "bird" if kind == "bird" else "spider"
    lock = threading.Lock()
    errors = [0]
    ran = [0]
    if progress is None:
        progress = sys.stderr.isatty()
    loop = VerbalLoop(generator, judge, config=cfg, pool=pool)

    def solve(ex: Example) -> None:
        try:
            record = loop.solve(ex, tables_entry=dataset.tables.get(ex.db_id), mode=mode).to_json()
        except Exception as e:  # noqa: BLE001 - one broken example must not stop the run
            record = {"id": ex.id, "db_id": ex.db_id, "question": ex.question, "prediction": NO_SQL, "reason": "error",
                      "error": f"{type(e).__name__}: {e}", "config_hash": loop.config_hash}  # fmt: skip
            errors[0] += 1
        line = json.dumps(record, ensure_ascii=False, default=str) + "\n"
        with lock, open(path, "a", encoding="utf-8") as f:
            f.write(line)
            f.flush()
            ran[0] += 1

    try:
        parallel_map(solve, todo, workers=workers, progress=bool(progress) and bool(todo), desc="verbal")
    finally:
        loop.close()
        records = read_trajectories(path)
        files = write_predictions(dataset, records, out, kind)
        files["trajectories"] = path
        ids = {ex.id for ex in dataset}
        mine = [r for r in records if str(r["id"]) in ids]
        stats = _summarize(mine)
        hashes = {r.get("config_hash") for r in mine}
        if len(hashes) > 1:
            stats["note"] = "the trajectory file mixes runs with different settings (config_hash)"
        summary = RunSummary(out, len(dataset), sum(1 for r in mine if r.get("reason") != "error"),
                             len(dataset) - len(todo), ran[0], errors[0], time.perf_counter() - t0, files,
                             stats)  # fmt: skip
        summary.stats["config"] = cfg.to_json()
        (out / "summary.json").write_text(json.dumps(summary.to_json(), indent=2, default=str) + "\n", encoding="utf-8")
        summary.files["summary"] = out / "summary.json"
    return summary
