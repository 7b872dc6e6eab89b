"""Sandbox behaviour on well-formed input: results, row cap, pooling, batches, gold cache, import, CSV."""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import threading
import time
import types
from pathlib import Path

import pytest

from sqlrl.data.demo import DEMO_DATABASES, DEMO_QUERIES, build_benchmark_table, demo_tables
from sqlrl.sandbox import (
    ErrorKind,
    ExecResult,
    LRUCache,
    MissingDatabaseError,
    NotADatabaseError,
    Sandbox,
    SandboxClosedError,
    UnsupportedDatabaseError,
    check_statement,
    import_sqlite_to_duckdb,
    normalize_sql,
)
from sqlrl.sandbox.compat import rewrite_bare_columns, rewrite_tokens
from sqlrl.sandbox.importer import duckdb_type
from sqlrl.sandbox.statement import check_text, first_keyword, keyword_gate

ENGINES = ["sqlite", "duckdb"]


@pytest.fixture
def open_sandbox(cache_dir):
    """``open_sandbox(path, **options)``: a Sandbox closed at teardown, caching into the session cache dir."""
    opened: list[Sandbox] = []

    def make(path, **options) -> Sandbox:
        options.setdefault("cache_dir", cache_dir)
        options.setdefault("timeout", 2.0)
        sb = Sandbox(path, **options)
        opened.append(sb)
        return sb

    yield make
    for sb in opened:
        sb.close()


# -- executing queries --------------------------------------------------------------------------------

BASIC_CASES = [
    # (sql, expected columns, expected rows)
    ("SELECT count(*) AS n FROM t", ["n"], [(1000,)]),
    ("SELECT i, s FROM t WHERE i < 3 ORDER BY i", ["i", "s"], [(0, None), (1, "s1"), (2, "s2")]),
    ("select sum(i) from t where s is null", ["sum(i)"], [(sum(range(0, 1000, 10)),)]),
    ("WITH x AS (SELECT i FROM t WHERE i >= 998) SELECT i FROM x ORDER BY i", ["i"], [(998,), (999,)]),
    ("SELECT 1 AS a UNION ALL SELECT 2 ORDER BY a", ["a"], [(1,), (2,)]),
    ("VALUES (1, 'x')", None, [(1, "x")]),
    ("SELECT f FROM t WHERE i = 2", ["f"], [(0.5,)]),
    ("SELECT s FROM bad WHERE id = 3", ["s"], [("Zürich",)]),
    ("SELECT i FROM t WHERE i < 0", ["i"], []),
    ("  -- leading comment\n SELECT 42 AS x ; ", ["x"], [(42,)]),
    ("SELECT * FROM (SELECT 7 AS x)", ["x"], [(7,)]),
]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(("sql", "columns", "rows"), BASIC_CASES)
def test_basic_queries(open_sandbox, tiny_sqlite, engine, sql, columns, rows):
    r = open_sandbox(tiny_sqlite, engine=engine).execute(sql)
    assert r.ok, r.error
    assert r.rows == rows
    if columns is not None:
        assert [c.lower() for c in r.columns] == [c.lower() for c in columns]
    assert r.error_kind is None and r.error == "" and not r.truncated
    assert r.engine == engine and r.sql == sql
    assert 0 < r.elapsed < 2.0


@pytest.mark.parametrize("engine", ENGINES)
def test_result_fields_of_a_failure(open_sandbox, tiny_sqlite, engine):
    r = open_sandbox(tiny_sqlite, engine=engine).execute("SELECT no_such_column FROM t")
    assert not r.ok and r.error_kind is ErrorKind.RUNTIME
    assert "no_such_column" in r.error
    assert r.rows == [] and r.columns == [] and r.elapsed > 0
    assert r.error_kind == "runtime" and str(r.error_kind) == "runtime"  # a str enum
    with pytest.raises(ValueError, match="no result table"):
        _ = r.table


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("", ErrorKind.EMPTY),
        ("  ;  -- only a comment", ErrorKind.EMPTY),
        ("SELEC 1", ErrorKind.SYNTAX),
        ("SELECT (1", ErrorKind.SYNTAX),
        ("SELECT * FROM nowhere", ErrorKind.RUNTIME),
        ("DROP TABLE t", ErrorKind.NOT_READ_ONLY),
        ("SELECT 1; SELECT 2", ErrorKind.MULTIPLE_STATEMENTS),
    ],
)
def test_error_kinds(open_sandbox, tiny_sqlite, engine, sql, kind):
    r = open_sandbox(tiny_sqlite, engine=engine).execute(sql)
    assert (r.ok, r.error_kind) == (False, kind)
    assert r.error


def test_duckdb_native_file_and_types(open_sandbox, demo_dir):
    sb = open_sandbox(demo_dir / "employees.duckdb")
    assert sb.engine == "duckdb" and not sb.sqlite_compat
    r = sb.execute("SELECT hire_date FROM employees WHERE emp_id = 1")
    import datetime

    assert r.ok and isinstance(r.rows[0][0], datetime.date)
    assert sb.execute("SELECT 7 / 2").rows == [(3.5,)]  # DuckDB semantics without sqlite_compat


def test_engine_auto_and_unsupported(open_sandbox, demo_dir, concert_sqlite):
    assert open_sandbox(concert_sqlite).engine == "sqlite"
    assert open_sandbox(demo_dir / "store.duckdb").engine == "duckdb"
    with pytest.raises(UnsupportedDatabaseError):
        Sandbox(demo_dir / "store.duckdb", engine="sqlite")
    with pytest.raises(ValueError, match="engine must be one of"):
        Sandbox(concert_sqlite, engine="postgres")


