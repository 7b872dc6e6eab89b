"""Which cells and rows of two result tables differ, by the rules of the verdict that compared them.

The marks are computed from the rows an evaluation kept (``extra["results"]``, the first rows of
each side) with the comparison code of :mod:`sqlrl.scoring.reference`, so a cell is equal here
exactly when the verdict's mode says so:

- ``spider``: rows form a bag, compared in order only when the gold has ``ORDER BY``; columns may
  be permuted (the permutation the verdict searches for, else columns with equal values, else by
  position);
- ``bird``: rows form a set, columns by position;
- ``strict``: rows and columns by position;
- ``spider2`` and ``paverl``: columns are compared as whole vectors (Spider 2.0: each selected gold
  column must equal some predicted column, sorted first with ``ignore_order``; PaVeRL: sorted,
  one-to-one); a gold column without a partner has all its cells marked, rows are not marked.

Rows of one side without a partner on the other are ``missing`` (gold) or ``extra`` (prediction);
after the equal rows are paired, a leftover gold row and the first leftover predicted row that agrees
with it in some cell (same position) are shown as one changed row with their differing cells marked
(rows compared in order are paired by position). When a side kept fewer rows than its result had,
the marks compare the kept rows only (``partial`` is set).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from sqlrl.scoring import reference as ref

__all__ = ["OK", "MISSING", "table_diff"]

#: A row with a partner that equals it.
OK = 0
#: A row without a partner (a missing gold row, an extra predicted row).
MISSING = 1


def _cell(value: Any) -> Any:
    """A JSON cell (see :func:`sqlrl.eval.report.result_sample`) back as the value it stood for."""
    if isinstance(value, dict):
        if "float" in value:
            return float(value["float"])
        if "bytes" in value:
            return bytes.fromhex(value["bytes"])
    return value


def _keys(rows: Sequence[Sequence[Any]]) -> list[tuple]:
    return [tuple(ref._key(_cell(v)) for v in row) for row in rows]


def _permutation(gold: list[tuple], pred: list[tuple], ncols: int, order_matters: bool) -> list[int]:
    """gold column i -> pred column: the verdict's permutation, else equal value bags, else position."""
    if gold and pred:
        perm = ref._column_permutation(gold, pred, order_matters)
        if perm is not None:
            return perm
    gcols, pcols = ref._columns(gold, ncols), ref._columns(pred, ncols)
    found: list[int | None] = [None] * ncols
    used: set[int] = set()
    for i in range(ncols):
        for j in [i, *(j for j in range(ncols) if j != i)]:
            if j not in used and Counter(gcols[i]) == Counter(pcols[j]):
                found[i] = j
                used.add(j)
                break
    left = [j for j in range(ncols) if j not in used]
    for i in range(ncols):
        if found[i] is None:
            found[i] = i if i in left else left[0]
            left.remove(found[i])
    return [j for j in found if j is not None]


def _cells_differ(g: tuple, p: tuple) -> list[int]:
    n = max(len(g), len(p))
    return [c for c in range(n) if c >= len(g) or c >= len(p) or g[c] != p[c]]


def _pair_rows(gold: list[tuple], pred: list[tuple], how: str) -> tuple[list[Any], list[Any]]:
    """Row marks: OK, MISSING, or the list of differing cell positions (pred already in gold's column order)."""
    g_marks: list[Any] = [MISSING] * len(gold)
    p_marks: list[Any] = [MISSING] * len(pred)
    if how == "ordered":
        for r in range(min(len(gold), len(pred))):
            diff = _cells_differ(gold[r], pred[r])
            g_marks[r] = p_marks[r] = diff or OK
        return g_marks, p_marks
    if how == "set":
        gset, pset = set(gold), set(pred)
        g_marks = [OK if row in pset else MISSING for row in gold]
        p_marks = [OK if row in gset else MISSING for row in pred]
    else:  # bag: each gold row pairs with one equal pred row
        free: dict[tuple, list[int]] = {}
        for r, row in enumerate(gold):
            free.setdefault(row, []).append(r)
        for r, row in enumerate(pred):
            if free.get(row):
                g_marks[free[row].pop(0)] = OK
                p_marks[r] = OK
    p_left = [r for r, m in enumerate(p_marks) if m == MISSING]
    for gr in [r for r, m in enumerate(g_marks) if m == MISSING]:  # a leftover pair that shares a cell: a change
        pr = next((pr for pr in p_left if any(a == b for a, b in zip(gold[gr], pred[pr], strict=False))), None)
        if pr is not None:
            p_left.remove(pr)
            g_marks[gr] = p_marks[pr] = _cells_differ(gold[gr], pred[pr])
    return g_marks, p_marks


