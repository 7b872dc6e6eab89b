"""Result tables read through the Arrow C stream interface (DuckDB, pyarrow, polars, pandas)."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import duckdb
import pytest

from sqlrl import as_table, compare

ALL_TYPES_SQL = """
SELECT 1::TINYINT AS i8, 2::SMALLINT AS i16, 3::INTEGER AS i32, 4::BIGINT AS i64,
       5::UTINYINT AS u8, 18446744073709551615::UBIGINT AS u64,
       2.5::FLOAT AS f32, 2.5::DOUBLE AS f64, 'nan'::DOUBLE AS fnan,
       1.50::DECIMAL(10, 2) AS dec, 12::DECIMAL(18, 0) AS dec0, 12345678901234567890::HUGEINT AS huge,
       'héllo' AS txt, 'ab'::BLOB AS blob, true AS flag, NULL::INTEGER AS nothing,
       DATE '2020-01-02' AS d, TIME '03:04:05' AS t, TIMESTAMP '2020-01-02 03:04:05.25' AS ts,
       [1, 2] AS lst, {'k': 'v'} AS st, MAP {'a': 1} AS mp
"""

EXPECTED_ROW = (
    1,
    2,
    3,
    4,
    5,
    1.8446744073709552e19,
    2.5,
    2.5,
    float("nan"),
    1.5,
    12,
    1.2345678901234567e19,
    "héllo",
    b"ab",
    True,
    None,
    "2020-01-02",
    "03:04:05",
    "2020-01-02 03:04:05.250000",
    "[1, 2]",
    "[['k', 'v']]",  # a struct or map is its list of [key, value] pairs (docs/scores.md)
    "[['a', 1]]",
)


def test_duckdb_types_are_canonicalised():
    con = duckdb.connect()
    t = as_table(con.sql(ALL_TYPES_SQL))
    assert t.columns[:3] == ["i8", "i16", "i32"]
    (row,) = t.rows()
    assert len(row) == len(EXPECTED_ROW)
    for got, want in zip(row, EXPECTED_ROW, strict=True):
        if isinstance(want, float) and want != want:
            assert got != got
        else:
            assert got == want and type(got) is type(want), (got, want)


def test_duckdb_and_sqlite_rows_agree():
    import sqlite3

    sql = "SELECT 7 AS a, 'x' AS b, 2.5 AS c, NULL AS d"
    lite = sqlite3.connect(":memory:").execute(sql).fetchall()
    duck = duckdb.connect().sql(sql)
    assert compare(lite, duck, mode="strict")


def test_duckdb_sum_hugeint_equals_sqlite_integer():
    duck = duckdb.connect().sql("SELECT sum(i) FROM range(5) t(i)")
    assert compare([(10,)], duck, mode="strict")


def test_pyarrow_polars_pandas():
    pa = pytest.importorskip("pyarrow")
    pl = pytest.importorskip("polars")
    pd = pytest.importorskip("pandas")
    rows = [(1, "a"), (None, "b"), (3, None)]
    t_pa = as_table(pa.table({"x": [1, None, 3], "y": ["a", "b", None]}))
    t_pl = as_table(pl.DataFrame({"x": [1, None, 3], "y": ["a", "b", None]}))
    t_pd = as_table(pd.DataFrame({"x": pd.array([1, None, 3], dtype="Int64"), "y": ["a", "b", None]}))
    for t in (t_pa, t_pl, t_pd):
        assert t.rows() == rows
        assert t.columns == ["x", "y"]
    dict_col = pa.table({"d": pa.array(["a", "b", "a"]).dictionary_encode()})
    assert as_table(dict_col).rows() == [("a",), ("b",), ("a",)]
    sliced = pa.table({"x": list(range(10))}).slice(3, 4)
    assert as_table(sliced).rows() == [(3,), (4,), (5,), (6,)]
    chunked = pa.concat_tables([pa.table({"x": [1, 2]}), pa.table({"x": [3]})])
    assert as_table(chunked).rows() == [(1,), (2,), (3,)]


def test_arrow_max_rows_across_batches():
    con = duckdb.connect()
    t = as_table(con.sql("SELECT * FROM range(100000)"), max_rows=5000)
    assert t.num_rows == 5000 and t.truncated
    t = as_table(con.sql("SELECT * FROM range(10)"), max_rows=10)
    assert t.num_rows == 10 and not t.truncated


def test_arrow_reading_needs_no_pyarrow():
    code = textwrap.dedent(
        """
        import sys
        sys.modules["pyarrow"] = None  # any import of pyarrow now fails
        import duckdb, sqlrl
        t = sqlrl.as_table(duckdb.connect().sql("SELECT 1 AS a, 'x' AS b"))
        assert t.rows() == [(1, "x")], t.rows()
        assert "pyarrow" not in [m for m in sys.modules if sys.modules[m] is not None]
        print("ok")
        """
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "ok"


def test_unsupported_objects_give_clear_errors():
    with pytest.raises(TypeError, match="cannot read a result table from int"):
        as_table(5)
    with pytest.raises(TypeError, match="each row must be a sequence"):
        as_table([1, 2])
