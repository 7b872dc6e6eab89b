"""``sqlite_ties``: rows that tie under the ORDER BY of a one-table query come in SQLite's row order on DuckDB."""

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
        ("SELECT v, count(*) FROM t GROUP BY v ORDER BY 2", None),  # groups, not rows
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
