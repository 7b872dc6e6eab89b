"""SQLite's double-quoted names on DuckDB with ``sqlite_compat``: a name that is no column is a string."""

from __future__ import annotations

import sqlite3

import pytest

import sqlrl.sandbox.duckdb_engine as duckdb_engine
from sqlrl.sandbox import Sandbox
from sqlrl.sql.sqlite_compat import rewrite_double_quoted

SCHEMA = {"State": ["State_Name", "Area", "Population"], "city": ["city_name", "state_name", "population"]}


CASES = [
    # a value, not a column: a string; a real column in another case: a name
    ('SELECT area FROM state WHERE "State_Name" = "texas"', "SELECT area FROM state WHERE \"State_Name\" = 'texas'"),
    (
        'SELECT area FROM state WHERE "STATE_NAME" IN ("ohio", "iowa")',
        "SELECT area FROM state WHERE \"STATE_NAME\" IN ('ohio', 'iowa')",
    ),
    # a result alias in ORDER BY / WHERE stays a name, and so does the alias itself
    ('SELECT state_name, count(*) AS "count" FROM city GROUP BY state_name ORDER BY "count" DESC', None),
    ('SELECT area AS "x" FROM state WHERE "x" > 1', None),
    # ... but not inside the result list, where SQLite does not see aliases
    ('SELECT "x" AS x FROM state', "SELECT 'x' AS x FROM state"),
    # qualified names and table names are never strings
    (
        'SELECT "state"."area" FROM "state" AS "s" WHERE "s"."state_name" = "texas"',
        'SELECT "state"."area" FROM "state" AS "s" WHERE "s"."state_name" = \'texas\'',
    ),
    # a table alias used as a value is no column: a string, as SQLite reads it
    ('SELECT area FROM state AS T1 WHERE "T1" = 1', "SELECT area FROM state AS T1 WHERE 'T1' = 1"),
    # double quotes inside a single-quoted string are text, not names
    ("SELECT area FROM state WHERE state_name = 'say \"hi\"'", None),
    # an escaped "" inside the name; a single quote in it gets doubled
    ('SELECT area FROM state WHERE state_name = "a""b"', "SELECT area FROM state WHERE state_name = 'a\"b'"),
    ('SELECT area FROM state WHERE state_name = "o\'hare"', "SELECT area FROM state WHERE state_name = 'o''hare'"),
    # a whole result column gets SQLite's column name, the token with its quotes
    ('SELECT "texas" FROM state', 'SELECT \'texas\' AS """texas""" FROM state'),
    # correlated subquery: the outer query's columns are in scope
    (
        'SELECT city_name FROM city WHERE population > (SELECT area FROM state WHERE "city_name" = "x")',
        "SELECT city_name FROM city WHERE population > (SELECT area FROM state WHERE \"city_name\" = 'x')",
    ),
    # CTE and subquery columns (explicit column lists, aliases, star); CTE names are no columns
    (
        'WITH c AS (SELECT area AS k FROM state) SELECT "k", "c" FROM c',
        'WITH c AS (SELECT area AS k FROM state) SELECT "k", \'c\' AS """c""" FROM c',
    ),
    (
        'WITH c(k) AS (SELECT area FROM state) SELECT "k" FROM c WHERE "area" = 1',
        "WITH c(k) AS (SELECT area FROM state) SELECT \"k\" FROM c WHERE 'area' = 1",
    ),
    (
        'SELECT "y" FROM (SELECT area AS y FROM state) WHERE "area" = 1',
        "SELECT \"y\" FROM (SELECT area AS y FROM state) WHERE 'area' = 1",
    ),
    ('SELECT "area" FROM (SELECT * FROM state) AS s', None),
    # set operation: ORDER BY sees the result names
    ('SELECT area FROM state UNION SELECT population FROM city ORDER BY "area"', None),
    # an unknown table: cannot tell, leave it to the engine
    ('SELECT "texas" FROM nowhere', None),
    ("SELECT area FROM state", None),
]


