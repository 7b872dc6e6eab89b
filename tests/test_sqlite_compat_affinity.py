"""SQLite's type affinity on DuckDB with ``sqlite_compat``: text and numbers compared and combined as SQLite does.

Every query runs on SQLite itself and on the DuckDB copy of the same file; the results must be equal.
"""

from __future__ import annotations

import sqlite3

import duckdb
import pytest

import sqlrl.sandbox.duckdb_engine as duckdb_engine
from sqlrl.sandbox import Sandbox
from sqlrl.sandbox.importer import import_sqlite_to_duckdb
from sqlrl.sql.sqlite_compat import AffinitySchema, SqliteColumn, rewrite_affinity, sqlite_column


@pytest.fixture
def db(tmp_path):
    """Columns of every affinity, TEXT columns holding numbers, mixed columns, a column without a type."""
    path = tmp_path / "aff.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE concert (concert_id INTEGER, name TEXT, year TEXT, stadium_id TEXT, code VARCHAR(5));
        INSERT INTO concert VALUES (1, 'a', '2013', '1', '01'), (2, 'b', '2014', '2', '1'),
            (3, 'c', '2015', '2', 'abc'), (4, 'd', '2016', 'x9', ' 7 '), (5, 'e', NULL, NULL, '1.50');
        CREATE TABLE stadium (stadium_id INT, capacity INT, average REAL, location TEXT);
        INSERT INTO stadium VALUES (1, 5000, 1.5, 'x'), (2, 12000, 2.75, 'y'), (3, 800, NULL, 'z'),
            (9, 7, 7.25, 'w');
        CREATE TABLE reviews (review_id INTEGER, rating INT, note, label);
        INSERT INTO reviews VALUES (1, 5, 3, 'x'), (2, 1, 'x', 'y'), (3, 1.5, '12', 'z'), (4, 'n/a', 4.5, 'z'),
            (5, '', NULL, 'y'), (6, NULL, 'abc', 'x'), (7, 3, 10, 'x');
        """
    )
    con.commit()
    con.close()
    return path


QUERIES = [
    # a TEXT column against a number: the number becomes text
    "SELECT name FROM concert WHERE year >= 2014",
    "SELECT name FROM concert WHERE year = 2014",
    "SELECT name FROM concert WHERE 2015 > year",
    "SELECT name FROM concert WHERE year BETWEEN 2014 AND 2015",
    "SELECT name FROM concert WHERE year IN (2013, 2016, 1.5)",
    "SELECT name FROM concert WHERE year NOT IN (2013, 2016)",
    "SELECT name FROM concert WHERE code = 1",  # '01' and ' 7 ' are no '1'
    "SELECT name FROM concert WHERE code <> -1",
    "SELECT name FROM concert WHERE code = 1.5",  # 1.5 is '1.5', not '1.50'
    # a numeric column against text: text that looks like a number is that number, other text sorts above
    "SELECT location FROM stadium WHERE capacity = '5000'",
    "SELECT location FROM stadium WHERE capacity > ' 900 '",
    "SELECT location FROM stadium WHERE capacity = '12000.0'",
    "SELECT location FROM stadium WHERE stadium_id = '2.5'",
    "SELECT location FROM stadium WHERE capacity < 'abc'",
    "SELECT location FROM stadium WHERE capacity = 'abc'",
    "SELECT location FROM stadium WHERE capacity IN ('800', 'x', 7)",
    "SELECT location FROM stadium WHERE average BETWEEN '1' AND '3'",
    "SELECT location FROM stadium WHERE stadium_id = '0x10'",
    # a mixed column (INT affinity holding text) against numbers and text
    "SELECT review_id FROM reviews WHERE rating > 3",
    "SELECT review_id FROM reviews WHERE rating = 5",
    "SELECT review_id FROM reviews WHERE rating <= 1.5",
    "SELECT review_id FROM reviews WHERE rating = '5'",
    "SELECT review_id FROM reviews WHERE rating > 'm'",
    "SELECT review_id FROM reviews WHERE rating < 'zzz'",
    # no declared type (no affinity): values compare as stored, numbers before text
    "SELECT review_id FROM reviews WHERE note > 4",
    "SELECT review_id FROM reviews WHERE note = 3",
    # columns of different types
    "SELECT s.location FROM stadium AS s JOIN concert AS c ON c.stadium_id = s.stadium_id",
    "SELECT location FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert WHERE stadium_id IS NOT NULL)",
    "SELECT location FROM stadium WHERE stadium_id IN (SELECT stadium_id FROM concert)",
    "SELECT c.name FROM concert AS c JOIN stadium AS s ON s.stadium_id < c.stadium_id WHERE s.stadium_id = 1",
    # text in arithmetic, sum, avg and CAST: the longest numeric prefix, else 0
    "SELECT 1.0 * name FROM concert",
    "SELECT year + 1 FROM concert ORDER BY concert_id",
    "SELECT code * 2, -code FROM concert ORDER BY concert_id",
    "SELECT sum(rating), avg(rating) FROM reviews",
    "SELECT sum(code) FROM concert",
    "SELECT CAST(code AS INTEGER), CAST(code AS REAL) FROM concert ORDER BY concert_id",
    "SELECT '12abc' + 1, 2 * 'x'",
    # a parenthesized column keeps its affinity; max(col) and min(col) have none (text > number, as stored)
    "SELECT name FROM concert WHERE (year) = 2015",
    "SELECT max(year) = 2016, min(year) < 3000, max(capacity) = '12000' FROM concert, stadium",
    "SELECT stadium_id, count(*) FROM concert GROUP BY stadium_id HAVING max(year) > 2013",
    # subqueries and aliases keep the column's type
    "SELECT n FROM (SELECT name AS n, year AS y FROM concert) WHERE y > 2014",
    "WITH c AS (SELECT year FROM concert) SELECT count(*) FROM c WHERE year < 2015",
    "SELECT T1.name FROM concert AS T1 WHERE T1.year = (SELECT max(year) FROM concert) AND T1.year > 2000",
]


def _norm(rows):
    return sorted((tuple(float(v) if isinstance(v, int) else v for v in r) for r in rows), key=repr)


@pytest.mark.parametrize("sql", QUERIES)
def test_duckdb_compat_applies_sqlite_affinity(db, tmp_path, sql):
    with Sandbox(db, engine="sqlite") as lite, Sandbox(db, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        ref, got = lite.execute(sql), duck.execute(sql)
        assert ref.ok, ref.error
        assert got.ok, got.error
        assert _norm(got.rows) == _norm(ref.rows)


def test_process_isolation_applies_affinity_in_the_worker(db, tmp_path):
    sql = "SELECT name FROM concert WHERE year >= 2014"
    with Sandbox(db, engine="duckdb", isolation="process", cache_dir=tmp_path / "c") as duck:
        result = duck.execute(sql)
        assert result.ok, result.error
        assert sorted(result.rows) == [("b",), ("c",), ("d",)]


def test_importer_records_sqlite_types(db, tmp_path):
    target = tmp_path / "aff.duckdb"
    import_sqlite_to_duckdb(db, target)
    con = duckdb.connect(str(target), read_only=True)
    rows = con.execute(
        "SELECT table_name, column_name, data_type, comment FROM duckdb_columns() WHERE table_name = 'reviews'"
    ).fetchall()
    con.close()
    types = {c: sqlite_column(t, comment) for _, c, t, comment in rows}
    assert types["rating"] == SqliteColumn("INTEGER", "mixed")
    assert types["note"] == SqliteColumn("BLOB", "mixed")
    assert types["label"] == SqliteColumn("BLOB", "text")
    assert types["review_id"] == SqliteColumn("INTEGER", "number")


SCHEMA = {
    "concert": {"year": SqliteColumn("TEXT", "text"), "id": SqliteColumn("INTEGER", "number")},
    "stadium": {"id": SqliteColumn("INTEGER", "number"), "cap": SqliteColumn("INTEGER", "number")},
}


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT id FROM concert WHERE year >= 2014", "SELECT id FROM concert WHERE year >= '2014'"),
        ("SELECT id FROM concert WHERE year = 1e3", "SELECT id FROM concert WHERE year = '1000.0'"),
        ("SELECT id FROM concert WHERE year = -5", "SELECT id FROM concert WHERE year = '-5'"),
        ("SELECT id FROM concert WHERE id = ' 7 '", "SELECT id FROM concert WHERE id = 7"),
        ("SELECT id FROM concert WHERE id > 'abc'", "SELECT id FROM concert WHERE id > CAST('inf' AS DOUBLE)"),
        # ambiguous unqualified name: left alone; qualified: resolved through the alias
        ("SELECT 1 FROM concert, stadium WHERE id = '1'", None),
        (
            "SELECT 1 FROM concert AS c, stadium AS s WHERE s.id = '1'",
            "SELECT 1 FROM concert AS c, stadium AS s WHERE s.id = 1",
        ),
        # text with text, numbers with numbers: nothing to do
        ("SELECT id FROM concert WHERE year = '2014' AND id = 3", None),
        # unknown table: cannot tell
        ("SELECT 1 FROM nowhere WHERE year = 2014", None),
    ],
)
def test_rewrite_affinity(sql, expected):
    assert rewrite_affinity(sql, SCHEMA) == expected


def test_precheck_needs_a_literal_next_to_an_operator_and_a_column_of_the_other_type():
    schema = AffinitySchema(SCHEMA)
    assert schema.candidate("SELECT id FROM concert WHERE year >= 2014")
    assert schema.candidate("SELECT 1.0 * year FROM concert")
    assert schema.candidate("SELECT id FROM concert WHERE id IN ('1', '2')")
    assert not schema.candidate("SELECT id FROM concert WHERE id = 3 ORDER BY id LIMIT 1")
    assert not schema.candidate("SELECT year FROM concert WHERE year = '2014' LIMIT 5")
    assert not schema.candidate("SELECT count(*) FROM stadium WHERE cap > 10")
    # a star is no product; a number column between two numbers needs nothing; anything else still may
    assert not schema.candidate("SELECT count(*), T2.year FROM concert AS T2 GROUP BY T2.id")
    assert not schema.candidate("SELECT T.*, year FROM concert AS T")
    assert schema.candidate("SELECT count(*) * year FROM concert")
    assert not schema.candidate("SELECT year FROM concert WHERE id BETWEEN 1 AND -3")
    assert schema.candidate("SELECT id FROM concert WHERE year BETWEEN 2013 AND 2015")
    assert schema.candidate("SELECT year FROM concert WHERE id BETWEEN '1' AND 3")
    assert schema.candidate("SELECT year FROM concert WHERE id BETWEEN 1 AND 3 + year")
    assert schema.candidate("SELECT year FROM concert WHERE id BETWEEN 1 AND year")
    # comments are read as nothing; quoted text is kept whole
    assert not schema.candidate("SELECT year FROM concert GROUP BY year /* 336 */")
    assert not schema.candidate("SELECT year FROM concert -- year * 2\n")
    assert schema.candidate("SELECT id FROM concert WHERE year /* c */ >= 2014")
    assert schema.candidate("SELECT id FROM concert WHERE year >= -- c\n 2014")
    assert schema.candidate("SELECT id FROM concert WHERE name = '/*' AND year >= 2014 -- */")


def test_affinity_rewrite_reads_once_and_only_when_needed(db, tmp_path, monkeypatch):
    """A text is read for affinity once, only if the pre-check lets it through, and parsed only when the token
    reader (``sqlrl.sql.affinity_rewrite``) does not read it whole."""
    from sqlrl.sql import sqlite_compat

    calls: dict[str, list[str]] = {"read": [], "parse": []}
    read, parse = duckdb_engine.rewrite_affinity, sqlite_compat._parse

    def reading(sql, schema, *args):
        calls["read"].append(sql)
        return read(sql, schema, *args)

    def parsing(sql, dialect):
        calls["parse"].append(sql)
        return parse(sql, dialect)

    monkeypatch.setattr(duckdb_engine, "rewrite_affinity", reading)
    monkeypatch.setattr(sqlite_compat, "_parse", parsing)
    with Sandbox(db, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        assert duck.execute("SELECT count(*) FROM stadium WHERE capacity > 1000").rows == [(2,)]
        assert duck.execute("SELECT count(*) FROM concert WHERE name = 'a' LIMIT 1").rows == [(1,)]
        assert calls == {"read": [], "parse": []}  # no text meets a number: not read
        sql = "SELECT count(*) FROM concert WHERE year >= 2014"
        for _ in range(3):
            assert duck.execute(sql).rows == [(3,)]
        assert calls == {"read": [sql], "parse": []}  # read from its tokens, once
        nested = "SELECT count(*) FROM concert WHERE year IN (SELECT year FROM concert WHERE year >= 2014)"
        for _ in range(2):
            assert duck.execute(nested).rows == [(3,)]
        assert calls == {"read": [sql, nested], "parse": [nested]}  # a subquery: parsed, once


def test_columns_of_different_types_are_rewritten_after_duckdb_refuses_them(db, tmp_path, monkeypatch):
    # no literal, so the pre-check lets it pass; DuckDB's type error triggers the rewrite, once
    sql = "SELECT location FROM stadium WHERE stadium_id NOT IN (SELECT stadium_id FROM concert)"
    with Sandbox(db, engine="sqlite") as lite, Sandbox(db, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        engine = duck._engine
        assert not engine.affinity().candidate(sql)
        ref = lite.execute(sql)
        for _ in range(2):
            got = duck.execute(sql)
            assert got.ok, got.error
            assert sorted(got.rows) == sorted(ref.rows)
        assert engine.sqlite_text(sql) != sql  # remembered: the next run goes straight to the rewritten text


def test_without_compat_duckdb_keeps_its_types(db, tmp_path):
    with Sandbox(db, engine="duckdb", sqlite_compat=False, cache_dir=tmp_path / "c") as duck:
        assert not duck.execute("SELECT name FROM concert WHERE year >= 2014").ok


@pytest.fixture
def dates(tmp_path):
    path = tmp_path / "dates.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE emp (id INTEGER, name TEXT, salary REAL, hired TEXT, bonus REAL);
        INSERT INTO emp VALUES (1, 'Jürgen', 121835.5, '2015-03-04', NULL), (2, 'élodie', 58890.7, '2021-12-31 10:11:12', 2.5),
            (3, 'chen', -2.7, '2019-07-01T08:00', 1), (4, 'x', 10.5, 'not a date', NULL);
        """
    )
    con.commit()
    con.close()
    return path


