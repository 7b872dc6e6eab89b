"""The scoring rules on hand-built tables, through the public API (C++ core).

The rules: docs/architecture.md, 'Semantics: canonical cells', 'Semantics: execution match' and
'Semantics: partial match'.
"""

from __future__ import annotations

import math

import pytest

import sqlrl
from sqlrl import as_table, compare, partial_match, score_batch

NAN = float("nan")
INF = float("inf")


# ------------------------------------------------------------------ §2 cells and exact equality

EXACT_CELLS = [
    # (gold value, pred value, equal under exact semantics)
    (1, 1.0, True),
    (1, 1, True),
    (1, "1", False),
    ("1", "1", True),
    (None, None, True),
    (None, 0, False),
    (None, "", False),
    (True, 1, True),
    (False, 0, True),
    (0.1 + 0.2, 0.3, False),
    (2**53 + 1, float(2**53), False),
    (NAN, NAN, True),
    (INF, INF, True),
    (INF, -INF, False),
    (0.0, -0.0, True),
    ("é", "é", True),
    ("a", b"a", False),
    (b"\xff", b"\xff", True),
]


@pytest.mark.parametrize(("a", "b", "equal"), EXACT_CELLS)
@pytest.mark.parametrize("mode", ["bird", "strict"])
def test_exact_cell_equality(a, b, equal, mode):
    assert compare([(a,)], [(b,)], mode=mode) is equal


@pytest.mark.parametrize(("a", "b", "equal"), EXACT_CELLS)
def test_spider_cell_equality(a, b, equal):
    assert compare([(a,)], [(b,)], mode="spider") is equal


def test_rows_roundtrip_canonical_values():
    t = as_table([(1, 2.5, "x", None, True, b"\x00\xff")], columns=list("abcdef"))
    assert t.rows() == [(1, 2.5, "x", None, True, b"\x00\xff")]
    assert t.columns == list("abcdef")
    assert (t.num_rows, t.num_columns, len(t)) == (1, 6, 1)


def test_invalid_utf8_text_is_kept_as_bytes():
    bad = b"caf\xe9".decode("utf-8", errors="surrogateescape")
    t = as_table([(bad,)])
    assert t.rows() == [(bad,)]
    assert compare([(bad,)], [(bad,)])
    assert not compare([(bad,)], [("café",)])


def test_decimal_datetime_and_big_int_cells():
    import datetime as dt
    from decimal import Decimal

    assert compare([(Decimal("3"),)], [(3,)], mode="strict")
    assert compare([(Decimal("1.50"),)], [(1.5,)], mode="strict")
    assert compare([(dt.date(2020, 1, 2),)], [("2020-01-02",)], mode="strict")
    assert compare([(dt.datetime(2020, 1, 2, 3, 4, 5),)], [("2020-01-02 03:04:05",)], mode="strict")
    assert compare([(2**70,)], [(float(2**70),)], mode="strict")


def test_ragged_rows_are_rejected_with_a_clear_error():
    with pytest.raises(ValueError, match="row 1 has 1 values, expected 2"):
        as_table([(1, 2), (3,)])


def test_strings_are_not_tables():
    with pytest.raises(TypeError, match="not a string"):
        as_table("SELECT 1")


def test_max_rows_truncates():
    t = as_table([(i,) for i in range(10)], max_rows=3)
    assert t.num_rows == 3 and t.truncated
    assert not as_table([(1,)], max_rows=3).truncated


# ------------------------------------------------------------------ §3 execution match

G = [(1, "a"), (2, "b"), (2, "b")]

MATCH_CASES = [
    # (name, gold, pred, order_matters, {mode: verdict})
    ("identical", G, G, False, {"spider": True, "bird": True, "strict": True}),
    ("rows reordered", G, [G[1], G[0], G[2]], False, {"spider": True, "bird": True, "strict": False}),
    ("rows reordered, order matters", G, [G[1], G[0], G[2]], True, {"spider": False}),
    ("columns permuted", G, [(b, a) for a, b in G], False, {"spider": True, "bird": False, "strict": False}),
    ("duplicate dropped", G, G[:2], False, {"spider": False, "bird": True, "strict": False}),
    ("duplicate moved", G, [G[0], G[0], G[1]], False, {"spider": False, "bird": True, "strict": False}),
    ("both empty", [], [], False, {"spider": True, "bird": True, "strict": True}),
    ("gold empty", [], [(1,)], False, {"spider": False, "bird": False, "strict": False}),
    ("pred empty", [(1,)], [], False, {"spider": False, "bird": False, "strict": False}),
    ("extra column", [(1,)], [(1, 2)], False, {"spider": False, "bird": False, "strict": False}),
    ("int vs float", [(1, 2)], [(1.0, 2.0)], False, {"spider": True, "bird": True, "strict": True}),
    ("text vs int", [(1,)], [("1",)], False, {"spider": False, "bird": False, "strict": False}),
    ("null rows", [(None, 1)], [(None, 1)], False, {"spider": True, "bird": True, "strict": True}),
    (
        "column shuffle breaks rows",
        [(1, "a"), (2, "b")],
        [(1, "b"), (2, "a")],
        False,
        {"spider": False, "bird": False, "strict": False},
    ),
]


