"""A dialect given once: the reward's ``dialect=`` option, ``sqlrl exec --dialect``, the evaluators' ``--dialect``."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sqlrl.cli import main
from sqlrl.rewards import RewardExecutor, build_rewards, execution_reward, read_batch

PG = "SELECT name FROM singer WHERE name ILIKE 'b%' AND age::TEXT = '40'"
GOLD = "SELECT name FROM singer WHERE name LIKE 'b%' AND CAST(age AS TEXT) = '40'"


@pytest.fixture
def db(tmp_path: Path) -> Path:
    path = tmp_path / "s.sqlite"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE singer(id INT, name TEXT, age INT)")
    con.executemany("INSERT INTO singer VALUES (?, ?, ?)", [(1, "Ann", 30), (2, "Bob", 40), (3, "bea", 50)])
    con.commit()
    con.close()
    return path


def test_reward_dialect_option_runs_predictions_on_duckdb(db, tmp_path):
    reward = execution_reward(dialect="postgresql", cache_dir=str(tmp_path / "c"))  # an alias, resolved
    out = reward(completions=[PG, "SELECT 'Bob'", "SELECT FROM WHERE (("], gold_sql=[GOLD] * 3, db_path=[str(db)] * 3)
    assert out == [1.0, 1.0, 0.0]
    executed = reward.executor.execute(reward.executor._last_read[1])
    assert [p.engine for p in executed.preds[:2]] == ["duckdb", "duckdb"]  # the imported data
    assert executed.preds[2].error_kind.value == "transpile"  # never an exception
    # the gold stays SQLite; a row's dialect column wins over the option
    funcs, _ = build_rewards("execution", dialect="postgres", cache_dir=str(tmp_path / "c"))
    assert funcs[0](completions=[GOLD], gold_sql=[GOLD], db_path=[str(db)], dialect=["sqlite"]) == [1.0]
    with pytest.raises(ValueError, match="did you mean 'postgres'"):
        RewardExecutor(dialect="postgress")


def test_batch_engine_follows_the_dialect(db):
    b = read_batch(None, ["x", "y"], columns={"db_path": [str(db)] * 2, "dialect": ["postgres", None]})
    assert [b.engine(0), b.engine(1)] == ["duckdb", "sqlite"]
    b = read_batch(None, ["x"], columns={"db_path": [str(db)]}, default_engine="sqlite", default_dialect="mysql")
    assert b.engine(0) == "sqlite" and b.dialect(0) == "mysql" and b.gold_dialect(0) is None


def test_exec_dialect_postgres_on_a_sqlite_file(db, capsys):
    rc = main(["exec", "--db", str(db), "--dialect", "postgres", "--json", PG])
    payload = json.loads(capsys.readouterr().out)
    assert rc == 0 and payload["rows"] == [["Bob"]]
    rc = main(["exec", "--db", str(db), "--dialect", "postgres", "--json", "SELECT FROM WHERE (("])
    payload = json.loads(capsys.readouterr().out)
    assert rc == 1 and payload["error_kind"] == "transpile"


def _write_tables(path: Path, db_id: str, table: str, columns: list[str]) -> None:
    """A Spider ``tables.json`` for one table whose first column is its integer key, the second text, the third a number."""
    names = [[-1, "*"], *([0, c] for c in columns)]
    path.write_text(json.dumps([{
        "db_id": db_id, "table_names_original": [table], "table_names": [table], "column_names_original": names,
        "column_names": names, "column_types": ["text", "number", "text", "number"], "primary_keys": [1],
        "foreign_keys": [],
    }]))  # fmt: skip


def test_spider_evaluator_dialect(db, tmp_path, capsys):
    root = tmp_path / "database" / "s"
    root.mkdir(parents=True)
    (root / "s.sqlite").write_bytes(db.read_bytes())
    _write_tables(tmp_path / "tables.json", "s", "singer", ["id", "name", "age"])
    (tmp_path / "gold.sql").write_text(f"{GOLD}\ts\nSELECT count(*) FROM singer\ts\n")
    (tmp_path / "pred.sql").write_text(f"{PG}\nSELECT COUNT(*) FROM singer QUALIFY TRUE LIMIT ALL ((\n")
    from sqlrl.eval.spider import evaluate_spider

    report = evaluate_spider(
        tmp_path / "gold.sql", tmp_path / "pred.sql", tmp_path / "database", tmp_path / "tables.json",
        etype="exec", dialect="postgres", cache_dir=tmp_path / "c", workers=1,
    )  # fmt: skip
    assert [ex.metrics["execution"] for ex in report.examples] == [1.0, 0.0]
    assert report.examples[1].error_kind == "transpile" and report.meta["engine"] == "duckdb"
    out = tmp_path / "r.json"
    rc = main([
        "eval", "spider", "--gold", str(tmp_path / "gold.sql"), "--pred", str(tmp_path / "pred.sql"),
        "--db", str(tmp_path / "database"), "--table", str(tmp_path / "tables.json"), "--etype", "exec",
        "--dialect", "postgres", "--cache-dir", str(tmp_path / "c"), "--out", str(out),
    ])  # fmt: skip
    capsys.readouterr()
    assert rc == 0


def test_evaluators_on_duckdb_keep_sqlites_order_of_ties(tmp_path):
    """The official scripts run on SQLite: on DuckDB (another dialect, or --engine duckdb) the evaluators give
    tied rows and groups SQLite's order, so a prediction that returns SQLite's answer is right."""
    from sqlrl.eval.spider import evaluate_spider

    root = tmp_path / "database" / "g"
    root.mkdir(parents=True)
    con = sqlite3.connect(root / "g.sqlite")
    con.execute("CREATE TABLE g (id INTEGER PRIMARY KEY, v TEXT, w INT)")
    con.executemany("INSERT INTO g VALUES (?, ?, ?)", [(i, "dbacef"[i % 6], i % 3) for i in range(60)])
    con.commit()
    golds = [  # every group and every w ties
        "SELECT v FROM g GROUP BY v ORDER BY count(*) DESC LIMIT 2",
        "SELECT v, w, count(*) FROM g GROUP BY v, w ORDER BY count(*) DESC LIMIT 3",
    ]
    preds = []  # SQLite's answer, written out
    for gold in golds:
        rows = con.execute(gold).fetchall()
        preds.append("VALUES " + ", ".join("(" + ", ".join(repr(x) for x in r) + ")" for r in rows))
    con.close()
    (tmp_path / "gold.sql").write_text("".join(f"{g}\tg\n" for g in golds))
    (tmp_path / "pred.sql").write_text("".join(f"{p}\n" for p in preds))
    _write_tables(tmp_path / "tables.json", "g", "g", ["id", "v", "w"])
    for engine in ("sqlite", "duckdb"):
        report = evaluate_spider(
            tmp_path / "gold.sql", tmp_path / "pred.sql", tmp_path / "database", tmp_path / "tables.json",
            etype="exec", engine=engine, cache_dir=tmp_path / "c", workers=1,
        )  # fmt: skip
        assert [ex.metrics["execution"] for ex in report.examples] == [1.0, 1.0], engine
