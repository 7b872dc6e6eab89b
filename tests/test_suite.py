"""Distilled test suites: variants keep the schema's constraints, builds are deterministic, and the verdict
rule rejects queries that are right by luck on the original database."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sqlrl.sql.mutate import MUTATION_KINDS, literals, mutations
from sqlrl.suite import SuiteError, build_suite, read_gold_file, suite_databases, suite_match, suite_verdicts
from sqlrl.suite.variants import write_variant

SCHEMA = """
CREATE TABLE dept (
  dept_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  budget REAL
);
CREATE TABLE emp (
  emp_id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  dept_id INTEGER NOT NULL,
  boss_id INTEGER,
  salary INTEGER,
  role TEXT,
  FOREIGN KEY (dept_id) REFERENCES dept(dept_id),
  FOREIGN KEY (boss_id) REFERENCES emp(emp_id)
);
CREATE TABLE badge (
  emp_id INTEGER NOT NULL,
  code TEXT NOT NULL,
  PRIMARY KEY (emp_id, code),
  FOREIGN KEY (emp_id) REFERENCES emp(emp_id)
);
CREATE UNIQUE INDEX emp_name_dept ON emp(name, dept_id);
CREATE VIEW rich AS SELECT name FROM emp WHERE salary > 100;
"""

# On this data every employee is an engineer and department 2 has one employee: a query that drops
# `WHERE role = 'engineer'`, or takes MIN for MAX per department 2, is right by luck.
ROWS = """
INSERT INTO dept VALUES (1, 'R&D', 1000.5), (2, 'Sales', 200.0), (3, 'Ops', NULL);
INSERT INTO emp VALUES (1, 'Ann', 1, NULL, 150, 'engineer'), (2, 'Bob', 1, 1, 90, 'engineer'),
  (3, 'Cid', 2, 1, 120, 'engineer'), (4, 'Dee', 1, 1, 110, 'engineer');
