"""Pure-Python twin of the scoring core (``sqlrl._core``).

This module is the readable reference for every scoring rule: the test oracle for the C++
core and the baseline in ``benchmarks/bench_scoring.py``. It works on plain Python rows
(a sequence of tuples, as ``sqlite3`` returns them) and uses the standard library only (it takes just
the names of the modes and metrics, ``MODES`` and ``METRICS``, from the core, where they are defined once).
Speed is not a goal here; clarity and faithfulness to the official scripts are.

Conventions
-----------
* Gold comes first, pred second, in every function.
* A table given as rows with *no* rows carries no column count. It is treated as having the
  same columns as the other table (and one column when both are empty), which is what the
  official scripts see for empty results of well-formed queries.
* "Exact" equality is Python ``==`` on the canonical values, except that every float NaN
  equals every other NaN. ``_key`` maps a cell to a hashable value with exactly that
  equality, so sets, ``Counter`` and tuple comparison can be used directly.
"""

from __future__ import annotations

import bisect
import math
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from sqlrl._core import METRICS, MODES
from sqlrl.scoring._canonical import canonical

__all__ = ["MODES", "METRICS", "canonical", "execution_match", "partial_match"]

Rows = Sequence[Sequence[Any]]

# --------------------------------------------------------------------------------------
# Cells
# --------------------------------------------------------------------------------------


class _NaN:
    """The single hashable stand-in for every float NaN (NaN == NaN in sqlrl)."""

    def __repr__(self) -> str:
        return "NaN"


_NAN = _NaN()


def _key(value: Any) -> Any:
    """Hashable key with sqlrl's exact equality: ``1 == 1.0 == True``, NaN == NaN, '1' != 1."""
    value = canonical(value)
    if isinstance(value, float) and value != value:
        return _NAN
    return value


def _row_keys(rows: Rows) -> list[tuple]:
    return [tuple(_key(v) for v in row) for row in rows]


def _columns(rows: Sequence[Sequence[Any]], ncols: int) -> list[list[Any]]:
    return [[row[c] for row in rows] for c in range(ncols)]


def _shape(gold: Rows, pred: Rows) -> tuple[int, int]:
    """Column counts of (gold, pred); an empty table borrows the other's (see module doc)."""
    cg = len(gold[0]) if gold else None
    cp = len(pred[0]) if pred else None
    cg = cg if cg is not None else (cp if cp is not None else 1)
    cp = cp if cp is not None else cg
    return cg, cp


# --------------------------------------------------------------------------------------
# Execution match
# --------------------------------------------------------------------------------------


def execution_match(
    gold_rows: Rows,
    pred_rows: Rows,
    mode: str = "spider",
    *,
    order_matters: bool = False,
    condition_cols: int | Sequence[int] | None = None,
    ignore_order: bool = False,
    quirks: bool = True,
) -> bool:
    """Execution-match verdict of ``pred_rows`` against ``gold_rows``.

    Args:
        gold_rows: the gold result, a sequence of row tuples.
        pred_rows: the predicted result, a sequence of row tuples.
        mode: ``"spider"`` (test-suite ``result_eq``: bag of rows, free column order,
            including its ``quick_rej`` quirk), ``"bird"`` (``set(pred) == set(gold)``),
            ``"strict"`` (ordered lists, column order matters) or ``"spider2"``
            (``compare_pandas_table``: every selected gold column vector equals some pred
            column vector within 0.01, NULL/NaN read as 0).
        order_matters: spider only; compare rows in order (the caller decides, officially
            ``'order by' in gold_sql.lower()``).
        condition_cols: spider2 only; gold column positions to check (None/empty: all).
        ignore_order: spider2 only; sort each column vector on its own before comparing.
        quirks: spider only; emulate test-suite's ``quick_rej`` (see ``_quick_rej_passes``).
            ``False`` gives the pure column-permutation semantics.

    >>> gold = [(1, "a"), (2, "b")]
    >>> execution_match(gold, [("b", 2.0), ("a", 1)])          # permuted rows and columns
    True
    >>> execution_match(gold, [("b", 2), ("a", 1)], order_matters=True)
    False
    >>> execution_match(gold, [(1, "a"), (1, "a"), (2, "b")], "bird")   # sets
    True
    >>> execution_match([(1.0,)], [(1.004,), (7,)], "spider2")  # columns: gold [1.0] vs pred [1.004, 7]
    False
    >>> execution_match([(1.0, None)], [(0, 1.004)], "spider2")
    True
    """
    gold_rows, pred_rows = list(gold_rows), list(pred_rows)
    if mode == "spider":
        return _spider_match(gold_rows, pred_rows, order_matters, quirks)
    if mode == "bird":
        return set(_row_keys(pred_rows)) == set(_row_keys(gold_rows))
    if mode == "strict":
        return _row_keys(pred_rows) == _row_keys(gold_rows)
    if mode == "spider2":
        return _spider2_match(gold_rows, pred_rows, condition_cols, ignore_order)
    raise ValueError(f"unknown mode {mode!r}; expected one of {', '.join(MODES)}")


