"""PaVeRL's EX_b / EX_f: prediction formats, the metrics on sqlrl-toy and Spider 2.0 gold CSVs, CLI."""

from __future__ import annotations

import argparse
import json
import sqlite3

import pytest

from sqlrl.data import load_toy
from sqlrl.data.errors import MalformedDatasetError
from sqlrl.eval.bird import BIRD_SEPARATOR
from sqlrl.eval.commands import EvalCommand
from sqlrl.eval.paverl import evaluate_paverl, format_paverl_summary, load_examples, load_predictions
from sqlrl.scoring import partial_match

IDS = ["a/0", "a/1", "a/2"]


@pytest.mark.parametrize(
    "name, content, expected",
    [
        (
            "p.json",
            {"0": f"SELECT 0{BIRD_SEPARATOR}db", "2": f"SELECT 2{BIRD_SEPARATOR}db"},
            ["SELECT 0", None, "SELECT 2"],
        ),
        ("p.json", {"a/1": "SELECT 1"}, [None, "SELECT 1", None]),  # keys match ids first
        ("p.json", ["SELECT 0", "SELECT 1", "SELECT 2"], ["SELECT 0", "SELECT 1", "SELECT 2"]),
        ("p.json", [{"id": "a/2", "pred": "SELECT 2"}], [None, None, "SELECT 2"]),
        ("p.jsonl", [{"testid": 1, "pred_sqls": ["SELECT g", "SELECT h"]}], [None, "SELECT g", None]),
        ("p.jsonl", [{"question_id": "0", "predicted_sql": "SELECT 0"}], ["SELECT 0", None, None]),
        ("p.txt", "SELECT 0\nSELECT 1\tdb\n\n", ["SELECT 0", "SELECT 1", None]),
    ],
)
def test_prediction_formats(tmp_path, name, content, expected):
    path = tmp_path / name
    if name.endswith(".jsonl"):
        path.write_text("".join(json.dumps(r) + "\n" for r in content))
    elif name.endswith(".json"):
        path.write_text(json.dumps(content))
    else:
        path.write_text(content)
    preds, notes = load_predictions(path, IDS)
    assert preds == expected
    assert notes.get("examples_without_prediction", 0) == expected.count(None)


def test_prediction_notes_and_errors(tmp_path):
    p = tmp_path / "p.json"
    p.write_text(json.dumps({"7": "SELECT 7", "zz": "SELECT z"}))
    preds, notes = load_predictions(p, IDS)
    assert preds == [None, None, None] and notes["unmatched_predictions"] == 2
    p.write_text(json.dumps([{"id": 0}]))
    with pytest.raises(MalformedDatasetError, match="no prediction field"):
        load_predictions(p, IDS)
    p.write_text("{not json")
    with pytest.raises(MalformedDatasetError):
        load_predictions(p, IDS)


@pytest.fixture(scope="module")
def toy(tmp_path_factory: pytest.TempPathFactory):
    return load_toy("dev", cache_dir=tmp_path_factory.mktemp("toy"))[:40]


def test_gold_predictions_score_one(toy):
    r = evaluate_paverl(toy, [ex.gold_sql for ex in toy], workers=2)
    assert r.groups == ["easy", "medium", "hard", "extra"] and r.metrics == ["ex_b", "ex_f", "ex"]
    assert all(e.metrics == {"ex_b": 1.0, "ex_f": 1.0, "ex": 1.0} for e in r.examples)
    assert r.meta["ex_mode"] == "spider"


def test_partial_and_failed_predictions(toy):
    def rows(ex):
        return len(sqlite3.connect(ex.db_path).execute(ex.gold_sql).fetchall())

    multi = next(i for i, ex in enumerate(toy) if i > 2 and "LIMIT" not in ex.gold_sql and 2 <= rows(ex) <= 6)
    preds: list[str | None] = [ex.gold_sql for ex in toy]
    preds[0] = "SELECT nope FROM nowhere"
    preds[1] = None
    preds[2] = ""
    preds[multi] = toy[multi].gold_sql + " LIMIT 1"  # one row of 2..6: partial credit
    r = evaluate_paverl(toy, preds)
    ex = r.examples
    assert 0.0 < ex[multi].metrics["ex_f"] < 1.0 and ex[multi].metrics["ex_b"] == 0.0
    assert ex[0].error_kind == "runtime" and ex[0].metrics == {"ex_b": 0.0, "ex_f": 0.0, "ex": 0.0}
    assert ex[1].error_kind == "missing_prediction" and ex[2].error_kind == "empty"
    for e in ex:
        assert e.metrics["ex_b"] == (1.0 if e.metrics["ex_f"] >= 1.0 else 0.0)
    summary = format_paverl_summary(r)
    assert "accuracy (EX_b)" in summary and "partial accuracy (EX_f)" in summary