# -- row cap ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize(
    ("max_rows", "sql", "n", "truncated"),
    [
        (10, "SELECT * FROM t", 10, True),
        (10, "SELECT * FROM t LIMIT 10", 10, False),
        (10, "SELECT * FROM t LIMIT 11", 10, True),
        (0, "SELECT * FROM t", 0, True),
        (0, "SELECT * FROM t WHERE 0", 0, False),
        (5000, "SELECT * FROM t", 1000, False),
    ],
)
def test_row_cap(open_sandbox, tiny_sqlite, engine, max_rows, sql, n, truncated):
    sb = open_sandbox(tiny_sqlite, engine=engine, max_rows=max_rows)
    r = sb.execute(sql)
    assert r.ok and r.num_rows == n and r.truncated is truncated
    assert sb.execute("SELECT count(*) FROM t").rows == ([] if max_rows == 0 else [(1000,)])


def test_row_cap_keeps_first_rows_in_order(open_sandbox, tiny_sqlite):
    for engine in ENGINES:
        r = open_sandbox(tiny_sqlite, engine=engine, max_rows=3).execute("SELECT i FROM t ORDER BY i DESC")
        assert r.rows == [(999,), (998,), (997,)] and r.truncated


# -- pooling and batches ------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_same_thread_reuses_its_connection(open_sandbox, tiny_sqlite, engine):
    sb = open_sandbox(tiny_sqlite, engine=engine)
    for _ in range(20):
        assert sb.execute("SELECT 1").ok
    assert sb.connections == 1 and sb._pool.created == 1
    conns = []
    t = threading.Thread(target=lambda: conns.append(sb._pool.get()))
    t.start()
    t.join()
    assert conns[0] is not sb._pool.get()  # another thread, another connection
    assert sb._pool.created == 2


@pytest.mark.parametrize("engine", ENGINES)
def test_close_closes_connections_and_refuses_queries(tiny_sqlite, cache_dir, engine):
    with Sandbox(tiny_sqlite, engine=engine, cache_dir=cache_dir) as sb:
        assert sb.execute_many([f"SELECT {i}" for i in range(16)], workers=4)[5].rows == [(5,)]
        assert sb.connections >= 1
    assert sb.closed and sb.connections == 0
    with pytest.raises(SandboxClosedError):
        sb.execute("SELECT 1")
    sb.close()  # idempotent


@pytest.mark.parametrize("engine", ENGINES)
def test_execute_many_1024_in_order(open_sandbox, tiny_sqlite, engine):
    sb = open_sandbox(tiny_sqlite, engine=engine)
    sqls = [f"SELECT {i} AS k, count(*) FROM t WHERE i < {i}" for i in range(1024)]
    sqls[100] = "SELECT nope FROM t"  # failures keep their place too
    results = sb.execute_many(sqls, workers=8)
    assert len(results) == 1024
    for i, r in enumerate(results):
        if i == 100:
            assert r.error_kind is ErrorKind.RUNTIME
        else:
            assert r.ok and r.rows == [(i, min(i, 1000))], (i, r)
    assert sb.connections > 1  # ran on several pooled connections
    assert sb.execute_many([], workers=8) == []
    assert [r.rows for r in sb.execute_many(["SELECT 1", "SELECT 2"], workers=1)] == [[(1,)], [(2,)]]


# -- gold cache ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ENGINES)
def test_gold_cache(open_sandbox, tiny_sqlite, engine):
    cache = LRUCache(maxsize=8)
    sb = open_sandbox(tiny_sqlite, engine=engine, gold_cache=cache)
    g1 = sb.execute_gold("SELECT count(*) FROM t")
    g2 = sb.execute_gold("SELECT  count(*)\n FROM t ;")
    assert g1 is g2 and g1.rows == [(1000,)]
    assert (cache.hits, cache.misses) == (1, 1)
    assert sb.execute_gold("SELECT count(*) FROM t WHERE s = 'a  b'") is not g1
    many = sb.execute_many(["SELECT count(*) FROM t"] * 50, workers=4, gold=True)
    assert all(r is g1 for r in many)
    # A sandbox on another database (or engine) does not share entries.
    other = open_sandbox(tiny_sqlite, engine="duckdb" if engine == "sqlite" else "sqlite", gold_cache=cache)
    assert other.execute_gold("SELECT count(*) FROM t") is not g1


def test_gold_cache_skips_timeouts(open_sandbox, tiny_sqlite):
    cache = LRUCache(maxsize=8)
    sb = open_sandbox(tiny_sqlite, engine="sqlite", gold_cache=cache, timeout=0.2)
    bomb = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
    assert sb.execute_gold(bomb).error_kind is ErrorKind.TIMEOUT
    assert len(cache) == 0
    assert sb.execute_gold("SELECT nope").error_kind is ErrorKind.RUNTIME
    assert len(cache) == 1  # deterministic errors are cached