# spider (test-suite-sql-eval exec_eval.result_eq) --------------------------------------


def _quirk_key(x: Any) -> str:
    """test-suite's per-cell sort key in ``unorder_row``: ``str(x) + str(type(x))``."""
    return str(x) + str(type(x))


def _quick_rej_passes(gold: Rows, pred: Rows, order_matters: bool) -> bool:
    """test-suite's ``quick_rej``: rows with their cells sorted by ``_quirk_key`` must agree,
    as lists (ordered) or as *sets* (unordered). Sorting by the printed form is a quirk:
    ``(1, 1.5)`` sorts to ``(1.5, 1)`` but ``(1.0, 1.5)`` stays, so those rows differ."""

    def unorder(rows: Rows) -> list[tuple]:
        return [tuple(_key(x) for x in sorted(row, key=_quirk_key)) for row in rows]

    g, p = unorder(gold), unorder(pred)
    return g == p if order_matters else set(g) == set(p)


def _spider_match(gold: Rows, pred: Rows, order_matters: bool, quirks: bool = True) -> bool:
    if not gold and not pred:
        return True
    if len(gold) != len(pred):
        return False
    ncols = len(gold[0])
    if len(pred[0]) != ncols:
        return False
    if quirks and not _quick_rej_passes(gold, pred, order_matters):
        return False
    return _column_permutation(_row_keys(gold), _row_keys(pred), order_matters) is not None


def _column_permutation(gold: list[tuple], pred: list[tuple], order_matters: bool) -> list[int] | None:
    """A permutation ``perm`` (gold column i -> pred column perm[i]) that makes the tables
    equal as lists (ordered) or bags (unordered) of rows, or None.

    Candidates for a gold column are the pred columns with the same vector (ordered) or
    the same bag of values (unordered); a depth-first search then assigns gold columns in
    order and keeps a partial assignment only while the projected rows still agree.
    """
    ncols = len(gold[0])
    gcols, pcols = _columns(gold, ncols), _columns(pred, ncols)
    same: Callable[[list, list], bool]
    if order_matters:
        same = lambda a, b: a == b  # noqa: E731
    else:
        same = lambda a, b: Counter(a) == Counter(b)  # noqa: E731
    candidates = [[j for j in range(ncols) if same(gcols[i], pcols[j])] for i in range(ncols)]

    def project(rows: list[tuple], cols: list[int]) -> list[tuple]:
        return [tuple(row[c] for c in cols) for row in rows]

    def extend(perm: list[int]) -> list[int] | None:
        i = len(perm)
        if i == ncols:
            return perm
        for j in candidates[i]:
            if j in perm:
                continue
            trial = perm + [j]
            if same(project(gold, list(range(i + 1))), project(pred, trial)):
                found = extend(trial)
                if found is not None:
                    return found
        return None

    return extend([])


