"""``sqlite_ties``: rows that tie under the ORDER BY of a one-table query come in SQLite's row order on DuckDB, and
groups that tie in SQLite's order of groups."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from sqlrl.sandbox import Sandbox
from sqlrl.sql.sqlite_compat import rewrite_tie_break

TABLES = {"t", "Singer"}


@pytest.mark.parametrize(
    "sql,expected",
    [
        ("SELECT name FROM t ORDER BY v", "SELECT name FROM t ORDER BY v, t.rowid"),
        ("SELECT name FROM t AS x WHERE v > 1 ORDER BY v DESC LIMIT 3",
         "SELECT name FROM t AS x WHERE v > 1 ORDER BY v DESC, x.rowid LIMIT 3"),
        ("select name from singer order by age", "SELECT name FROM singer ORDER BY age, singer.rowid"),
        ("SELECT name FROM t", None),  # no ORDER BY
        ("SELECT count(*) FROM t ORDER BY 1", None),  # an aggregate: one row
        # groups: the keys, in the direction of the ORDER BY term of the same position when the lists are as long
        ("SELECT v, count(*) FROM t GROUP BY v ORDER BY 2", "SELECT v, COUNT(*) FROM t GROUP BY v ORDER BY 2, v ASC"),
        ("SELECT v FROM t AS a JOIN u ON a.k = u.k GROUP BY a.v ORDER BY count(*) DESC LIMIT 1",
         "SELECT v FROM t AS a JOIN u ON a.k = u.k GROUP BY a.v ORDER BY COUNT(*) DESC, a.v DESC LIMIT 1"),
        ("SELECT v, w FROM t GROUP BY v, w ORDER BY count(*) DESC",
         "SELECT v, w FROM t GROUP BY v, w ORDER BY COUNT(*) DESC, v ASC, w ASC"),
        ("SELECT DISTINCT v FROM t GROUP BY v ORDER BY count(*) DESC",
         "SELECT DISTINCT v FROM t GROUP BY v ORDER BY COUNT(*) DESC, v DESC"),
        ("SELECT DISTINCT w FROM t GROUP BY v ORDER BY count(*) DESC", None),  # DISTINCT may merge groups
        # subqueries with their own ORDER BY too; a WITH name is no base table
        ("SELECT avg(w) FROM t WHERE v = (SELECT v FROM t GROUP BY v ORDER BY count(*) DESC LIMIT 1)",
         "SELECT AVG(w) FROM t WHERE v = (SELECT v FROM t GROUP BY v ORDER BY COUNT(*) DESC, v DESC LIMIT 1)"),
        ("SELECT x FROM (SELECT x FROM t ORDER BY y LIMIT 3) ORDER BY x",
         "SELECT x FROM (SELECT x FROM t ORDER BY y, t.rowid LIMIT 3) ORDER BY x"),
        ("WITH t AS (SELECT 1 AS v) SELECT v FROM t ORDER BY v", None),
        ("SELECT DISTINCT name FROM t ORDER BY name", None),
        ("SELECT a.name FROM t AS a JOIN t AS b ON a.v = b.v ORDER BY a.v", None),  # two tables
        ("SELECT name FROM some_view ORDER BY v", None),  # no rowid
        ("SELECT name FROM (SELECT name, v FROM t) ORDER BY v", None),
        ("SELECT name FROM t ORDER BY v UNION SELECT name FROM t", None),
        ("SELECT name FROM t ORDER BY", None),  # does not parse
    ],
)  # fmt: skip
def test_rewrite_tie_break(sql, expected):
    assert rewrite_tie_break(sql, TABLES) == expected


def test_groups_read_in_index_order_come_ascending():
    """Where SQLite's plan reads the groups from an index or the table (no temp B-tree), not from its sorter."""
    sql = "SELECT v FROM t GROUP BY v ORDER BY count(*) DESC LIMIT 1"
    assert rewrite_tie_break(sql, TABLES, groups_sorted=True) == rewrite_tie_break(sql, TABLES)
    assert rewrite_tie_break(sql, TABLES, groups_sorted=True).endswith("v DESC LIMIT 1")
    assert rewrite_tie_break(sql, TABLES, groups_sorted=False).endswith("v ASC LIMIT 1")


