"""Inputs for the report tests: a real Spider evaluation on a tiny database, a training state, hostile text."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

from sqlrl.cli import main

SINGERS = [(1, "Ann", 30), (2, "Bob", 40), (3, "Cy", 50)]

# (gold, prediction, verdict): one case per kind of difference the page marks
PAIRS = [
    ("SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer WHERE age > 35", "right"),
    ("SELECT name, age FROM singer", "SELECT name, age + 1 FROM singer", "wrong"),  # every age cell differs
    ("SELECT name FROM singer", "SELECT name FROM singer WHERE age < 45", "wrong"),  # Cy is missing
    ("SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer", "wrong"),  # Ann is extra
    ("SELECT name FROM singer", "SELECT nme FROM singer", "error"),
    ("SELECT name FROM singer ORDER BY age", "SELECT name FROM singer ORDER BY age DESC", "wrong"),  # order
    ("SELECT name, age FROM singer", "SELECT age, name FROM singer", "right"),  # columns permuted
    ("SELECT name FROM singer WHERE age > 35", "SELECT name FROM singer WHERE singer_id > 1", "wrong"),  # test suite
]
# a test-suite variant of the database: example 7 is right on the original only
VARIANT = [(1, "Ann", 36), (2, "Bob", 40), (3, "Cy", 50)]

# a baseline that got example 0 wrong and example 1 right: against it, 0 is fixed and 1 broken
BASELINE_PREDS = [PAIRS[0][0].replace("> 35", "> 99"), PAIRS[1][0], *(p for _, p, _ in PAIRS[2:])]

HOSTILE = [
    "<script>window.__xss = 1</script>",
    '"\'><img src=x onerror="window.__xss = 2">',
    "</script><script>window.__xss = 3</script>",
]


def spider_fixture(root: Path) -> dict[str, Path]:
    """The music database with a test-suite variant, tables.json, gold and prediction files under ``root``."""
    db_dir = root / "database"
    (db_dir / "music").mkdir(parents=True)
    for name, rows in (("music.sqlite", SINGERS), ("music_v1.sqlite", VARIANT)):
        con = sqlite3.connect(db_dir / "music" / name)
        con.execute("CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
        con.executemany("INSERT INTO singer VALUES (?, ?, ?)", rows)
        con.commit()
        con.close()
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
    (root / "tables.json").write_text(json.dumps(tables))
    (root / "gold.sql").write_text("".join(f"{g}\tmusic\n" for g, _, _ in PAIRS))
    (root / "pred.sql").write_text("".join(f"{p}\n" for _, p, _ in PAIRS))
    (root / "base.sql").write_text("".join(f"{p}\n" for p in BASELINE_PREDS))
    return {"root": root, "db": db_dir, "tables": root / "tables.json"}


def run_spider(fx: dict[str, Path], pred: str, out: str, *extra: str) -> Path:
    """``sqlrl eval spider`` on the fixture; returns the output folder."""
    root = fx["root"]
    code = main([
        "eval", "spider", "--gold", str(root / "gold.sql"), "--pred", str(root / pred), "--db", str(fx["db"]),
        "--table", str(fx["tables"]), "--out", str(root / out), "--no-chart", "--workers", "1", *extra,
    ])  # fmt: skip
    assert code == 0
    return root / out


def train_state(root: Path, text: str = "who sings?") -> Path:
    """A ``sqlrl train`` output folder: state.json with two GRPO stages, eval and validation records (``text`` in
    them)."""
    log = []
    for step in range(1, 11):
        log.append({
            "step": step, "reward": 0.5 + step / 40, "rewards/execution/mean": step / 10,
            "rewards/format/mean": 1.0, "frac_reward_zero_std": 0.5 - step / 40, "zero_variance/share": 0.4 - step / 40,
            "completions/mean_length": 20 + step,
        })  # fmt: skip
    log.append({"train_runtime": 12.0, "step": 10})
    state = {
        "data": {"train": 100, "val": 10},
        "phases": {
            "sft": {"done": True, "log_history": [{"loss": 1.0, "step": 10}], "final": "sft/final", "seconds": 60},
            "stage1": {
                "done": True, "log_history": log, "best": "stage1/checkpoint-5", "final": "stage1/final", "seconds": 120,
                "val": {"0": {"accuracy": 0.2, "path": "base"}, "5": {"accuracy": 0.6, "path": "stage1/checkpoint-5"},
                        "10": {"accuracy": 0.5, "path": "stage1/checkpoint-10"}},
                "evals": {"dev": {"accuracy": 0.55, "executable": 0.9, "n": 2}},
            },
            "stage2": {
                "done": True, "log_history": log[:5], "best": "stage2/checkpoint-5", "final": "stage2/final",
                "val": {"0": {"accuracy": 0.6, "path": "stage1/checkpoint-5"},
                        "5": {"accuracy": 0.7, "path": "stage2/checkpoint-5"}},
                "evals": {"dev": {"accuracy": 0.65, "executable": 0.95, "n": 2}},
            },
        },
    }  # fmt: skip
    root.mkdir(parents=True, exist_ok=True)
    (root / "state.json").write_text(json.dumps(state))
    (root / "stage2").mkdir(exist_ok=True)
    lines = [
        {"db_id": text, "question": text, "gold": "SELECT 1", "completion": text, "correct": True},
        {"db_id": "music", "question": "how many?", "gold": "SELECT 2", "completion": "SELECT 3", "correct": False},
    ]
    (root / "stage2" / "eval-dev.jsonl").write_text("".join(json.dumps(x) + "\n" for x in lines))
    (root / "stage1").mkdir(exist_ok=True)
    for step, right in ((5, 3), (10, 2)):  # the validation completions at each saved checkpoint
        val = [{**lines[1], "question": f"val question {k}", "correct": k < right} for k in range(5)]
        (root / "stage1" / f"val-{step}.jsonl").write_text("".join(json.dumps(x) + "\n" for x in [lines[0], *val]))
    return root


def hostile_eval(root: Path, text: str) -> Path:
    """An eval output (summary and JSONL, as ``sqlrl eval --out`` writes) with ``text`` in every field."""
    root.mkdir(parents=True, exist_ok=True)
    results: dict[str, Any] = {
        "mode": "spider", "order_matters": False, "database": text,
        "gold": {"columns": [text, "n"], "rows": [[text, 1], [None, 2]], "num_rows": 2},
        "pred": {"columns": [text, "n"], "rows": [[text, 1], ["x" + text, 3]], "num_rows": 2},
    }  # fmt: skip
    record = {
        "index": 0, "db_id": text, "group": "easy", "gold": text, "pred": text, "metrics": {"execution": 0.0},
        "error_kind": text, "error": text, "elapsed": 0.0,
        "extra": {"components": {"select": [1, 1, 0]}, "databases": {text: 0.0}, "results": results,
                  "instance_id": text},
    }  # fmt: skip
    summary = {
        "benchmark": "spider", "groups": ["easy"], "metrics": ["execution"],
        "summary": {"easy": {"count": 1.0, "execution": 0.0}, "all": {"count": 1.0, "execution": 0.0}},
        "meta": {"gold": text, "pred": text, "notes": {text: text}}, "errors": {text: 1},
    }  # fmt: skip
    (root / "spider.json").write_text(json.dumps(summary))
    (root / "spider.jsonl").write_text(json.dumps(record) + "\n")
    gen = root / "gen"
    gen.mkdir(exist_ok=True)
    sample = {"index": 0, "id": "0", "db_id": text, "question": text, "gold": text, "prediction": text, "chosen": 0,
              "samples": [{"completion": text, "sql": text, "ok": True, "cluster": 0}]}  # fmt: skip
    (gen / "samples.jsonl").write_text(json.dumps(sample) + "\n")
    return root