# spider2 (Spider2 evaluate.compare_pandas_table) ---------------------------------------

_SPIDER2_TOL = 1e-2


def _is_number(x: Any) -> bool:
    return isinstance(x, (int, float))  # bool is an int, as in the official script


def _spider2_normalize(x: Any) -> Any:
    x = canonical(x)
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return 0
    return x


def _spider2_vectors_match(v1: list, v2: list, ignore_order: bool) -> bool:
    v1 = [_spider2_normalize(x) for x in v1]
    v2 = [_spider2_normalize(x) for x in v2]
    if ignore_order:  # official key: (x is None, str(x), is_number); no None is left
        v1 = sorted(v1, key=lambda x: (str(x), _is_number(x)))
        v2 = sorted(v2, key=lambda x: (str(x), _is_number(x)))
    if len(v1) != len(v2):
        return False
    for a, b in zip(v1, v2, strict=True):
        if _is_number(a) and _is_number(b):
            if not math.isclose(float(a), float(b), abs_tol=_SPIDER2_TOL):
                return False
        elif a != b:
            return False
    return True


def _spider2_match(gold: Rows, pred: Rows, condition_cols: int | Sequence[int] | None, ignore_order: bool) -> bool:
    cg, cp = _shape(gold, pred)
    gold_vectors = _columns(gold, cg)
    pred_vectors = _columns(pred, cp)
    if condition_cols and gold:  # (an empty gold's selected vectors are all empty anyway)
        if isinstance(condition_cols, int):
            condition_cols = [condition_cols]
        for c in condition_cols:
            if not -cg <= c < cg:
                raise ValueError(f"condition column {c} is out of range for a gold table with {cg} columns")
        gold_vectors = [gold_vectors[c] for c in condition_cols]
    return all(any(_spider2_vectors_match(g, p, ignore_order) for p in pred_vectors) for g in gold_vectors)


# --------------------------------------------------------------------------------------
# Partial match
# --------------------------------------------------------------------------------------


def partial_match(gold_rows: Rows, pred_rows: Rows, metric: str = "table_f1") -> float:
    """Partial-match score in [0, 1] of ``pred_rows`` against ``gold_rows``.

    Args:
        gold_rows: the gold result, a sequence of row tuples.
        pred_rows: the predicted result, a sequence of row tuples.
        metric: ``"table_f1"`` (sqlrl's aligned-cell F1, see ``_table_f1``),
            ``"soft_f1"`` (BIRD mini-dev ``calculate_f1_score``) or ``"paverl"``
            (PaVeRL-SQL's column-matching accuracy).

    >>> gold = [(1, "a"), (2, "b"), (3, "c")]
    >>> partial_match(gold, [("a", 1), ("b", 2), ("c", 3)])
    1.0
    >>> partial_match(gold, [(1, "a"), (2, "b")])               # 2 of 3 rows
    0.8
    >>> partial_match(gold, [(1, "a"), (2, "b"), (3, "x")], "soft_f1")
    0.8333333333333334
    >>> partial_match(gold, [(9, "a"), (8, "b"), (7, "c")], "paverl")   # 1 of 2 columns
    0.5
    """
    gold_rows, pred_rows = list(gold_rows), list(pred_rows)
    if metric == "table_f1":
        return _table_f1(gold_rows, pred_rows)
    if metric == "soft_f1":
        return _soft_f1(gold_rows, pred_rows)
    if metric == "paverl":
        return _paverl(gold_rows, pred_rows)
    raise ValueError(f"unknown metric {metric!r}; expected one of {', '.join(METRICS)}")


# soft_f1 (BIRD mini-dev evaluation_f1.calculate_f1_score) ------------------------------


