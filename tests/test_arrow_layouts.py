"""The core reads every Arrow layout pyarrow and polars produce, sliced or not, as it reads their rows.

hypothesis builds columns of many Arrow types (nested ones with children at offsets of their own),
in several chunks, and checks ``as_table(arrow.slice(k)) == as_table(rows[k:])`` at every offset,
where ``rows`` are the library's own Python rows (``to_pylist``, ``DataFrame.rows``).

Sub-microsecond parts are dropped toward zero, as DuckDB drops them (docs/scores.md);
pandas' Timestamp and polars round negative nanosecond times down instead, so nanosecond
values before 1970 are drawn in whole microseconds here.
"""

from __future__ import annotations

import datetime
import decimal
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sqlrl import as_table

pa = pytest.importorskip("pyarrow")
pl = pytest.importorskip("polars")

EXAMPLES = int(os.environ.get("SQLRL_FUZZ_EXAMPLES", "12"))
SETTINGS = settings(max_examples=EXAMPLES * 4, deadline=None, suppress_health_check=[HealthCheck.too_slow])

UNIT_PER_SEC = {"s": 1, "ms": 1000, "us": 10**6, "ns": 10**9}
PY_RANGE_S = (-62135596800 + 86400, 253402300799 - 86400)  # 0001-01-02 .. 9999-12-30: any time zone stays in range
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=8)


def epoch(unit: str, lo_s: int = PY_RANGE_S[0], hi_s: int = PY_RANGE_S[1]) -> st.SearchStrategy[int]:
    per = UNIT_PER_SEC[unit]
    lo, hi = max(lo_s * per, -(2**63) + 10**14), min(hi_s * per, 2**63 - 10**14)  # a day inside int64 ns
    if unit == "ns":  # before 1970: whole microseconds (see the module docstring)
        return st.integers(lo, hi).map(lambda x: x if x >= 0 else x - x % 1000)
    return st.integers(lo, hi)


def ints(bits: int, signed: bool) -> st.SearchStrategy[int]:
    return st.integers(-(2 ** (bits - 1)), 2 ** (bits - 1) - 1) if signed else st.integers(0, 2**bits - 1)


def decimals(p: int, s: int) -> st.SearchStrategy[decimal.Decimal]:
    return st.integers(-(10**p) + 1, 10**p - 1).map(lambda u: decimal.Decimal(f"{u}E{-s:+d}"))


STRUCT_T = pa.struct([("a", pa.int64()), ("b c", pa.string()), ("l", pa.list_(pa.int32()))])
STRUCT_V = st.fixed_dictionaries(
    {
        "a": st.none() | ints(64, True),
        "b c": st.none() | TEXT,
        "l": st.none() | st.lists(ints(32, True) | st.none(), max_size=3),
    }
)

