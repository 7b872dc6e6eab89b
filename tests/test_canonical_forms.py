"""One value, one canonical form: every DuckDB type reads alike from Python rows and from Arrow.

For each DuckDB type, hypothesis draws a column of values (NULLs included) and checks that the
core's table is the same whether it is built from ``fetchall()`` rows or from the relation's Arrow C
stream (the default export, where ``as_table`` reads lossy types through rows, and the lossless one,
read straight from Arrow and sliced at every offset), and that the pure-Python statement of the forms
(``sqlrl.scoring.reference.canonical``) writes the same cells.
"""

from __future__ import annotations

import datetime
import json
import os

import duckdb
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from sqlrl import Table, as_table, compare
from sqlrl.scoring.reference import canonical

pa = pytest.importorskip("pyarrow")

# Examples per type; raise it for a longer fuzz (SQLRL_FUZZ_EXAMPLES=500 python -m pytest ...).
EXAMPLES = int(os.environ.get("SQLRL_FUZZ_EXAMPLES", "12"))
US_PER_DAY = 86_400_000_000
INT64_MAX = 2**63 - 1


def sql_str(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def clock(micros: int, digits: int = 6) -> str:
    secs, frac = divmod(micros, 10**digits)
    return f"{secs // 3600:02d}:{secs // 60 % 60:02d}:{secs % 60:02d}.{frac:0{digits}d}"


def offset(seconds: int) -> str:
    sign, s = ("-", -seconds) if seconds < 0 else ("+", seconds)
    return f"{sign}{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}"


TEXT = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-(10**6), 10**6) | TEXT,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3),
    max_leaves=6,
)
INTERVAL = st.tuples(st.integers(-(10**6), 10**6), st.integers(-(10**7), 10**7), st.integers(-(10**14), 10**14))


def ints(lo: int, hi: int, cast: str) -> st.SearchStrategy[str]:
    edges = st.sampled_from(
        [lo, hi, 0, -1 if lo < 0 else 1, 2**63 - 1 if hi > 2**63 else hi, 2**63 if hi > 2**63 else lo]
    )
    return (st.integers(lo, hi) | edges).map(lambda v: f"'{v}'::{cast}")


def decimals(p: int, s: int) -> st.SearchStrategy[str]:
    return st.integers(-(10**p) + 1, 10**p - 1).map(lambda u: f"'{u}E{-s:+d}'::DECIMAL({p}, {s})")


def floats(cast: str, width: int) -> st.SearchStrategy[str]:
    return st.floats(width=width).map(lambda x: f"'{x!r}'::{cast}")


def list_of(items: st.SearchStrategy[str], cast: str, size: tuple[int, int] = (0, 4)) -> st.SearchStrategy[str]:
    return st.lists(items | st.just("NULL"), min_size=size[0], max_size=size[1]).map(
        lambda xs: f"[{', '.join(xs)}]::{cast}"
    )


INT_SQL = ints(-(2**31), 2**31 - 1, "INTEGER")
TEXT_SQL = TEXT.map(sql_str)
DATE_SQL = st.integers(-(2**31) + 3, 2**31 - 3).map(lambda d: f"(DATE '1970-01-01' + ({d}))") | st.sampled_from(
    ["'infinity'::DATE", "'-infinity'::DATE", "DATE '0001-01-01'", "DATE '9999-12-31'", "DATE '0044-03-15 (BC)'"]
)
TIMESTAMP_SQL = st.integers(-INT64_MAX + 1, INT64_MAX - 1).map(lambda us: f"make_timestamp({us})") | st.sampled_from(
    ["'infinity'::TIMESTAMP", "'-infinity'::TIMESTAMP", "TIMESTAMP '9999-12-31 23:59:59.999999'"]
)
PY_RANGE_US = (-62135596800 * 10**6, 253402300799 * 10**6)  # 0001-01-01 .. 9999-12-31 23:59:59
STRUCT_TYPE = 'STRUCT(a INTEGER, "b c" VARCHAR, d INTEGER[])'

