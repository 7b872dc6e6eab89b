"""``--suite DIR`` of ``sqlrl eval spider`` and ``eval bird``: execution accuracy on the database and on its
distilled test suite side by side.

A suite folder holds ``<db_id>/`` per database (``sqlrl suite build --out DIR``, or the official
test-suite layout). Beside the evaluator's own execution metric on the database, every example gets a
suite metric: right iff the prediction, as the evaluator runs it, matches the gold on every database of
``DIR/<db_id>/`` (:func:`sqlrl.suite.suite_verdicts`: variants where the gold's ORDER BY ties decide its
result are skipped for it). The examples right on the database and wrong on the suite (``rejected``)
are the ones plain execution accuracy accepted by luck; ``meta["suite"]`` lists them.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlrl.data.errors import MalformedDatasetError
from sqlrl.eval.report import EvalReport, ExampleResult

__all__ = ["SuiteRun", "check_suites", "format_suite_flips", "score_on_suites"]

PathLike = str | os.PathLike[str]


@dataclass(frozen=True)
class SuiteRun:
    """One example's texts as the evaluator runs them: ``gold``, ``pred`` (None: no prediction), whether row
    order counts, and ``built_from``, the gold as the suite was built from it (for its tied variants)."""

    gold: str
    pred: str | None
    order_matters: bool
    built_from: str


def check_suites(suite_dir: PathLike, db_ids: Sequence[str]) -> Path:
    """The suite folder, after checking that it holds ``<db_id>/`` for every database evaluated.

    Raises:
        MalformedDatasetError: the folder is missing, or some database has no suite in it.
    """
    root = Path(suite_dir)
    if not root.is_dir():
        what = "does not exist" if not root.exists() else "is no folder"
        raise MalformedDatasetError(f"--suite {root} {what}: pass the --out folder of `sqlrl suite build`")
    missing = sorted({db for db in db_ids if not (root / db).is_dir()})
    if missing:
        shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
        raise MalformedDatasetError(
            f"--suite {root} has no test suite for {len(missing)} database(s): {shown}; build them with "
            f"`sqlrl suite build --db <database> --gold <gold file> --out {root}`"
        )
    return root


def score_on_suites(
    report: EvalReport,
    runs: Sequence[SuiteRun],
    suite_dir: Path,
    pool: Any,
    *,
    base: str,
    metric: str,
    mode: str,
    dialect: str | None = None,
    progress: bool | None = None,
) -> None:
    """Add ``metric`` (the suite verdict) to every example of ``report`` (``runs`` in the same order), the
    reason of each suite failure to ``extra["suite"]``, and ``meta["suite"]``: the folder, and the examples
    whose verdict the suite flipped against ``base``, the evaluator's execution metric."""
    from sqlrl.suite.verdict import suite_verdicts

    by_db: dict[str, list[int]] = {}
    for k, ex in enumerate(report.examples):
        by_db.setdefault(ex.db_id, []).append(k)
    other = sorted(db_id for db_id in by_db if _built_for(suite_dir / db_id) not in (None, mode))
    if other:
        report.meta.setdefault("notes", {})["suite_mode"] = (
            f"the suites of {', '.join(other[:5])} were distilled for another comparison than {mode}'s: variants "
            f"may miss near-misses {mode} tells apart (build them with `sqlrl suite build --mode {mode}`)"
        )
    for db_id, ks in by_db.items():
        verdicts = suite_verdicts(
            [(runs[k].gold, runs[k].pred) for k in ks], suite_dir / db_id, mode=mode,
            order_matters=[runs[k].order_matters for k in ks], tie_keys=[runs[k].built_from for k in ks],
            dialect=dialect, service=pool, progress=progress,
        )  # fmt: skip
        for k, verdict in zip(ks, verdicts, strict=True):
            ex = report.examples[k]
            ex.metrics[metric] = float(verdict.correct)
            if not verdict.correct and verdict.failed_on is not None:
                ex.extra["suite"] = {"failed_on": verdict.failed_on.name, "reason": verdict.reason}
    if metric not in report.metrics:
        report.metrics.append(metric)
    report.meta["suite"] = {
        "dir": str(suite_dir),
        "base": base,
        "metric": metric,
        "rejected": [ex.index for ex in report.examples if _flip(ex, base, metric) == "rejected"],
        "accepted": [ex.index for ex in report.examples if _flip(ex, base, metric) == "accepted"],
    }


def _built_for(folder: Path) -> str | None:
    """The comparison a suite was distilled for (``suite.json``; suites built before it was recorded were
    distilled for ``spider``); None for a suite without ``suite.json`` (the official downloads)."""
    import json

    try:
        data = json.loads((folder / "suite.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(data.get("settings", {}).get("mode", "spider"))


def _flip(ex: ExampleResult, base: str, metric: str) -> str | None:
    before, after = ex.metrics.get(base), ex.metrics.get(metric)
    if before is None or after is None or before == after:
        return None
    return "rejected" if before > after else "accepted"


def format_suite_flips(report: EvalReport, limit: int = 10) -> str:
    """Lines saying how many verdicts the suite flipped and which (the first ``limit`` of each kind)."""
    info = report.meta.get("suite")
    if not info:
        return ""
    by_index = {ex.index: ex for ex in report.examples}
    rejected, accepted = info["rejected"], info["accepted"]
    lines = [
        f"test suite {info['dir']}: {len(rejected)} right on the database but wrong on the suite"
        + (f", {len(accepted)} wrong on the database but right on the suite" if accepted else "")
    ]
    for k in rejected[:limit]:
        ex = by_index[k]
        why = ex.extra.get("suite", {})
        lines.append(f"  #{k} {ex.db_id}: {why.get('failed_on', '?')}: {why.get('reason', '')}  | {_short(ex.pred)}")
    if len(rejected) > limit:
        lines.append(f"  ... and {len(rejected) - limit} more (per example in --out's JSONL, extra.suite)")
    for k in accepted[:limit]:
        ex = by_index[k]
        lines.append(f"  #{k} {ex.db_id}: right on the suite only | {_short(ex.pred)}")
    return "\n".join(lines)


def _short(sql: str, width: int = 90) -> str:
    flat = " ".join(sql.split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."
