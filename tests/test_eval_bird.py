"""BIRD evaluation: official input formats and quirks, EX / Soft-F1 / R-VES, opt-in fixes, CLI."""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
from pathlib import Path

import pytest

from sqlrl.data.errors import MalformedDatasetError
from sqlrl.eval.bird import (
    BIRD_SEPARATOR,
    clean_ratios,
    evaluate_bird,
    format_bird_table,
    load_bird_gold,
    load_bird_predictions,
    parse_bird_prediction,
    ves_reward,
)
from sqlrl.eval.commands import EvalCommand

SLOW = "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c"


def make_db(path: Path, rows: list[tuple]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE t (id INTEGER, name TEXT, price REAL, city TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?, ?, ?)", rows)
    con.execute("CREATE TABLE e (a INTEGER)")
    con.execute("CREATE TABLE bad (s TEXT)")
    con.execute("INSERT INTO bad VALUES (CAST(x'80ff' AS TEXT))")
    con.commit()
    con.close()


# (gold sql, db, difficulty, prediction value, expected EX, expected Soft-F1)
CASES = [
    ("SELECT name FROM t WHERE id = 1", "shop", "simple", "SELECT name FROM t WHERE id = 1", 1, 1.0),
    ("SELECT id, name FROM t", "shop", "simple", "SELECT name, id FROM t", 0, 1.0),  # column order matters for EX
    ("SELECT id FROM t", "shop", "simple", "SELECT id FROM t ORDER BY id DESC", 1, None),  # sets: order ignored
    ("SELECT city FROM t", "shop", "moderate", "SELECT DISTINCT city FROM t", 1, None),  # sets: duplicates ignored
    ("SELECT count(*) FROM t", "shop", "moderate", "SELECT count(*) * 1.0 FROM t", 1, 1.0),  # 3 == 3.0
    ("SELECT count(*) FROM t", "shop", "moderate", "SELECT sum(id) FROM t", 0, 0.0),
    ("SELECT name FROM t", "shop", "challenging", "SELEC name FROM t", 0, 0.0),  # syntax error
    ("SELECT a FROM e", "shop", "challenging", "", 1, 1.0),  # sqlite3 runs '' as no rows: matches an empty gold
    ("SELECT a FROM e", "shop", "challenging", None, 1, 1.0),  # not a string -> ' ' -> no rows
    ("SELECT count(*) FROM t", "shop", "simple", "SELECT count(*) FROM t", 1, 1.0),  # no separator: SQL stripped
    ("SELECT id, price FROM t WHERE id < 3", "shop", "simple", "SELECT id, price FROM t WHERE id < 2", 0, None),
    ("SELECT s FROM bad", "shop", "simple", "SELECT s FROM bad", 0, 0.0),  # invalid UTF-8: sqlite3 raises
    ("SELECT 1", "shop", "moderate", SLOW, 0, 0.0),  # stopped by the timeout
]


@pytest.fixture(scope="module")
def bird_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("bird")
    rows = [(1, "pen", 1.5, "Oslo"), (2, "ink", 2.0, "Oslo"), (3, "pad", None, "Rome")]
    make_db(d / "dev_databases" / "shop" / "shop.sqlite", rows)
    make_db(d / "dev_databases" / "financial" / "financial.sqlite", [(9, "loan", 9.0, "Prague")])
    preds, gold, dev = {}, [], []
    for i, (g, db, diff, p, *_) in enumerate(CASES):
        if i == 9:
            preds[str(i)] = f"  {p}  "
        elif isinstance(p, str):
            preds[str(i)] = f"{p}{BIRD_SEPARATOR}{db}"
        else:
            preds[str(i)] = p
        gold.append(f"{g}\t{db}")
        dev.append({"question_id": i, "db_id": db, "question": "?", "SQL": g, "difficulty": diff})
    (d / "predict_dev.json").write_text(json.dumps(preds))
    (d / "dev_gold.sql").write_text("\n".join(gold) + "\n\n")
    (d / "dev.json").write_text(json.dumps(dev))
    (d / "dev.jsonl").write_text("".join(json.dumps({"difficulty": e["difficulty"]}) + "\n" for e in dev))
    return d


@pytest.fixture(scope="module")
def report(bird_dir: Path):
    return evaluate_bird(
        bird_dir / "predict_dev.json",
        bird_dir / "dev_gold.sql",
        bird_dir / "dev_databases",
        difficulty=bird_dir / "dev.jsonl",
        timeout=0.2,
        workers=2,
    )


@pytest.mark.parametrize(
    "value, expected",
    [
        (f"SELECT 1{BIRD_SEPARATOR}db", ("SELECT 1", "db", True)),
        (f" SELECT 1 {BIRD_SEPARATOR}db", (" SELECT 1 ", "db", True)),  # not stripped with a separator
        ("  SELECT 1\n", ("SELECT 1", "financial", False)),
        (f"a{BIRD_SEPARATOR}b{BIRD_SEPARATOR}c", (f"a{BIRD_SEPARATOR}b{BIRD_SEPARATOR}c", "financial", False)),
        (None, (" ", "financial", False)),
        (0, (" ", "financial", False)),
    ],
)
def test_parse_prediction_as_package_sqls(value, expected):
    assert parse_bird_prediction(value) == expected


def test_predictions_keep_file_order(tmp_path):
    p = tmp_path / "p.json"
    p.write_text('{"2": "SELECT 2\\t----- bird -----\\tx", "0": "SELECT 0\\t----- bird -----\\ty"}')
    assert [(x.key, x.sql, x.db_id) for x in load_bird_predictions(p)] == [
        ("2", "SELECT 2", "x"),
        ("0", "SELECT 0", "y"),
    ]


def test_gold_file_formats(tmp_path, bird_dir):
    gold = load_bird_gold(bird_dir / "dev_gold.sql")
    assert len(gold) == len(CASES) and gold[0].sql == CASES[0][0] and gold[0].db_id == "shop"
    from_json = load_bird_gold(bird_dir / "dev.json")
    assert [g.sql for g in from_json] == [g.sql for g in gold] and from_json[2].difficulty == "simple"
    bad = tmp_path / "g.sql"
    bad.write_text("SELECT 1\tdb\n\nSELECT 2\tdb\n")
    with pytest.raises(MalformedDatasetError, match="line 2"):
        load_bird_gold(bad)
    bad.write_text("SELECT 1 db\n")
    with pytest.raises(MalformedDatasetError, match="expected 'SQL<TAB>db_id'"):
        load_bird_gold(bad)


def test_verdicts_follow_the_official_scripts(report):
    assert len(report.examples) == len(CASES)
    for ex, (_, _, diff, _, want_ex, want_f1) in zip(report.examples, CASES, strict=True):
        assert ex.group == diff
        assert ex.metrics["ex"] == want_ex, (ex.index, ex.pred, ex.error_kind)
        if want_f1 is not None:
            assert ex.metrics["soft_f1"] == pytest.approx(want_f1), ex.index
    by_index = {e.index: e for e in report.examples}
    assert by_index[6].error_kind == "syntax"
    assert by_index[7].extra["empty_prediction"] and by_index[8].pred == " "
    assert by_index[9].pred == "SELECT count(*) FROM t" and by_index[9].extra["pred_db"] == "financial"
    assert by_index[11].error_kind == "runtime" and "decode" in by_index[11].error
    assert by_index[12].error_kind == "timeout" and by_index[12].elapsed < 5


def test_soft_f1_partial_and_breakdown(report):
    ex = report.examples[10]  # gold rows (1, 1.5), (2, 2.0); pred (1, 1.5): F1 of 2 matched cells of 4
    assert 0 < ex.metrics["soft_f1"] < 1
    s = report.summary()
    assert s["simple"]["count"] == 6 and s["moderate"]["count"] == 4 and s["challenging"]["count"] == 3
    assert s["all"]["ex"] == pytest.approx(sum(c[4] for c in CASES) / len(CASES))


def test_bird_table_layout(report):
    text = format_bird_table(report)
    lines = text.splitlines()
    assert lines[0].split() == ["simple", "moderate", "challenging", "total"]
    assert lines[1].split() == ["count", "6", "4", "3", "13"]
    assert "    EX    " in lines[2] and lines[3].startswith("EX ") and "Soft-F1" in text
    assert lines[3].split()[-1] == f"{100 * report.summary()['all']['ex']:.2f}"


def test_difficulty_from_dev_json_and_report_files(bird_dir, tmp_path):
    r = evaluate_bird(bird_dir / "predict_dev.json", bird_dir / "dev.json", bird_dir / "dev_databases", timeout=0.2)
    assert [e.group for e in r.examples] == [c[2] for c in CASES]
    paths = r.write(tmp_path, "bird")
    rows = [json.loads(line) for line in paths["jsonl"].read_text().splitlines()]
    assert rows[6]["error_kind"] == "syntax" and rows[0]["metrics"] == {"ex": 1.0, "soft_f1": 1.0}
    assert json.loads(paths["json"].read_text())["summary"]["all"]["count"] == len(CASES)
    assert paths["png"].stat().st_size > 1000


def write_preds(d: Path, items: list[tuple[str, str | None]]) -> Path:
    p = d / "preds.json"
    p.write_text(json.dumps({k: (None if s is None else f"{s}{BIRD_SEPARATOR}shop") for k, s in items}))
    return p


def test_position_pairing_quirk_and_fixes(bird_dir, tmp_path):
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT 1\tshop\nSELECT 2\tshop\nSELECT 3\tshop\n")
    preds = write_preds(tmp_path, [("1", "SELECT 2"), ("0", "SELECT 1")])  # keys out of order, key 2 missing
    db = bird_dir / "dev_databases"
    official = evaluate_bird(preds, gold, db)
    assert [e.metrics["ex"] for e in official.examples] == [0.0, 0.0]  # paired by file order, 3rd gold dropped
    assert official.meta["notes"]["gold_without_prediction"] == 1
    by_key = evaluate_bird(preds, gold, db, pair_by="key")
    assert [e.metrics["ex"] for e in by_key.examples] == [1.0, 1.0]
    fixed = evaluate_bird(preds, gold, db, pair_by="key", missing_as_wrong=True)
    assert [e.metrics["ex"] for e in fixed.examples] == [1.0, 1.0, 0.0]
    assert fixed.examples[2].error_kind == "missing_prediction"
    qid = evaluate_bird(preds, bird_dir / "dev.json", db, pair_by="question_id")
    assert len(qid.examples) == 2 and qid.meta["notes"]["gold_without_prediction"] == len(CASES) - 2
    with pytest.raises(ValueError, match="question_id"):
        evaluate_bird(preds, gold, db, pair_by="question_id")


def test_empty_as_error_fix(bird_dir, tmp_path):
    preds = write_preds(tmp_path, [("0", ""), ("1", None)])
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT a FROM e\tshop\nSELECT a FROM e\tshop\n")
    db = bird_dir / "dev_databases"
    assert [e.metrics["ex"] for e in evaluate_bird(preds, gold, db).examples] == [1.0, 1.0]
    fixed = evaluate_bird(preds, gold, db, empty_as_error=True)
    assert [e.metrics["ex"] for e in fixed.examples] == [0.0, 0.0] and fixed.examples[0].error_kind == "empty"


def test_pred_db_runs_on_the_named_database(bird_dir, tmp_path):
    preds = tmp_path / "p.json"
    preds.write_text(json.dumps({"0": "SELECT name FROM t", "1": f"SELECT name FROM t{BIRD_SEPARATOR}nowhere"}))
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT name FROM t\tshop\nSELECT name FROM t\tshop\n")
    db = bird_dir / "dev_databases"
    assert [e.metrics["ex"] for e in evaluate_bird(preds, gold, db).examples] == [1.0, 1.0]
    old = evaluate_bird(preds, gold, db, pred_db=True)  # 'financial' for the first, a missing database second
    assert [e.metrics["ex"] for e in old.examples] == [0.0, 0.0]
    assert old.examples[1].error_kind == "missing_database"


def test_gold_failure_scores_zero(bird_dir, tmp_path):
    preds = write_preds(tmp_path, [("0", "SELECT 1")])
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT nope FROM t\tshop\n")
    ex = evaluate_bird(preds, gold, bird_dir / "dev_databases").examples[0]
    assert ex.metrics["ex"] == 0.0 and ex.error_kind == "gold_runtime" and "gold_error" in ex.extra


@pytest.mark.parametrize("ratio, reward", [(0, 0), (0.2, 0.25), (0.25, 0.5), (0.5, 0.75), (1, 1), (1.99, 1), (2, 1.25)])
def test_ves_reward_buckets(ratio, reward):
    assert ves_reward(ratio) == reward


def test_clean_ratios_is_clean_abnormal():
    assert clean_ratios([1.0, 1.0, 1.0]) == []  # std 0: nothing is strictly within mean +- 0
    assert clean_ratios([5.0]) == []
    data = [1.0] * 30 + [100.0]
    assert clean_ratios(data) == [1.0] * 30
    assert clean_ratios([1.0, 2.0]) == [1.0, 2.0]


def test_r_ves(bird_dir, tmp_path):
    preds = write_preds(tmp_path, [("0", "SELECT name FROM t"), ("1", "SELECT 1"), ("2", "")])
    gold = tmp_path / "gold.sql"
    gold.write_text("SELECT name FROM t\tshop\nSELECT 2\tshop\nSELECT a FROM e\tshop\n")
    db = bird_dir / "dev_databases"
    r = evaluate_bird(preds, gold, db, metrics=["ex", "r_ves"], ves_iterations=5)
    assert r.metrics == ["ex", "r_ves"]
    match, wrong, empty = r.examples
    assert match.extra["ves"]["runs"] == 5 and match.metrics["r_ves"] in (0.5, 0.75**0.5, 1.0, 1.25**0.5, 0.0)
    assert wrong.metrics["r_ves"] == 0.0 and "ves" not in wrong.extra
    assert empty.metrics["ex"] == 1.0 and empty.extra["ves"]["runs"] == 5
    single = evaluate_bird(preds, gold, db, metrics=["r_ves"], ves_iterations=1)
    assert single.examples[0].metrics["r_ves"] == 0.0 and "kept no ratio" in single.examples[0].extra["ves"]["note"]
    assert "ex" not in single.examples[0].metrics
    kept = evaluate_bird(preds, gold, db, metrics=["r_ves"], ves_iterations=1, ves_keep_all=True)
    assert kept.examples[0].metrics["r_ves"] > 0


def test_duckdb_engine_agrees(bird_dir, report, tmp_path):
    r = evaluate_bird(
        bird_dir / "predict_dev.json",
        bird_dir / "dev_gold.sql",
        bird_dir / "dev_databases",
        engine="duckdb",
        timeout=0.2,
        cache_dir=tmp_path,
    )
    same = [i for i in range(len(CASES)) if i not in (11,)]  # DuckDB reads invalid UTF-8 text (no decode error)
    assert [r.examples[i].metrics["ex"] for i in same] == [report.examples[i].metrics["ex"] for i in same]


def test_bad_arguments(bird_dir):
    args = (bird_dir / "predict_dev.json", bird_dir / "dev_gold.sql", bird_dir / "dev_databases")
    with pytest.raises(ValueError, match="unknown BIRD metric"):
        evaluate_bird(*args, metrics=["exact"])
    with pytest.raises(ValueError, match="pair_by"):
        evaluate_bird(*args, pair_by="idx")
    with pytest.raises(FileNotFoundError):
        evaluate_bird(args[0], args[1], bird_dir / "nope")


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    EvalCommand.register(sub)
    args = parser.parse_args(argv)
    return args.command.run(args)


def test_cli(bird_dir, tmp_path, capsys):
    base = ["eval", "bird", "--pred", str(bird_dir / "predict_dev.json"), "--gold", str(bird_dir / "dev_gold.sql"),
            "--db-root", str(bird_dir / "dev_databases"), "--diff", str(bird_dir / "dev.jsonl"), "--timeout", "0.2"]  # fmt: skip
    assert run_cli([*base, "--out", str(tmp_path), "--no-chart"]) == 0
    out = capsys.readouterr().out
    assert "simple" in out and "challenging" in out and "Soft-F1" in out and "errors:" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bird.json", "bird.jsonl"]
    assert run_cli([*base, "--json", "--metrics", "ex"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["metrics"] == ["ex"] and data["summary"]["all"]["count"] == len(CASES)
    capsys.readouterr()
    # a missing input file: the command ran and failed (1); a bad setting is a usage error (2)
    assert run_cli(["eval", "bird", "--pred", "nope.json", "--gold", "x", "--db-root", "y"]) == 1
    assert capsys.readouterr().err.startswith("error: BIRD predictions")
    assert run_cli([*base, "--metrics", "ex,nope"]) == 2
    assert "unknown BIRD metric 'nope'" in capsys.readouterr().err


def test_clean_ratios_computes_as_numpy_does():
    np = pytest.importorskip("numpy")
    from sqlrl.eval.bird import _numpy_sum

    rng = random.Random(3)
    for n in (1, 2, 7, 8, 9, 100, 128, 129, 1000, 8193):
        for _ in range(20):
            values = [rng.choice([rng.expovariate(0.2), rng.random(), 1.0]) for _ in range(n)]
            arr = np.asarray(values, dtype=float)
            assert _numpy_sum(values) == float(np.sum(arr))
            mean, std = np.mean(arr), np.std(arr)
            assert clean_ratios(values) == [float(x) for x in arr if mean - 3 * std < x < mean + 3 * std]


def test_report_without_matplotlib_writes_no_chart_and_says_how(tmp_path, monkeypatch, capsys):
    import importlib.util

    from sqlrl.eval import report as report_module
    from sqlrl.eval.report import EvalReport

    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "matplotlib" else real(name, *a))
    monkeypatch.setattr(report_module, "_SAID_NO_PLOTS", False)
    paths = EvalReport("bird", ["simple"], ["ex"]).write(tmp_path, "bird", chart=True)
    assert sorted(paths) == ["json", "jsonl"] and not (tmp_path / "bird.png").exists()
    assert "pip install 'sqlrl[plots]'" in capsys.readouterr().err