def test_lru_cache_is_bounded_and_single_flight():
    cache: LRUCache[int] = LRUCache(maxsize=2)
    for k in "abc":
        cache.put(k, ord(k))
    assert len(cache) == 2 and "a" not in cache and cache.get("c") == ord("c")
    calls = []

    def slow():
        calls.append(1)
        time.sleep(0.05)
        return 7

    threads = [threading.Thread(target=lambda: cache.get_or_compute("k", slow)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(calls) == 1 and cache.get("k") == 7


# -- missing databases --------------------------------------------------------------------------------


@pytest.mark.parametrize("engine", ["auto", "sqlite", "duckdb"])
def test_missing_database_raises_at_open(tmp_path, engine):
    with pytest.raises(MissingDatabaseError, match="not found"):
        Sandbox(tmp_path / "nope.sqlite", engine=engine)
    with pytest.raises(FileNotFoundError):  # MissingDatabaseError is a FileNotFoundError
        Sandbox(tmp_path / "nope.sqlite", engine=engine)


def test_not_a_database_raises_at_open(tmp_path):
    junk = tmp_path / "junk.sqlite"
    junk.write_bytes(b"this is not a database file at all" * 10)
    with pytest.raises(MissingDatabaseError):
        Sandbox(junk)
    with pytest.raises(MissingDatabaseError, match="without CSV"):
        Sandbox(tmp_path)


@pytest.mark.parametrize("engine", ["auto", "sqlite", "duckdb"])
@pytest.mark.parametrize("name", ["notes.txt", "junk.sqlite", "junk.duckdb", "corrupt.sqlite", "folder"])
def test_not_a_database_is_typed_on_every_engine(tmp_path, name, engine):
    # a clear NotADatabaseError naming the path, never an engine's own exception (sqlite3.DatabaseError)
    path = tmp_path / name
    if name == "folder":
        path.mkdir()
        (path / "readme.md").write_text("no CSV here")
    elif name == "corrupt.sqlite":  # a SQLite header, then garbage
        path.write_bytes(b"SQLite format 3\x00" + b"garbage" * 200)
    else:
        path.write_text("hello, this is text\n" * 20)
    with pytest.raises(NotADatabaseError, match=re.escape(name)):
        Sandbox(path, engine=engine, cache_dir=tmp_path / "cache")


def test_database_deleted_after_open_gives_missing_database(tmp_path):
    path = tmp_path / "gone.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE x (a)")
    con.commit()
    con.close()
    with Sandbox(path, engine="sqlite") as sb:
        assert sb.execute("SELECT count(*) FROM x").rows == [(0,)]
        os.remove(path)
        results = []
        t = threading.Thread(target=lambda: results.append(sb.execute("SELECT count(*) FROM x")))
        t.start()
        t.join()
        assert results[0].error_kind is ErrorKind.MISSING_DATABASE
        assert "gone.sqlite" in results[0].error


# -- importer -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("declared", "classes", "expected"),
    [
        ("INT", {"integer"}, "BIGINT"),
        ("INT", {"integer", "null"}, "BIGINT"),
        ("REAL", {"integer", "real"}, "DOUBLE"),
        ("TEXT", {"text"}, "VARCHAR"),
        ("INT", {"integer", "text"}, "VARCHAR"),
        ("", {"blob"}, "BLOB"),
        ("TEXT", {"text", "blob"}, "BLOB"),
        ("INTEGER", set(), "BIGINT"),
        ("DOUBLE", {"null"}, "DOUBLE"),
        ("DATE", set(), "DOUBLE"),
        ("", set(), "VARCHAR"),
    ],
)
def test_importer_type_mapping(declared, classes, expected):
    assert duckdb_type(declared, classes) == expected


@pytest.mark.parametrize("name", DEMO_DATABASES)
def test_import_round_trip(demo_dir, tmp_path, name):
    import duckdb

    src = demo_dir / f"{name}.sqlite"
    report = import_sqlite_to_duckdb(src, tmp_path / f"{name}.duckdb")
    assert set(report.tables) == {t.name for t in demo_tables(name)}
    lite = sqlite3.connect(src)
    duck = duckdb.connect(str(tmp_path / f"{name}.duckdb"), read_only=True)
    mixed = {(t, c) for t, c, _ in report.mixed_columns}
    for table in report.tables:
        cols = [c for c, _, _ in report.column_types[table]]
        select = ", ".join(f'CAST("{c}" AS TEXT)' if (table, c) in mixed else f'"{c}"' for c in cols)
        want = lite.execute(f'SELECT {select} FROM "{table}" ORDER BY rowid').fetchall()
        got = duck.execute(f'SELECT * FROM "{table}"').fetchall()
        assert got == want, table  # int == float where a column was widened to DOUBLE
        assert report.tables[table] == len(want)
    if name == "store":
        assert ("reviews", "rating") in mixed
    duck.close()
    lite.close()


def test_import_keeps_undecodable_text_readable(tiny_sqlite, tmp_path):
    import duckdb

    report = import_sqlite_to_duckdb(tiny_sqlite, tmp_path / "tiny.duckdb")
    assert report.replaced_text == 1
    rows = duckdb.connect(str(tmp_path / "tiny.duckdb")).execute("SELECT s FROM bad ORDER BY id").fetchall()
    assert rows == [("ok",), ("\ufffd\ufffdA",), ("Zürich",)]
    with pytest.raises(FileExistsError):
        import_sqlite_to_duckdb(tiny_sqlite, tmp_path / "tiny.duckdb")


def test_duckdb_engine_on_sqlite_uses_a_cached_import(tiny_sqlite, tmp_path):
    with Sandbox(tiny_sqlite, engine="duckdb", cache_dir=tmp_path) as sb:
        assert sb.sqlite_compat and sb.database_path.suffix == ".duckdb"
        assert tmp_path in sb.database_path.parents
        first = sb.database_path
        mtime = first.stat().st_mtime_ns
    with Sandbox(tiny_sqlite, engine="duckdb", cache_dir=tmp_path) as sb:
        assert sb.database_path == first and first.stat().st_mtime_ns == mtime  # reused, not rebuilt


# -- SQLite compatibility on DuckDB ---------------------------------------------------------------