# pyarrow type -> strategy of non-null Python values of it.
PA_TYPES: list[tuple[pa.DataType, st.SearchStrategy]] = [
    (pa.null(), st.none()),
    (pa.bool_(), st.booleans()),
    *[(getattr(pa, f"{'u' if not s else ''}int{b}")(), ints(b, s)) for b in (8, 16, 32, 64) for s in (True, False)],
    (pa.float32(), st.floats(width=32)),
    (pa.float64(), st.floats()),
    (pa.string(), TEXT),
    (pa.large_string(), TEXT),
    (pa.string_view(), st.text(st.characters(exclude_categories=["Cs"]), max_size=30)),
    (pa.binary(), st.binary(max_size=8)),
    (pa.large_binary(), st.binary(max_size=8)),
    (pa.binary_view(), st.binary(max_size=30)),
    (pa.binary(3), st.binary(min_size=3, max_size=3)),
    (pa.decimal128(7, 2), decimals(7, 2)),
    (pa.decimal128(38, 0), decimals(38, 0)),
    (pa.decimal128(38, 30), decimals(38, 30)),
    (pa.decimal256(70, 5), decimals(70, 5)),
    (pa.decimal256(76, 0), decimals(76, 0)),
    (pa.decimal128(10, -3), st.integers(-(10**10) + 1, 10**10 - 1).map(lambda u: decimal.Decimal(f"{u}E+3"))),
    (pa.decimal32(7, 3), decimals(7, 3)),
    (pa.decimal64(15, 4), decimals(15, 4)),
    (pa.date32(), st.dates()),
    (pa.date64(), st.dates()),
    (pa.time32("s"), st.integers(0, 86399)),
    (pa.time32("ms"), st.integers(0, 86399999)),
    (pa.time64("us"), st.integers(0, 86399999999)),
    (pa.time64("ns"), st.integers(0, 86399999999999)),
    *[(pa.timestamp(u, tz), epoch(u)) for u in UNIT_PER_SEC for tz in (None, "UTC", "Asia/Tokyo", "-03:30")],
    *[(pa.duration(u), epoch(u, -(10**9), 10**9)) for u in UNIT_PER_SEC],
    (pa.month_day_nano_interval(), st.tuples(ints(32, True), ints(32, True), ints(64, True))),
    (pa.list_(pa.int64()), st.lists(ints(64, True) | st.none(), max_size=4)),
    (pa.large_list(pa.string()), st.lists(TEXT | st.none(), max_size=4)),
    (pa.list_view(pa.int32()), st.lists(ints(32, True), max_size=4)),
    (pa.large_list_view(pa.float64()), st.lists(st.floats(), max_size=3)),
    (pa.list_(pa.int16(), 2), st.lists(ints(16, True) | st.none(), min_size=2, max_size=2)),
    (pa.list_(pa.list_(pa.binary())), st.lists(st.lists(st.binary(max_size=3) | st.none(), max_size=2), max_size=2)),
    (STRUCT_T, STRUCT_V),
    (pa.list_(STRUCT_T), st.lists(STRUCT_V | st.none(), max_size=3)),
    (
        pa.struct([("s", STRUCT_T), ("t", pa.timestamp("us", "UTC"))]),
        st.fixed_dictionaries({"s": STRUCT_V, "t": epoch("us")}),
    ),
    (
        pa.map_(pa.string(), pa.int64()),
        st.dictionaries(TEXT, ints(64, True) | st.none(), max_size=3).map(lambda d: list(d.items())),
    ),
    (
        pa.map_(pa.int32(), pa.list_(pa.string())),
        st.dictionaries(ints(32, True), st.lists(TEXT, max_size=2), max_size=3).map(lambda d: list(d.items())),
    ),
    (pa.dictionary(pa.int8(), pa.string()), st.sampled_from(["a", "b", "it's"])),
    (pa.uuid(), st.uuids().map(lambda u: u.bytes)),
    (pa.json_(), st.sampled_from(['{"a": 1}', "[]", "null"])),
]


def make_array(typ: pa.DataType, values: list) -> pa.Array:
    if isinstance(typ, pa.TimestampType | pa.Time32Type | pa.Time64Type | pa.DurationType):
        storage = pa.int32() if isinstance(typ, pa.Time32Type) else pa.int64()
        return pa.array(values, storage).cast(typ) if not isinstance(typ, pa.TimestampType) else pa.array(values, typ)
    if isinstance(typ, pa.UuidType):
        return pa.ExtensionArray.from_storage(typ, pa.array(values, pa.binary(16)))
    return pa.array(values, typ)