FUNCTION_QUERIES = [
    "SELECT CAST(salary AS INTEGER), CAST(salary / 1000 AS INT) * 1000, CAST(-2.5 AS BIGINT) FROM emp",
    "SELECT CAST(hired AS INTEGER), CAST('12.7abc' AS INT) FROM emp",
    "SELECT iif(salary > 100000, 'high', 'low'), count(*) FROM emp GROUP BY 1",
    "SELECT strftime('%Y', hired), strftime('%m/%d %H:%M:%S', hired), strftime('%j %w', hired) FROM emp",
    "SELECT julianday(hired), julianday('2024-01-01') - julianday(hired) FROM emp",
    "SELECT typeof(salary), typeof(bonus), typeof(name), typeof(id), typeof(1.5), typeof(NULL) FROM emp",
    "SELECT upper(name), lower(name), upper(id) FROM emp",
    "SELECT upper(iif(id > 2, lower(name), 'Ö')) FROM emp",
]


@pytest.mark.parametrize("sql", FUNCTION_QUERIES)
def test_duckdb_compat_sqlite_functions(dates, tmp_path, sql):
    with Sandbox(dates, engine="sqlite") as lite, Sandbox(dates, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        ref, got = lite.execute(sql), duck.execute(sql)
        assert ref.ok, ref.error
        assert got.ok, got.error
        assert _norm(got.rows) == _norm(ref.rows)


def test_the_other_rewrites_leave_nothing_for_the_token_rewrite(db, tmp_path):
    # Why the sandbox skips rewrite_tokens for a text that names no like, cast or SQLite-only function: what the
    # affinity (and every other compat) rewrite adds reads the same through it.
    from sqlrl.sql.sqlite_compat import has_token_rewrites, rewrite_tokens

    rewritten = 0
    with Sandbox(db, engine="duckdb", cache_dir=tmp_path / "c") as duck:
        engine = duck._engine
        for sql in QUERIES:
            if has_token_rewrites(sql):
                continue
            text = engine._tied(engine.sqlite_text(sql))
            rewritten += text != sql
            assert rewrite_tokens(text) == text, sql
            assert engine.prepare(sql) == text
    assert rewritten >= 10  # the affinity rewrites ran
