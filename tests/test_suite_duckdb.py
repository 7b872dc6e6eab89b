"""Test suites for DuckDB files and CSV folders: DuckDB variants that keep the declared schema and constraints,
built deterministically, that reject a query right by luck in the verdict, the rewards and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

duckdb = pytest.importorskip("duckdb")

from sqlrl.suite import SuiteError, build_suite, suite_match, suite_variants  # noqa: E402

SCHEMA = """
CREATE TYPE level AS ENUM ('junior', 'senior', 'it''s complicated');
CREATE SEQUENCE badge_ids START 100;
CREATE TABLE dept (dept_id INTEGER PRIMARY KEY, name VARCHAR NOT NULL UNIQUE, budget DECIMAL(10, 2), opened DATE);
CREATE TABLE emp (
  emp_id INTEGER PRIMARY KEY, name VARCHAR NOT NULL, dept_id INTEGER NOT NULL REFERENCES dept (dept_id),
  salary INTEGER CHECK (salary >= 0), role VARCHAR, active BOOLEAN, grade level NOT NULL
);
CREATE TABLE badge (
  badge_id INTEGER DEFAULT nextval('badge_ids'), emp_id INTEGER NOT NULL REFERENCES emp (emp_id),
  code VARCHAR NOT NULL, PRIMARY KEY (emp_id, code)
);
CREATE UNIQUE INDEX emp_name ON emp (name);
CREATE VIEW rich AS SELECT name FROM emp WHERE salary > 100;
"""
# Every employee is an engineer: a query without `WHERE role = 'engineer'` is right by luck on the original.
ROWS = """
INSERT INTO dept VALUES (1, 'R&D', 1000.5, '2020-01-01'), (2, 'Sales', 200.0, '2021-05-01'), (3, 'Ops', NULL, NULL);
INSERT INTO emp VALUES (1, 'Ann', 1, 150, 'engineer', true, 'senior'), (2, 'Bob', 1, 90, 'engineer', true, 'junior'),
  (3, 'Cid', 2, 120, 'engineer', false, 'senior'), (4, 'Dee', 1, 110, 'engineer', NULL, 'it''s complicated');