@pytest.mark.parametrize(("sql", "expected"), CASES)
def test_rewrite_double_quoted(sql, expected):
    assert rewrite_double_quoted(sql, SCHEMA) == expected


@pytest.fixture
def geo(tmp_path):
    """A small geography-like SQLite database."""
    path = tmp_path / "geo.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE state (state_name TEXT, population INT, area DOUBLE, capital TEXT)")
    con.executemany(
        "INSERT INTO state VALUES (?, ?, ?, ?)",
        [("texas", 30, 695.6, "austin"), ("ohio", 11, 116.1, "columbus"), ("iowa", 3, 145.7, "des moines")],
    )
    con.execute("CREATE TABLE river (river_name TEXT, length INT, traverse TEXT)")
    con.executemany(
        "INSERT INTO river VALUES (?, ?, ?)",
        [("red", 2000, "texas"), ("ohio", 1500, "ohio"), ("des moines", 800, "iowa"), ("ohio", 1500, "iowa")],
    )
    con.commit()
    con.close()
    return path


QUERIES = [
    'SELECT area FROM state WHERE state_name = "texas"',
    'SELECT STATEalias0.AREA FROM STATE AS STATEalias0 WHERE STATEalias0.STATE_NAME = "texas" ;',
    'SELECT "Area" FROM "STATE" WHERE "State_Name" = "texas"',
    'SELECT traverse, count(*) AS "count" FROM river GROUP BY traverse ORDER BY "count" DESC, traverse',
    'SELECT river_name AS "n" FROM river WHERE "n" LIKE "%o%" ORDER BY "n"',
    'SELECT "texas", count(*) FROM river WHERE traverse IN ("texas", "iowa")',
    'SELECT river_name FROM river WHERE length = (SELECT max(length) FROM river WHERE traverse = "iowa")',
    'SELECT "river"."river_name" FROM "river" WHERE "river"."traverse" <> "ohio" ORDER BY 1',
    'SELECT state_name FROM state WHERE capital = "des moines" OR capital = \'a "b" c\'',
    'SELECT state_name FROM state WHERE "state_name" = "a""b"',
    'WITH big AS (SELECT state_name AS n FROM state WHERE area > 140) SELECT "n" FROM big WHERE "n" <> "iowa"',
    'SELECT s.capital FROM state AS s JOIN river AS r ON r.traverse = s.state_name WHERE r.river_name = "ohio"',
    'SELECT state_name FROM state GROUP BY state_name HAVING max(area) > 100 ORDER BY "state_name"',
]