COMPAT_CASES = [
    # (sql, rows with sqlite_compat, rows without)
    ("SELECT 7 / 2", [(3,)], [(3.5,)]),
    ("SELECT 1 / 0", [(None,)], None),
    ("SELECT 1.0 / 0", [(None,)], None),
    ("SELECT 5 % 0", [(None,)], None),
    ("SELECT x FROM (VALUES (2), (NULL), (1)) v(x) ORDER BY x", [(None,), (1,), (2,)], [(1,), (2,), (None,)]),
    ("SELECT x FROM (VALUES (2), (NULL), (1)) v(x) ORDER BY x DESC", [(2,), (1,), (None,)], None),
    ("SELECT count(*) FROM t WHERE s LIKE 'S1%'", [(100,)], [(0,)]),
    ("SELECT count(*) FROM t WHERE s NOT LIKE 'S%'", [(0,)], [(900,)]),
]


@pytest.mark.parametrize(("sql", "with_compat", "without"), COMPAT_CASES)
def test_sqlite_compat_matches_sqlite(open_sandbox, tiny_sqlite, cache_dir, sql, with_compat, without):
    sqlite_rows = (
        open_sandbox(tiny_sqlite, engine="sqlite")
        .execute(
            sql.replace(" v(x)", "").replace(
                "(VALUES (2), (NULL), (1))", "(SELECT 2 AS x UNION ALL SELECT NULL UNION ALL SELECT 1)"
            )
        )
        .rows
    )
    assert sqlite_rows == with_compat
    with Sandbox(tiny_sqlite, engine="duckdb", cache_dir=cache_dir) as compat:
        assert compat.sqlite_compat
        r = compat.execute(sql)
        assert r.ok and r.rows == with_compat, r.error
    if without is not None:
        # DuckDB allows one configuration per file and process: the compat sandbox is closed by now.
        with Sandbox(tiny_sqlite, engine="duckdb", sqlite_compat=False, cache_dir=cache_dir) as plain:
            assert plain.execute(sql).rows == without


@pytest.fixture(scope="module")
def tv_sqlite(tmp_path_factory) -> Path:
    """Spider's ``tv_series`` with its ``18_49_Rating_Share`` column."""
    path = tmp_path_factory.mktemp("tv") / "tv.sqlite"
    con = sqlite3.connect(path)
    con.execute('CREATE TABLE tv_series (id INTEGER, Share REAL, "18_49_Rating_Share" REAL)')
    con.execute("INSERT INTO tv_series VALUES (1, 5.0, 3.5), (2, 6.0, 4.25)")
    con.commit()
    con.close()
    return path


@pytest.mark.parametrize("isolation", ["thread", "process"])
def test_a_number_glued_to_a_name_is_refused_on_duckdb_as_on_sqlite(tv_sqlite, cache_dir, isolation):
    # SQLite refuses `18_49_Rating_Share` unquoted; DuckDB alone would read `1849 AS _Rating_Share`.
    glued = "SELECT 18_49_Rating_Share FROM tv_series WHERE id > 1"
    quoted = """SELECT "18_49_Rating_Share" FROM tv_series WHERE id > 1 AND CAST(id AS TEXT) LIKE '2%'"""
    separated = []  # `1_000`: a number since SQLite 3.46, an unrecognized token before; the same on both engines
    for engine in ENGINES:
        with Sandbox(tv_sqlite, engine=engine, cache_dir=cache_dir, isolation=isolation) as sb:
            assert sb.sqlite_compat == (engine == "duckdb")
            r = sb.execute(glued)
            assert (r.ok, r.error_kind, r.error) == (
                False,
                ErrorKind.SYNTAX,
                'unrecognized token: "18_49_Rating_Share"',
            )
            assert sb.execute(quoted).rows == [(4.25,)]
            assert sb.execute("SELECT '18_49_x', 1e1 /* 3rd */ FROM tv_series WHERE id = 1").rows == [("18_49_x", 10.0)]
            r = sb.execute("SELECT count(*) FROM tv_series WHERE id < 1_000")
            separated.append((r.ok, r.rows, r.error))
    assert separated[0] == separated[1]
    assert separated[0] == (
        (True, [(2,)], "") if sqlite3.sqlite_version_info >= (3, 46) else (False, [], 'unrecognized token: "1_000"')
    )
    check = check_statement(glued, "sqlite")
    assert check.ok and check.parsed
    # a rewrite that regenerates the query keeps the name (not `1849 AS _Rating_Share`)
    out = rewrite_tokens("SELECT 18_49_Rating_Share FROM tv_series WHERE Share LIKE '%ö%'")
    assert '"18_49_Rating_Share"' in out and "1849" not in out


def test_one_duckdb_configuration_per_file(tiny_sqlite, cache_dir):
    from sqlrl.sandbox import SandboxError

    with Sandbox(tiny_sqlite, engine="duckdb", cache_dir=cache_dir) as a:
        with Sandbox(tiny_sqlite, engine="duckdb", cache_dir=cache_dir) as b:  # same settings: shared
            assert a.execute("SELECT 1").ok and b.execute("SELECT 2").ok
        with pytest.raises(SandboxError, match="other DuckDB settings"):
            Sandbox(tiny_sqlite, engine="duckdb", cache_dir=cache_dir, timeout=9.0)
        assert a.execute("SELECT count(*) FROM t").rows == [(1000,)]