@pytest.mark.parametrize(("name", "gold", "pred", "order_matters", "expected"), MATCH_CASES)
def test_execution_match_table(name, gold, pred, order_matters, expected):
    for mode, verdict in expected.items():
        assert compare(gold, pred, mode=mode, order_matters=order_matters) is verdict, (name, mode)


def test_spider_quick_rej_quirk_of_the_official_script():
    # test-suite sorts each row by str(x) + str(type(x)) before anything else: '1.5' < '1<' but
    # '1.0<' < '1.5', so 1 vs 1.0 next to the text '1.5' reorders the row and the pair is rejected,
    # although a column permutation makes the tables equal under ==.
    assert not compare([("1.5", 1)], [("1.5", 1.0)], mode="spider")
    assert compare([("1.5", 1)], [("1.5", 1)], mode="spider")
    assert compare([("1.5", 1)], [("1.5", 1.0)], mode="bird")
    assert compare([("1.5", 1)], [("1.5", 1.0)], mode="spider", quirks=False)


def test_spider_permutation_with_identical_columns_and_wide_tables():
    n = 14
    gold = [tuple((r * 7 + c) % 5 for c in range(n)) for r in range(30)]
    perm = list(reversed(range(n)))
    pred = [tuple(row[p] for p in perm) for row in reversed(gold)]
    assert compare(gold, pred)
    # identical column values everywhere: the search must not blow up
    same = [tuple([r % 3] * 12) for r in range(50)]
    assert compare(same, same[::-1])
    broken = list(pred)
    broken[0] = (99,) + broken[0][1:]
    assert not compare(gold, broken)


def test_order_by_detection_follows_the_official_substring_rule():
    assert sqlrl.gold_has_order_by("select * from t ORDER BY a")
    assert sqlrl.gold_has_order_by("select * from (select a from t order by a limit 1)")
    assert not sqlrl.gold_has_order_by("select * from t order  by a")  # two spaces: official says no


SPIDER2_CASES = [
    # (gold, pred, condition_cols, ignore_order, verdict)
    ([(1.0, "a")], [(1.004, "a")], None, False, True),
    ([(1.0,)], [(1.02,)], None, False, False),
    ([(None,)], [(0,)], None, False, True),
    ([(NAN,)], [(0.0,)], None, False, True),
    ([(1, "x")], [("x", 1, "extra")], None, False, True),
    ([(1, "x")], [(1,)], [0], False, True),
    ([(1, "x")], [(1,)], None, False, False),
    ([(1,), (2,)], [(2,), (1,)], None, False, False),
    ([(1,), (2,)], [(2,), (1,)], None, True, True),
    ([(1,), (1,)], [(1, 1)], None, False, False),
    ([(1, 1), (2, 2)], [(1,), (2,)], None, False, True),  # not one-to-one: both gold cols use pred col 0
    ([("1",)], [(1,)], None, False, False),
    ([(1e12,)], [(1e12 + 500,)], None, False, True),  # math.isclose's rel_tol=1e-9 applies too
    # ignore_order sorts by str(x): equal values that print differently can land apart ("1!" < "1.0" but "1" < "1!")
    ([(1.0,), ("1!",)], [(1,), ("1!",)], None, True, False),
    ([(1.0,), (2,)], [(2,), (1.0,)], None, True, True),
    ([(None,), (0.004,)], [(0,), (0.0,)], None, True, True),  # NULL reads as 0; 0.004 is within 0.01 of 0.0
    ([(0.5,), (1.0,)], [(0.505,), (1.0,)], None, True, True),  # equal bags fail, the tolerance path still matches
    ([(0.5,), (1.0,)], [(0.52,), (1.0,)], None, True, False),
    ([(1,), (2,)], [(1,), (2,), (2,)], None, True, False),
    # text "b'x'" and bytes b'x' print alike, so the stable sort pairs them by position: equal bags, no match
    ([("b'x'",), (b"x",)], [(b"x",), ("b'x'",)], None, True, False),
    ([("b'x'",), (b"x",)], [("b'x'",), (b"x",)], None, True, True),
]