def special_layouts(draw) -> list[tuple[str, pa.Array]]:
    """Arrays whose children sit at offsets of their own, and layouts pa.array does not build."""
    n = draw(st.integers(1, 6))
    ints_ = pa.array(draw(st.lists(ints(64, True) | st.none(), min_size=n + 3, max_size=n + 3)), pa.int64())
    strs = pa.array(draw(st.lists(TEXT | st.none(), min_size=n + 3, max_size=n + 3)), pa.string())
    a, b = draw(st.integers(0, 3)), draw(st.integers(0, 3))
    struct = pa.StructArray.from_arrays([ints_.slice(a, n), strs.slice(b, n)], names=["x", "y"])
    lengths = draw(st.lists(st.integers(0, 2), min_size=n, max_size=n))
    offsets = [0]
    for k in lengths:
        offsets.append(offsets[-1] + k)
    inner = pa.StructArray.from_arrays(
        [
            pa.array(range(offsets[-1] + 5), pa.int32()).slice(2, offsets[-1]),
            pa.array([f"q{i}" for i in range(offsets[-1] + 1)]).slice(1),
        ],
        names=["i", "s"],
    )
    list_of_struct = pa.ListArray.from_arrays(pa.array(offsets, pa.int32()), inner)
    run_ends = pa.compute.run_end_encode(
        pa.array(draw(st.lists(st.sampled_from(["a", "b", None]), min_size=n, max_size=n)))
    )
    type_ids = pa.array(draw(st.lists(st.integers(0, 1), min_size=n, max_size=n)), pa.int8())
    sparse = pa.UnionArray.from_sparse(type_ids, [ints_.slice(0, n), strs.slice(0, n)])
    dense_offsets = pa.array(list(range(n)), pa.int32())
    dense = pa.UnionArray.from_dense(type_ids, dense_offsets, [ints_.slice(1, n), strs.slice(2, n)])
    dict_of_lists = pa.DictionaryArray.from_arrays(
        pa.array(draw(st.lists(st.sampled_from([0, 1, 2, None]), min_size=n + 1, max_size=n + 1)), pa.uint32()).slice(
            1
        ),
        pa.array([[1, 2], None, [3, None], []], pa.list_(pa.int8())).slice(1),
    )
    bool8 = pa.ExtensionArray.from_storage(
        pa.bool8(), pa.array(draw(st.lists(st.sampled_from([0, 1, None]), min_size=n, max_size=n)), pa.int8())
    )
    return [
        ("struct", struct),
        ("list_of_struct", list_of_struct),
        ("ree", run_ends),
        ("sparse", sparse),
        ("dense", dense),
        ("bool8", bool8),
        ("dict_of_lists", dict_of_lists),
    ]


def check_every_offset(table, rows: list[tuple]) -> None:
    """as_table(table.slice(k)) reads like the rows from k on, at every k (and one row at k)."""
    for k in range(len(rows) + 1):
        want = repr(as_table(rows[k:], columns=table.column_names).rows())
        assert repr(as_table(table.slice(k)).rows()) == want, f"sliced at {k}"
        if k < len(rows):
            assert repr(as_table(table.slice(k, 1)).rows()) == repr(as_table(rows[k : k + 1]).rows()), f"row {k}"


def pa_rows(table) -> list[tuple]:
    return list(zip(*[col.to_pylist() for col in table.columns], strict=True))


@SETTINGS
@given(st.data())
def test_pyarrow_tables_read_like_their_rows(data):
    picks = data.draw(st.lists(st.sampled_from(range(len(PA_TYPES))), min_size=1, max_size=4), label="types")
    n = data.draw(st.integers(1, 6), label="rows")
    chunks = data.draw(st.integers(1, 3), label="chunks")
    batches = []
    for _ in range(chunks):
        cols = {}
        for j, p in enumerate(picks):
            typ, values = PA_TYPES[p]
            vals = data.draw(st.lists(values | st.none(), min_size=n + 2, max_size=n + 2))
            cols[f"c{j}"] = make_array(typ, vals).slice(data.draw(st.integers(0, 2)), n)  # columns at offsets
        batches.append(pa.table(cols))
    table = pa.concat_tables(batches)
    check_every_offset(table, pa_rows(table))


