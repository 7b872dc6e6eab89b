"""What the framework adapters share: one cached reward set per (spec, options), and one scoring pass
over rows that each carry their gold query and database, with bad rows scored apart instead of
failing the batch.

Absolute imports only: OpenRLHF loads :mod:`sqlrl.integrations.openrlhf` from its file path as a
standalone module, and that module imports this one.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlrl.rewards.batch import RewardInputError

__all__ = ["COLUMNS", "Row", "RowError", "reward_set", "score_rows", "write_records"]

log = logging.getLogger("sqlrl.integrations")

#: The per-row columns the rewards read (the TRL dataset columns of :mod:`sqlrl.rewards.batch`), besides
#: ``gold_sql`` and ``db_path``.
COLUMNS = ("engine", "dialect", "gold_dialect", "db_id", "question", "evidence")

#: Detail key set to 1.0 on a row whose inputs could not be read (its score is 0.0).
INPUT_ERROR = "input_error"


class RowError(RewardInputError):
    """One row's gold query or database is missing or malformed (raised only with ``strict=True``)."""


@dataclass
class Row:
    """One completion to score, with its reward columns; ``error`` says why it cannot be scored."""

    completion: Any
    gold_sql: str | None = None
    db_path: str | None = None
    columns: dict[str, Any] = field(default_factory=dict)
    prompt: Any = None
    error: str | None = None
    error_kind: str | None = None

    def fail(self, kind: str, message: str) -> Row:
        self.error_kind, self.error = kind, message
        return self


def row_from(completion: Any, gold: Any, info: Any, *, prompt: Any = None, where: str = "row") -> Row:
    """A :class:`Row` from a gold value (the gold SQL, or a mapping with ``gold_sql`` and any columns)
    and a mapping of columns (``db_path``, ``engine``, ...); problems go into ``Row.error``."""
    row = Row(completion=completion, prompt=prompt)
    merged: dict[str, Any] = {}
    if info is not None and not isinstance(info, Mapping):
        return row.fail("columns", f"{where}: the columns must be a mapping with 'db_path', got {type(info).__name__}")
    merged.update(info or {})
    if isinstance(gold, Mapping):
        merged.update(gold)
        gold = gold.get("gold_sql")
    if not isinstance(gold, str) or not gold.strip():
        return row.fail("gold", f"{where}: the gold SQL must be a non-empty string, got {_show(gold)}")
    db = merged.get("db_path")
    if db is None or (isinstance(db, str) and not db.strip()):
        return row.fail("no_db", f"{where}: no 'db_path' (the database the gold and the completion run on)")
    db = os.fspath(db) if isinstance(db, os.PathLike) else db
    if not isinstance(db, str):
        return row.fail("bad_db", f"{where}: 'db_path' must be a path, got {_show(db)}")
    if not os.path.exists(db):
        return row.fail("missing_db", f"{where}: database {db!r} does not exist")
    row.gold_sql, row.db_path = gold, db
    row.columns = {k: merged[k] for k in COLUMNS if merged.get(k) is not None}
    return row


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


_SETS: dict[tuple[str, str], tuple[list[Any], list[float], threading.Lock]] = {}
_SETS_LOCK = threading.Lock()


def _key(spec: Any, options: Mapping[str, Any]) -> tuple[str, str]:
    return repr(spec), repr(sorted((k, repr(v)) for k, v in options.items()))


def reward_set(spec: Any = "execution", **options: Any) -> tuple[list[Any], list[float], threading.Lock]:
    """``build_rewards(spec, **options)``, built once per process per (spec, options), with a lock that
    serializes the calls on it (frameworks call the per-sample function from a thread pool)."""
    key = _key(spec, options)
    with _SETS_LOCK:
        found = _SETS.get(key)
        if found is None:
            from sqlrl.rewards import build_rewards

            funcs, weights = build_rewards(spec, **options)
            found = _SETS[key] = (funcs, weights, threading.Lock())
        return found


_WARNED: set[str] = set()


def _warn(kind: str, message: str) -> None:
    """Log the first row of each kind of problem (a bad dataset would otherwise log every row of every step)."""
    if kind not in _WARNED:
        _WARNED.add(kind)
        log.warning(
            "sqlrl reward: %s; such rows score 0.0 (input_error=1), logged once; pass strict=True to raise", message
        )


def score_rows(
    rows: Sequence[Row], *, spec: Any = "execution", strict: bool = False, **options: Any
) -> tuple[list[float], dict[str, list[float]]]:
    """Score ``rows`` with the rewards of ``spec`` as TRL would (same functions, same weighted sum).

    Returns ``(totals, details)``: ``details`` maps every reward's name, and ``input_error``, to one float
    per row (a reward that does not apply to a row reads 0.0 there, as it adds nothing to the total).
    Rows with an ``error`` score 0.0 with ``input_error`` 1.0 (logged once per kind of error), unless
    ``strict``, which raises :class:`RowError` before anything runs.
    """
    bad = [r.error for r in rows if r.error]
    if bad and strict:
        raise RowError(f"{len(bad)} of {len(rows)} rows cannot be scored; first: {bad[0]}")
    for r in rows:
        if r.error:
            _warn(r.error_kind or "other", r.error)
    funcs, weights, lock = reward_set(spec, **options)
    names = [f.__name__ for f in funcs]
    totals = [0.0] * len(rows)
    details: dict[str, list[float]] = {name: [0.0] * len(rows) for name in names}
    details[INPUT_ERROR] = [1.0 if r.error else 0.0 for r in rows]
    good = [i for i, r in enumerate(rows) if not r.error]
    if not good:
        return totals, details
    columns: dict[str, list[Any]] = {
        "gold_sql": [rows[i].gold_sql for i in good],
        "db_path": [rows[i].db_path for i in good],
    }
    for name in COLUMNS:
        if any(name in rows[i].columns for i in good):
            columns[name] = [rows[i].columns.get(name) for i in good]
    completions = [rows[i].completion for i in good]
    prompts = [rows[i].prompt for i in good] if any(rows[i].prompt is not None for i in good) else None
    with lock:
        for name, weight, func in zip(names, weights, funcs, strict=True):
            values = func(prompts=prompts, completions=completions, **columns)
            for i, v in zip(good, values, strict=True):
                if v is None or math.isnan(v):
                    continue
                details[name][i] = float(v)
                totals[i] += weight * v
    return totals, details


def write_records(records: Sequence[Mapping[str, Any]], path: str | os.PathLike[str]) -> int:
    """Write dataset rows to the parquet file ``path`` (its folder made as needed); returns the number of rows.
    Needs pyarrow (``pip install 'sqlrl[verl]'``)."""
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError as e:  # pragma: no cover - pyarrow is in the dev environment
        raise ImportError("write_parquet needs pyarrow: pip install 'sqlrl[verl]'") from e
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    pq.write_table(pa.Table.from_pylist(list(records)), path)
    return len(records)