@pytest.mark.parametrize(("gold", "pred", "cols", "ignore_order", "verdict"), SPIDER2_CASES)
def test_spider2_match(gold, pred, cols, ignore_order, verdict):
    assert compare(gold, pred, mode="spider2", condition_cols=cols, ignore_order=ignore_order) is verdict


def test_spider2_condition_col_out_of_range():
    with pytest.raises(ValueError, match="out of range"):
        compare([(1,)], [(1,)], mode="spider2", condition_cols=[3])
    with pytest.raises(ValueError, match="out of range"):  # also when the row counts already differ
        compare([(1,)], [(1,), (2,)], mode="spider2", condition_cols=[3])


@pytest.mark.parametrize("mode", ["spider", "strict", "spider2"])
def test_different_row_counts_answer_like_the_tables(mode):
    gold, pred = [(1, "a"), (2, "b")], [(1, "a"), (2, "b"), (2, "b")]
    assert compare(gold, pred, mode=mode) is False
    assert compare(as_table(gold), as_table(pred), mode=mode) is False  # the core agrees
    assert compare(gold, [(1, "a")], mode=mode, ignore_order=True) is False


def test_unknown_mode_and_metric():
    with pytest.raises(ValueError, match="unknown execution-match mode"):
        compare([(1,)], [(1,)], mode="nope")
    with pytest.raises(ValueError, match="unknown partial-match metric"):
        partial_match([(1,)], [(1,)], metric="nope")


def test_modes_and_metrics_are_the_cores_enums():
    from sqlrl import _core
    from sqlrl.scoring import reference

    assert sqlrl.MODES == sqlrl.scoring.MODES == ("spider", "bird", "spider2", "strict")
    assert sqlrl.METRICS == sqlrl.scoring.METRICS == ("paverl", "soft_f1", "table_f1")
    assert _core.MODES == tuple(_core.Mode.__members__) and _core.METRICS == tuple(_core.Metric.__members__)
    assert reference.MODES == _core.MODES and reference.METRICS == _core.METRICS
    assert [int(m) for m in _core.Mode.__members__.values()] == list(range(len(_core.MODES)))
    assert _core.Mode.spider2.name == "spider2" and _core.Metric.soft_f1.name == "soft_f1"
    table = as_table([(1,)])
    with pytest.raises(ValueError, match=r"\(expected spider, bird, spider2 or strict\)"):  # the core's message
        _core.match(table, table, "nope")
    with pytest.raises(ValueError, match=r"\(expected paverl, soft_f1 or table_f1\)"):
        _core.partial(table, table, "nope")
    for mode in _core.MODES:  # every name parses, in the core and in the reference twin
        assert compare([(1,)], [(1,)], mode=mode) is True
        assert reference.execution_match([(1,)], [(1,)], mode) is True
    for metric in _core.METRICS:
        assert partial_match([(1,)], [(1,)], metric=metric) == 1.0
        assert reference.partial_match([(1,)], [(1,)], metric) == 1.0


# ------------------------------------------------------------------ §4 partial scores

SOFT_F1_CASES = [
    ([], [], 1.0),
    ([(1,)], [], 0.0),
    ([], [(1,)], 0.0),
    ([(1, 2)], [(1, 2)], 1.0),
    ([(1, 2)], [(2, 1)], 1.0),  # within a row, cells are matched by membership
    # gold row (1, 2) vs pred row (1, 3): match 1/2, pred_only 1/2, truth_only 1/2 -> F1 0.5
    ([(1, 2)], [(1, 3)], 0.5),
    # duplicates are dropped first; positional pairing: row 2 of gold vs row 2 of pred
    ([(1,), (1,), (2,)], [(1,), (3,)], 0.5),
    # one extra pred row: tp=1, fp=1, fn=0 -> P=.5 R=1 -> 2/3
    ([(1,)], [(1,), (2,)], 2 / 3),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), SOFT_F1_CASES)
def test_soft_f1(gold, pred, expected):
    assert partial_match(gold, pred, metric="soft_f1") == pytest.approx(expected)


