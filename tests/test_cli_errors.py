"""Every sqlrl command: a user error is one 'error: ...' line and exit 1 (failed) or 2 (usage), never a traceback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sqlrl.cli import main
from sqlrl.data import build_toy
from sqlrl.data.demo import build_demo_sqlite

NOT_UTF8 = b"SELECT 1\xff\xfe\n"


def sqlrl(*args: str, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "sqlrl.cli", *args], capture_output=True, text=True, timeout=300, **kwargs
    )


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """main() in this process: (exit code, stdout, stderr). An exception escaping main fails the test."""
    try:
        code = main(list(argv))
    except SystemExit as e:  # argparse's usage errors
        code = e.code
    out, err = capsys.readouterr()
    return code, out, err


def assert_error(result: tuple[int, str, str], code: int, *words: str) -> None:
    got, out, err = result
    assert got == code, (got, out, err)
    assert "Traceback" not in out + err
    last = err.strip().splitlines()[-1]
    assert last.startswith("error: ") or ": error: " in last, err  # ours, or argparse's 'sqlrl exec: error:'
    for w in words:
        assert w in last, (w, last)


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("cli_errors")
    (d / "empty").mkdir()
    (d / "notes.txt").write_text("hello, this is text and no database\n" * 3)
    (d / "junk.duckdb").write_text("not duckdb either\n" * 3)
    (d / "corrupt.sqlite").write_bytes(b"SQLite format 3\x00" + b"garbage" * 300)
    (d / "latin1.txt").write_bytes(NOT_UTF8)
    (d / "broken.json").write_text("[{bad json")
    (d / "notes.jsonl").write_text('{"question": "q"}\n')
    return {
        "singer": build_demo_sqlite(d / "singer.sqlite", "concert_singer"),
        **{p.name: p for p in d.iterdir()},
        "dir": d,
    }


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory):
    """A small Spider-format benchmark: 4 gold queries of each sqlrl-toy dev database, predictions = gold."""
    paths = build_toy(tmp_path_factory.mktemp("toy"))
    root = paths.root
    lines, per_db = [], {}
    for line in paths.dev_gold.read_text().splitlines():
        db = line.split("\t")[-1]
        if line.strip() and per_db.get(db, 0) < 4:
            per_db[db] = per_db.get(db, 0) + 1
            lines.append(line)
    assert len(lines) == 12
    (root / "gold12.sql").write_text("\n".join(lines) + "\n")
    (root / "pred12.sql").write_text("\n".join(line.split("\t")[0] for line in lines) + "\n")
    pairs = [line.split("\t") for line in lines]
    bird = {str(i): f"{sql}\t----- bird -----\t{db}" for i, (sql, db) in enumerate(pairs)}
    (root / "bird12.json").write_text(json.dumps(bird))
    corrupt = root / "corrupt_db"
    for db in paths.database_dir.iterdir():
        (corrupt / db.name).mkdir(parents=True)
        (corrupt / db.name / f"{db.name}.sqlite").write_text("junk, not a database\n")
    partial = root / "partial_db"
    shutil.copytree(paths.database_dir, partial)
    first_db = lines[0].split("\t")[1]
    (partial / first_db / f"{first_db}.sqlite").write_text("junk, not a database\n")
    return paths


def spider_args(toy, db=None, *extra: str) -> list[str]:
    root = toy.root
    return ["eval", "spider", "--gold", str(root / "gold12.sql"), "--pred", str(root / "pred12.sql"),
            "--db", str(db or toy.database_dir), "--table", str(toy.tables), "--no-progress", "--workers", "1",
            *extra]  # fmt: skip


# ---------------------------------------------------------------------------------- exec / compare


@pytest.mark.parametrize("command", ["exec", "compare"])
@pytest.mark.parametrize("engine", ["auto", "sqlite", "duckdb"])
@pytest.mark.parametrize("name", ["empty", "notes.txt", "junk.duckdb", "corrupt.sqlite", "missing.sqlite"])
def test_a_path_that_is_no_database_is_an_error(capsys, files, command, engine, name):
    path = files["dir"] / name
    query = ["SELECT 1"] if command == "exec" else ["--gold", "SELECT 1", "--pred", "SELECT 1"]
    result = run(capsys, command, "--db", str(path), "--engine", engine, *query)
    assert_error(result, 1, name)


@pytest.mark.parametrize("command", ["exec", "compare"])
@pytest.mark.parametrize(
    "flag, value", [("--timeout", "0"), ("--timeout", "-1"), ("--timeout", "nan"), ("--max-rows", "-1")]
)
def test_bad_limits_are_usage_errors(capsys, files, command, flag, value):
    query = ["SELECT 1"] if command == "exec" else ["--gold", "SELECT 1", "--pred", "SELECT 1"]
    result = run(capsys, command, "--db", str(files["singer"]), flag, value, *query)
    assert_error(result, 2, flag)


def test_failed_queries_exit_1(capsys, files):
    assert_error(run(capsys, "exec", "--db", str(files["singer"]), "SELECT nope FROM singer"), 1, "no such column")
    result = run(capsys, "compare", "--db", str(files["singer"]), "--gold", "SELECT nope", "--pred", "SELECT 1")
    assert_error(result, 1, "the gold query failed")


def test_cli_subprocess_gives_no_traceback(files):
    for db, engine in (("notes.txt", "duckdb"), ("empty", "auto")):
        out = sqlrl("exec", "--db", str(files["dir"] / db), "--engine", engine, "SELECT 1")
        assert out.returncode == 1 and "Traceback" not in out.stderr
        assert out.stderr.startswith("error: ") and db in out.stderr and out.stderr.count("\n") == 1
    out = sqlrl("compare", "--db", str(files["singer"]), "--timeout", "-1", "--gold", "SELECT 1", "--pred", "SELECT 1")
    assert out.returncode == 2 and "argument --timeout: must be > 0" in out.stderr and "Traceback" not in out.stderr


# ------------------------------------------------------------------------------------------- sql


def test_sql_inputs_name_the_file(capsys, files):
    d = files["dir"]
    assert_error(run(capsys, "sql", "extract", str(d / "latin1.txt")), 1, "latin1.txt is not UTF-8")
    assert_error(run(capsys, "sql", "extract", str(d / "nope.txt")), 1, "nope.txt")
    assert_error(run(capsys, "sql", "extract", str(d / "empty")), 1, "empty")
    check = ["sql", "check", "SELECT 1"]
    assert_error(run(capsys, *check, "--tables", str(d / "latin1.txt"), "--db-id", "x"), 1, "latin1.txt")
    assert_error(run(capsys, *check, "--tables", str(d / "broken.json"), "--db-id", "x"), 1, "broken.json")
    assert_error(run(capsys, *check, "--tables", str(d / "empty"), "--db-id", "x"), 1, "empty")
    assert_error(run(capsys, *check, "--tables", str(d / "broken.json")), 2, "--tables needs --db-id")
    assert_error(run(capsys, *check, "--db", str(d / "corrupt.sqlite")), 1, "corrupt.sqlite")
    assert_error(run(capsys, *check, "--db", str(d / "notes.txt")), 1, "notes.txt")
    assert_error(run(capsys, *check, "--dialect", "postgress"), 2, "--dialect", "did you mean 'postgres'")
    assert_error(run(capsys, "sql", "transpile", "SELECT 1", "--write", "duck"), 2, "--write")
    assert_error(run(capsys, "sql", "ngram", "SELECT 1", "SELECT 1", "-n", "0"), 2, "-n")
    assert_error(run(capsys, "demo", "--dir", str(d / "notes.txt")), 2, "--dir", "notes.txt")


def test_a_closed_pipe_ends_quietly(files):
    # `sqlrl ... | head -1`: once the reader has gone, stop without a BrokenPipeError traceback
    commands = [
        ["sql", "components", "--db", str(files["singer"]), "--gold", "SELECT Name FROM singer", "--pred", "SELECT 1"],
        ["exec", "--db", str(files["singer"]), "SELECT Name FROM singer"],  # rich's console
    ]
    for argv in commands:
        read, write = os.pipe()
        proc = subprocess.Popen([sys.executable, "-m", "sqlrl.cli", *argv], stdout=write, stderr=subprocess.PIPE)
        os.close(write)
        os.close(read)  # the reader is gone before the first write
        err = proc.communicate(timeout=120)[1].decode()
        assert proc.returncode == 141, err
        assert err == ""
    head = subprocess.run(
        f"{sys.executable} -m sqlrl.cli sql components --db {files['singer']} --gold 'SELECT 1' | head -1",
        shell=True, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert head.stdout == "{\n" and "Traceback" not in head.stderr and "BrokenPipe" not in head.stderr


def test_an_internal_bug_still_shows_its_traceback(monkeypatch, files):
    from sqlrl.cli import ExecCommand

    def bug(args):
        raise KeyError("a bug, not a user error")

    monkeypatch.setattr(ExecCommand, "run", staticmethod(bug))
    with pytest.raises(KeyError, match="a bug"):
        main(["exec", "--db", str(files["singer"]), "SELECT 1"])


# ------------------------------------------------------------------------------------------ eval


def test_eval_out_is_checked_before_the_work(capsys, toy, tmp_path):
    taken = tmp_path / "taken.txt"
    taken.write_text("keep me\n")
    code, out, err = run(capsys, *spider_args(toy), "--out", str(taken))
    assert_error((code, out, err), 2, "--out", "is a file", "choose another path")
    assert out == "" and taken.read_text() == "keep me\n"  # nothing evaluated, nothing lost
    assert_error(run(capsys, *spider_args(toy), "--out", str(taken / "sub")), 2, "is a file")
    out_dir = tmp_path / "results"
    assert run(capsys, *spider_args(toy), "--out", str(out_dir), "--no-chart")[0] == 0
    before = (out_dir / "spider.json").read_text()
    code, out, err = run(capsys, *spider_args(toy), "--out", str(out_dir), "--no-chart")
    assert_error((code, out, err), 2, "already holds spider.json, spider.jsonl", "--overwrite")
    assert out == "" and (out_dir / "spider.json").read_text() == before
    assert run(capsys, *spider_args(toy), "--out", str(out_dir), "--no-chart", "--overwrite")[0] == 0
    assert run(capsys, *spider_args(toy), "--out", str(out_dir), "--no-chart", "--stem", "again")[0] == 0


def test_eval_fails_first_when_no_gold_query_can_run(capsys, toy, tmp_path):
    code, out, err = run(capsys, *spider_args(toy, tmp_path / "nowhere"))
    assert_error((code, out, err), 1, "Spider database folder", "nowhere", "not found")
    code, out, err = run(capsys, *spider_args(toy, toy.root / "corrupt_db"))
    assert_error((code, out, err), 1, "none of the 12 examples could be evaluated")
    assert "EXECUTION" not in out  # no all-zero table
    code, out, err = run(capsys, "eval", "bird", "--pred", str(toy.root / "bird12.json"), "--gold",
                         str(toy.root / "gold12.sql"), "--db-root", str(toy.root / "corrupt_db"), "--no-progress")  # fmt: skip
    assert_error((code, out, err), 1, "none of the 12 examples could be evaluated")


def test_eval_says_how_many_gold_queries_failed_before_the_table(toy):
    proc = subprocess.run(
        [sys.executable, "-m", "sqlrl.cli", *spider_args(toy, toy.root / "partial_db")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=300,
    )  # fmt: skip
    out = proc.stdout
    assert proc.returncode == 0, out
    warning = out.index("warning: ")
    assert warning < out.index("EXECUTION ACCURACY")
    line = out[warning:].splitlines()[0]
    assert "4 of 12 examples could not be evaluated" in line and "gold_error 4" in line


def test_eval_inputs_name_the_file(capsys, toy, files):
    root, d = toy.root, files["dir"]
    gold, pred = str(root / "gold12.sql"), str(root / "pred12.sql")
    base = ["eval", "spider", "--db", str(toy.database_dir), "--no-progress"]
    latin1, broken, folder = str(d / "latin1.txt"), str(d / "broken.json"), str(d / "empty")
    assert_error(run(capsys, *base, "--gold", gold, "--pred", latin1, "--table", str(toy.tables)), 1, latin1, "UTF-8")
    assert_error(run(capsys, *base, "--gold", latin1, "--pred", pred, "--table", str(toy.tables)), 1, latin1)
    assert_error(run(capsys, *base, "--gold", gold, "--pred", pred, "--table", latin1), 1, latin1, "UTF-8")
    assert_error(run(capsys, *base, "--gold", gold, "--pred", pred, "--table", broken), 1, broken, "not valid JSON")
    assert_error(run(capsys, *base, "--gold", folder, "--pred", pred, "--table", str(toy.tables)), 1, "is a directory")
    assert_error(run(capsys, *spider_args(toy), "--timeout", "0"), 2, "--timeout")
    assert_error(run(capsys, *spider_args(toy), "--workers", "0"), 2, "--workers")
    bird = ["eval", "bird", "--pred", str(root / "bird12.json"), "--db-root", str(toy.database_dir), "--no-progress"]
    assert_error(run(capsys, *bird, "--gold", folder), 1, folder, "is a directory")  # was: 'not found'
    assert_error(run(capsys, *bird, "--gold", latin1), 1, latin1, "UTF-8")
    assert_error(run(capsys, *bird, "--gold", gold, "--diff", latin1), 1, latin1, "UTF-8")
    jsonl = ["eval", "paverl", "--dataset", "jsonl", "--pred", pred, "--no-progress"]
    assert_error(run(capsys, *jsonl, "--path", latin1), 1, latin1, "UTF-8")


def test_eval_paverl_path_on_the_toy_benchmark_is_not_ignored(capsys, toy):
    result = run(capsys, "eval", "paverl", "--dataset", "toy", "--path", "nope", "--pred", str(toy.root / "pred12.sql"))
    assert_error(result, 2, "toy benchmark is built in", "nope")


# --------------------------------------------------------------------------- generate, verbal, train


def test_generate_verbal_train_errors(capsys, files, tmp_path):
    d = files["dir"]
    assert_error(run(capsys, "generate", "--model", "m", "--workers", "0"), 2, "--workers")
    assert_error(run(capsys, "generate", "--model", "m", "--timeout", "0"), 2, "--timeout")
    assert_error(run(capsys, "generate", "--model", str(d), "--out", str(d / "notes.txt")), 2, "--out", "is a file")
    assert_error(run(capsys, "verbal", "--model", "m", "--workers", "0"), 2, "--workers")  # was a traceback
    assert_error(run(capsys, "verbal", "--model", "m", "--limit", "0"), 2, "--limit")  # was a run of 0 questions
    assert_error(run(capsys, "verbal", "--model", "m", "--instruction-file", str(d / "latin1.txt")), 1, "latin1.txt")
    assert_error(run(capsys, "verbal", "--model", "m", "--out", str(d / "notes.txt")), 2, "--out", "is a file")
    assert_error(run(capsys, "train", "--config", str(d / "latin1.txt")), 1, "latin1.txt", "UTF-8")  # was a traceback
    assert_error(run(capsys, "train", "--config", str(d / "empty")), 1, "is a directory")
    (tmp_path / "bad.yaml").write_text("a: [1\n")
    code, out, err = run(capsys, "train", "--config", str(tmp_path / "bad.yaml"))
    assert_error((code, out, err), 2, "bad.yaml is not valid YAML", "line 2")
    assert err.count("\n") == 1


def test_eval_spider2_database_folder_and_gold_files(capsys, files, tmp_path):
    root = tmp_path / "spider2-lite"
    gold = root / "evaluation_suite" / "gold"
    (gold / "exec_result").mkdir(parents=True)
    (gold / "spider2lite_eval.jsonl").write_text('{"instance_id": "local001", "condition_cols": []}\n')
    (root / "spider2-lite.jsonl").write_text('{"instance_id": "local001", "db": "concert_singer"}\n')
    (root / "sub").mkdir()
    (root / "sub" / "local001.sql").write_text("SELECT count(*) > 0 AS n FROM singer")
    base = ["eval", "spider2", "--result-dir", str(root / "sub"), "--gold-dir", str(gold), "--no-progress"]
    # the default database folder (resource/databases) is missing: said up front, not 'missing_database' per task
    assert_error(run(capsys, *base), 1, "Spider 2.0 database folder", "resource/databases", "not found")
    (root / "resource" / "databases").mkdir(parents=True)
    shutil.copy(files["singer"], root / "resource" / "databases" / "concert_singer.sqlite")
    code, out, err = run(capsys, *base)  # no gold CSV for the one task: nothing could be judged
    assert_error((code, out, err), 1, "none of the 1 examples could be evaluated", "missing_gold 1")
    (gold / "exec_result" / "local001.csv").write_text("n\n1\n")
    code, out, err = run(capsys, *base)
    assert code == 0 and "Final score: 1.0" in out and err == ""