# -- statement checks ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sql", "ok", "kind"),
    [
        ("SELECT 1", True, None),
        ("with a as (select 1) select * from a", True, None),
        ("SELECT 1 UNION SELECT 2 EXCEPT SELECT 3", True, None),
        ("VALUES (1), (2)", True, None),
        ("(SELECT 1)", True, None),
        ("SELECT 1; SELECT 2", False, ErrorKind.MULTIPLE_STATEMENTS),
        ("SELECT 1; DROP TABLE t", False, ErrorKind.MULTIPLE_STATEMENTS),
        ("DROP TABLE t", False, ErrorKind.NOT_READ_ONLY),
        ("INSERT INTO t VALUES (1)", False, ErrorKind.NOT_READ_ONLY),
        ("WITH x AS (DELETE FROM t RETURNING *) SELECT * FROM x", False, ErrorKind.NOT_READ_ONLY),
        ("SELECT * INTO t2 FROM t", False, ErrorKind.NOT_READ_ONLY),
        ("ATTACH 'x.db' AS x", False, ErrorKind.NOT_READ_ONLY),
        ("PRAGMA table_info(t)", False, ErrorKind.NOT_READ_ONLY),
        ("SET threads = 4", False, ErrorKind.NOT_READ_ONLY),
        ("EXPLAIN SELECT 1", False, ErrorKind.NOT_READ_ONLY),
        ("COPY t TO 'x.csv'", False, ErrorKind.NOT_READ_ONLY),
        ("  -- nothing", False, ErrorKind.EMPTY),
    ],
)
def test_check_statement(sql, ok, kind):
    c = check_statement(sql, "duckdb")
    assert (c.ok, c.kind) == (ok, kind)
    assert c.parsed


def test_check_statement_leaves_unparsable_text_to_the_engine(open_sandbox, tiny_sqlite):
    sql = "SELECT count(*) FROM t WHERE s LIKE 's1' ESCAPE 9"  # valid SQLite, beyond sqlglot
    c = check_statement(sql, "sqlite")
    assert c.ok and not c.parsed
    r = open_sandbox(tiny_sqlite, engine="sqlite", sqlglot_check=True).execute(sql)
    assert r.ok and r.rows == [(1,)]


def test_sqlglot_check_refuses_before_the_engine(open_sandbox, tiny_sqlite):
    sb = open_sandbox(tiny_sqlite, engine="sqlite", sqlglot_check=True)
    r = sb.execute("WITH x AS (SELECT 1) DELETE FROM t")
    assert r.error_kind is ErrorKind.NOT_READ_ONLY and "DELETE" in r.error


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT * FROM t WHERE a LIKE 'x%'", "SELECT * FROM t WHERE a ILIKE 'x%'"),
        (
            "SELECT * FROM t WHERE a not like 'x%' ESCAPE '\\'",
            "SELECT * FROM t WHERE a not ILIKE 'x%' ESCAPE '\\'",
        ),
        ("SELECT 'LIKE', \"like\" FROM t -- like", "SELECT 'LIKE', \"like\" FROM t -- like"),
        ("SELECT like('a%', 'abc')", "SELECT like('a%', 'abc')"),
        ("SELECT * FROM t WHERE a GLOB 'x*'", "SELECT * FROM t WHERE a GLOB 'x*'"),
        ("SELECT a FROM t WHERE b LIKE c", "SELECT a FROM t WHERE b ILIKE c"),
        (
            "SELECT a FROM t WHERE b LIKE '%ö%'",
            "SELECT a FROM t WHERE TRANSLATE(b, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz') "
            "LIKE TRANSLATE('%ö%', 'ABCDEFGHIJKLMNOPQRSTUVWXYZ', 'abcdefghijklmnopqrstuvwxyz')",
        ),
        (
            "SELECT CAST(a AS REAL), CAST(b AS int), cast(c as Double Precision) FROM t",
            "SELECT CAST(a AS DOUBLE), CAST(trunc(CAST(b AS DECIMAL(38, 9))) AS BIGINT), cast(c as DOUBLE) FROM t",
        ),
        (
            "SELECT CAST(a AS TEXT), CAST(b AS DECIMAL(10, 2)), CAST(CAST(c AS TEXT) AS INTEGER) FROM t",
            "SELECT CAST(a AS TEXT), CAST(b AS DECIMAL(10, 2)), "
            "CAST(trunc(CAST(CAST(c AS TEXT) AS DECIMAL(38, 9))) AS BIGINT) FROM t",
        ),
        ("SELECT 'CAST(a AS REAL)' FROM t", "SELECT 'CAST(a AS REAL)' FROM t"),
    ],
)
def test_rewrite_tokens(sql, expected):
    assert rewrite_tokens(sql) == expected


@pytest.mark.parametrize(
    ("sql", "key"),
    [
        ("SELECT  a\n\tFROM t ;", "SELECT a FROM t"),
        ("SELECT 'a   b'  FROM t", "SELECT 'a   b' FROM t"),
        ('SELECT "x  y" FROM t;;', 'SELECT "x  y" FROM t'),
    ],
)
def test_normalize_sql(sql, key):
    assert normalize_sql(sql) == key


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        (b"SELECT 1", ErrorKind.INVALID_INPUT),
        (None, ErrorKind.INVALID_INPUT),
        ("SELECT '\x00'", ErrorKind.INVALID_INPUT),
        ("SELECT '\udcff'", ErrorKind.INVALID_INPUT),
        ("SELECT " + "1" * 2_000_000, ErrorKind.INVALID_INPUT),
        ("SELECT 'ok'", None),
    ],
)
def test_check_text(sql, kind):
    got = check_text(sql)
    assert (got[0] if got else None) == kind