PAVERL_CASES = [
    # equal row counts: fraction of gold columns matched by sorted values
    ([(1, "a"), (2, "b")], [("b", 2), ("a", 1)], 1.0),
    ([(1, "a"), (2, "b")], [(1, "x"), (2, "y")], 0.5),
    ([(1, "a"), (2, "b")], [("b", 1), ("a", 2)], 1.0),  # columns sorted independently: rows ignored
    ([(0.1234,)], [(0.1271,)], 1.0),  # rounded to 3 decimals, equal within 0.005
    ([(0.1234,)], [(0.1301,)], 0.0),
    ([(1, "a")], [(1, "a", "extra")], 1.0),
    # 1-5 extra pred rows: filter pred rows whose key (first text column) occurs in gold
    ([(1, "a"), (2, "b")], [(1, "a"), (2, "b"), (3, "c")], 1.0),
    ([(1, "a"), (2, "b")], [(1, "a"), (9, "b"), (3, "c")], 0.5),
    # 1-5 missing pred rows: (r_p / r_g) * (c_m / c_g)
    ([(1, "a"), (2, "b")], [(1, "a")], 0.5),
    ([(1, "a"), (2, "b"), (3, "c"), (4, "d")], [(1, "a"), (2, "b"), (3, "c")], 0.75),
    # more than 5 rows apart
    ([(i,) for i in range(10)], [(0,), (1,), (2,)], 0.0),
    # two empty results given as rows (no column count): each takes the other's columns, and
    # PaVeRL's check_dataframe matches every column of two empty frames (issue 11)
    ([], [], 1.0),
    ([], [(1,)], 0.0),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), PAVERL_CASES)
def test_paverl(gold, pred, expected):
    assert partial_match(gold, pred, metric="paverl") == pytest.approx(expected)


def test_paverl_empty_gold_with_columns():
    empty = as_table([], columns=["a", "b"])
    assert partial_match(empty, as_table([], columns=["x", "y"]), metric="paverl") == 1.0
    assert partial_match(empty, as_table([], columns=["x"]), metric="paverl") == 0.5
    assert partial_match(empty, [(1, 2)], metric="paverl") == 0.0


TABLE_F1_CASES = [
    (G, G, 1.0),
    (G, [(b, a) for a, b in reversed(G)], 1.0),
    ([], [], 1.0),
    ([(1,)], [], 0.0),
    ([], [(1,)], 0.0),
    ([(1,), (2,)], [(1,)], 2 / 3),  # missing row
    ([(1,)], [(1,), (2,)], 2 / 3),  # extra row: symmetric
    ([(1, "a")], [(1,)], 2 / 3),  # missing column
    ([(1,)], [(1, "a")], 2 / 3),  # extra column: symmetric
    ([(1, "a"), (2, "b")], [(1, "b"), (2, "a")], 0.5),  # shuffled column: rows stay aligned
    ([(1,)], [(2,)], 0.0),
]


@pytest.mark.parametrize(("gold", "pred", "expected"), TABLE_F1_CASES)
def test_table_f1(gold, pred, expected):
    assert partial_match(gold, pred, metric="table_f1") == pytest.approx(expected)


# ------------------------------------------------------------------ batch API


def test_score_batch_matches_single_calls_and_handles_failed_preds():
    gold = as_table(G)
    preds = [G, G[:2], [(b, a) for a, b in G], None, []]
    out = score_batch([gold], preds, modes=["spider", "bird"], metrics=["table_f1", "soft_f1"], workers=2)
    for i, p in enumerate(preds):
        if p is None:
            assert all(out[k][i] == 0.0 for k in out)
            continue
        assert out["spider"][i] == float(compare(gold, p))
        assert out["bird"][i] == float(compare(gold, p, mode="bird"))
        assert out["table_f1"][i] == partial_match(gold, p)
        assert out["soft_f1"][i] == partial_match(gold, p, metric="soft_f1")


def test_score_batch_per_pair_options_and_large_parallel_batch():
    golds = [as_table([(i,), (i + 1,)]) for i in range(1024)]
    preds = [as_table([(i + 1,), (i,)]) for i in range(1024)]
    flags = [i % 2 == 0 for i in range(1024)]
    out = score_batch(golds, preds, order_matters=flags, workers=-1)
    assert out["spider"] == [0.0 if f else 1.0 for f in flags]


def test_score_batch_rejects_mismatched_lengths():
    with pytest.raises(ValueError, match="golds must hold 1 table or one per prediction"):
        score_batch([[(1,)], [(2,)]], [[(1,)]] * 3)
    with pytest.raises(ValueError, match="order_matters must have length 1"):
        score_batch([[(1,)]], [[(1,)]] * 3, order_matters=[True, False])