# DuckDB type -> strategy of non-NULL SQL expressions of that type.
DUCKDB_TYPES: dict[str, st.SearchStrategy[str]] = {
    "BOOLEAN": st.sampled_from(["true", "false"]),
    "TINYINT": ints(-128, 127, "TINYINT"),
    "SMALLINT": ints(-(2**15), 2**15 - 1, "SMALLINT"),
    "INTEGER": INT_SQL,
    "BIGINT": ints(-(2**63), 2**63 - 1, "BIGINT"),
    "HUGEINT": ints(-(2**127) + 1, 2**127 - 1, "HUGEINT"),
    "UTINYINT": ints(0, 255, "UTINYINT"),
    "USMALLINT": ints(0, 2**16 - 1, "USMALLINT"),
    "UINTEGER": ints(0, 2**32 - 1, "UINTEGER"),
    "UBIGINT": ints(0, 2**64 - 1, "UBIGINT"),
    "UHUGEINT": ints(0, 2**128 - 1, "UHUGEINT"),
    "VARINT": st.integers(-(10**80), 10**80).map(lambda v: f"'{v}'::VARINT"),
    "FLOAT": floats("FLOAT", 32),
    "DOUBLE": floats("DOUBLE", 64),
    "DECIMAL(4,1)": decimals(4, 1),
    "DECIMAL(18,3)": decimals(18, 3),
    "DECIMAL(18,0)": decimals(18, 0),
    "DECIMAL(38,0)": decimals(38, 0),
    "DECIMAL(38,20)": decimals(38, 20),
    "VARCHAR": TEXT_SQL,
    "BLOB": st.binary(max_size=10).map(lambda b: f"unhex('{b.hex()}')"),
    "UUID": st.uuids().map(lambda u: f"'{u}'::UUID"),
    "JSON": JSON_VALUES.map(lambda v: f"{sql_str(json.dumps(v))}::JSON"),
    "ENUM": st.sampled_from(["a", "it's", "z"]).map(lambda x: f"{sql_str(x)}::ENUM('a', 'it''s', 'z')"),
    "BIT": st.text("01", min_size=1, max_size=20).map(lambda b: f"'{b}'::BIT"),
    "DATE": DATE_SQL,
    "TIME": (st.integers(0, US_PER_DAY - 1).map(lambda us: f"'{clock(us)}'::TIME") | st.just("'24:00:00'::TIME")),
    "TIME_NS": st.integers(0, US_PER_DAY * 1000 - 1).map(lambda ns: f"'{clock(ns, 9)}'::TIME_NS"),
    "TIMETZ": st.builds(
        lambda us, off: f"'{clock(us)}{offset(off)}'::TIMETZ",
        st.integers(0, US_PER_DAY - 1),
        st.integers(-57599, 57599),
    )
    | st.just("'24:00:00+15:59:59'::TIMETZ"),
    "TIMESTAMP": TIMESTAMP_SQL,
    "TIMESTAMP_S": TIMESTAMP_SQL.map(lambda e: f"{e}::TIMESTAMP_S"),
    "TIMESTAMP_MS": TIMESTAMP_SQL.map(lambda e: f"{e}::TIMESTAMP_MS"),
    "TIMESTAMP_NS": st.integers(-INT64_MAX + 1, INT64_MAX - 1).map(lambda ns: f"make_timestamp_ns({ns})")
    | st.sampled_from(["'infinity'::TIMESTAMP_NS", "'-infinity'::TIMESTAMP_NS"]),
    "TIMESTAMPTZ": TIMESTAMP_SQL.map(lambda e: f"{e}::TIMESTAMPTZ"),
    # In another session time zone DuckDB's client gives aware datetimes in that zone (out of Python's
    # range, its own text in that zone, which no Arrow reader can know): within Python's range here.
    "TIMESTAMPTZ@Asia/Tokyo": st.integers(*PY_RANGE_US).map(lambda us: f"make_timestamp({us})::TIMESTAMPTZ"),
    "INTERVAL": INTERVAL.map(lambda i: f"(to_months({i[0]}) + to_days({i[1]}) + to_microseconds({i[2]}))"),
    "INTEGER[]": list_of(INT_SQL, "INTEGER[]"),
    "VARCHAR[]": list_of(TEXT_SQL, "VARCHAR[]"),
    "DOUBLE[]": list_of(floats("DOUBLE", 64), "DOUBLE[]"),
    "BLOB[]": list_of(st.binary(max_size=4).map(lambda b: f"unhex('{b.hex()}')"), "BLOB[]"),
    "INTEGER[2]": list_of(INT_SQL, "INTEGER[2]", (2, 2)),
    "VARCHAR[2][]": list_of(list_of(TEXT_SQL, "VARCHAR[2]", (2, 2)), "VARCHAR[2][]"),
    "INTEGER[][]": list_of(list_of(INT_SQL, "INTEGER[]"), "INTEGER[][]"),
    STRUCT_TYPE: st.builds(
        lambda a, b, d: f"{{'a': {a}, 'b c': {b}, 'd': {d}}}::{STRUCT_TYPE}",
        INT_SQL | st.just("NULL"),
        TEXT_SQL | st.just("NULL"),
        list_of(INT_SQL, "INTEGER[]"),
    ),
    f"{STRUCT_TYPE}[]": list_of(
        st.builds(lambda a, b: f"{{'a': {a}, 'b c': {b}, 'd': [{a}]}}::{STRUCT_TYPE}", INT_SQL, TEXT_SQL),
        f"{STRUCT_TYPE}[]",
    ),
    "MAP(VARCHAR, INTEGER)": st.dictionaries(TEXT, st.integers(-5, 5) | st.none(), max_size=3).map(
        lambda d: "MAP {" + ", ".join(f"{sql_str(k)}: {'NULL' if v is None else v}" for k, v in d.items()) + "}"
    ),
    "MAP(INTEGER, VARCHAR[])": st.dictionaries(st.integers(-5, 5), st.lists(TEXT, max_size=2), max_size=3).map(
        lambda d: "MAP {" + ", ".join(f"{k}: [{', '.join(map(sql_str, v))}]::VARCHAR[]" for k, v in d.items()) + "}"
    ),
    "UNION(num INTEGER, str VARCHAR)": (
        INT_SQL.map(lambda e: f"union_value(num := {e})") | TEXT_SQL.map(lambda e: f"union_value(str := {e})")
    ).map(lambda e: f"{e}::UNION(num INTEGER, str VARCHAR)"),
    "STRUCT(t TIMESTAMP, d DATE, u UUID, h UHUGEINT, i INTERVAL, z TIMETZ)[]": list_of(
        st.builds(
            lambda t, d, u, h, i, z: f"{{'t': {t}, 'd': {d}, 'u': {u}, 'h': {h}, 'i': {i}, 'z': {z}}}",
            TIMESTAMP_SQL,
            DATE_SQL,
            st.uuids().map(lambda u: f"'{u}'::UUID"),
            ints(0, 2**128 - 1, "UHUGEINT"),
            INTERVAL.map(lambda i: f"(to_months({i[0]}) + to_days({i[1]}) + to_microseconds({i[2]}))"),
            st.integers(0, US_PER_DAY - 1).map(lambda us: f"'{clock(us)}+05:30'::TIMETZ"),
        ),
        "STRUCT(t TIMESTAMP, d DATE, u UUID, h UHUGEINT, i INTERVAL, z TIMETZ)[]",
        (0, 2),
    ),
}


