"""SQLite's reading of compound-operator chains, of joins without ON and of a TEXT column compared with a
scalar subquery, on DuckDB with ``sqlite_compat`` (seen in Spider's gold queries and their mutations)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from sqlrl.sandbox import Sandbox
from sqlrl.scoring import compare
from sqlrl.sql.sqlite_compat import SqliteColumn, rewrite_affinity, rewrite_compound_order, rewrite_join_without_on


@pytest.mark.parametrize(
    "sql,expected",
    [
        ("SELECT a FROM t UNION SELECT a FROM u INTERSECT SELECT a FROM v",
         "(SELECT a FROM t UNION SELECT a FROM u) INTERSECT SELECT a FROM v"),
        ("SELECT a FROM t INTERSECT SELECT a FROM u UNION ALL SELECT a FROM t INTERSECT SELECT a FROM u ORDER BY a",
         "(SELECT a FROM t INTERSECT SELECT a FROM u UNION ALL SELECT a FROM t) INTERSECT SELECT a FROM u ORDER BY a"),
        ("SELECT a FROM t EXCEPT SELECT a FROM u INTERSECT SELECT a FROM v UNION SELECT 1 INTERSECT SELECT 1",
         "((SELECT a FROM t EXCEPT SELECT a FROM u) INTERSECT SELECT a FROM v UNION SELECT 1) INTERSECT SELECT 1"),
        # a chain inside a subquery is read at its own level
        ("SELECT * FROM t WHERE a IN (SELECT a FROM u EXCEPT SELECT 3 INTERSECT SELECT a FROM t) UNION SELECT 9",
         "SELECT * FROM t WHERE a IN ((SELECT a FROM u EXCEPT SELECT 3) INTERSECT SELECT a FROM t) UNION SELECT 9"),
        ("SELECT a FROM t INTERSECT SELECT a FROM u UNION SELECT a FROM v", None),  # same on both engines
        ("SELECT a FROM t UNION SELECT a FROM u EXCEPT SELECT a FROM v", None),
        ("SELECT 'union' FROM t INTERSECT SELECT 'x' FROM u", None),  # words in strings are no operators
    ],
)  # fmt: skip
def test_rewrite_compound_order(sql, expected):
    assert rewrite_compound_order(sql) == expected


@pytest.mark.parametrize(
    "sql,expected",
    [
        ("SELECT T1.a FROM p AS T1 JOIN t AS T2 WHERE T2.c < 3", "SELECT T1.a FROM p AS T1 JOIN t AS T2 ON TRUE WHERE T2.c < 3"),
        ("SELECT p.a FROM p LEFT OUTER JOIN t;", "SELECT p.a FROM p LEFT OUTER JOIN t ON TRUE;"),
        ("SELECT p.a FROM p JOIN t USING (a) JOIN u AS w ORDER BY 1",
         "SELECT p.a FROM p JOIN t USING (a) JOIN u AS w ON TRUE ORDER BY 1"),
        ("SELECT p.a FROM p JOIN (SELECT a FROM u JOIN t AS z GROUP BY 1) AS s JOIN u AS v ON v.a = p.a",
         "SELECT p.a FROM p JOIN (SELECT a FROM u JOIN t AS z ON TRUE GROUP BY 1) AS s ON TRUE JOIN u AS v ON v.a = p.a"),
        ("SELECT p.a FROM p JOIN t AS v, u AS w", "SELECT p.a FROM p JOIN t AS v ON TRUE, u AS w"),
        ("SELECT p.a FROM p CROSS JOIN t", None),
        ("SELECT p.a FROM p NATURAL JOIN t", None),
        ("SELECT p.a FROM p JOIN t ON p.a = t.a", None),
        ("SELECT p.a FROM p WHERE p.b = 'join'", None),
    ],
)  # fmt: skip
def test_rewrite_join_without_on(sql, expected):
    assert rewrite_join_without_on(sql) == expected


def test_text_column_against_a_subquery_without_affinity():
    cols = {"dogs": {"age": SqliteColumn("TEXT", "text"), "id": SqliteColumn("INTEGER", "number")}}
    out = rewrite_affinity("SELECT count(*) FROM dogs WHERE age < (SELECT max(id) FROM dogs)", cols)
    assert out == "SELECT count(*) FROM dogs WHERE age < CAST((SELECT max(id) FROM dogs) AS VARCHAR)"
    # a subquery whose result is a plain column has that column's affinity: not this rule
    assert rewrite_affinity("SELECT count(*) FROM dogs WHERE age < (SELECT id FROM dogs LIMIT 1)", cols) is None
    # a numeric column against it: no TEXT affinity to apply
    assert rewrite_affinity("SELECT count(*) FROM dogs WHERE id < (SELECT max(id) FROM dogs)", cols) is None


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("structure") / "k.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE owners (owner_id INTEGER PRIMARY KEY, state VARCHAR(20));
        CREATE TABLE pros (pro_id INTEGER PRIMARY KEY, state VARCHAR(20), name VARCHAR(50));
        CREATE TABLE dogs (dog_id INTEGER PRIMARY KEY, age VARCHAR(20), cost DECIMAL(19, 4));
        INSERT INTO owners VALUES (1, 'Ohio'), (2, 'Iowa'), (3, 'Utah'), (4, 'Maine');
        INSERT INTO pros VALUES (1, 'Ohio', 'a'), (2, 'Utah', 'b'), (3, 'Texas', 'c');
        INSERT INTO dogs VALUES (1, '2', 10), (2, '10', 20), (3, '5', 30), (4, '9', 40), (5, '3', 15);
        """
    )
    con.commit()
    con.close()
    return path