@pytest.mark.parametrize(
    ("sql", "engine", "word", "kind"),
    [
        ("/* c */ ((select 1))", "sqlite", "SELECT", None),
        ("FROM t", "duckdb", "FROM", None),
        ("FROM t", "sqlite", "FROM", None),  # unknown to SQLite: its parser reports the syntax error
        ("SELCT 1", "sqlite", "SELCT", None),
        ("-- x\nINSERT INTO t VALUES (1)", "duckdb", "INSERT", ErrorKind.NOT_READ_ONLY),
        ("pragma x", "sqlite", "PRAGMA", ErrorKind.NOT_READ_ONLY),
        ("/* unterminated DROP TABLE t", "sqlite", None, ErrorKind.EMPTY),
    ],
)
def test_keyword_gate(sql, engine, word, kind):
    assert first_keyword(sql) == word
    got = keyword_gate(sql, engine)
    assert (got[0] if got else None) == kind


# -- CSV directories --------------------------------------------------------------------------------


@pytest.fixture
def csv_dir(tmp_path) -> Path:
    d = tmp_path / "csvdb"
    d.mkdir()
    (d / "cities.csv").write_text(
        'id,name,population,founded\n1,Zürich,421878,1218-01-01\n2,"Kraków, PL",779115,\n3,São Paulo,,1554-01-25\n',
        encoding="utf-8",
    )
    (d / "visits.csv").write_text("city_id,visitors\n1,10\n1,5\n3,7\n", encoding="utf-8")
    (d / "notes.txt").write_text("not a table")
    return d


@pytest.mark.parametrize("engine", ["auto", "sqlite"])
def test_csv_directory(open_sandbox, csv_dir, engine):
    sb = open_sandbox(csv_dir, engine=engine)
    assert sb.engine == ("duckdb" if engine == "auto" else "sqlite")
    r = sb.execute(
        "SELECT c.name, sum(v.visitors) FROM cities c JOIN visits v ON v.city_id = c.id GROUP BY c.name ORDER BY c.name"
    )
    assert r.ok and r.rows == [("São Paulo", 7), ("Zürich", 15)], r.error
    r = sb.execute("SELECT name, population FROM cities WHERE population IS NULL")
    assert r.rows == [("São Paulo", None)]
    assert sb.execute("SELECT count(*) FROM notes").error_kind is ErrorKind.RUNTIME
    r = sb.execute(f"SELECT * FROM read_csv('{csv_dir / 'cities.csv'}')")
    assert not r.ok and r.error_kind in (ErrorKind.PERMISSION, ErrorKind.RUNTIME)


def test_csv_directory_is_reloaded_when_a_file_changes(csv_dir, tmp_path):
    with Sandbox(csv_dir, cache_dir=tmp_path / "c1") as sb:
        assert sb.execute("SELECT count(*) FROM visits").rows == [(3,)]
    time.sleep(0.01)
    with open(csv_dir / "visits.csv", "a", encoding="utf-8") as f:
        f.write("2,1\n")
    with Sandbox(csv_dir, cache_dir=tmp_path / "c1") as sb:
        assert sb.execute("SELECT count(*) FROM visits").rows == [(4,)]


# -- demo data ----------------------------------------------------------------------------------------


def test_demo_databases_are_deterministic(tmp_path):
    from sqlrl.data.demo import build_demo_sqlite

    a = build_demo_sqlite(tmp_path / "a.sqlite", "store")
    b = build_demo_sqlite(tmp_path / "b.sqlite", "store")
    dump = lambda p: list(sqlite3.connect(p).iterdump())  # noqa: E731
    assert dump(a) == dump(b)
    with pytest.raises(ValueError, match="unknown demo database"):
        demo_tables("nope")


def test_demo_data_has_nulls_non_ascii_dates_and_mixed_types(demo_dir):
    con = sqlite3.connect(demo_dir / "store.sqlite")
    assert con.execute("SELECT count(*) FROM customers WHERE country IS NULL").fetchone()[0] > 0
    assert con.execute("SELECT count(*) FROM customers WHERE city = 'Zürich'").fetchone()[0] > 0
    assert con.execute("SELECT DISTINCT typeof(rating) FROM reviews ORDER BY 1").fetchall() == [
        ("integer",),
        ("null",),
        ("real",),
        ("text",),
    ]
    assert con.execute("SELECT typeof(order_date), order_date LIKE '____-__-__' FROM orders LIMIT 1").fetchone() == (
        "text",
        1,
    )
    assert all(len(t.rows) <= 400 for n in DEMO_DATABASES for t in demo_tables(n))


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_demo_queries_run_and_predictions_behave_as_labelled(open_sandbox, demo_dir, engine):
    sbs = {n: open_sandbox(demo_dir / f"{n}.sqlite", engine=engine) for n in DEMO_DATABASES}
    kinds = set()
    for qs in DEMO_QUERIES:
        sb = sbs[qs.database]
        gold = sb.execute(qs.gold)
        assert gold.ok and gold.rows, qs.gold
        for pred in qs.predictions:
            kinds.add(pred.kind)
            r = sb.execute(pred.sql)
            assert r.ok == (pred.kind != "error"), (pred, r.error)
            if pred.kind == "correct":
                assert sorted(map(repr, r.rows)) == sorted(map(repr, gold.rows)), pred
            if pred.kind == "row_reordered":
                assert sorted(map(repr, r.rows)) == sorted(map(repr, gold.rows)) and r.rows != gold.rows, pred
            if pred.kind == "column_reordered":
                assert sorted(repr(row[::-1]) for row in r.rows) == sorted(map(repr, gold.rows)), pred
            if pred.kind in ("wrong", "partial"):
                assert sorted(map(repr, r.rows)) != sorted(map(repr, gold.rows)), pred
    assert kinds == {"correct", "column_reordered", "row_reordered", "partial", "wrong", "error"}


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_benchmark_table(tmp_path, engine):
    path = build_benchmark_table(tmp_path / f"b.{engine}", rows=2000, engine=engine)
    with Sandbox(path, engine=engine, cache_dir=tmp_path) as sb:
        r = sb.execute("SELECT count(*), count(amount), count(DISTINCT category) FROM events")
        assert r.rows[0][0] == 2000 and 0 < r.rows[0][1] < 2000 and r.rows[0][2] == 6