def connect(lossless: bool, zone: str) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(config={"arrow_lossless_conversion": lossless})
    con.execute(f"SET TimeZone = {sql_str(zone)}")
    return con


CONNECTIONS: dict[tuple[bool, str], duckdb.DuckDBPyConnection] = {}


def con_for(lossless: bool, zone: str) -> duckdb.DuckDBPyConnection:
    if (lossless, zone) not in CONNECTIONS:
        CONNECTIONS[(lossless, zone)] = connect(lossless, zone)
    return CONNECTIONS[(lossless, zone)]


def same(a: Table, b: list[tuple]) -> bool:
    """Equal rows, NaN equal to NaN, -0.0 told from 0.0 and every type exact (repr compares all)."""
    return repr(a.rows()) == repr(b)


@pytest.mark.parametrize("type_name", list(DUCKDB_TYPES))
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_duckdb_rows_and_arrow_give_one_canonical_form(type_name, data):
    cast, _, zone = type_name.partition("@")
    values = data.draw(st.lists(DUCKDB_TYPES[type_name] | st.just("NULL"), min_size=1, max_size=6), label="values")
    sql = "SELECT * FROM (VALUES " + ", ".join(f"({v})" for v in values) + ") t(c)"
    con = con_for(False, zone or "UTC")
    try:
        rows = con.execute(sql).fetchall()
    except (duckdb.Error, OverflowError, ValueError):  # a value DuckDB (or its Python client) refuses
        assume(False)
    from_rows = as_table(rows, columns=["c"])
    expected = from_rows.rows()
    assert repr([tuple(canonical(v) for v in row) for row in rows]) == repr(expected), "twin and core differ"
    assert same(as_table(con.sql(sql)), expected), "default Arrow export"
    lossless = con_for(True, zone or "UTC")
    assert same(Table.from_arrow(lossless.sql(sql)), expected), "lossless Arrow export"
    arrow = pa.table(lossless.sql(sql))
    for k in range(1, len(rows)):
        assert same(Table.from_arrow(arrow.slice(k)), expected[k:]), f"sliced at {k}"
        assert same(Table.from_arrow(arrow.slice(k - 1, 1)), expected[k - 1 : k]), f"one row at {k - 1}"
    assert compare(from_rows, as_table(con.sql(sql)), mode="strict")