@pytest.fixture(scope="module")
def big(tmp_path_factory) -> Path:
    """Enough rows with few distinct sort keys that DuckDB's sort returns ties in another order than SQLite."""
    path = tmp_path_factory.mktemp("ties") / "t.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (name TEXT, v INT, w REAL)")
    rng = random.Random(0)
    con.executemany(
        "INSERT INTO t VALUES (?, ?, ?)", [(f"n{i}", rng.randint(0, 5), rng.random()) for i in range(20000)]
    )
    con.commit()
    con.close()
    return path


QUERIES = [
    "SELECT name FROM t ORDER BY v",
    "SELECT name FROM t ORDER BY v DESC",
    "SELECT name FROM t AS x ORDER BY x.v LIMIT 50",
    "SELECT name, v FROM t WHERE w > 0.5 ORDER BY v DESC LIMIT 500",
]


def test_sqlite_ties_gives_sqlites_order_of_tied_rows(big, tmp_path):
    con = sqlite3.connect(big)
    expected = {q: con.execute(q).fetchall() for q in QUERIES}
    con.close()
    with Sandbox(big, engine="duckdb", cache_dir=tmp_path, max_rows=100_000, sqlite_ties=True) as sb:
        got = {q: [tuple(r) for r in sb.execute(q).rows] for q in QUERIES}
    assert got == expected
    with Sandbox(big, engine="duckdb", cache_dir=tmp_path, max_rows=100_000) as sb:  # off: DuckDB's own order
        plain = {q: [tuple(r) for r in sb.execute(q).rows] for q in QUERIES}
    assert any(plain[q] != expected[q] for q in QUERIES)  # the option is what makes them equal
    assert all(sorted(plain[q]) == sorted(expected[q]) for q in QUERIES if "LIMIT" not in q)


GROUP_QUERIES = [
    "SELECT v, count(*) FROM g GROUP BY v ORDER BY count(*) DESC",
    "SELECT v FROM g GROUP BY v ORDER BY count(*) DESC LIMIT 2",
    "SELECT v FROM g GROUP BY v ORDER BY count(*) LIMIT 2",
    "SELECT v, w, count(*) FROM g GROUP BY v, w ORDER BY count(*) DESC LIMIT 3",
    "SELECT g.v FROM g JOIN h ON h.gid = g.id GROUP BY g.id ORDER BY count(*) DESC LIMIT 3",
    "SELECT DISTINCT v FROM g GROUP BY v ORDER BY sum(w) DESC",
    "SELECT id FROM g GROUP BY id ORDER BY count(*) DESC LIMIT 3",  # groups in rowid order: no sort, ascending
]


def test_sqlite_ties_gives_sqlites_order_of_tied_groups(tmp_path):
    """Groups that tie under the ORDER BY come in SQLite's order: by their keys, descending where the one ORDER BY
    term is DESC (SQLite copies its direction onto a GROUP BY as long as the ORDER BY), else ascending."""
    path = tmp_path / "g.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE g (id INTEGER PRIMARY KEY, v TEXT, w INT)")
    con.execute("CREATE TABLE h (id INTEGER PRIMARY KEY, gid INT)")
    rows = [(i, "dbacef"[i % 6], i % 3) for i in range(60)]
    random.Random(1).shuffle(rows)
    con.executemany("INSERT INTO g VALUES (?, ?, ?)", rows)
    con.executemany("INSERT INTO h VALUES (?, ?)", [(i, i % 60) for i in range(120)])
    con.commit()
    expected = {q: con.execute(q).fetchall() for q in GROUP_QUERIES}
    con.close()
    with Sandbox(path, engine="duckdb", cache_dir=tmp_path, sqlite_ties=True) as sb:
        got = {q: [tuple(r) for r in sb.execute(q).rows] for q in GROUP_QUERIES}
    assert got == expected
    with Sandbox(path, engine="duckdb", cache_dir=tmp_path) as sb:
        plain = {q: [tuple(r) for r in sb.execute(q).rows] for q in GROUP_QUERIES}
    assert any(plain[q] != expected[q] for q in GROUP_QUERIES)  # the option is what makes them equal


def test_process_isolation_keeps_sqlite_ties(big, tmp_path):
    """The worker processes of isolation="process" get the option too."""
    con = sqlite3.connect(big)
    expected = con.execute(QUERIES[0]).fetchall()
    con.close()
    with Sandbox(
        big, engine="duckdb", cache_dir=tmp_path, max_rows=100_000, sqlite_ties=True, isolation="process"
    ) as sb:
        assert [tuple(r) for r in sb.execute(QUERIES[0]).rows] == expected
