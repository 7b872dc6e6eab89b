"""The verdict on a test suite: a prediction is right iff its result matches the gold's (``spider`` mode,
row order compared when the gold has ``ORDER BY``, as :func:`sqlrl.scoring.gold_has_order_by` says)
on the original database and on every variant. A gold that fails on a database, or a prediction that
fails where the gold runs, makes the verdict wrong.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlrl.suite.errors import SuiteError

__all__ = ["SuiteVerdict", "suite_databases", "suite_match", "suite_variants", "suite_verdicts", "tied_golds"]

PathLike = str | os.PathLike[str]
#: A numbered variant's file name ends so: ``<db_id>_<n>.sqlite`` or ``<db_id>_<n>.duckdb``.
NUMBERED = re.compile(r"_(\d+)\.(sqlite|duckdb)$")
_SUFFIXES = (".sqlite", ".duckdb")


@dataclass(frozen=True)
class SuiteVerdict:
    """``correct``; else ``failed_on``, the first database (original first) where it went wrong, and why."""

    correct: bool
    failed_on: Path | None = None
    reason: str = ""

    def __bool__(self) -> bool:
        return self.correct


def _tied(suite: Any) -> dict[str, list[str]]:
    """Variant file name -> gold queries the verdict skips it for (``suite.json``'s ``tied``)."""
    if hasattr(suite, "tied"):
        return dict(suite.tied)
    if isinstance(suite, (list, tuple)):
        return {}
    try:
        import json

        return dict(json.loads((Path(suite) / "suite.json").read_text(encoding="utf-8")).get("tied", {}))
    except (OSError, ValueError):
        return {}


def tied_golds(suite: Any) -> dict[str, set[str]]:
    """Variant file name -> the gold queries whose ORDER BY ties decide their result there (``suite.json``)."""
    return {name: set(golds) for name, golds in _tied(suite).items()}


def suite_databases(suite: Any) -> list[Path]:
    """The databases of a suite, the original first: a :class:`~sqlrl.suite.Suite`, a list of files, or a
    suite folder (``<db_id>/`` holding ``<db_id>.sqlite`` and ``<db_id>_<n>.sqlite``, or the same names
    ending in ``.duckdb`` for a DuckDB or CSV suite; the other files whose name holds ``.sqlite`` follow, by
    name).

    Raises:
        SuiteError: the folder is missing or holds no SQLite or DuckDB file.
    """
    if hasattr(suite, "paths"):
        return list(suite.paths)
    if isinstance(suite, (list, tuple)):
        return [Path(p) for p in suite]
    folder = Path(suite)
    if not folder.is_dir():
        raise SuiteError(f"suite folder {folder} does not exist" if not folder.exists() else f"{folder} is no folder")
    files = [p for p in folder.iterdir() if (".sqlite" in p.name or p.name.endswith(".duckdb")) and p.is_file()]
    if not files:
        raise SuiteError(f"suite folder {folder} holds no .sqlite or .duckdb file")

    def rank(p: Path) -> tuple[int, int, str]:
        if p.name in (f"{folder.name}{s}" for s in _SUFFIXES):
            return (0, 0, p.name)
        m = NUMBERED.search(p.name)
        return (1, int(m.group(1)), p.name) if m else (2, 0, p.name)

    return sorted(files, key=rank)


def suite_variants(folder: PathLike) -> list[Path]:
    """The variants of a suite folder: :func:`suite_databases` without the original's copy
    (``<db_id>.sqlite`` or ``<db_id>.duckdb``). Empty when the build kept none (no variant separated a
    near-miss the original could not).

    Raises:
        SuiteError: the folder is missing or holds no database file.
    """
    folder = Path(folder)
    return [p for p in suite_databases(folder) if p.name not in (f"{folder.name}{s}" for s in _SUFFIXES)]


def suite_verdicts(
    pairs: Sequence[tuple[str, str | None]],
    suite: Any,
    *,
    mode: str = "spider",
    order_matters: Sequence[bool] | None = None,
    tie_keys: Sequence[str] | None = None,
    dialect: str | None = None,
    service: Any = None,
    workers: int | None = None,
    progress: bool | None = None,
) -> list[SuiteVerdict]:
    """The suite verdict of each ``(gold, prediction)`` pair on one suite; a variant where the gold's ORDER BY
    ties decide its result (``suite.json``'s ``tied``) is skipped for that gold. Each distinct query runs once
    per database through an :class:`~sqlrl.sandbox.service.ExecutionService` (``service``, else a new one
    with the rewards' settings: SQLite files on SQLite, DuckDB files on DuckDB). A prediction that is None is wrong.

    Args:
        pairs: ``(gold, prediction)`` texts as they are to run.
        suite: a :class:`~sqlrl.suite.Suite`, a list of database files or a suite folder.
        mode: how results are compared (:func:`sqlrl.compare`): ``spider`` (row order when the gold has
            ORDER BY) or ``bird`` (sets of rows).
        order_matters: per pair, whether row order is compared in ``spider`` mode (default: the gold
            has ORDER BY, :func:`sqlrl.scoring.gold_has_order_by`).
        tie_keys: per pair, the gold as the suite was built from it, to find its tied variants (default:
            the gold); an evaluator that rewrites the gold before running it passes the original.
        dialect: the predictions' dialect, translated for the sandbox (None: the sandbox's own).
    """
    from sqlrl.sandbox.service import ExecutionService
    from sqlrl.scoring import compare, gold_has_order_by

    if mode not in ("spider", "bird"):
        raise ValueError(f"mode must be 'spider' or 'bird', got {mode!r}")
    for name, given in (("order_matters", order_matters), ("tie_keys", tie_keys)):
        if given is not None and len(given) != len(pairs):
            raise ValueError(f"{name} has {len(given)} entries for {len(pairs)} pairs")
    databases = suite_databases(suite)
    tied = tied_golds(suite)
    own = service is None
    if own:
        service = ExecutionService(workers=workers, keep_rows=False)
    try:
        queries: list[tuple[Any, ...]] = []
        for db in databases:
            for gold, pred in pairs:
                queries.append((db, gold))
                if pred is not None:
                    queries.append((db, pred, None, dialect))
        results = service.run(queries, progress=progress, desc="suite")
    finally:
        if own:
            service.close()
    found = {(str(q[0]), q[1], len(q) > 2): r for q, r in zip(queries, results, strict=True)}
    out = []
    for i, (gold, pred) in enumerate(pairs):
        verdict = SuiteVerdict(True)
        if pred is None:
            verdict = SuiteVerdict(False, databases[0], "no prediction")
        else:
            order = mode == "spider" and (gold_has_order_by(gold) if order_matters is None else order_matters[i])
            key = (gold if tie_keys is None else tie_keys[i]).strip()
            for db in databases:
                if key in tied.get(db.name, ()):
                    continue  # the gold's ORDER BY ties decide its result here
                g, p = found[(str(db), gold, False)], found[(str(db), pred, True)]
                if not g.ok:
                    verdict = SuiteVerdict(False, db, f"the gold fails ({g.error_kind}): {g.error}")
                elif not p.ok:
                    verdict = SuiteVerdict(False, db, f"the prediction fails ({p.error_kind}): {p.error}")
                elif not compare(g.table, p.table, mode=mode, order_matters=order):
                    verdict = SuiteVerdict(False, db, "the results differ")
                if not verdict:
                    break
        out.append(verdict)
    return out


def suite_match(gold: str, pred: str | None, suite: Any, *, service: Any = None) -> SuiteVerdict:
    """The suite verdict of one prediction (see :func:`suite_verdicts`)."""
    return suite_verdicts([(gold, pred)], suite, service=service)[0]