@pytest.mark.parametrize("sql", QUERIES)
def test_duckdb_compat_reads_double_quotes_as_sqlite(geo, tmp_path, sql):
    with Sandbox(geo, engine="sqlite") as lite, Sandbox(geo, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        ref, got = lite.execute(sql), duck.execute(sql)
        assert ref.ok, ref.error
        assert got.ok, got.error
        ordered = "order by" in sql.lower()
        assert (got.rows if ordered else sorted(got.rows)) == (ref.rows if ordered else sorted(ref.rows))


def test_string_column_is_named_as_sqlite_names_it(geo, tmp_path):
    sql = 'SELECT "texas", "area" FROM state WHERE state_name = "ohio"'
    with Sandbox(geo, engine="sqlite") as lite, Sandbox(geo, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        ref, got = lite.execute(sql), duck.execute(sql)
        assert got.rows == ref.rows == [("texas", 116.1)]
        assert got.columns == ref.columns == ['"texas"', "area"]


def test_double_quote_rewrite_parses_once_and_only_when_needed(geo, tmp_path, monkeypatch):
    calls = []
    real = duckdb_engine.rewrite_double_quoted

    def counting(sql, schema, *args):
        calls.append(sql)
        return real(sql, schema, *args)

    monkeypatch.setattr(duckdb_engine, "rewrite_double_quoted", counting)
    with Sandbox(geo, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        assert duck.execute("SELECT count(*) FROM state WHERE state_name = 'texas'").rows == [(1,)]
        assert calls == []  # no double quote: no parse
        sql = 'SELECT count(*) FROM state WHERE state_name = "texas"'
        for _ in range(3):
            assert duck.execute(sql).rows == [(1,)]
        assert calls == [sql]  # rewritten once, before the first run, then cached
        duck.execute('SELECT "area" FROM state')
        assert len(calls) == 2


def test_double_quotes_without_compat_stay_names(geo, tmp_path):
    with Sandbox(geo, engine="duckdb", sqlite_compat=False, cache_dir=tmp_path / "c") as duck:
        result = duck.execute('SELECT area FROM state WHERE state_name = "texas"')
        assert not result.ok and "texas" in result.error


def test_bare_column_retry_keeps_double_quoted_strings(geo, tmp_path):
    sql = 'SELECT river_name, max(length) FROM river WHERE traverse <> "texas"'
    with Sandbox(geo, engine="sqlite") as lite, Sandbox(geo, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        assert duck.execute(sql).rows == lite.execute(sql).rows == [("ohio", 1500)]


@pytest.mark.parametrize("seen", [True, None])
def test_a_bare_column_rewrite_that_ran_is_the_texts_next_run(geo, tmp_path, monkeypatch, seen):
    """The pre-check finds the bare column: the text runs once, rewritten. Where it does not read a text whole
    (None), DuckDB's binder refuses it, and the rewrite runs then, and for the text's next runs."""
    from sqlrl.sandbox import duckdb_engine

    monkeypatch.setattr(duckdb_engine, "may_have_bare_columns", lambda sql: seen)
    sql = "SELECT river_name, max(length) FROM river"
    with Sandbox(geo, engine="sqlite") as lite, Sandbox(geo, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        runs: list[str] = []
        real = duck._engine._run
        monkeypatch.setattr(
            duck._engine, "_run", lambda con, s, run_sql, t0: runs.append(run_sql) or real(con, s, run_sql, t0)
        )
        expected = lite.execute(sql).rows
        first = 1 if seen else 2  # rewritten before the run, or refused, rewritten and run again
        assert duck.execute(sql).rows == expected and len(runs) == first
        assert duck.execute(sql).rows == expected and len(runs) == first + 1  # straight to the rewrite
        assert runs[-1] == runs[first - 1] == "SELECT ARG_MAX(river_name, length), max(length) FROM river"


def test_process_isolation_rewrites_in_the_worker(geo, tmp_path):
    sql = 'SELECT capital FROM state WHERE state_name = "ohio"'
    with Sandbox(geo, engine="duckdb", isolation="process", cache_dir=tmp_path / "c") as duck:
        result = duck.execute(sql)
        assert result.ok, result.error
        assert result.rows == [("columbus",)]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT river_name FROM river WHERE length > ALL (SELECT length FROM river WHERE traverse = 'iowa')",
        "SELECT river_name FROM river WHERE length = ANY (SELECT length FROM river WHERE traverse = 'ohio')",
        "SELECT river_name FROM river WHERE length <> some(SELECT 1)",
    ],
)
def test_quantified_comparison_fails_as_on_sqlite(geo, tmp_path, sql):
    with Sandbox(geo, engine="sqlite") as lite, Sandbox(geo, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        ref, got = lite.execute(sql), duck.execute(sql)
        assert not ref.ok and not got.ok
        assert got.error_kind.value == "syntax" and got.error == ref.error


def test_select_all_and_union_all_still_run(geo, tmp_path):
    sql = "SELECT ALL traverse FROM river WHERE length > 900 UNION ALL SELECT 'x' FROM state WHERE area = (SELECT 1)"
    with Sandbox(geo, engine="sqlite") as lite, Sandbox(geo, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        assert sorted(duck.execute(sql).rows) == sorted(lite.execute(sql).rows) == [("iowa",), ("ohio",), ("texas",)]
