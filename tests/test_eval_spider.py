"""sqlrl eval spider: test-suite execution, exact match, hardness table, the official quirks."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

import pytest

from sqlrl.data import build_toy
from sqlrl.eval.commands import EvalSpiderCommand, main
from sqlrl.eval.spider import (
    evaluate_spider,
    format_spider_table,
    partial_summary,
    postprocess,
    remove_distinct,
    replace_cur_year,
)


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory):
    return build_toy(tmp_path_factory.mktemp("toy"))


def _gold_lines(toy) -> list[tuple[str, str]]:
    return [tuple(line.split("\t")) for line in toy.dev_gold.read_text().splitlines() if line.strip()]


def _write_pred(path: Path, preds: list[str]) -> Path:
    path.write_text("".join(p + "\n" for p in preds))
    return path


def test_gold_vs_gold_scores_one(toy, tmp_path):
    gold = _gold_lines(toy)
    pred = _write_pred(tmp_path / "pred.txt", [g for g, _ in gold])
    report = evaluate_spider(toy.dev_gold, pred, toy.database_dir, toy.tables, workers=2)
    s = report.summary()
    assert s["all"]["count"] == len(gold)
    assert s["all"]["execution"] == 1.0 and s["all"]["exact match"] == 1.0
    assert {e.group for e in report.examples} <= {"easy", "medium", "hard", "extra"}
    assert sum(s[g]["count"] for g in ("easy", "medium", "hard", "extra")) == len(gold)
    text = format_spider_table(report)
    assert "EXECUTION ACCURACY" in text and "PARTIAL MATCHING F1" in text and "IUEN" in text
    assert not report.error_counts()


def test_mutated_predictions_lower_scores(toy, tmp_path):
    gold = _gold_lines(toy)
    preds = [g for g, _ in gold]
    preds[0] = "SELECT nonsense FROM nowhere"  # fails to run and to parse
    i = next(k for k, (g, _) in enumerate(gold) if g.lower().startswith("select count(*)") and k > 0)
    preds[i] = preds[i].replace("count(*)", "count(*) + 1", 1)  # runs, wrong value, still a count
    pred = _write_pred(tmp_path / "pred.txt", preds)
    report = evaluate_spider(toy.dev_gold, pred, toy.database_dir, toy.tables, workers=1)
    ex = report.examples
    assert ex[0].metrics == {"execution": 0.0, "exact match": 0.0} and ex[0].error_kind is not None
    assert ex[i].metrics["execution"] == 0.0
    s = report.summary()["all"]
    n = len(gold)
    assert s["execution"] == pytest.approx((n - 2) / n)
    assert s["exact match"] < 1.0

    only_exec = evaluate_spider(toy.dev_gold, pred, toy.database_dir, toy.tables, etype="exec")
    assert only_exec.metrics == ["execution"] and "EXACT" not in format_spider_table(only_exec)
    only_match = evaluate_spider(toy.dev_gold, pred, toy.database_dir, toy.tables, etype="match")
    assert only_match.metrics == ["exact match"]
    assert only_match.summary()["all"]["exact match"] == s["exact match"]


def test_count_mismatch_is_a_clear_error(toy, tmp_path):
    gold = _gold_lines(toy)
    pred = _write_pred(tmp_path / "pred.txt", [g for g, _ in gold[:-1]])
    with pytest.raises(ValueError, match="predictions but"):
        evaluate_spider(toy.dev_gold, pred, toy.database_dir, toy.tables)


# -- a tiny hand-made fixture ---------------------------------------------------------------------


def _make_db(path: Path, rows: list[tuple[int, str, int]]) -> None:
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
    con.executemany("INSERT INTO singer VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()


ROWS = [(1, "Ann", 30), (2, "Bob", 40), (3, "Cy", 50)]


@pytest.fixture()
def tiny(tmp_path: Path) -> dict[str, Path]:
    db_dir = tmp_path / "database"
    (db_dir / "music").mkdir(parents=True)
    _make_db(db_dir / "music" / "music.sqlite", ROWS)
    tables = [
        {
            "db_id": "music",
            "table_names_original": ["singer"],
            "table_names": ["singer"],
            "column_names_original": [[-1, "*"], [0, "singer_id"], [0, "name"], [0, "age"]],
            "column_names": [[-1, "*"], [0, "singer id"], [0, "name"], [0, "age"]],
            "column_types": ["text", "number", "text", "number"],
            "primary_keys": [1],
            "foreign_keys": [],
        }
    ]
    (tmp_path / "tables.json").write_text(json.dumps(tables))
    return {"root": tmp_path, "db_dir": db_dir, "tables": tmp_path / "tables.json"}


def _run(tiny, pairs: list[tuple[str, str]], **kw):
    gold = tiny["root"] / "gold.sql"
    gold.write_text("".join(f"{g}\tmusic\n" for g, _ in pairs))
    pred = _write_pred(tiny["root"] / "pred.txt", [p for _, p in pairs])
    return evaluate_spider(gold, pred, tiny["db_dir"], tiny["tables"], workers=1, **kw)


def test_exec_quirks(tiny):
    pairs = [
        ("SELECT name FROM singer WHERE age >= 40", "SELECT name FROM singer WHERE age > = 40"),  # postprocess
        ("SELECT DISTINCT age > 35 FROM singer", "SELECT age > 35 FROM singer"),  # DISTINCT removed
        ("SELECT name FROM singer ORDER BY age", "SELECT name FROM singer ORDER BY age DESC"),  # order matters
        ("SELECT name FROM singer", "SELECT name FROM singer ORDER BY age DESC"),  # bag semantics
        ("SELECT count(*) FROM singer WHERE age < 2020", "SELECT count(*) FROM singer WHERE age < YEAR(CURDATE())"),
        ("SELECT age FROM singer WHERE age = 40", "SELECT age FROM singer WHERE age = value * 40"),  # value -> 1
    ]
    report = _run(tiny, pairs)
    assert [e.metrics["execution"] for e in report.examples] == [1.0, 1.0, 0.0, 1.0, 1.0, 1.0]
    assert report.examples[5].pred == "SELECT age FROM singer WHERE age = 1 * 40"
    assert report.examples[2].extra["order_matters"] is True

    kept = _run(tiny, pairs[1:2], keep_distinct=True)
    assert kept.examples[0].metrics["execution"] == 0.0


def test_test_suite_variants(tiny):
    # a second database file that differs: the prediction must match on both
    _make_db(tiny["db_dir"] / "music" / "music_variant.sqlite", [(1, "Ann", 30), (2, "Bob", 45), (3, "Cat", 38)])
    (tiny["db_dir"] / "music" / "notes.txt").write_text("ignored: no .sqlite in the name")
    pairs = [
        ("SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer WHERE age >= 40"),
        ("SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer WHERE age >= 36"),
    ]
    report = _run(tiny, pairs)
    first, second = report.examples
    assert first.metrics["execution"] == 0.0
    assert first.extra["databases"] == {"music.sqlite": 1.0, "music_variant.sqlite": 0.0}
    assert second.metrics["execution"] == 1.0
    assert set(second.extra["databases"]) == {"music.sqlite", "music_variant.sqlite"}
    # exact match ignores values, so both predictions match exactly apart from the operator
    assert first.metrics["exact match"] == 0.0 and second.metrics["exact match"] == 0.0


def test_gold_error_is_reported(tiny):
    report = _run(tiny, [("SELECT name FROM singer WHERE nope = 1", "SELECT name FROM singer")], etype="exec")
    (ex,) = report.examples
    assert ex.metrics["execution"] == 0.0 and ex.error_kind == "gold_error"
    assert "gold_errors" in report.meta["notes"]


def test_partial_aggregates_follow_evaluation_py(tiny):
    pairs = [
        ("SELECT name FROM singer WHERE age > 30", "SELECT name FROM singer"),  # where: gold has it, pred not
        ("SELECT name FROM singer", "SELECT name FROM singer"),
    ]
    report = _run(tiny, pairs, etype="match")
    where = partial_summary(report)["all"]["where"]
    assert where["acc"] == 0.0 and where["rec"] == 0.0 and where["f1"] == 1.0  # no pred has WHERE; both 0 -> 1
    select = partial_summary(report)["all"]["select"]
    assert select == {"acc": 1.0, "rec": 1.0, "f1": 1.0}


def test_helpers():
    assert postprocess("a > = 1 and b < = 2 and c ! = 3") == "a >= 1 and b <= 2 and c != 3"
    assert remove_distinct("SELECT count(DISTINCT name) FROM t") == "SELECT count( name) FROM t"
    assert remove_distinct("SELECT 'distinct', \"distinct\" FROM t") == "SELECT 'distinct', \"distinct\" FROM t"
    assert replace_cur_year("WHERE y < year ( curdate ( ) ) AND 1") == "WHERE y < 2020AND 1"


def test_cli(toy, tmp_path, capsys):
    gold = _gold_lines(toy)
    pred = _write_pred(tmp_path / "pred.txt", [g for g, _ in gold])
    args = ["spider", "--gold", str(toy.dev_gold), "--pred", str(pred), "--db", str(toy.database_dir)]
    args += ["--table", str(toy.tables), "--no-progress"]
    assert main([*args, "--out", str(tmp_path / "out"), "--no-chart"]) == 0
    out = capsys.readouterr().out
    assert "exact match" in out and "execution" in out
    assert json.loads((tmp_path / "out" / "spider.json").read_text())["summary"]["all"]["execution"] == 1.0
    assert main([*args, "--plug_value"]) == 0  # tested in test_eval_spider_plug_value.py
    capsys.readouterr()
    assert EvalSpiderCommand.name == "spider"
    shutil.rmtree(tmp_path / "out")