# -- process isolation --------------------------------------------------------------------------------


def test_process_isolation(tiny_sqlite, cache_dir):
    from sqlrl.sandbox.isolation import _CRASH, _HANG

    with Sandbox(tiny_sqlite, isolation="process", timeout=0.5, cache_dir=cache_dir) as sb:
        r = sb.execute("SELECT count(*) FROM t")
        assert r.ok and r.rows == [(1000,)] and r.engine == "sqlite"
        assert sb.execute("DROP TABLE t").error_kind is ErrorKind.NOT_READ_ONLY
        bomb = "WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT count(*) FROM r"
        assert sb.execute(bomb).error_kind is ErrorKind.TIMEOUT  # stopped inside the worker
        worker = sb._pool.get().conn
        pid = worker.pid
        r = worker.execute(_CRASH, time.perf_counter())
        assert r.error_kind is ErrorKind.CRASHED
        t0 = time.perf_counter()
        r = worker.execute(_HANG, time.perf_counter())
        assert r.error_kind is ErrorKind.TIMEOUT and "killed" in r.error
        assert time.perf_counter() - t0 < 0.5 + 1.0 + 1.0
        r = sb.execute("SELECT max(i) FROM t")  # a fresh worker answers
        assert r.rows == [(999,)] and worker.pid not in (None, pid) and worker.starts == 3
        worker_proc = worker._proc
    assert not worker_proc.is_alive()


# -- Arrow fetch path ---------------------------------------------------------------------------------


def test_arrow_fetch_uses_the_core_reader_when_it_caps_rows(tiny_sqlite, cache_dir, monkeypatch):
    pa = pytest.importorskip("pyarrow")
    calls = []

    class FakeTable:
        def __init__(self, rows, truncated):
            self.rows, self.truncated, self.num_rows = rows, truncated, len(rows)  # as the core's Table

    def as_table(obj, columns=None, max_rows=None, max_bytes=None):
        calls.append((max_rows, max_bytes))
        reader = pa.RecordBatchReader.from_stream(obj)
        rows = [tuple(r.values()) for r in reader.read_all().to_pylist()]
        return FakeTable(rows[:max_rows], len(rows) > max_rows)

    monkeypatch.setitem(sys.modules, "sqlrl.scoring", types.SimpleNamespace(as_table=as_table))
    with Sandbox(
        tiny_sqlite, engine="duckdb", fetch="arrow", max_rows=5, cache_dir=cache_dir, sqlite_compat=False
    ) as sb:
        r = sb.execute("SELECT i, s FROM t ORDER BY i")
        assert r.ok and r.truncated and r.columns == ["i", "s"] and r.rows is None
        assert r.table.rows == [(0, None), (1, "s1"), (2, "s2"), (3, "s3"), (4, "s4")] and r.num_rows == 5
        assert calls == [(5, sb.config.max_result_bytes)]
        assert sb.execute("SELECT nope").error_kind is ErrorKind.RUNTIME


def test_result_table_is_built_lazily_from_rows(monkeypatch):
    seen = []
    monkeypatch.setitem(
        sys.modules,
        "sqlrl.scoring",
        types.SimpleNamespace(as_table=lambda rows, columns=None: seen.append((rows, columns)) or "T"),
    )
    r = ExecResult(sql="SELECT 1", ok=True, columns=["a"], rows=[(1,)])
    assert seen == []
    assert r.table == "T" and r.table == "T"
    assert seen == [([(1,)], ["a"])]
    import pickle

    assert pickle.loads(pickle.dumps(r))._table is None


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT name, max(age) FROM singer", "SELECT ARG_MAX(name, age), max(age) FROM singer"),
        (
            "SELECT country, name, min(age) FROM singer GROUP BY country",
            "SELECT country, ARG_MIN(name, age), min(age) FROM singer GROUP BY country",
        ),
        (  # edits in place: every other byte kept (SQLite's NULL order is the sandbox's setting)
            "SELECT T2.name, count(*) FROM c AS T1 JOIN s AS T2 USING (id) GROUP BY T1.id ORDER BY T2.name",
            "SELECT ANY_VALUE(T2.name), count(*) FROM c AS T1 JOIN s AS T2 USING (id) GROUP BY T1.id "
            "ORDER BY ANY_VALUE(T2.name)",
        ),
        (  # quoted and bracketed names keep their quotes; the aggregate's argument is written out
            'SELECT "Name", T1.[x], min(T1.a + (b)) FROM t AS T1 GROUP BY c',
            'SELECT ARG_MIN("Name", T1.a + (b)), ARG_MIN(T1.[x], T1.a + (b)), min(T1.a + (b)) FROM t AS T1 GROUP BY c',
        ),
        ("SELECT name, count(*) FROM t GROUP BY name", None),
        ("SELECT t.name, count(*) AS n FROM t GROUP BY name ORDER BY n", None),
        ("SELECT name, count(*) FROM t GROUP BY 1", None),
        ("SELECT iif(salary > 9, 'high', 'low'), count(*) FROM emp GROUP BY 1", None),  # the key is the item
        (
            "SELECT upper(name), dept, count(*) FROM emp GROUP BY upper(name) ORDER BY upper(name)",
            "SELECT upper(name), ANY_VALUE(dept), count(*) FROM emp GROUP BY upper(name) ORDER BY upper(name)",
        ),
        ("SELECT a FROM t", None),
        ("SELEC broken (", None),
    ],
)
def test_rewrite_bare_columns(sql, expected):
    assert rewrite_bare_columns(sql) == expected