def _vector_match(g: list[Any], p: list[Any], mode: str, ignore_order: bool) -> bool:
    if mode == "spider2":
        return ref._spider2_vectors_match(g, p, ignore_order)
    kg, kp = ref._column_kind(g), ref._column_kind(p)
    return ref._paverl_columns_equal(ref._paverl_sorted(g, kg), kg, ref._paverl_sorted(p, kp), kp)


def table_diff(
    gold: dict[str, Any] | None,
    pred: dict[str, Any] | None,
    *,
    mode: str = "spider",
    order_matters: bool = False,
    ignore_order: bool = False,
    condition_cols: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Marks for two kept results (``{"columns", "rows", "num_rows"}``), as the verdict of ``mode`` compares.

    Returns ``{"gold_rows", "pred_rows", "pred_cols", "gold_cols", "partial"}``: a mark per kept row
    (:data:`OK`, :data:`MISSING`, or the differing cell positions, in the row's own columns), the gold
    column each pred column stands for (-1: none), whether each gold column found a partner, and
    whether some side kept fewer rows than it had.

    >>> gold = {"columns": ["a", "b"], "rows": [[1, "x"], [2, "y"]]}
    >>> d = table_diff(gold, {"columns": ["b", "a"], "rows": [["y", 2], ["z", 1]]})
    >>> d["gold_rows"], d["pred_rows"], d["pred_cols"]
    ([[1], 0], [0, [0]], [1, 0])
    """
    g_rows = _keys((gold or {}).get("rows") or [])
    p_rows = _keys((pred or {}).get("rows") or [])
    g_ncols = len((gold or {}).get("columns") or []) or (len(g_rows[0]) if g_rows else 0)
    p_ncols = len((pred or {}).get("columns") or []) or (len(p_rows[0]) if p_rows else 0)
    partial = any(
        side is not None and (side.get("num_rows") or 0) > len(side.get("rows") or []) for side in (gold, pred)
    )
    out: dict[str, Any] = {"partial": partial}
    if mode in ("spider2", "paverl"):
        g_vecs, p_vecs = ref._columns(g_rows, g_ncols), ref._columns(p_rows, p_ncols)
        selected = list(range(g_ncols)) if not condition_cols else [c % g_ncols for c in condition_cols if g_ncols]
        gold_cols, pred_cols, used = [None] * g_ncols, [-1] * p_ncols, set()
        for c in selected:
            for j in range(p_ncols):
                if (mode == "spider2" or j not in used) and _vector_match(g_vecs[c], p_vecs[j], mode, ignore_order):
                    gold_cols[c], used = True, used | {j}
                    pred_cols[j] = c if pred_cols[j] < 0 else pred_cols[j]
                    break
            else:
                gold_cols[c] = False
        bad = [c for c in selected if gold_cols[c] is False]
        out.update(
            gold_rows=[bad or OK for _ in g_rows],
            pred_rows=[OK for _ in p_rows],
            gold_cols=gold_cols,  # None: not compared (outside condition_cols)
            pred_cols=pred_cols,
        )
        return out
    perm = list(range(min(g_ncols, p_ncols)))
    if mode == "spider" and g_ncols == p_ncols:
        perm = _permutation(g_rows, p_rows, g_ncols, order_matters)
    inverse = {j: i for i, j in enumerate(perm)}
    # pred rows rearranged into gold's column order; pred columns without a gold partner go last
    rest = [j for j in range(p_ncols) if j not in inverse]
    order = perm + rest
    p_aligned = [tuple(row[j] for j in order if j < len(row)) for row in p_rows]
    how = "ordered" if mode == "strict" or (mode == "spider" and order_matters) else "set" if mode == "bird" else "bag"
    g_marks, p_marks = _pair_rows(g_rows, p_aligned, how)
    # a pred row's differing positions are in gold's column order: map them back to pred's columns
    p_marks = [m if not isinstance(m, list) else sorted(order[c] for c in m if c < len(order)) for m in p_marks]
    out.update(
        gold_rows=g_marks,
        pred_rows=p_marks,
        gold_cols=[i < len(perm) for i in range(g_ncols)],
        pred_cols=[inverse.get(j, -1) for j in range(p_ncols)],
    )
    return out