INSERT INTO badge VALUES (1, 'A'), (1, 'B'), (3, 'A');
"""

GOLDS = [
    "SELECT name FROM emp WHERE role = 'engineer'",
    "SELECT max(salary) FROM emp WHERE dept_id = 2",
    "SELECT T2.name, count(*) FROM emp AS T1 JOIN dept AS T2 ON T1.dept_id = T2.dept_id GROUP BY T2.name",
    "SELECT name FROM emp ORDER BY salary DESC LIMIT 2",
]


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "company.sqlite"
    con = sqlite3.connect(path)
    con.executescript(SCHEMA + ROWS)
    con.commit()
    con.close()
    return path


@pytest.fixture
def suite(db: Path, tmp_path: Path):
    return build_suite(db, GOLDS, k=10, seed=0, out_dir=tmp_path / "suites", candidates=40)


def _rows(path: Path) -> dict[str, list[tuple]]:
    con = sqlite3.connect(path)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        return {n: con.execute(f'SELECT * FROM "{n}" ORDER BY rowid').fetchall() for n in names}
    finally:
        con.close()


def _schema(path: Path) -> list[tuple]:
    con = sqlite3.connect(path)
    try:
        return con.execute("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name").fetchall()
    finally:
        con.close()


# -- mutations ------------------------------------------------------------------------------------


def test_mutations_cover_the_kinds_of_near_miss():
    sql = (
        "SELECT T1.name, max(T1.salary) FROM emp AS T1 JOIN dept AS T2 ON T1.dept_id = T2.dept_id "
        "WHERE T1.role = 'x' AND T1.salary > 10 GROUP BY T1.name HAVING count(*) > 1 ORDER BY T1.name LIMIT 3"
    )
    kinds = {k for k, _ in mutations(sql)}
    assert {"drop_where", "drop_condition", "change_operator", "change_aggregate", "distinct", "order_direction",
            "drop_limit", "change_limit", "left_join", "change_literal", "drop_having"} <= kinds  # fmt: skip
    assert {k for k, _ in mutations("SELECT a FROM t UNION SELECT b FROM u")} >= {"set_operation"}
    assert "SELECT MIN(salary) FROM emp" in [m for _, m in mutations("SELECT max(salary) FROM emp")]
    texts = [m for _, m in mutations(sql)]
    assert len(texts) == len(set(texts)) and mutations(sql) == mutations(sql)
    assert set(MUTATION_KINDS) >= kinds


def test_literals_and_bad_kinds():
    assert sorted(literals("SELECT a FROM t WHERE b = 'x' OR c < 4"), key=str) == [4, "x"]
    with pytest.raises(ValueError, match="unknown mutation kind"):
        mutations("SELECT 1", kinds=("nope",))


# -- variants keep the schema and its constraints ----------------------------------------------------


def test_every_variant_keeps_the_schema_and_its_constraints(db, tmp_path):
    for seed in range(25):
        path = write_variant(db, tmp_path / f"v{seed}.sqlite", seed=seed, extra_values=["engineer", 2])
        assert _schema(path) == _schema(db)
        con = sqlite3.connect(path)
        try:
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            # NOT NULL, primary keys and UNIQUE hold
            assert con.execute("SELECT count(*) FROM dept WHERE name IS NULL").fetchone() == (0,)
            assert con.execute("SELECT count(*) FROM emp WHERE name IS NULL OR dept_id IS NULL").fetchone() == (0,)
            assert con.execute("SELECT count(*) - count(DISTINCT name) FROM dept").fetchone() == (0,)
            assert con.execute(
                "SELECT count(*) FROM (SELECT name, dept_id FROM emp GROUP BY name, dept_id HAVING count(*) > 1)"
            ).fetchone() == (0,)
            assert con.execute(
                "SELECT count(*) FROM (SELECT 1 FROM badge GROUP BY emp_id, code HAVING count(*) > 1)"
            ).fetchone() == (0,)
            # the constraints are still declared: SQLite refuses rows that break them
            con.execute("PRAGMA foreign_keys = ON")
            with pytest.raises(sqlite3.IntegrityError):
                con.execute("INSERT INTO emp (emp_id, name, dept_id) VALUES (999, NULL, 1)")
            with pytest.raises(sqlite3.IntegrityError):
                con.execute("INSERT INTO emp (emp_id, name, dept_id) VALUES (999, 'Zed', 424242)")
            names = [r[0] for r in con.execute("SELECT name FROM dept")]
            if names:
                with pytest.raises(sqlite3.IntegrityError):
                    con.execute("INSERT INTO dept (dept_id, name) VALUES (999, ?)", (names[0],))
            # the types: integers stay integers, text stays text
            for salary, role in con.execute("SELECT salary, role FROM emp"):
                assert salary is None or isinstance(salary, int)
                assert role is None or isinstance(role, str)
        finally:
            con.close()


def test_a_variant_is_small_and_draws_from_the_original_and_boundaries(db, tmp_path):
    roles, salaries = set(), set()
    for seed in range(30):
        path = write_variant(db, tmp_path / f"v{seed}.sqlite", seed=seed, max_rows=5)
        rows = _rows(path)
        assert all(len(r) <= 5 for r in rows.values())
        roles |= {r[5] for r in rows["emp"]}
        salaries |= {r[4] for r in rows["emp"]}
    assert {"engineer", "", None} <= roles  # original, empty string, NULL
    assert {150, 90, 0, -1} <= salaries  # original max/min and boundaries


def test_write_variant_refuses_an_existing_file(db, tmp_path):
    (tmp_path / "x.sqlite").write_bytes(b"")
    with pytest.raises(SuiteError, match="exists"):
        write_variant(db, tmp_path / "x.sqlite", seed=0)


# -- determinism and layout -------------------------------------------------------------------------


def test_the_same_seed_gives_the_same_suite_and_another_seed_another(db, tmp_path):
    a = build_suite(db, GOLDS, k=5, seed=3, out_dir=tmp_path / "a", candidates=20)
    b = build_suite(db, GOLDS, k=5, seed=3, out_dir=tmp_path / "b", candidates=20)
    c = build_suite(db, GOLDS, k=5, seed=4, out_dir=tmp_path / "c", candidates=20)
    assert [p.read_bytes() for p in a.paths] == [p.read_bytes() for p in b.paths]
    assert [_rows(p) for p in a.variants] != [_rows(p) for p in c.variants]
    one = write_variant(db, tmp_path / "one.sqlite", seed=7)
    two = write_variant(db, tmp_path / "two.sqlite", seed=7)
    assert one.read_bytes() == two.read_bytes()


def test_the_suite_has_the_official_layout_and_is_cached(suite, db, tmp_path):
    folder = tmp_path / "suites" / "company"
    assert suite.directory == folder and suite.original == folder / "company.sqlite"
    assert suite.original.read_bytes() == db.read_bytes()
    assert 1 <= len(suite.variants) <= 10
    assert [p.name for p in suite.variants] == [f"company_{i}.sqlite" for i in range(1, len(suite.variants) + 1)]
    manifest = json.loads((folder / "suite.json").read_text())
    assert manifest["variants"] == [p.name for p in suite.variants] and manifest["settings"]["seed"] == 0
    assert suite.stats["mutations_equal_on_original"] > 0 and suite.stats["separated"] > 0
    assert suite_databases(folder) == suite.paths
    again = build_suite(db, GOLDS, k=10, seed=0, out_dir=tmp_path / "suites", candidates=40)
    assert again.cached and again.paths == suite.paths
    fewer = build_suite(db, GOLDS, k=1, seed=0, out_dir=tmp_path / "suites", candidates=40)
    assert not fewer.cached and len(fewer.variants) == 1
    assert sorted(p.name for p in folder.glob("*.sqlite")) == ["company.sqlite", "company_1.sqlite"]


# -- the verdict rule -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "gold,lucky",
    [
        ("SELECT name FROM emp WHERE role = 'engineer'", "SELECT name FROM emp"),
        ("SELECT max(salary) FROM emp WHERE dept_id = 2", "SELECT min(salary) FROM emp WHERE dept_id = 2"),
    ],
)
def test_a_query_right_by_luck_is_rejected_on_the_suite(suite, db, gold, lucky):
    assert suite_match(gold, lucky, [db]).correct  # plain EX accepts it
    verdict = suite_match(gold, lucky, suite)
    assert not verdict and verdict.failed_on in suite.variants and verdict.reason


@pytest.mark.parametrize(
    "gold,same",
    [
        ("SELECT name FROM emp WHERE role = 'engineer'", "SELECT e.name FROM emp e WHERE 'engineer' = e.role"),
        ("SELECT max(salary) FROM emp WHERE dept_id = 2", "SELECT salary FROM emp WHERE dept_id = 2 AND salary = "
         "(SELECT max(salary) FROM emp WHERE dept_id = 2) UNION SELECT NULL WHERE NOT EXISTS "
         "(SELECT 1 FROM emp WHERE dept_id = 2 AND salary IS NOT NULL)"),
        (GOLDS[2], "SELECT d.name, (SELECT count(*) FROM emp e WHERE e.dept_id = d.dept_id) FROM dept d "
         "WHERE d.dept_id IN (SELECT dept_id FROM emp)"),
    ],
)  # fmt: skip
def test_the_gold_and_an_equivalent_rewrite_pass_every_variant(suite, gold, same):
    assert suite_match(gold, gold, suite).correct
    assert suite_match(gold, same, suite).correct


def test_suite_verdicts_in_a_batch(suite):
    pairs = [(g, g) for g in GOLDS] + [(GOLDS[0], None), (GOLDS[0], "SELECT nope FROM emp")]
    got = [bool(v) for v in suite_verdicts(pairs, suite)]
    assert got == [True] * len(GOLDS) + [False, False]


# -- bad input --------------------------------------------------------------------------------------


def test_bad_input_gets_a_clear_error(db, tmp_path):
    with pytest.raises(SuiteError, match="does not exist"):
        build_suite(tmp_path / "missing.sqlite", GOLDS, out_dir=tmp_path)
    (tmp_path / "junk.sqlite").write_text("not a database, just text " * 100)
    with pytest.raises(SuiteError, match="not a SQLite database"):
        build_suite(tmp_path / "junk.sqlite", GOLDS, out_dir=tmp_path)
    with pytest.raises(SuiteError, match=r"gold query 1 cannot be parsed.*SELEC FROM"):
        build_suite(db, [GOLDS[0], "SELEC FROM WHERE ("], out_dir=tmp_path / "o")
    with pytest.raises(SuiteError, match="no gold query"):
        build_suite(db, ["", "  "], out_dir=tmp_path / "o")
    with pytest.raises(SuiteError, match="no gold query runs"):
        build_suite(db, ["SELECT nope FROM emp"], out_dir=tmp_path / "o")
    with pytest.raises(SuiteError, match="does not exist"):
        suite_databases(tmp_path / "nowhere")
    assert issubclass(SuiteError, ValueError)


def test_read_gold_file_formats(tmp_path):
    (tmp_path / "g.sql").write_text("SELECT 1\tcompany\nSELECT 2\tother\n\nSELECT 3\n")
    assert read_gold_file(tmp_path / "g.sql", "company") == ["SELECT 1", "SELECT 3"]
    (tmp_path / "g.json").write_text(json.dumps([{"db_id": "company", "query": "SELECT 1"},
                                                 {"db_id": "x", "SQL": "SELECT 2"}]))  # fmt: skip
    assert read_gold_file(tmp_path / "g.json", "company") == ["SELECT 1"]
    assert read_gold_file(tmp_path / "g.json") == ["SELECT 1", "SELECT 2"]
    with pytest.raises(SuiteError, match="does not exist"):
        read_gold_file(tmp_path / "none.sql")
    with pytest.raises(SuiteError, match="holds no query for database 'zzz'"):
        read_gold_file(tmp_path / "g.json", "zzz")
    (tmp_path / "bad.json").write_text("[{")
    with pytest.raises(SuiteError, match="not valid JSON"):
        read_gold_file(tmp_path / "bad.json")


# -- the command ------------------------------------------------------------------------------------


def test_the_suite_build_command(db, tmp_path, capsys):
    from sqlrl.cli import main

    gold = tmp_path / "gold.sql"
    gold.write_text("\n".join(GOLDS) + "\n")
    args = ["suite", "build", "--db", str(db), "--gold", str(gold), "--out", str(tmp_path / "out"), "-k", "3"]
    assert main([*args, "--candidates", "10"]) == 0
    assert "suite built" in capsys.readouterr().out
    assert (tmp_path / "out" / "company" / "company.sqlite").is_file()
    assert main([*args, "--candidates", "10"]) == 0
    assert "cached" in capsys.readouterr().out
    assert main(["suite", "build", "--db", str(tmp_path / "no.sqlite"), "--gold", str(gold), "--out", "x"]) == 1
    assert "does not exist" in capsys.readouterr().err
    gold.write_text("SELEC FROM\n")
    assert main([*args, "--force"]) == 1
    assert "cannot be parsed" in capsys.readouterr().err


def test_suite_build_help_lists_its_flags(capsys):
    from sqlrl.cli import main

    with pytest.raises(SystemExit):
        main(["suite", "build", "--help"])
    assert "--candidates" in capsys.readouterr().out


# -- the execution reward on a suite ----------------------------------------------------------------


def test_execution_reward_on_a_suite(suite, db, tmp_path):
    from sqlrl.rewards import execution_reward
    from sqlrl.rewards.batch import RewardInputError

    gold = GOLDS[0]
    completions = [gold, "SELECT name FROM emp", "SELECT e.name FROM emp e WHERE e.role = 'engineer'", "SELECT nope"]
    plain = execution_reward(timeout=2.0)
    on_suite = execution_reward(timeout=2.0, suite=suite.directory.parent)
    columns = {"gold_sql": [gold] * 4, "db_path": [str(db)] * 4}
    assert plain(prompts=["q"] * 4, completions=completions, **columns) == [1.0, 1.0, 1.0, 0.0]
    assert on_suite(prompts=["q"] * 4, completions=completions, **columns) == [1.0, 0.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="folder of test suites"):
        execution_reward(suite=tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(RewardInputError, match="no test suite"):
        execution_reward(suite=tmp_path / "empty")(
            prompts=["q"], completions=[gold], gold_sql=[gold], db_path=[str(db)]
        )


def test_partial_reward_on_a_suite_takes_the_worst_variant(suite, db, tmp_path):
    """The partial score on a suite is the lowest over the database and the variants: a query right by luck
    on the original loses its full score where a variant tells it apart, a right one keeps it."""
    import sqlite3 as sq

    from sqlrl.rewards import build_rewards, partial_reward
    from sqlrl.scoring import as_table, score

    gold = GOLDS[0]
    completions = [gold, "SELECT name FROM emp", "SELECT nope FROM emp"]
    columns = {"gold_sql": [gold] * 3, "db_path": [str(db)] * 3}
    plain = partial_reward("table_f1", timeout=2.0)(prompts=["q"] * 3, completions=completions, **columns)
    got = partial_reward("table_f1", timeout=2.0, suite=suite.directory.parent)(
        prompts=["q"] * 3, completions=completions, **columns
    )
    assert plain == [1.0, 1.0, 0.0]
    expected = 1.0
    for variant in suite.variants:  # the lowest table F1 of the lucky query over the variants
        con = sq.connect(variant)
        g, p = (as_table(con.execute(q).fetchall()) for q in (gold, completions[1]))
        con.close()
        expected = min(expected, score(g, p)["table_f1"])
    assert got[0] == 1.0 and got[2] == 0.0
    assert got[1] == pytest.approx(expected) and got[1] < 1.0
    funcs, _ = build_rewards([{"name": "partial", "suite": str(suite.directory.parent)}], timeout=2.0)
    assert funcs[0](prompts=["q"] * 3, completions=completions, **columns) == got


def test_a_foreign_key_without_columns_takes_the_parents_primary_key(tmp_path):
    path = tmp_path / "bare.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE p (code TEXT PRIMARY KEY, v INT);"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, code TEXT NOT NULL REFERENCES p);"
        "INSERT INTO p VALUES ('a', 1), ('b', 2); INSERT INTO c VALUES (1, 'a'), (2, 'b');"
    )
    con.commit()
    con.close()
    seen = 0
    for seed in range(10):
        v = write_variant(path, tmp_path / f"v{seed}.sqlite", seed=seed)
        con = sqlite3.connect(v)
        try:
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
            seen += con.execute("SELECT count(*) FROM c").fetchone()[0]
        finally:
            con.close()
    assert seen > 0


def test_a_foreign_key_sqlite_cannot_enforce_is_left_off_and_the_others_still_draw_from_parents(tmp_path):
    """text2sql-data's restaurants: LOCATION's key names a GEOGRAPHIC column that does not exist, which makes
    every write a "foreign key mismatch" while foreign keys are on."""
    path = tmp_path / "restaurants.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE geo (city TEXT PRIMARY KEY, region TEXT);"
        "CREATE TABLE restaurant (id INTEGER PRIMARY KEY, city TEXT, FOREIGN KEY (city) REFERENCES geo(city));"
        "CREATE TABLE location (id INTEGER PRIMARY KEY, street TEXT, FOREIGN KEY (id) REFERENCES geo(id));"
        "INSERT INTO geo VALUES ('a', 'x'), ('b', 'y'); INSERT INTO restaurant VALUES (1, 'a'), (2, 'b');"
        "INSERT INTO location VALUES (1, 'main st');"
    )
    con.commit()
    con.close()
    filled = 0
    for seed in range(8):
        v = write_variant(path, tmp_path / f"v{seed}.sqlite", seed=seed)
        con = sqlite3.connect(v)
        try:
            cities = {r[0] for r in con.execute("SELECT city FROM geo")}
            assert {r[0] for r in con.execute("SELECT city FROM restaurant")} <= cities | {None}
            filled += con.execute("SELECT count(*) FROM restaurant").fetchone()[0]
            filled += con.execute("SELECT count(*) FROM location").fetchone()[0]
        finally:
            con.close()
    assert filled > 0
    suite = build_suite(path, ["SELECT city FROM restaurant WHERE id = 1"], k=3, seed=0, out_dir=tmp_path / "s",
                        candidates=10)  # fmt: skip
    assert suite_match("SELECT city FROM restaurant WHERE id = 1", "SELECT city FROM restaurant WHERE id = 1", suite)


def test_composite_and_self_references_and_virtual_tables(tmp_path):
    path = tmp_path / "odd.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE p (a INT, b TEXT, PRIMARY KEY (a, b));"
        "CREATE TABLE c (id INTEGER PRIMARY KEY, a INT, b TEXT, FOREIGN KEY (a, b) REFERENCES p(a, b));"
        "CREATE TABLE tree (id INTEGER PRIMARY KEY, parent INT NOT NULL REFERENCES tree(id));"
        "INSERT INTO p VALUES (1, 'x'), (2, 'y'); INSERT INTO c VALUES (1, 1, 'x'), (2, 2, 'y'), (3, NULL, NULL);"
        "INSERT INTO tree VALUES (1, 1), (2, 1);"
    )
    try:
        con.executescript("CREATE VIRTUAL TABLE ft USING fts5(body); INSERT INTO ft VALUES ('hello');")
    except sqlite3.OperationalError:  # an SQLite built without FTS5
        pass
    con.commit()
    con.close()
    counts = [0, 0]
    for seed in range(10):
        v = write_variant(path, tmp_path / f"v{seed}.sqlite", seed=seed)
        con = sqlite3.connect(v)
        try:
            assert con.execute("PRAGMA foreign_key_check").fetchall() == []
            assert con.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            counts[0] += con.execute("SELECT count(*) FROM c").fetchone()[0]
            counts[1] += con.execute("SELECT count(*) FROM tree").fetchone()[0]
        finally:
            con.close()
    assert min(counts) > 0


def test_a_variant_where_order_by_ties_decide_the_gold_is_skipped_for_it(suite, db):
    gold = GOLDS[3]  # ORDER BY salary DESC LIMIT 2: small variants often tie on salary
    other_tie_break = "SELECT name FROM emp ORDER BY salary DESC, name DESC LIMIT 2"
    assert suite_match(gold, other_tie_break, [db]).correct
    assert suite_match(gold, other_tie_break, suite).correct
    assert suite_match(gold, other_tie_break, suite.directory).correct  # read from suite.json
    for name, golds in suite.tied.items():
        assert name in {p.name for p in suite.variants} and golds
    assert "candidates_with_ties" in suite.stats


def test_ties_under_order_by_are_found_and_the_verdict_skips_them(tmp_path):
    from sqlrl.sandbox.service import ExecutionService
    from sqlrl.sql.mutate import order_probe
    from sqlrl.suite.build import _tied

    folder = tmp_path / "s"
    folder.mkdir()
    for name, rows in (("s.sqlite", [("a", 3), ("b", 2)]), ("s_1.sqlite", [("a", 1), ("b", 1)])):
        con = sqlite3.connect(folder / name)
        con.execute("CREATE TABLE t (name TEXT, v INT)")
        con.executemany("INSERT INTO t VALUES (?, ?)", rows)
        con.commit()
        con.close()
    gold = "SELECT name FROM t ORDER BY v DESC LIMIT 1"
    other = "SELECT name FROM t ORDER BY v DESC, name DESC LIMIT 1"  # breaks the tie otherwise
    probe, n = order_probe(gold)
    with ExecutionService(engine="sqlite") as service:
        assert not _tied(service.execute(folder / "s.sqlite", probe), n)
        assert _tied(service.execute(folder / "s_1.sqlite", probe), n)
    assert not suite_match(gold, other, folder)  # no suite.json: the tie rejects it
    (folder / "suite.json").write_text(json.dumps({"tied": {"s_1.sqlite": [gold]}}))
    assert suite_match(gold, other, folder)
    assert not suite_match(gold, "SELECT name FROM t ORDER BY v ASC LIMIT 1", folder)


def test_sqlrl_eval_spider_reads_a_suite_folder(tmp_path):
    """The suite layout is the official one: the Spider evaluator runs every variant of <db>/<db_id>/."""
    from sqlrl.eval.spider import evaluate_spider

    db_dir = tmp_path / "database" / "music"
    db_dir.mkdir(parents=True)
    con = sqlite3.connect(db_dir / "music.sqlite")
    con.execute("CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
    con.executemany("INSERT INTO singer VALUES (?, ?, ?)", [(1, "Ann", 30), (2, "Bob", 40), (3, "Cy", 50)])
    con.commit()
    con.close()
    tables = [{
        "db_id": "music", "table_names_original": ["singer"], "table_names": ["singer"],
        "column_names_original": [[-1, "*"], [0, "singer_id"], [0, "name"], [0, "age"]],
        "column_names": [[-1, "*"], [0, "singer id"], [0, "name"], [0, "age"]],
        "column_types": ["text", "number", "text", "number"], "primary_keys": [1], "foreign_keys": [],
    }]  # fmt: skip
    (tmp_path / "tables.json").write_text(json.dumps(tables))
    gold = "SELECT name FROM singer WHERE age > 20"
    (tmp_path / "gold.sql").write_text(f"{gold}\tmusic\n")
    (tmp_path / "pred.sql").write_text("SELECT name FROM singer\n")  # right by luck: everyone is over 20
    build_suite(db_dir / "music.sqlite", [gold], k=5, seed=0, out_dir=tmp_path / "suites", candidates=20)
    args = (tmp_path / "gold.sql", tmp_path / "pred.sql")
    plain = evaluate_spider(*args, tmp_path / "database", tmp_path / "tables.json", etype="exec", workers=1)
    suite = evaluate_spider(*args, tmp_path / "suites", tmp_path / "tables.json", etype="exec", workers=1)
    assert plain.summary()["all"]["execution"] == 1.0
    assert suite.summary()["all"]["execution"] == 0.0


def test_a_scalar_subquery_that_returns_several_rows_is_a_tie_the_verdict_skips(tmp_path):
    """geography's "border of the most populous state": `= (SELECT state ... WHERE population = max)` takes
    SQLite's first row when two states tie, where an equivalent JOIN returns both. A suite built from the
    gold lists those variants as tied, and accepts the JOIN."""
    from sqlrl.sandbox.service import ExecutionService
    from sqlrl.sql.mutate import scalar_probes, tie_probes
    from sqlrl.suite.build import _tied

    path = tmp_path / "geo.sqlite"
    con = sqlite3.connect(path)
    con.executescript(
        "CREATE TABLE state (name TEXT PRIMARY KEY, population INT);"
        "CREATE TABLE border (state TEXT, border TEXT);"
        "INSERT INTO state VALUES ('a', 5), ('b', 3), ('c', 1);"
        "INSERT INTO border VALUES ('a', 'b'), ('b', 'a'), ('b', 'c'), ('c', 'b');"
    )
    con.commit()
    con.close()
    gold = (
        "SELECT border FROM border WHERE state = "
        "(SELECT name FROM state WHERE population = (SELECT max(population) FROM state))"
    )
    join = (
        "SELECT b.border FROM border AS b JOIN state AS s ON s.name = b.state "
        "WHERE s.population = (SELECT max(population) FROM state)"
    )
    probes = scalar_probes(gold)
    assert len(probes) == 2 and all(n is None for _, n in tie_probes(gold))
    assert scalar_probes("SELECT a FROM t WHERE b IN (SELECT b FROM u) AND EXISTS (SELECT 1 FROM v)") == []
    tie = tmp_path / "tie.sqlite"
    con = sqlite3.connect(tie)
    con.executescript(
        "CREATE TABLE state (name TEXT PRIMARY KEY, population INT);INSERT INTO state VALUES ('a', 5), ('b', 5);"
    )
    con.commit()
    con.close()
    with ExecutionService(engine="sqlite") as service:
        assert not _tied(service.execute(path, probes[0]), None)
        assert _tied(service.execute(tie, probes[0]), None)
    assert suite_match(gold, join, [path])
    suite = build_suite(path, [gold], k=10, seed=0, out_dir=tmp_path / "s", candidates=40)
    assert suite.stats["candidates_with_ties"] > 0
    assert suite_match(gold, join, suite), suite_match(gold, join, suite)