def test_fingerprint_clusters_equal_results():
    a = as_table([(1, "x"), (2, "y")])
    b = as_table([(2, "y"), (1.0, "x")])
    c = as_table([(2, "y"), (1, "z")])
    assert a.fingerprint() == b.fingerprint() != c.fingerprint()
    assert a.fingerprint(ordered=True) != b.fingerprint(ordered=True)


def test_fingerprint_can_ignore_column_order():
    a = as_table([(1, "x", 2.5), (2, "y", 3.5)])
    b = as_table([("y", 3.5, 2), ("x", 2.5, 1)])  # columns permuted, rows swapped
    c = as_table([("y", 3.5, 2), ("x", 2.5, 9)])
    assert a.fingerprint() != b.fingerprint()
    assert a.fingerprint(column_order=False) == b.fingerprint(column_order=False) != c.fingerprint(column_order=False)
    assert a.fingerprint(ordered=True, column_order=False) != b.fingerprint(ordered=True, column_order=False)
    # the row pairing still counts: the same column bags, rows paired differently
    d = as_table([(1, "y", 2.5), (2, "x", 3.5)])
    assert a.fingerprint(column_order=False) != d.fingerprint(column_order=False)


def test_float_repr_matches_python():
    from sqlrl._core import py_float_repr

    for x in [1.0, 1e16, 1e15, 1.5e-5, 1e-4, 0.1 + 0.2, -0.0, 5e-324, 1.7976931348623157e308, 123.456, -2.5e-7]:
        assert py_float_repr(x) == repr(x)
    assert py_float_repr(math.inf) == "inf" and py_float_repr(math.nan) == "nan"
    rng = __import__("random").Random(5)
    for _ in range(20000):  # random bit patterns: every exponent range, subnormals included
        x = __import__("struct").unpack("<d", rng.getrandbits(64).to_bytes(8, "little"))[0]
        if not math.isnan(x):
            assert py_float_repr(x) == repr(x)


def test_python_implementation_can_be_forced(monkeypatch):
    import sqlrl.scoring.reference as reference

    calls = []
    monkeypatch.setattr(reference, "partial_match", lambda *a, **k: calls.append("partial") or 0.25)
    monkeypatch.setenv("SQLRL_IMPL", "python")
    assert partial_match([(1,)], [(2,)]) == 0.25
    assert compare([(1, "a")], [("a", 1.0)]) is True  # the twin's verdict
    monkeypatch.delenv("SQLRL_IMPL")
    assert partial_match([(1,)], [(2,)]) == 0.0 and calls == ["partial"]


def test_docstring_examples():
    import doctest

    import sqlrl.scoring

    assert doctest.testmod(sqlrl.scoring).failed == 0


def test_a_gold_table_shared_by_threads_builds_its_row_index_once_and_scores_alike():
    # The gold Table keeps the row index it builds on first use; threads that reach it together
    # must all see one complete index (std::call_once) and score exactly as a single thread does.
    import random
    from concurrent.futures import ThreadPoolExecutor

    rng = random.Random(3)
    rows = [(i, rng.randrange(7), f"n{rng.randrange(50)}") for i in range(3000)]
    preds = []
    for k in range(24):
        p = list(rows)
        rng.shuffle(p)
        if k % 3 == 1:
            p[0] = (-1, 0, "x")
        if k % 3 == 2:
            p = p[:-1] + p[:1]
        preds.append(p)
    expected = [
        (compare(rows, p, mode="bird"), compare(rows, p), partial_match(rows, p, metric="soft_f1")) for p in preds
    ]
    for _ in range(3):
        gold = as_table(rows)  # fresh: no index yet
        tables = [as_table(p) for p in preds]
        with ThreadPoolExecutor(8) as pool:
            got = list(
                pool.map(
                    lambda t, gold=gold: (
                        compare(gold, t, mode="bird"),
                        compare(gold, t),
                        partial_match(gold, t, metric="soft_f1"),
                    ),
                    tables,
                )
            )
        assert got == expected
        batch = score_batch([as_table(rows)], tables, modes=["bird", "spider"], metrics=["soft_f1"], workers=4)
        assert batch["bird"] == [float(e[0]) for e in expected]
        assert batch["spider"] == [float(e[1]) for e in expected]
        assert batch["soft_f1"] == [e[2] for e in expected]