def _soft_f1(gold: Rows, pred: Rows) -> float:
    """Rows are de-duplicated (first occurrence kept) and paired by position. For a pair,
    matched = pred cells found in the gold row, pred-only = pred cells not found, gold-only =
    gold cells not in the pred row, each divided by the gold row's length; an unpaired gold
    row adds 1 to gold-only, an unpaired pred row 1 to pred-only. Sums are accumulated in the
    official order so the float result is bit-identical."""
    if not pred and not gold:
        return 1.0
    pred_keys = list(dict.fromkeys(_row_keys(pred)))
    gold_keys = list(dict.fromkeys(_row_keys(gold)))
    tp = fp = fn = 0.0
    for i, g in enumerate(gold_keys):
        if i >= len(pred_keys):
            fn += 1
            continue
        p, n = pred_keys[i], len(g)
        g_set, p_set = set(g), set(p)
        matches = sum(1 for v in p if v in g_set)
        tp += matches / n
        fp += (len(p) - matches) / n
        fn += sum(1 for v in g if v not in p_set) / n
    fp += max(0, len(pred_keys) - len(gold_keys))
    precision = tp / (tp + fp) if tp + fp > 0 else 0
    recall = tp / (tp + fn) if tp + fn > 0 else 0
    return 2 * precision * recall / (precision + recall) if precision + recall > 0 else 0.0


# table_f1 (sqlrl's own) ----------------------------------------------------------------


def _table_f1(gold: Rows, pred: Rows) -> float:
    """sqlrl's aligned-cell F1.

    1.0 when spider mode (unordered, without the quick_rej quirk) says the tables match. Otherwise columns are aligned
    one-to-one by greedy value overlap, and for an alignment P (pairs of gold column, pred
    column, ordered by gold column)::

        m(P)     = |bag of gold rows projected on P  ∩  bag of pred rows projected on P|
        score(P) = 2·m(P)·|P| / (r_g·c_g + r_p·c_p)

    i.e. the F1 of matched cells, where cells only count inside whole matching rows, so
    rows stay aligned. Pairs are then dropped one at a time while that strictly raises the
    score (a column that overlaps by value but breaks row matches is left out).

    The search runs once from each side (gold columns first, then pred columns first) and the
    better alignment counts, so swapping gold and pred never changes the score.
    """
    if _spider_match(gold, pred, order_matters=False, quirks=False):
        return 1.0
    if not gold or not pred or not gold[0] or not pred[0]:
        return 0.0
    return max(_table_f1_search(gold, pred), _table_f1_search(pred, gold))


def _table_f1_search(gold: Rows, pred: Rows) -> float:
    """Greedy alignment plus backward elimination, breaking ties by gold column first."""
    rg, rp = len(gold), len(pred)
    cg, cp = len(gold[0]), len(pred[0])
    gk, pk = _row_keys(gold), _row_keys(pred)
    gbags = [Counter(col) for col in _columns(gk, cg)]
    pbags = [Counter(col) for col in _columns(pk, cp)]

    # Greedy one-to-one column alignment by overlap of value bags.
    overlaps = []
    for g in range(cg):
        for q in range(cp):
            ov = sum((gbags[g] & pbags[q]).values())
            if ov > 0:
                overlaps.append((-ov, g, q))
    pairs, used_g, used_q = [], set(), set()
    for _, g, q in sorted(overlaps):
        if g not in used_g and q not in used_q:
            pairs.append((g, q))
            used_g.add(g)
            used_q.add(q)
    pairs.sort()

    denominator = rg * cg + rp * cp

    def score(p: list[tuple[int, int]]) -> float:
        if not p:
            return 0.0
        grows = Counter(tuple(row[g] for g, _ in p) for row in gk)
        prows = Counter(tuple(row[q] for _, q in p) for row in pk)
        m = sum((grows & prows).values())
        return 2 * m * len(p) / denominator

    # Backward elimination: drop the pair whose removal helps most, while it strictly helps.
    best = score(pairs)
    while pairs:
        trials = [score(pairs[:i] + pairs[i + 1 :]) for i in range(len(pairs))]
        top = max(trials)
        if top <= best:
            break
        del pairs[trials.index(top)]
        best = top
    return best