DOCUMENTED_FORMS = [
    ("SELECT 170141183460469231731687303715884105728::UHUGEINT", 1.7014118346046923e38),
    ("SELECT 340282366920938463463374607431768211455::UHUGEINT", 3.402823669209385e38),
    ("SELECT INTERVAL '1 year 2 months 3 days 4:05:06.789'", "423 days, 4:05:06.789000"),
    ("SELECT INTERVAL '-1 microsecond'", "-1 day, 23:59:59.999999"),
    ("SELECT TIMETZ '12:34:56+05:30'", "12:34:56+05:30"),
    ("SELECT TIMESTAMP_NS '2020-01-02 03:04:05.123456789'", "2020-01-02 03:04:05.123456"),
    ("SELECT TIMESTAMP_NS '1969-12-31 23:59:59.999999999'", "1970-01-01 00:00:00"),
    ("SELECT TIMESTAMPTZ '2020-01-02 12:04:05+09:00'", "2020-01-02 03:04:05+00:00"),
    ("SELECT 'infinity'::TIMESTAMP", "9999-12-31 23:59:59.999999"),
    ("SELECT '-infinity'::DATE", "0001-01-01"),
    ("SELECT DATE '0044-03-15 (BC)'", "0044-03-15 (BC)"),
    ("SELECT TIMESTAMP '10000-01-01 10:00:00.5'", "10000-01-01 10:00:00.5"),
    ("SELECT [1, 2]::INTEGER[2]", "[1, 2]"),
    ("SELECT {'a': 'it''s', 'b': [1, 2]}", "[['a', 'it\\'s'], ['b', [1, 2]]]"),
    ("SELECT MAP {'k': 1}", "[['k', 1]]"),
    ("SELECT '101'::BIT", "101"),
    ("SELECT '-12345678901234567890123'::VARINT", "-12345678901234567890123"),
    ("SELECT '6ba7b810-9dad-11d1-80b4-00c04fd430c8'::UUID", "6ba7b810-9dad-11d1-80b4-00c04fd430c8"),
    ("SELECT union_value(num := 2)::UNION(num INTEGER, str VARCHAR)", 2),
    ("SELECT [unhex('ff00'), NULL]", "[b'\\xff\\x00', None]"),
]


@pytest.mark.parametrize(("sql", "want"), DOCUMENTED_FORMS)
def test_documented_canonical_forms(sql, want):
    default, lossless = connect(False, "Asia/Tokyo"), connect(True, "Asia/Tokyo")
    tables = [
        as_table(default.execute(sql).fetchall()),
        as_table(default.sql(sql)),
        Table.from_arrow(lossless.sql(sql)),
    ]
    for table in tables:
        got = table.rows()[0][0]
        assert got == want and type(got) is type(want), (sql, got)


def test_canonical_python_values():
    tokyo = datetime.timezone(datetime.timedelta(hours=9))
    cases = [
        (datetime.datetime(2020, 1, 2, 12, 4, 5, tzinfo=tokyo), "2020-01-02 03:04:05+00:00"),
        (
            datetime.datetime(1, 1, 1, 1, tzinfo=datetime.timezone(datetime.timedelta(hours=5))),
            "0001-12-31 (BC) 20:00:00+00",
        ),
        (
            datetime.time(1, 2, 3, tzinfo=datetime.timezone(-datetime.timedelta(hours=15, seconds=1))),
            "01:02:03-15:00:01",
        ),
        (datetime.timedelta(days=-1), "-1 day, 0:00:00"),
        ((1, (2, "x")), "[1, [2, 'x']]"),
        ({"k": {"n": None}}, "[['k', [['n', None]]]]"),
        ([b"it's", True, 2**70, float("nan")], '[b"it\'s", True, 1.1805916207174113e+21, nan]'),
        (10**400, "1" + "0" * 400),
    ]
    for value, want in cases:
        assert canonical(value) == want
        assert as_table([(value,)]).rows() == [(want,)]
    pd = pytest.importorskip("pandas")
    assert as_table([(pd.Timestamp("2020-01-02 03:04:05.123456789"),)]).rows() == [("2020-01-02 03:04:05.123456",)]
    assert as_table([(pd.Timedelta(1, "ns"),)]).rows() == [("0:00:00",)]
    assert as_table([(pa.MonthDayNano([1, 2, 3000]),)]).rows() == [("32 days, 0:00:00.000003",)]