def test_duckdb_batch_reads_every_text_before_the_first_runs(open_sandbox, demo_dir, monkeypatch):
    """execute_tables on DuckDB with SQLite-compat: every text's SQLite reading is found before the first query
    runs (the Python work together, not between DuckDB's queries), with the results of execute()."""
    duck = open_sandbox(demo_dir / "concert_singer.sqlite", engine="duckdb", max_sql_length=200)
    engine = duck._engine
    sqls = [
        "SELECT Name, max(Age) FROM singer",
        "SELECT T2.Name, count(*) FROM concert AS T1 JOIN stadium AS T2 ON T1.Stadium_ID = T2.Stadium_ID "
        "GROUP BY T2.Stadium_ID ORDER BY T2.Stadium_ID",
        "SELECT Name FROM singer WHERE Name LIKE '%o%' ORDER BY Singer_ID",
        "SELECT count(*) FROM nope",
        "SELECT 1 -- " + "x" * 300,  # over max_sql_length: refused, not read
        "DROP TABLE singer",
    ]
    seen_at_first_run: list[int] = []
    real = engine._run

    def run(con, sql, run_sql, t0):
        seen_at_first_run.append(len(engine._prepared))
        return real(con, sql, run_sql, t0)

    monkeypatch.setattr(engine, "_run", run)
    batch = duck.execute_tables(sqls)
    assert seen_at_first_run[0] == 5  # every text under the length limit, before the first run
    monkeypatch.setattr(engine, "_run", real)
    one_by_one = [duck.execute(sql, rows=False) for sql in sqls]
    assert [(r.ok, r.error_kind, r.table.rows() if r.ok else None) for r in batch] == [
        (r.ok, r.error_kind, r.table.rows() if r.ok else None) for r in one_by_one
    ]
    assert batch[0].ok and batch[1].ok and batch[2].ok and not batch[3].ok
    assert batch[4].error_kind is ErrorKind.INVALID_INPUT and batch[5].error_kind is ErrorKind.NOT_READ_ONLY


def test_compat_rewrites_run_on_duckdb(open_sandbox, demo_dir):
    sqlite = open_sandbox(demo_dir / "concert_singer.sqlite", engine="sqlite")
    duck = open_sandbox(demo_dir / "concert_singer.sqlite", engine="duckdb")
    for sql in [
        "SELECT Name, max(Age) FROM singer",
        "SELECT T2.Name, count(*) FROM concert AS T1 JOIN stadium AS T2 ON T1.Stadium_ID = T2.Stadium_ID "
        "GROUP BY T2.Stadium_ID ORDER BY T2.Stadium_ID",
        "SELECT Name FROM singer WHERE Name LIKE '%ö%' ORDER BY Singer_ID",
        "SELECT Name FROM singer WHERE Name LIKE '%Ö%' ORDER BY Singer_ID",
        "SELECT CAST(Highest AS REAL) / Lowest FROM stadium ORDER BY Stadium_ID",
    ]:
        want, got = sqlite.execute(sql), duck.execute(sql)
        assert want.ok and got.ok, (sql, got.error)
        assert got.rows == want.rows, sql
    r = duck.execute("SELECT Name, Age, max(Age) FROM nope")
    assert r.error_kind is ErrorKind.RUNTIME and "nope" in r.error  # the original error, not the retry's


def test_duckdb_reading_ahead_never_raises_for_a_query(open_sandbox, demo_dir, monkeypatch):
    """A compat rewrite that fails while a batch's texts are read ahead leaves that query to execute(), whose
    result says what went wrong; the other queries run."""
    from sqlrl.sandbox import duckdb_engine

    duck = open_sandbox(demo_dir / "concert_singer.sqlite", engine="duckdb")
    real = duckdb_engine.rewrite_bare_columns

    def broken(sql):
        if "Country" in sql:
            raise RuntimeError("a bug in a rewrite")
        return real(sql)

    monkeypatch.setattr(duckdb_engine, "rewrite_bare_columns", broken)
    ok, bad = "SELECT Name, max(Age) FROM singer", "SELECT Name, count(*) FROM singer GROUP BY Country"
    results = duck.execute_tables([ok, bad])
    assert results[0].ok and results[0].table.rows() == duck.execute(ok).rows
    assert results[1].error_kind is ErrorKind.INTERNAL and "a bug in a rewrite" in results[1].error


def test_an_arrow_batch_over_duckdbs_string_buffer_is_a_resource_error():
    """DuckDB refuses an Arrow batch whose strings pass 2 GB (before the core's reader can count them): the
    result was too large, a ``resource`` failure, not the query's own runtime error."""
    import duckdb

    from sqlrl.sandbox.duckdb_engine import classify

    message = (
        "Arrow stream error 5: Invalid Input Error: Arrow Appender: The maximum total string size for regular "
        "string buffers is 2147483647 but the offset of 2147500000 exceeds this."
    )
    assert classify(duckdb.InvalidInputException(message)) is ErrorKind.RESOURCE
    assert classify(duckdb.InvalidInputException("Invalid Input Error: something else")) is ErrorKind.RUNTIME