# paverl (PaVeRL-SQL accuracy_reward._compare_results_outcomes) -------------------------

_PAVERL_CUTOFF = 5  # row-count difference beyond which acc = 0
_PAVERL_TOL = 0.005


def _round3(x: float) -> float:
    """pandas/numpy ``round(3)``: scale, round half to even, unscale."""
    scaled = x * 1000.0
    if not math.isfinite(scaled):
        return scaled / 1000.0
    return round(scaled) / 1000.0


_NULL_FILL = -10000000000.0  # PaVeRL fills NULL/NaN of float64 columns with -1e10


def _float_value(v: Any) -> float:
    """A value as a float64 column holds it: NULL and NaN filled with -1e10."""
    return _NULL_FILL if v is None or v is _NAN else float(v)


def _sort_key(x: Any) -> tuple:
    """Total order NULL < numbers (NaN last) < text < bytes, numbers by value."""
    if x is None:
        return (0,)
    if x is _NAN:
        return (1, 1, 0)
    if isinstance(x, (int, float)):
        return (1, 0, x)
    if isinstance(x, str):
        return (2, x)
    return (3, x)


def _paverl_sorted(col: list[Any], kind: type | None) -> list[Any]:
    """A column sorted as PaVeRL sorts it: float64 columns filled and rounded to 3 decimals."""
    if kind is float:
        return sorted(_round3(_float_value(v)) for v in col)
    return sorted(col, key=_sort_key)


def _paverl_columns_equal(a: list[Any], ka: type | None, b: list[Any], kb: type | None) -> bool:
    """Two float64 columns agree within 0.005 per sorted position; anything else compares with ==."""
    if len(a) != len(b):
        return False
    if ka is float and kb is float:
        # PaVeRL rejects on `abs(x - y) > tol`: inf against inf (a NaN difference) is not rejected.
        return not any(abs(x - y) > _PAVERL_TOL for x, y in zip(a, b, strict=True))
    return all(x == y for x, y in zip(a, b, strict=True))


def _paverl_matched_columns(gold: list[tuple], gkinds: list, pred: list[tuple], pkinds: list) -> int:
    """c_m: each gold column (in order) takes the first unused pred column whose sorted values
    agree. Column kinds are those of the whole tables (a DataFrame keeps its dtypes when rows
    are filtered)."""
    g_sorted = [_paverl_sorted(col, k) for col, k in zip(_columns(gold, len(gkinds)), gkinds, strict=True)]
    p_sorted = [_paverl_sorted(col, k) for col, k in zip(_columns(pred, len(pkinds)), pkinds, strict=True)]
    used: set[int] = set()
    matched = 0
    for g, kg in zip(g_sorted, gkinds, strict=True):
        for q, (p, kp) in enumerate(zip(p_sorted, pkinds, strict=True)):
            if q not in used and _paverl_columns_equal(g, kg, p, kp):
                used.add(q)
                matched += 1
                break
    return matched


_KIND_ORDER = (str, float, int)  # key column preference: text, then float, then integer


def _column_kind(col: list[Any]) -> type | None:
    """The column's pandas dtype as PaVeRL sees it: str (object) if it holds text or bytes;
    float if it holds a float, a NULL (pandas turns an int column with NULLs, and an all-NULL
    column, into float64) or a NaN; int otherwise (bool counts as int); None when empty."""
    if not col:
        return None
    if any(isinstance(v, (str, bytes)) for v in col):
        return str
    if any(v is None or v is _NAN or isinstance(v, float) for v in col):
        return float
    return int


