"""The pre-check for bare columns: the DuckDB sandbox rewrites them before a text's first run, not after a
binder error, and it never misses one that DuckDB refuses (on sqlrl-toy's gold queries and the shapes below)."""

from __future__ import annotations

import pytest

from sqlrl.data import load_toy
from sqlrl.sandbox import Sandbox
from sqlrl.sql.bare_columns import may_have_bare_columns
from sqlrl.sql.sqlite_compat import BARE_COLUMN_ERROR


@pytest.mark.parametrize(
    ("sql", "maybe"),
    [
        ("SELECT name FROM t", False),
        ("SELECT name FROM t WHERE age > (SELECT avg(age) FROM t)", False),
        ("SELECT country, count(*) FROM t GROUP BY country", False),
        ("SELECT T1.country, count(*) AS n FROM t AS T1 GROUP BY country ORDER BY n DESC", False),
        ("SELECT count(*) c, max(age) FROM t", False),
        ("SELECT extract(year FROM d), count(*) FROM t GROUP BY extract(year FROM d)", False),
        ("SELECT a FROM t GROUP BY a UNION ALL SELECT b FROM u GROUP BY b", False),
        ("SELECT CAST(a AS INTEGER), count(DISTINCT b) FROM t GROUP BY a HAVING sum(c) > 1", False),
        ("/* a comment */ SELECT x, 'name' FROM t GROUP BY x -- name", False),
        ("SELECT name, count(*) FROM t GROUP BY country", True),
        ("SELECT name, max(age) FROM t", True),
        ("SELECT T2.name FROM a AS T1 JOIN b AS T2 ON T1.id = T2.id GROUP BY T1.id ORDER BY count(*)", True),
        ("SELECT T1.name, count(*) FROM a AS T1 JOIN b AS T2 USING (id) GROUP BY T2.name", True),
        ("SELECT country FROM t GROUP BY country HAVING max(age) > 3 ORDER BY name", True),
        ("SELECT * FROM t GROUP BY country", None),  # not read whole: DuckDB decides
        ("SELECT x FROM (SELECT name AS x, count(*) FROM t GROUP BY country)", True),
        ("SELECT a FROM t UNION SELECT name FROM u GROUP BY country", True),
        ("SELECT name, count(*) FROM t GROUP BY 2", None),  # a position
        ("WITH c AS (SELECT 1) SELECT count(*) FROM c", None),
        ("SELECT count(*) FROM t WHERE x > 1 WHERE y < 2", False),  # a syntax error on every engine
        ("SELECT name, count(*) FORM t GROUP BY country", False),  # so is this
        ("SELECT name, count(*) FROM t GROUP BY country WHERE", False),  # and this
        ("SELECT DISTINCT T1.name, count(*) AS n FROM t AS T1 GROUP BY T1.name HAVING n > 1", False),
    ],
)
def test_may_have_bare_columns(sql, maybe):
    assert may_have_bare_columns(sql) is maybe


@pytest.fixture(scope="module")
def toy_golds(tmp_path_factory) -> list[tuple[str, str]]:
    root = tmp_path_factory.mktemp("toy")
    examples = [*load_toy("train", cache_dir=root), *load_toy("dev", cache_dir=root)]
    return sorted({(str(ex.db_path), ex.gold_sql) for ex in examples})


def test_the_pre_check_misses_no_column_duckdb_refuses(toy_golds, monkeypatch):
    """Every toy gold query that DuckDB refuses for a bare column when nothing rewrites it is one the
    pre-check flags (Spider's ``SELECT T2.name ... GROUP BY T1.id`` shape is common there)."""
    from sqlrl.sandbox import duckdb_engine

    monkeypatch.setattr(duckdb_engine, "may_have_bare_columns", lambda sql: False)
    monkeypatch.setattr(duckdb_engine, "rewrite_bare_columns", lambda sql: None)
    refused = []
    boxes: dict[str, Sandbox] = {}
    try:
        for db, sql in toy_golds:
            box = boxes.setdefault(db, Sandbox(db, engine="duckdb", timeout=10.0))
            r = box.execute(sql)
            if not r.ok and BARE_COLUMN_ERROR in r.error:
                refused.append(sql)
    finally:
        for box in boxes.values():
            box.close()
    assert len(refused) >= 20  # the corpus holds the shape
    assert [sql for sql in refused if not may_have_bare_columns(sql)] == []


def test_the_sandbox_runs_no_text_twice_for_bare_columns(toy_golds, monkeypatch):
    """With the pre-check, no toy gold query reaches DuckDB's binder error for a bare column: each runs once,
    already rewritten, and gives SQLite's rows."""
    from sqlrl.sandbox import duckdb_engine

    failures = []
    original = duckdb_engine.DuckDBEngine._run

    def run(self, con, sql, run_sql, t0):
        r = original(self, con, sql, run_sql, t0)
        if not r.ok and BARE_COLUMN_ERROR in r.error:
            failures.append(sql)
        return r

    monkeypatch.setattr(duckdb_engine.DuckDBEngine, "_run", run)
    grouped = [(db, sql) for db, sql in toy_golds if may_have_bare_columns(sql)]
    boxes: dict[tuple[str, str], Sandbox] = {}
    try:
        for db, sql in grouped:
            duck = boxes.setdefault((db, "duckdb"), Sandbox(db, engine="duckdb", timeout=10.0))
            lite = boxes.setdefault((db, "sqlite"), Sandbox(db, engine="sqlite", timeout=10.0))
            got, want = duck.execute(sql), lite.execute(sql)
            assert got.ok and want.ok, (sql, got.error, want.error)
            if "ORDER BY" not in sql.upper():
                got_rows, want_rows = sorted(map(repr, got.rows)), sorted(map(repr, want.rows))
            else:
                got_rows, want_rows = got.rows, want.rows
            assert got_rows == want_rows or "LIMIT" in sql.upper(), sql  # a LIMIT over ties may pick others
    finally:
        for box in boxes.values():
            box.close()
    assert failures == []
