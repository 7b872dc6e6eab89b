"""The C++ core agrees with the pure-Python reference twin on random tables (hypothesis)."""

from __future__ import annotations

import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlrl import as_table, compare, partial_match
from sqlrl.scoring import reference

VALUES = st.one_of(
    st.none(),
    st.integers(-2, 3),
    st.sampled_from([0.5, 1.0, 2.0, -0.0, 1.0004, 2.5, float("nan")]),
    st.sampled_from(["a", "b", "1", "1.0", "é", "b'x'"]),
    st.just(b"x"),
    st.booleans(),
)


@st.composite
def table_pairs(draw):
    ncols = draw(st.integers(1, 4))
    nrows = draw(st.integers(0, 7))
    gold = [tuple(draw(VALUES) for _ in range(ncols)) for _ in range(nrows)]
    pred = list(gold)
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["shuffle_rows", "permute_cols", "drop_row", "add_row", "edit", "dup", "add_col"]))
        width = len(pred[0]) if pred else ncols
        if op == "shuffle_rows":
            pred = draw(st.permutations(pred))
        elif op == "permute_cols" and pred:
            perm = draw(st.permutations(range(width)))
            pred = [tuple(row[p] for p in perm) for row in pred]
        elif op == "drop_row" and pred:
            del pred[draw(st.integers(0, len(pred) - 1))]
        elif op == "add_row":
            pred.append(tuple(draw(VALUES) for _ in range(width)))
        elif op == "edit" and pred:
            r = draw(st.integers(0, len(pred) - 1))
            c = draw(st.integers(0, width - 1))
            row = list(pred[r])
            row[c] = draw(VALUES)
            pred[r] = tuple(row)
        elif op == "dup" and pred:
            pred.append(pred[draw(st.integers(0, len(pred) - 1))])
        elif op == "add_col":
            pred = [row + (draw(VALUES),) for row in pred]
    return gold, pred


SETTINGS = settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == pytest.approx(b, abs=1e-12)


@SETTINGS
@given(table_pairs(), st.booleans())
def test_execution_modes_agree(pair, order_matters):
    gold, pred = pair
    for mode in ("spider", "bird", "strict"):
        core = compare(gold, pred, mode=mode, order_matters=order_matters)
        ref = reference.execution_match(gold, pred, mode, order_matters=order_matters)
        assert core == ref, (mode, gold, pred)


@SETTINGS
@given(table_pairs(), st.booleans())
def test_spider2_agrees(pair, ignore_order):
    gold, pred = pair
    if not gold:  # rows alone cannot say how many columns an empty gold table has
        return
    core = compare(gold, pred, mode="spider2", ignore_order=ignore_order)
    ref = reference.execution_match(gold, pred, "spider2", ignore_order=ignore_order)
    assert core == ref, (gold, pred)


@SETTINGS
@given(table_pairs())
def test_partial_metrics_agree(pair):
    gold, pred = pair
    for metric in ("soft_f1", "table_f1", "paverl"):
        if metric == "paverl" and not gold:
            continue  # no gold columns: the official code divides by zero (see test_scoring)
        core = partial_match(gold, pred, metric=metric)
        ref = reference.partial_match(gold, pred, metric)
        assert _same(core, ref), (metric, gold, pred, core, ref)


@SETTINGS
@given(table_pairs())
def test_table_f1_properties(pair):
    gold, pred = pair
    f = partial_match(gold, pred)
    assert 0.0 <= f <= 1.0
    assert (f == 1.0) == compare(gold, pred, mode="spider", quirks=False)
    assert partial_match(gold, gold) == 1.0
    assert f == pytest.approx(partial_match(pred, gold)), "missing and extra are treated symmetrically"


WRONG = ("zzz-wrong",)


@SETTINGS
@given(table_pairs())
def test_table_f1_adding_a_wrong_row_never_raises(pair):
    gold, pred = pair
    if not pred:
        return
    base = partial_match(gold, pred)
    assert partial_match(gold, pred + [WRONG * len(pred[0])]) <= base + 1e-12


@SETTINGS
@given(table_pairs(), st.data())
def test_table_f1_adding_a_correct_row_or_column_never_lowers(pair, data):
    gold, _ = pair
    if not gold:
        return
    keep = data.draw(st.lists(st.booleans(), min_size=len(gold), max_size=len(gold)))
    sub = [r for r, k in zip(gold, keep, strict=True) if k]
    dropped = [r for r, k in zip(gold, keep, strict=True) if not k]
    if sub and dropped:
        assert partial_match(gold, sub + dropped[:1]) >= partial_match(gold, sub) - 1e-12
    width = len(gold[0])
    if width > 1:
        c = data.draw(st.integers(0, width - 1))
        without = [r[:c] + r[c + 1 :] for r in gold]
        assert partial_match(gold, gold) >= partial_match(gold, without) - 1e-12


def test_column_shuffle_is_not_a_match():
    gold = [(i, f"name{i}", i * 1.5) for i in range(20)]
    names = [r[1] for r in gold]
    shuffled = [(r[0], names[(i + 1) % 20], r[2]) for i, r in enumerate(gold)]
    assert not compare(gold, shuffled)
    assert partial_match(gold, shuffled) < 1.0
    assert partial_match(gold, shuffled, metric="paverl") == 1.0  # PaVeRL ignores row alignment


def test_table_is_reusable_across_calls():
    gold = as_table([(1, "a"), (2, "b")])
    assert compare(gold, [(2, "b"), (1, "a")]) and compare(gold, [("a", 1), ("b", 2)])


NUMBERS = st.one_of(
    st.integers(-3, 12),
    st.sampled_from([0.0, -0.0, 0.5, -0.5, 1.0, 1.25, -2.75, 9.999, 10.0, 1e12, -1e12, 1e16, 1.5e-05]),
    st.sampled_from([float("inf"), float("-inf"), float("nan")]),
    st.none(),
    st.sampled_from(["1", "1.0", "a", "1!"]),
)
NUDGES = st.sampled_from([0.0, 0.0, 0.003, -0.003, 0.004, -0.0049, 0.006, -0.009, 0.011, 0.5])


@st.composite
def near_columns(draw):
    """A gold column and a pred column that is it shuffled with small numeric nudges: the tolerance paths."""
    gold = draw(st.lists(NUMBERS, min_size=1, max_size=12))
    pred = []
    for v in gold:
        nudge = draw(NUDGES)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or nudge == 0.0:
            pred.append(v)
        else:
            pred.append(round(v + nudge, 4))
    pred = draw(st.permutations(pred))
    extra = draw(st.sampled_from([[], [], [draw(NUMBERS)]]))
    return [(v,) for v in gold], [(v,) for v in list(pred) + extra]


@SETTINGS
@given(near_columns())
def test_tolerance_paths_agree(pair):
    gold, pred = pair
    for ignore_order in (False, True):
        core = compare(gold, pred, mode="spider2", ignore_order=ignore_order)
        ref = reference.execution_match(gold, pred, "spider2", ignore_order=ignore_order)
        assert core == ref, (ignore_order, gold, pred)
    core = partial_match(gold, pred, metric="paverl")
    ref = reference.partial_match(gold, pred, "paverl")
    assert _same(core, ref), (gold, pred, core, ref)