def _paverl_filter(
    keyed: list[tuple], kkinds: list, other: list[tuple], okinds: list
) -> tuple[list[tuple], int, int] | None:
    """PaVeRL's ``df_normalization``: the rows of ``other`` whose value in its first suitable
    column occurs in the key set of ``keyed``. The key column is the first text column of
    ``keyed``, else its first float column, else its first int column; a suitable column has the
    same kind and at least as many rows holding a key as there are distinct keys. For a float
    key, a value (NULL and NaN filled with -1e10) holds a key when it is within 0.005 of one
    (strictly, so never for inf), as in the official code.
    Returns (kept rows, key column of ``keyed``, matching column of ``other``), or None when there
    is no key column or no suitable column."""
    key_col = next((c for kind in _KIND_ORDER for c in range(len(kkinds)) if kkinds[c] is kind), None)
    if key_col is None or not keyed:
        return None
    kind = kkinds[key_col]
    if kind is float:
        numeric_keys = sorted({_float_value(row[key_col]) for row in keyed})
        n_keys = len(numeric_keys)

        def holds_key(v: Any) -> bool:
            x = _float_value(v)
            i = bisect.bisect_right(numeric_keys, x - _PAVERL_TOL)
            return any(abs(numeric_keys[j] - x) < _PAVERL_TOL for j in (i - 1, i) if 0 <= j < n_keys)
    else:
        keys = {row[key_col] for row in keyed}
        n_keys = len(keys)

        def holds_key(v: Any) -> bool:
            return v in keys

    for j, (col, ck) in enumerate(zip(_columns(other, len(okinds)), okinds, strict=True)):
        if ck is not kind:
            continue
        hits = [holds_key(v) for v in col]
        if sum(hits) >= n_keys:
            return [row for row, hit in zip(other, hits, strict=True) if hit], key_col, j
    return None


def _paverl_counts_within(a: list[tuple], ca: int, ka: type | None, b: list[tuple], cb: int, kb: type | None) -> bool:
    """Counter(a's column) <= Counter(b's column) on the values pandas holds (float64 filled)."""

    def values(rows: list[tuple], c: int, kind: type | None) -> Counter:
        return Counter(_float_value(r[c]) if kind is float else r[c] for r in rows)

    have = values(b, cb, kb)
    return all(have[v] >= n for v, n in values(a, ca, ka).items())


def _paverl(gold: Rows, pred: Rows) -> float:
    """PaVeRL-SQL accuracy: equal row counts -> c_m / c_g; 1-5 extra pred rows -> filter pred
    by a gold key column and, if exactly r_g rows remain, c_m / c_g; 1-5 missing pred rows ->
    filter gold by a pred key column and, if exactly r_p rows remain,
    (r_p·c_m) / (r_g·c_g); more than 5 rows apart -> 0. The quotient is formed as the official
    code forms it, ``(rows·c_m) / (r_g·c_g)``, so floats agree bit for bit."""
    cg, cp = _shape(gold, pred)
    gk, pk = _row_keys(gold), _row_keys(pred)
    rg, rp = len(gk), len(pk)
    gkinds = [_column_kind(col) for col in _columns(gk, cg)]
    pkinds = [_column_kind(col) for col in _columns(pk, cp)]
    if rg == rp:
        return _paverl_matched_columns(gk, gkinds, pk, pkinds) / cg
    if abs(rg - rp) > _PAVERL_CUTOFF:
        return 0.0
    if rp > rg:
        found = _paverl_filter(gk, gkinds, pk, pkinds)
        if found is None or len(found[0]) != rg:
            return 0.0
        return rg * _paverl_matched_columns(gk, gkinds, found[0], pkinds) / (rg * cg)
    found = _paverl_filter(pk, pkinds, gk, gkinds)
    if found is None:
        return 0.0
    kept, pkey, gcol = found
    if cg == 1 and _paverl_counts_within(pk, pkey, pkinds[pkey], gk, gcol, gkinds[gcol]):
        # PaVeRL's single-column gold path: the prediction stands in for the filtered gold, so
        # acc = r_p * c_p / r_g; sqlrl counts one matched column (the official code can exceed 1).
        return rp / rg
    if len(kept) != rp:
        return 0.0
    return rp * _paverl_matched_columns(kept, gkinds, pk, pkinds) / (rg * cg)