@SETTINGS
@given(st.data())
def test_nested_children_at_their_own_offsets(data):
    layouts = special_layouts(data.draw)
    table = pa.table({name: arr for name, arr in layouts})
    check_every_offset(table, pa_rows(table))
    for batch in table.to_batches():
        for k in range(batch.num_rows):
            sliced = batch.slice(k)
            assert repr(as_table(pa.table(sliced)).rows()) == repr(as_table(pa_rows(pa.table(sliced))).rows())


PL_TYPES: list[tuple[object, st.SearchStrategy]] = [
    (pl.Int8, ints(8, True)),
    (pl.Int64, ints(64, True)),
    (pl.UInt64, ints(64, False)),
    (pl.Int128, ints(128, True)),
    (pl.Float32, st.floats(width=32)),
    (pl.Float64, st.floats()),
    (pl.Boolean, st.booleans()),
    (pl.String, TEXT),
    (pl.Binary, st.binary(max_size=20)),
    (pl.Date, st.dates()),
    (pl.Time, st.times()),
    (pl.Datetime("us"), st.datetimes()),
    (pl.Datetime("ns"), st.datetimes(datetime.datetime(1678, 1, 1), datetime.datetime(2261, 12, 31))),
    (pl.Datetime("ms", "Asia/Tokyo"), st.datetimes(datetime.datetime(1900, 1, 1), datetime.datetime(2100, 1, 1))),
    (pl.Duration("us"), st.timedeltas(datetime.timedelta(days=-(10**5)), datetime.timedelta(days=10**5))),
    (pl.Decimal(20, 4), decimals(16, 4)),
    (pl.List(pl.Int64), st.lists(ints(64, True) | st.none(), max_size=3)),
    (pl.Array(pl.Int32, 2), st.lists(ints(32, True), min_size=2, max_size=2)),
    (pl.Struct({"a": pl.Int64, "b": pl.String}), st.fixed_dictionaries({"a": ints(64, True), "b": TEXT})),
    (pl.List(pl.Struct({"a": pl.Int64})), st.lists(st.fixed_dictionaries({"a": ints(64, True)}), max_size=2)),
    (pl.Categorical, st.sampled_from(["x", "y", "it's"])),
    (pl.Enum(["x", "y"]), st.sampled_from(["x", "y"])),
    (pl.Null, st.none()),
]


@SETTINGS
@given(st.data())
def test_polars_frames_read_like_their_rows(data):
    picks = data.draw(st.lists(st.sampled_from(range(len(PL_TYPES))), min_size=1, max_size=4), label="types")
    n = data.draw(st.integers(1, 6), label="rows")
    frames = []
    for _ in range(data.draw(st.integers(1, 3), label="chunks")):
        cols = {}
        for j, p in enumerate(picks):
            dtype, values = PL_TYPES[p]
            cols[f"c{j}"] = pl.Series(data.draw(st.lists(values | st.none(), min_size=n, max_size=n)), dtype=dtype)
        frames.append(pl.DataFrame(cols))
    df = pl.concat(frames, rechunk=False)
    for k in range(df.height + 1):
        sliced = df.slice(k)
        assert repr(as_table(sliced).rows()) == repr(as_table(sliced.rows(), columns=df.columns).rows()), f"at {k}"


def test_sliced_struct_columns_read_their_own_rows():
    # A struct's children sit at the struct's offset: the reader used to read them at the slice's
    # row numbers, so a slice gave the values of the first rows.
    structs = [{"a": i, "b": f"s{i}"} for i in range(5)]
    table = pa.table(
        {
            "s": pa.array(structs),
            "ls": pa.array([[s] for s in structs]),
            "ms": pa.array([[("k", i)] for i in range(5)], pa.map_(pa.string(), pa.int64())),
        }
    )
    assert as_table(table.slice(3)).rows() == [
        ("[['a', 3], ['b', 's3']]", "[[['a', 3], ['b', 's3']]]", "[['k', 3]]"),
        ("[['a', 4], ['b', 's4']]", "[[['a', 4], ['b', 's4']]]", "[['k', 4]]"),
    ]
    check_every_offset(table, pa_rows(table))