QUERIES = [
    # (a INTERSECT b) UNION ALL a, then INTERSECT b: SQLite's order; DuckDB's own would keep a duplicate
    "SELECT state FROM owners INTERSECT SELECT state FROM pros UNION ALL SELECT state FROM owners "
    "INTERSECT SELECT state FROM pros",
    "SELECT state FROM pros UNION SELECT state FROM owners INTERSECT SELECT 'Ohio'",
    # Spider dev (dog_kennels): a JOIN without ON, and a VARCHAR age compared with avg(age)
    "SELECT DISTINCT T1.name FROM pros AS T1 JOIN dogs AS T2 WHERE cost < (SELECT avg(cost) FROM dogs)",
    "SELECT count(*) FROM dogs WHERE age < (SELECT avg(age) FROM dogs)",
    "SELECT count(*) FROM dogs WHERE (SELECT avg(age) FROM dogs) > age",
]


@pytest.mark.parametrize("sql", QUERIES)
def test_duckdb_gives_sqlites_result(db, sql):
    lite, duck = Sandbox(db, engine="sqlite"), Sandbox(db, engine="duckdb")
    try:
        want, got = lite.execute(sql), duck.execute(sql)
        assert want.ok, want.error
        assert got.ok, got.error
        assert compare(want.table, got.table, mode="spider"), (want.table.rows(), got.table.rows())
    finally:
        lite.close()
        duck.close()


@pytest.mark.parametrize(
    "sql,expected",
    [
        ("SELECT max(rowid) FROM t WHERE x > 1", "SELECT max((rowid + 1)) FROM t WHERE x > 1"),
        ("SELECT oid, _rowid_ FROM t", "SELECT (oid + 1), (_rowid_ + 1) FROM t"),
        ("SELECT T1.rowid FROM k AS T1 JOIN t ON T1.id = t.x", 'SELECT T1."id" FROM k AS T1 JOIN t ON T1.id = t.x'),
        ("SELECT rowid FROM k", 'SELECT "id" FROM k'),
        ("SELECT rowid FROM k JOIN t ON k.id = t.x", None),  # whose rowid: SQLite's error, not ours
        ("SELECT rowid FROM g", None),  # no note: rowids with gaps stay DuckDB's
        ("SELECT \"rowid\" FROM t", None),  # quoted: left alone
        ("SELECT rowid FROM r", None),  # a real column called rowid
        ("SELECT x FROM t ORDER BY rowid DESC", "SELECT x FROM t ORDER BY (rowid + 1) DESC"),
        ("SELECT x FROM t WHERE x = 'rowid'", None),
    ],
)  # fmt: skip
def test_rewrite_rowid(sql, expected):
    from sqlrl.sql.sqlite_compat import rewrite_rowid

    schema = {"t": ["x"], "k": ["id", "v"], "g": ["y"], "r": ["rowid"]}
    assert rewrite_rowid(sql, {"t": "+1", "K": "id"}, schema) == expected


@pytest.fixture(scope="module")
def rowid_db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("rowid") / "r.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        """
        CREATE TABLE plain (name TEXT);
        CREATE TABLE keyed (id INTEGER PRIMARY KEY, name TEXT);
        CREATE TABLE gaps (name TEXT);
        INSERT INTO plain VALUES ('a'), ('b'), ('c');
        INSERT INTO keyed VALUES (10, 'a'), (20, 'b'), (35, 'c');
        INSERT INTO gaps VALUES ('a'), ('b'), ('c'), ('d');
        DELETE FROM gaps WHERE name = 'b';
        """
    )
    con.commit()
    con.close()
    return path


def test_importer_records_how_rowid_reads(rowid_db, tmp_path):
    import duckdb

    from sqlrl.sandbox.importer import import_sqlite_to_duckdb
    from sqlrl.sql.sqlite_compat import rowid_note

    import_sqlite_to_duckdb(rowid_db, tmp_path / "r.duckdb")
    con = duckdb.connect(str(tmp_path / "r.duckdb"), read_only=True)
    try:
        notes = {t: rowid_note(c) for t, c in con.execute("SELECT table_name, comment FROM duckdb_tables()").fetchall()}
    finally:
        con.close()
    assert notes == {"plain": "+1", "keyed": "id", "gaps": None}


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT max(rowid) FROM plain",
        "SELECT name, rowid FROM plain ORDER BY rowid DESC",
        "SELECT T1.rowid, T2.name FROM keyed AS T1 JOIN plain AS T2 ON T1.name = T2.name",
        "SELECT count(*) FROM keyed WHERE oid > 15",
    ],
)
def test_rowid_reads_as_on_sqlite(rowid_db, tmp_path, sql):
    lite, duck = Sandbox(rowid_db, engine="sqlite"), Sandbox(rowid_db, engine="duckdb", cache_dir=tmp_path)
    try:
        want, got = lite.execute(sql), duck.execute(sql)
        assert want.ok and got.ok, (want.error, got.error)
        assert compare(want.table, got.table, mode="spider", order_matters="ORDER BY" in sql)
    finally:
        lite.close()
        duck.close()
