"""``sqlrl eval spider|bird --suite DIR``: execution accuracy on the database and on its test suite side by
side, with the examples whose verdict the suite flipped."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sqlrl.cli import main
from sqlrl.data.errors import MalformedDatasetError
from sqlrl.eval.bird import evaluate_bird
from sqlrl.eval.spider import evaluate_spider
from sqlrl.suite import build_suite

GOLDS = ["SELECT name FROM singer WHERE age > 20", "SELECT max(age) FROM singer WHERE country = 'NL'"]
PREDS = [
    "SELECT name FROM singer",  # right by luck: everyone is over 20
    "SELECT max(age) FROM singer WHERE country = 'NL'",  # right
]
TABLES = [{
    "db_id": "music", "table_names_original": ["singer"], "table_names": ["singer"],
    "column_names_original": [[-1, "*"], [0, "singer_id"], [0, "name"], [0, "age"], [0, "country"]],
    "column_names": [[-1, "*"], [0, "singer id"], [0, "name"], [0, "age"], [0, "country"]],
    "column_types": ["text", "number", "text", "number", "text"], "primary_keys": [1], "foreign_keys": [],
}]  # fmt: skip


@pytest.fixture
def bench(tmp_path: Path) -> Path:
    """A Spider/BIRD-shaped folder: database/music/music.sqlite, tables.json, gold and predictions, and the
    suite of music in suites/."""
    db_dir = tmp_path / "database" / "music"
    db_dir.mkdir(parents=True)
    con = sqlite3.connect(db_dir / "music.sqlite")
    con.execute("CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT NOT NULL, age INTEGER, country TEXT)")
    rows = [(1, "Ann", 30, "NL"), (2, "Bob", 40, "BE"), (3, "Cy", 50, "FR")]
    con.executemany("INSERT INTO singer VALUES (?, ?, ?, ?)", rows)
    con.commit()
    con.close()
    (tmp_path / "tables.json").write_text(json.dumps(TABLES))
    (tmp_path / "gold.sql").write_text("".join(f"{g}\tmusic\n" for g in GOLDS))
    (tmp_path / "pred.sql").write_text("".join(f"{p}\n" for p in PREDS))
    bird = {str(i): f"{p}\t----- bird -----\tmusic" for i, p in enumerate(PREDS)}
    (tmp_path / "pred_bird.json").write_text(json.dumps(bird))
    build_suite(db_dir / "music.sqlite", GOLDS, k=5, seed=0, out_dir=tmp_path / "suites", candidates=30)
    build_suite(db_dir / "music.sqlite", GOLDS, k=5, seed=0, out_dir=tmp_path / "bird_suites", candidates=30,
                mode="bird")  # fmt: skip
    return tmp_path


def _spider(bench: Path, **kw):
    return evaluate_spider(
        bench / "gold.sql", bench / "pred.sql", bench / "database", bench / "tables.json", workers=1, **kw
    )


def test_spider_reports_both_and_names_the_example_the_suite_rejects(bench):
    report = _spider(bench, suite=bench / "suites")
    assert report.metrics == ["execution", "exact match", "suite execution"]
    summary = report.summary()["all"]
    assert summary["execution"] == 1.0 and summary["suite execution"] == 0.5
    assert report.meta["suite"]["rejected"] == [0] and report.meta["suite"]["accepted"] == []
    lucky, right = report.examples
    assert lucky.extra["suite"]["failed_on"].startswith("music_") and lucky.extra["suite"]["reason"]
    assert "suite" not in right.extra
    plain = _spider(bench)
    assert "suite execution" not in plain.metrics and "suite" not in plain.meta


def test_bird_reports_suite_ex_beside_ex_on_a_suite_distilled_for_sets(bench):
    def bird(suite: str):
        return evaluate_bird(bench / "pred_bird.json", bench / "gold.sql", bench / "database", workers=1,
                             suite=bench / suite)  # fmt: skip

    report = bird("bird_suites")
    assert [e.metrics["ex"] for e in report.examples] == [1.0, 1.0]
    assert [e.metrics["suite_ex"] for e in report.examples] == [0.0, 1.0]
    assert report.meta["suite"]["rejected"] == [0] and "suite_mode" not in report.meta["notes"]
    # a suite distilled for Spider's multisets may separate by repeated rows only: BIRD is told so
    assert "sqlrl suite build --mode bird" in bird("suites").meta["notes"]["suite_mode"]


def test_a_bird_suite_separates_under_sets_what_a_spider_suite_separates_under_multisets(bench):
    import sqlite3 as sq

    from sqlrl.scoring import as_table, compare

    for name, mode in (("suites", "spider"), ("bird_suites", "bird")):
        folder = bench / name / "music"
        assert json.loads((folder / "suite.json").read_text())["settings"]["mode"] == mode
        separated = False
        for variant in sorted(folder.glob("music_*.sqlite")):
            con = sq.connect(variant)
            gold, lucky = (con.execute(q).fetchall() for q in (GOLDS[0], PREDS[0]))
            con.close()
            separated |= not compare(as_table(gold), as_table(lucky), mode=mode)
        assert separated, name


def test_the_cli_prints_the_suite_row_and_the_flipped_examples(bench, capsys):
    argv = ["eval", "spider", "--gold", str(bench / "gold.sql"), "--pred", str(bench / "pred.sql"),
            "--db", str(bench / "database"), "--table", str(bench / "tables.json"), "--suite", str(bench / "suites"),
            "--out", str(bench / "out"), "--no-chart", "--workers", "1"]  # fmt: skip
    assert main(argv) == 0
    out = capsys.readouterr().out
    suite_row = next(line for line in out.splitlines() if line.startswith("suite execution"))
    assert suite_row.split()[-1] == "0.500"
    assert "1 right on the database but wrong on the suite" in out and "#0 music" in out
    lines = [json.loads(x) for x in (bench / "out" / "spider.jsonl").read_text().splitlines()]
    assert lines[0]["metrics"]["suite execution"] == 0.0 and lines[0]["extra"]["suite"]["reason"]
    bird = ["eval", "bird", "--pred", str(bench / "pred_bird.json"), "--gold", str(bench / "gold.sql"),
            "--db-root", str(bench / "database"), "--suite", str(bench / "bird_suites"), "--workers", "1"]  # fmt: skip
    assert main(bird) == 0
    out = capsys.readouterr().out
    assert "Suite EX" in out and "#0 music" in out


def test_a_missing_suite_is_a_clear_error_before_any_query(bench, capsys):
    with pytest.raises(MalformedDatasetError, match="no test suite for 1 database.*music.*sqlrl suite build"):
        _spider(bench, suite=bench / "database" / "music")
    with pytest.raises(MalformedDatasetError, match="does not exist"):
        _spider(bench, suite=bench / "nowhere")
    with pytest.raises(ValueError, match="suite needs execution"):
        _spider(bench, suite=bench / "suites", etype="match")
    argv = ["eval", "bird", "--pred", str(bench / "pred_bird.json"), "--gold", str(bench / "gold.sql"),
            "--db-root", str(bench / "database"), "--suite", str(bench / "nowhere")]  # fmt: skip
    assert main(argv) == 1
    assert "does not exist" in capsys.readouterr().err


def test_the_report_page_shows_the_suite_metric_and_where_the_prediction_failed(bench):
    from sqlrl.report import page_data

    argv = ["eval", "spider", "--gold", str(bench / "gold.sql"), "--pred", str(bench / "pred.sql"),
            "--db", str(bench / "database"), "--table", str(bench / "tables.json"), "--suite", str(bench / "suites"),
            "--out", str(bench / "rep"), "--no-chart", "--workers", "1"]  # fmt: skip
    assert main(argv) == 0
    page = page_data([bench / "rep"])
    assert "suite execution" in page["metrics"]
    lucky, right = page["examples"]
    assert lucky["m"]["suite execution"] == 0.0 and lucky["x"]["test suite"].startswith("wrong on music_")
    assert "test suite" not in right.get("x", {})