def test_ex_f_is_the_paverl_metric(toy):
    """EX_f of one example equals sqlrl.partial_match(metric='paverl') on the executed tables."""
    ex = next(e for e in toy if "count(*)" not in e.gold_sql and "LIMIT" not in e.gold_sql)
    pred = ex.gold_sql + " LIMIT 2"
    r = evaluate_paverl([ex], [pred], ex_mode="none")
    assert r.metrics == ["ex_b", "ex_f"]
    con = sqlite3.connect(ex.db_path)
    gold_rows, pred_rows = con.execute(ex.gold_sql).fetchall(), con.execute(pred).fetchall()
    assert r.examples[0].metrics["ex_f"] == pytest.approx(partial_match(gold_rows, pred_rows, metric="paverl"))


def test_gold_via_csv_round_trip(tmp_path):
    db = tmp_path / "d.sqlite"
    con = sqlite3.connect(db)
    con.execute("CREATE TABLE t (code TEXT)")
    con.executemany("INSERT INTO t VALUES (?)", [("007",), ("12",)])
    con.commit()
    con.close()
    data = tmp_path / "d.jsonl"
    data.write_text(json.dumps({"question": "?", "query": "SELECT code FROM t", "db_path": "d.sqlite"}) + "\n")
    ds = load_examples("jsonl", data)
    pred = ["SELECT CAST(code AS INTEGER) FROM t"]
    assert evaluate_paverl(ds, pred).examples[0].metrics["ex_b"] == 0.0  # '007' is not 7
    assert evaluate_paverl(ds, pred, gold_via_csv=True).examples[0].metrics["ex_b"] == 1.0  # pandas reads 7


def test_spider2_gold_csvs_best_variant(tmp_path):
    root = tmp_path / "spider2-lite"
    (root / "resource" / "databases" / "spider2-localdb").mkdir(parents=True)
    con = sqlite3.connect(root / "resource" / "databases" / "spider2-localdb" / "shop.sqlite")
    con.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b")])
    con.commit()
    con.close()
    gold = root / "evaluation_suite" / "gold" / "exec_result"
    gold.mkdir(parents=True)
    (gold / "local001_a.csv").write_text("id,name\n9,z\n")
    (gold / "local001_b.csv").write_text("id,name\n1,a\n2,b\n")
    (gold / "local002.csv").write_text("id,name\n1,a\n2,b\n")
    (root / "spider2-lite.jsonl").write_text(
        "".join(json.dumps({"instance_id": i, "db": "shop", "question": "?"}) + "\n" for i in ("local001", "local002"))
    )
    ds = load_examples("spider2", root)
    preds = tmp_path / "p.jsonl"
    preds.write_text(
        json.dumps({"instance_id": "local001", "sql": "SELECT name, id FROM t"})
        + "\n"
        + json.dumps({"instance_id": "local002", "sql": "SELECT id FROM t"})
        + "\n"
    )
    r = evaluate_paverl(ds, preds)
    assert r.meta["ex_mode"] == "spider2"
    first, second = r.examples
    assert first.metrics == {"ex_b": 1.0, "ex_f": 1.0, "ex": 1.0}  # best of the two variants
    assert second.metrics["ex_b"] == 0.0 and second.metrics["ex_f"] == pytest.approx(0.5)


def test_extract_completions(toy):
    completions = [f"<think>hm</think>\n```sql\n{ex.gold_sql};\n```" for ex in toy[:5]]
    r = evaluate_paverl(toy[:5], completions, extract=True)
    assert all(e.metrics["ex_b"] == 1.0 for e in r.examples)


def test_bad_arguments(toy):
    with pytest.raises(ValueError, match="ex_mode"):
        evaluate_paverl(toy, [None] * len(toy), ex_mode="strict")
    with pytest.raises(ValueError, match="predictions for"):
        evaluate_paverl(toy, [None])
    with pytest.raises(ValueError, match="dataset kind"):
        load_examples("wikisql", "x")


def run_cli(argv: list[str]) -> int:
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers()
    EvalCommand.register(sub)
    args = parser.parse_args(argv)
    return args.command.run(args)


def test_cli(tmp_path, capsys):
    cache = tmp_path / "cache"
    ds = load_toy("dev", cache_dir=cache)
    preds = tmp_path / "pred.txt"
    preds.write_text("\n".join(ex.gold_sql for ex in ds) + "\n")
    argv = ["eval", "paverl", "--dataset", "toy", "--cache-dir", str(cache), "--pred", str(preds), "--workers", "2"]
    assert run_cli([*argv, "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    assert "accuracy (EX_b): 1.0, partial accuracy (EX_f): 1.0" in out
    assert {p.name for p in (tmp_path / "out").iterdir()} == {"paverl.json", "paverl.jsonl", "paverl.png"}
    assert run_cli(["eval", "paverl", "--dataset", "bird", "--pred", str(preds)]) == 2
