"""Result-table scoring: execution match and partial-match scores computed by the C++ core.

Every function takes result tables in any of these forms:

- a :class:`Table` (canonicalised once; reuse it to score one gold against many predictions),
- any object with the Arrow PyCapsule interface ``__arrow_c_stream__`` (DuckDB results and
  relations, pyarrow, polars, pandas >= 2.2), read without importing pyarrow,
- a sequence of row tuples, as ``sqlite3`` returns them.

Gold is always the first argument. Setting the environment variable ``SQLRL_IMPL=python``
routes :func:`compare` and :func:`partial_match` through the pure-Python reference twin
(:mod:`sqlrl.scoring.reference`), which is the readable statement of the semantics.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from typing import Any

from sqlrl._core import METRICS, MODES, Metric, Mode, Table
from sqlrl._core import match as _match
from sqlrl._core import partial as _partial
from sqlrl._core import score_batch as _score_batch

__all__ = [
    "METRICS",
    "MODES",
    "Metric",
    "Mode",
    "Table",
    "as_table",
    "compare",
    "gold_has_order_by",
    "partial_match",
    "score",
    "score_batch",
    "score_group",
]

# MODES (the execution-match modes, verdict 0/1) and METRICS (the partial-match metrics, float in [0, 1]) are
# the names of the core's enums Mode and Metric, in their order; each list is written once, in csrc/match.hpp
# and csrc/partial.hpp. See docs/architecture.md, 'Semantics: execution match' and 'Semantics: partial match'.

_NO_LIMIT = 2**63 - 1
_ORDER_BY = re.compile(r"order by")
# DuckDB types whose Arrow export (without its setting arrow_lossless_conversion) loses the value:
# UHUGEINT >= 2**127 (exported as a signed decimal128), TIMETZ (the offset is dropped) and BIT (bytes
# indistinguishable from a BLOB). A relation holding one is read through DuckDB's Python rows.
_DUCKDB_LOSSY_ARROW = re.compile(r"UHUGEINT|TIME WITH TIME ZONE|\bBIT\b")


def _duckdb_lossy_arrow(obj: Any) -> bool:
    """Whether ``obj`` is a DuckDB relation with a column whose Arrow export loses values."""
    if not type(obj).__module__.lstrip("_").startswith("duckdb"):
        return False
    try:
        types = obj.types
    except Exception:  # noqa: BLE001 - not a relation after all: read it through Arrow
        return False
    return any(_DUCKDB_LOSSY_ARROW.search(str(t)) for t in types)


def as_table(
    obj: Any, columns: Sequence[str] | None = None, *, max_rows: int | None = None, max_bytes: int | None = None
) -> Table:
    """Canonicalise a result table once.

    A value gets the same cell whichever way it is given (docs/scores.md). A DuckDB
    relation holding a type DuckDB's Arrow export loses (UHUGEINT, TIMETZ, BIT) is read through
    DuckDB's rows.

    Args:
        obj: a :class:`Table`, an object with ``__arrow_c_stream__``, or a sequence of row tuples.
        columns: column names for row tuples (default ``c0, c1, ...``).
        max_rows: keep at most this many rows; ``Table.truncated`` tells whether rows were dropped.
        max_bytes: for an Arrow stream, fail with ``sqlrl._core.ResultTooLarge`` (a ``MemoryError``) once the
            cells read take more than this many bytes (checked after every column of every batch).

    >>> t = as_table([(1, "a"), (2, None)], columns=["id", "name"])
    >>> t.num_rows, t.columns, t.rows()
    (2, ['id', 'name'], [(1, 'a'), (2, None)])
    """
    limit = _NO_LIMIT if max_rows is None else max_rows
    if isinstance(obj, Table):
        return obj
    if hasattr(obj, "__arrow_c_stream__"):
        if _duckdb_lossy_arrow(obj):
            rows = (obj if max_rows is None else obj.limit(max_rows + 1)).fetchall()
            return Table.from_rows(rows, list(obj.columns), max_rows=limit)
        return Table.from_arrow(obj, max_rows=limit, max_bytes=_NO_LIMIT if max_bytes is None else max_bytes)
    if isinstance(obj, (str, bytes)):
        raise TypeError("a result table must be rows or an Arrow-compatible object, not a string")
    try:
        return Table.from_rows(obj, columns, max_rows=limit)
    except TypeError as exc:
        raise TypeError(f"cannot read a result table from {type(obj).__name__}: {exc}") from None


def gold_has_order_by(gold_sql: str) -> bool:
    """Whether Spider's test-suite evaluator compares row order for this gold query.

    The official rule is a plain substring test, ``'order by' in gold_sql.lower()``.

    >>> gold_has_order_by("SELECT a FROM t ORDER BY a"), gold_has_order_by("SELECT a FROM t")
    (True, False)
    """
    if not isinstance(gold_sql, str):
        raise TypeError(f"gold_has_order_by expects the gold SQL as a string, got {type(gold_sql).__name__}")
    return _ORDER_BY.search(gold_sql.lower()) is not None


def _use_python() -> bool:
    return os.environ.get("SQLRL_IMPL", "").lower() == "python"


def _check_mode(mode: str) -> None:
    if mode not in MODES:
        raise ValueError(f"unknown execution-match mode {mode!r}; expected one of {', '.join(MODES)}")


def _check_metric(metric: str) -> None:
    if metric not in METRICS:
        raise ValueError(f"unknown partial-match metric {metric!r}; expected one of {', '.join(METRICS)}")


def _row_counts_decide(mode: str, gold: Any, pred: Any, condition_cols: list[int]) -> bool:
    """Whether two row lists of different lengths can be told apart without reading a cell.

    spider and strict never match different row counts; spider2 compares every selected gold
    column with pred column vectors, which need the same length.
    """
    if not (isinstance(gold, (list, tuple)) and isinstance(pred, (list, tuple))) or len(gold) == len(pred):
        return False
    if mode in ("spider", "strict"):
        return True
    if mode == "spider2" and gold:
        try:
            width = len(gold[0])
        except TypeError:
            return False  # not a row: let the core say so
        return width > 0 and all(-width <= c < width for c in condition_cols)
    return False


def compare(
    gold: Any,
    pred: Any,
    *,
    mode: str = "spider",
    order_matters: bool = False,
    ignore_order: bool = False,
    condition_cols: Sequence[int] | None = None,
    quirks: bool = True,
) -> bool:
    """Execution match of two result tables.

    Args:
        gold: the gold result table.
        pred: the predicted result table.
        mode: ``spider`` (test-suite EX: bags of rows, free column order), ``bird`` (set of rows),
            ``spider2`` (every gold column found among pred columns, 0.01 tolerance) or
            ``strict`` (ordered rows, fixed column order).
        order_matters: ``spider`` only: compare row order (use :func:`gold_has_order_by`).
        ignore_order: ``spider2`` only: sort each column before comparing.
        condition_cols: ``spider2`` only: indices of the gold columns that must match.
        quirks: ``spider`` only: emulate the official script's ``quick_rej``, which sorts each
            row's cells by ``str(x) + str(type(x))`` and so rejects some equal tables that mix
            ``1`` and ``1.0`` or ``True`` and ``1`` in one row. ``False`` is the pure
            column-permutation semantics.

    >>> compare([(1, "a"), (2, "b")], [("b", 2), ("a", 1.0)])
    True
    >>> compare([(1, "a"), (2, "b")], [("b", 2), ("a", 1.0)], mode="bird")
    False
    """
    _check_mode(mode)
    cols = list(condition_cols or [])
    if _row_counts_decide(mode, gold, pred, cols):
        return False
    if _use_python():
        from sqlrl.scoring import reference

        return reference.execution_match(
            as_table(gold).rows(),
            as_table(pred).rows(),
            mode,
            order_matters=order_matters,
            condition_cols=cols or None,
            ignore_order=ignore_order,
            quirks=quirks,
        )
    return _match(as_table(gold), as_table(pred), mode, order_matters, ignore_order, cols, quirks)


def partial_match(gold: Any, pred: Any, *, metric: str = "table_f1") -> float:
    """Partial-match score in [0, 1].

    Args:
        gold: the gold result table.
        pred: the predicted result table.
        metric: ``table_f1`` (sqlrl's cell-level F1 under the best column alignment),
            ``soft_f1`` (BIRD mini-dev Soft-F1, as its code computes it) or ``paverl``
            (PaVeRL-SQL's partial accuracy before its 0 / 0.5 / 10·acc reward mapping).

    >>> partial_match([(1, "a"), (2, "b")], [(1, "a"), (2, "x")])
    0.5
    >>> partial_match([(1, "a"), (2, "b")], [(1, "a")], metric="paverl")
    0.5
    """
    _check_metric(metric)
    if _use_python():
        from sqlrl.scoring import reference

        return reference.partial_match(as_table(gold).rows(), as_table(pred).rows(), metric)
    return _partial(as_table(gold), as_table(pred), metric)


def score(
    gold: Any,
    pred: Any,
    *,
    modes: Iterable[str] = MODES,
    metrics: Iterable[str] = METRICS,
    order_matters: bool = False,
    ignore_order: bool = False,
    condition_cols: Sequence[int] | None = None,
) -> dict[str, float]:
    """Every requested verdict (0.0/1.0) and partial score for one pair.

    >>> score([(1,)], [(1.0,)], metrics=["table_f1"])["spider"]
    1.0
    """
    out = score_batch(
        [gold],
        [pred],
        modes=modes,
        metrics=metrics,
        order_matters=order_matters,
        ignore_order=ignore_order,
        condition_cols=condition_cols,
    )
    return {name: values[0] for name, values in out.items()}


def score_batch(
    golds: Sequence[Any],
    preds: Sequence[Any],
    *,
    modes: Iterable[str] = ("spider",),
    metrics: Iterable[str] = (),
    order_matters: bool | Sequence[bool] = False,
    ignore_order: bool | Sequence[bool] = False,
    condition_cols: Sequence[int] | Sequence[Sequence[int]] | None = None,
    quirks: bool = True,
    workers: int = 1,
) -> dict[str, list[float]]:
    """Score many (gold, pred) pairs in one call, in parallel with the GIL released.

    Args:
        golds: one gold table per prediction, or a single gold shared by all of them.
        preds: predicted tables; ``None`` marks a prediction that failed to execute and scores 0.
        modes: execution-match modes to compute (each gives 0.0 or 1.0).
        metrics: partial-match metrics to compute.
        order_matters, ignore_order: one flag for all pairs or one per pair.
        condition_cols: ``spider2`` gold column indices, for all pairs or a list per pair.
        quirks: ``spider`` mode emulates the official ``quick_rej`` (see :func:`compare`).
        workers: threads to use; ``-1`` means all cores. Small batches run serially.

    Returns:
        ``{name: [score per pair]}`` for every mode and metric.

    >>> gold = as_table([(1,), (2,)])
    >>> score_batch([gold], [[(2,), (1,)], [(1,)], None], metrics=["table_f1"])
    {'spider': [1.0, 0.0, 0.0], 'table_f1': [1.0, 0.6666666666666666, 0.0]}
    """
    modes = list(modes)
    metrics = list(metrics)
    for m in modes:
        _check_mode(m)
    for m in metrics:
        _check_metric(m)
    if len(golds) not in (1, len(preds)):
        raise ValueError(f"golds must hold 1 table or one per prediction ({len(preds)}), got {len(golds)}")
    gold_tables = [as_table(g) for g in golds]
    pred_tables = [None if p is None else as_table(p) for p in preds]
    om = [bool(order_matters)] if isinstance(order_matters, bool) else [bool(x) for x in order_matters]
    io = [bool(ignore_order)] if isinstance(ignore_order, bool) else [bool(x) for x in ignore_order]
    if condition_cols is None:
        cc: list[list[int]] = []
    elif all(isinstance(c, int) for c in condition_cols):
        cc = [list(condition_cols)]  # type: ignore[arg-type]
    else:
        cc = [list(c) for c in condition_cols]  # type: ignore[union-attr]
    return _score_batch(gold_tables, pred_tables, modes, metrics, om, io, cc, quirks, workers)


def score_group(gold: Any, preds: Sequence[Any], **kwargs: Any) -> dict[str, list[float]]:
    """Score a GRPO group: one gold table (hashed once) against many predictions.

    Accepts the keyword arguments of :func:`score_batch`.

    >>> score_group([(1,)], [[(1,)], [(2,)]])
    {'spider': [1.0, 0.0]}
    """
    return score_batch([as_table(gold)], preds, **kwargs)
