"""The sqlrl command line: demo, exec and compare."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from sqlrl.cli import main
from sqlrl.data.demo import build_demo_sqlite


@pytest.fixture(scope="module")
def singer_db(tmp_path_factory):
    return build_demo_sqlite(tmp_path_factory.mktemp("cli") / "concert_singer.sqlite", "concert_singer")


def test_exec_prints_a_table(singer_db, capsys):
    assert main(["exec", "--db", str(singer_db), "SELECT count(*) AS n FROM singer"]) == 0
    out = capsys.readouterr().out
    assert "n" in out and "1 rows" in out


def test_exec_json_and_refusal(singer_db, capsys):
    assert main(["exec", "--db", str(singer_db), "--json", "SELECT 1 AS one"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] and payload["columns"] == ["one"] and payload["rows"] == [[1]]
    assert main(["exec", "--db", str(singer_db), "--json", "DROP TABLE singer"]) == 1
    payload = json.loads(capsys.readouterr().out)
    assert payload["ok"] is False and payload["error_kind"] == "not_read_only"


def test_exec_sqlite_ties_gives_sqlites_order_of_tied_groups(singer_db, capsys):
    sql = "SELECT Country, count(*) FROM singer GROUP BY Country ORDER BY count(*) DESC"  # countries tie
    rows = {}
    for name, extra in (("sqlite", ["--engine", "sqlite"]), ("duckdb", ["--engine", "duckdb"]),
                        ("ties", ["--engine", "duckdb", "--sqlite-ties"])):  # fmt: skip
        assert main(["exec", "--db", str(singer_db), "--json", *extra, sql]) == 0
        rows[name] = json.loads(capsys.readouterr().out)["rows"]
    assert rows["ties"] == rows["sqlite"]
    assert rows["duckdb"] != rows["sqlite"] and sorted(rows["duckdb"]) == sorted(rows["sqlite"])


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_compare_reports_every_mode_and_metric(singer_db, capsys, engine):
    code = main(
        [
            "compare",
            "--db",
            str(singer_db),
            "--engine",
            engine,
            "--gold",
            "SELECT Name, Age FROM singer ORDER BY Age, Singer_ID",
            "--pred",
            "SELECT Age, Name FROM singer ORDER BY Age, Singer_ID",
        ]
    )
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["order_matters"] is True
    scores = report["scores"]
    assert set(scores) == {"spider", "bird", "spider2", "strict", "paverl", "soft_f1", "table_f1"}
    assert scores["spider"] == 1.0 and scores["bird"] == 0.0 and scores["strict"] == 0.0
    assert scores["table_f1"] == 1.0


def test_compare_failed_prediction_scores_zero(singer_db, capsys):
    assert main(["compare", "--db", str(singer_db), "--gold", "SELECT 1", "--pred", "SELECT nope FROM singer"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["pred"]["ok"] is False and report["pred"]["error_kind"] == "runtime"
    assert all(v == 0.0 for v in report["scores"].values())


def test_missing_database_is_a_clear_error(tmp_path, capsys):
    assert main(["exec", "--db", str(tmp_path / "nope.sqlite"), "SELECT 1"]) == 1
    assert capsys.readouterr().err == f"error: database not found: {tmp_path / 'nope.sqlite'}\n"


@pytest.mark.parametrize("engine", ["sqlite", "duckdb"])
def test_demo_runs_and_every_label_holds(engine, tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "sqlrl.cli", "demo", "--engine", engine, "--dir", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "39 predictions over 7 gold queries" in out.stdout


def test_sql_transpile_and_errors(capsys):
    assert main(["sql", "transpile", "SELECT TOP 2 a FROM t", "--read", "tsql"]) == 0
    assert capsys.readouterr().out.strip() == "SELECT a FROM t LIMIT 2"
    assert main(["sql", "transpile", "SELECT FROM WHERE", "--read", "sqlite"]) == 1
    assert "SqlParseError" in capsys.readouterr().err


def test_sql_extract_from_file(tmp_path, capsys):
    f = tmp_path / "completion.txt"
    f.write_text("<think>draft</think>\n```sql\nSELECT 1;\n```\n")
    assert main(["sql", "extract", str(f)]) == 0
    assert json.loads(capsys.readouterr().out) == {"sql": "SELECT 1", "source": "fence", "reason": ""}


def test_sql_check_link_ngram(singer_db, capsys):
    assert main(["sql", "check", "SELECT Nme FROM singer", "--db", str(singer_db)]) == 1
    assert json.loads(capsys.readouterr().out)["stage"] == "bind"
    assert main(["sql", "check", "SELECT Name FROM singer", "--db", str(singer_db)]) == 0
    capsys.readouterr()
    assert (
        main(
            ["sql", "link", "SELECT name FROM singer", "--gold", "SELECT Name, Age FROM singer", "--db", str(singer_db)]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["columns"] == ["singer.name"] and out["scores"]["column_recall"] == 0.5
    assert main(["sql", "ngram", "SELECT a FROM t", "SELECT a FROM t"]) == 0
    assert float(capsys.readouterr().out) == 1.0


def test_sql_components(singer_db, capsys):
    gold = "SELECT Name FROM singer WHERE Age > 30 ORDER BY Age"
    assert (
        main(
            [
                "sql",
                "components",
                "--db",
                str(singer_db),
                "--gold",
                gold,
                "--pred",
                "SELECT Name FROM singer WHERE Age > 40",
            ]
        )
        == 0
    )
    out = json.loads(capsys.readouterr().out)
    assert out["hardness"] == "medium" and out["exact_match"] is False
    assert out["components"]["order"]["f1"] == 0 and out["components"]["where"]["f1"] == 1
    assert main(["sql", "components", "--db", str(singer_db), "--gold", gold, "--pred", gold]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["exact_match"] is True and out["component_match_fraction"] == 1.0


def test_a_command_line_builds_only_the_named_commands_flags():
    from sqlrl.cli import ExecCommand, build_parser

    assert build_parser([]).format_help() == build_parser().format_help()  # `sqlrl --help` lists every command
    args = build_parser(["exec", "--db", "x.sqlite", "SELECT 1"]).parse_args(["exec", "--db", "x.sqlite", "SELECT 1"])
    assert args.command is ExecCommand and args.sql == "SELECT 1"
    with pytest.raises(SystemExit):  # the other commands are listed, without their flags
        build_parser(["exec"]).parse_args(["eval", "bird", "--pred", "p"])