INSERT INTO badge (emp_id, code) VALUES (1, 'A'), (1, 'B'), (3, 'A');
"""
GOLDS = [
    "SELECT name FROM emp WHERE role = 'engineer'",
    "SELECT max(salary) FROM emp WHERE dept_id = 2",
    "SELECT d.name, count(*) FROM emp AS e JOIN dept AS d ON e.dept_id = d.dept_id GROUP BY d.name",
    "SELECT name FROM dept WHERE opened > DATE '2020-06-01'",
]
LUCKY = "SELECT name FROM emp"

CSV_GOLDS = [
    "SELECT name FROM customers WHERE city = 'Paris'",
    "SELECT customer, sum(amount) FROM orders GROUP BY customer ORDER BY customer",
]


@pytest.fixture(scope="module")
def duck(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("duck") / "company.duckdb"
    con = duckdb.connect(str(path))
    con.execute(SCHEMA + ROWS)
    con.close()
    return path


@pytest.fixture(scope="module")
def suite(duck: Path):
    """Built once for the module (a DuckDB candidate costs ~0.1 s)."""
    return build_suite(duck, GOLDS, k=10, seed=0, out_dir=duck.parent / "suites", candidates=30, progress=False)


@pytest.fixture
def csv_dir(tmp_path: Path) -> Path:
    shop = tmp_path / "shop"
    shop.mkdir()
    (shop / "orders.csv").write_text(
        "order_id,customer,amount,placed\n1,ann,10.5,2024-01-02\n2,bob,20.0,2024-01-03\n3,ann,7.25,2024-02-01\n"
    )
    (shop / "customers.csv").write_text("name,city\nann,Paris\nbob,Paris\n")
    return shop


def _contents(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        names = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() ORDER BY table_name").fetchall()]
        return {n: con.execute(f'SELECT * FROM "{n}"').fetchall() for n in names}
    finally:
        con.close()


def _types(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        rows = con.execute(
            "SELECT table_name, column_name, data_type, is_nullable FROM duckdb_columns() "
            "ORDER BY table_name, column_index"
        ).fetchall()
        constraints = con.execute(
            "SELECT table_name, constraint_type, constraint_text FROM duckdb_constraints() ORDER BY ALL"
        ).fetchall()
        return {"columns": rows, "constraints": constraints}
    finally:
        con.close()


def test_a_duckdb_suite_keeps_the_schema_and_every_constraint(duck, suite):
    assert suite.original == duck.parent / "suites" / "company" / "company.duckdb"
    assert suite.variants and all(v.name.endswith(".duckdb") for v in suite.variants)
    assert suite_variants(suite.directory) == suite.variants
    manifest = json.loads((suite.directory / "suite.json").read_text())
    assert manifest["engine"] == "duckdb" and manifest["variants"] == [v.name for v in suite.variants]
    declared = _types(duck)
    filled = 0
    for variant in suite.variants:
        assert _types(variant) == declared  # same tables, types, NOT NULL, keys, CHECK
        con = duckdb.connect(str(variant), read_only=True)
        try:
            not_null = "SELECT count(*) FROM emp WHERE name IS NULL OR dept_id IS NULL OR grade IS NULL"
            assert con.execute(not_null).fetchone() == (0,)
            assert con.execute("SELECT count(*) FROM dept WHERE name IS NULL").fetchone() == (0,)
            assert con.execute("SELECT count(*) - count(DISTINCT emp_id) FROM emp").fetchone() == (0,)
            assert con.execute("SELECT count(*) - count(DISTINCT name) FROM emp").fetchone() == (0,)
            assert con.execute("SELECT count(*) - count(DISTINCT name) FROM dept").fetchone() == (0,)
            assert con.execute("SELECT count(*) - count(DISTINCT (emp_id, code)) FROM badge").fetchone() == (0,)
            orphans = "SELECT count(*) FROM emp WHERE dept_id NOT IN (SELECT dept_id FROM dept)"
            assert con.execute(orphans).fetchone() == (0,)
            assert con.execute(
                "SELECT count(*) FROM badge WHERE emp_id NOT IN (SELECT emp_id FROM emp)"
            ).fetchone() == (0,)
            assert con.execute("SELECT count(*) FROM emp WHERE salary < 0").fetchone() == (0,)
            con.execute("SELECT * FROM rich").fetchall()  # the view came along
            filled += con.execute("SELECT count(*) FROM emp").fetchone()[0]
        finally:
            con.close()
    assert filled > 0


def test_a_duckdb_suite_is_deterministic_and_cached(duck, suite, tmp_path):
    b = build_suite(duck, GOLDS, k=10, seed=0, out_dir=tmp_path / "b", candidates=30, progress=False)
    assert [v.name for v in suite.variants] == [v.name for v in b.variants]
    assert [_contents(v) for v in suite.variants] == [_contents(v) for v in b.variants]
    assert suite.stats == b.stats
    again = build_suite(duck, GOLDS, k=10, seed=0, out_dir=duck.parent / "suites", candidates=30, progress=False)
    assert again.cached and again.variants == suite.variants


def test_a_duckdb_suite_rejects_a_query_right_by_luck(duck, suite):
    con = duckdb.connect(str(duck), read_only=True)
    try:  # plain EX accepts it
        assert sorted(con.execute(GOLDS[0]).fetchall()) == sorted(con.execute(LUCKY).fetchall())
    finally:
        con.close()
    verdict = suite_match(GOLDS[0], LUCKY, suite)
    assert not verdict and verdict.failed_on in suite.variants
    assert suite_match(GOLDS[0], "SELECT e.name FROM emp AS e WHERE e.role = 'engineer'", suite)
    for gold in GOLDS:
        assert suite_match(gold, gold, suite)


def test_the_execution_reward_on_a_duckdb_suite(duck, suite):
    from sqlrl.rewards import execution_reward

    completions = [GOLDS[0], LUCKY]
    columns = {"gold_sql": [GOLDS[0]] * 2, "db_path": [str(duck)] * 2}
    assert execution_reward(timeout=5.0)(completions=completions, **columns) == [1.0, 1.0]
    on_suite = execution_reward(timeout=5.0, suite=suite.directory.parent)
    assert on_suite(completions=completions, **columns) == [1.0, 0.0]


def test_a_csv_folder_gets_a_duckdb_suite_of_its_loaded_tables(csv_dir, tmp_path):
    from sqlrl.rewards import execution_reward
    from sqlrl.sandbox.csv_dir import load_csv_dir_to_duckdb

    suite = build_suite(csv_dir, CSV_GOLDS, k=10, seed=0, out_dir=tmp_path / "suites", candidates=20, progress=False)
    assert suite.original.name == "shop.duckdb" and suite.variants
    loaded = tmp_path / "loaded.duckdb"
    load_csv_dir_to_duckdb(csv_dir, loaded)
    assert _contents(suite.original) == _contents(loaded)  # the original as the sandbox loads the folder
    for variant in suite.variants:
        assert _types(variant) == _types(loaded)  # the types DuckDB inferred, kept
    lucky = "SELECT name FROM customers"  # everyone lives in Paris
    assert not suite_match(CSV_GOLDS[0], lucky, suite)
    assert suite_match(CSV_GOLDS[1], CSV_GOLDS[1], suite)
    again = build_suite(csv_dir, CSV_GOLDS, k=10, seed=0, out_dir=tmp_path / "other", candidates=20, progress=False)
    assert [_contents(v) for v in again.variants] == [_contents(v) for v in suite.variants]
    columns = {"gold_sql": [CSV_GOLDS[0]] * 2, "db_path": [str(csv_dir)] * 2}
    reward = execution_reward(timeout=5.0, suite=tmp_path / "suites")
    assert reward(completions=[CSV_GOLDS[0], lucky], **columns) == [1.0, 0.0]
    (csv_dir / "customers.csv").write_text("name,city\nann,Paris\nbob,Rome\n")  # new content: built again
    assert not build_suite(csv_dir, CSV_GOLDS, out_dir=tmp_path / "suites", candidates=5, progress=False).cached


def test_suite_build_command_on_a_csv_folder_and_bad_input(csv_dir, tmp_path, capsys):
    from sqlrl.cli import main

    gold = tmp_path / "gold.sql"
    gold.write_text("\n".join(CSV_GOLDS) + "\n")
    out = tmp_path / "suites"
    assert (
        main(["suite", "build", "--db", str(csv_dir), "--gold", str(gold), "--out", str(out), "--candidates", "10"])
        == 0
    )
    assert "suite built" in capsys.readouterr().out
    assert (out / "shop" / "shop.duckdb").is_file()
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(SuiteError, match="not a SQLite database, a DuckDB database or a folder of CSV files"):
        build_suite(empty, CSV_GOLDS, out_dir=out)
    with pytest.raises(SuiteError, match="cannot be parsed as duckdb"):
        build_suite(csv_dir, ["SELEC FROM WHERE ("], out_dir=out)
