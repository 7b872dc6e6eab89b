"""How much of an end-to-end execution reward is spent outside the database engine?

A GRPO batch of 1,024 predictions (64 prompts x 16 completions) on the generated demo
databases: each prediction is executed in the sandbox, compared with its (cached) gold result,
and scored with every execution mode and partial metric. The baseline is the bare engine: the
same queries run on a plain connection with ``fetchall()`` and no checks, no pooling logic, no
scoring. Run:

    python benchmarks/bench_reward_overhead.py [--engine duckdb|sqlite] [--workers 2]

and it prints a table; ``--record`` writes it into its own section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import sqlite3
import tempfile
import time
from pathlib import Path

import duckdb
from _results import record_section

from sqlrl.data.demo import DEMO_QUERIES, build_all_demos
from sqlrl.sandbox import Sandbox
from sqlrl.scoring import METRICS, MODES, gold_has_order_by, score_batch


def make_batch(n: int = 1024) -> list[tuple[str, str, str]]:
    """(database, gold, prediction) triples: 64 prompts x 16 completions cycled from the demo set."""
    pairs = [(qs.database, qs.gold, p.sql) for qs in DEMO_QUERIES for p in qs.predictions]
    prompts = [(qs.database, qs.gold, [p.sql for p in qs.predictions]) for qs in DEMO_QUERIES]
    out: list[tuple[str, str, str]] = []
    k = 0
    while len(out) < n:
        db, gold, preds = prompts[k % len(prompts)]
        for j in range(16):
            out.append((db, gold, preds[j % len(preds)]))
        k += 1
    del pairs
    return out[:n]


def bare_engine(paths: dict[str, Path], batch, engine: str) -> float:
    """The floor: plain connections, execute + fetchall, errors swallowed."""
    cons = {}
    for name, path in paths.items():
        cons[name] = duckdb.connect(str(path), read_only=True) if engine == "duckdb" else sqlite3.connect(path)
    t0 = time.perf_counter()
    for db, _gold, sql in batch:
        try:
            cons[db].execute(sql).fetchall()
        except Exception:
            pass
    elapsed = time.perf_counter() - t0
    for con in cons.values():
        con.close()
    return elapsed


def sqlrl_reward(paths: dict[str, Path], batch, engine: str, workers: int) -> dict[str, float]:
    boxes = {name: Sandbox(path, engine=engine, timeout=5.0) for name, path in paths.items()}
    # warm the connection pools and the gold cache, as in the steady state of training
    for db, gold, _ in batch:
        boxes[db].execute_gold(gold)
    t0 = time.perf_counter()
    results = []
    golds = []
    by_db: dict[str, list[int]] = {}
    for i, (db, _, _) in enumerate(batch):
        by_db.setdefault(db, []).append(i)
    results = [None] * len(batch)
    for db, idx in by_db.items():
        for i, r in zip(idx, boxes[db].execute_many([batch[i][2] for i in idx], workers=workers), strict=True):
            results[i] = r
    golds = [boxes[db].execute_gold(gold) for db, gold, _ in batch]
    t_exec = time.perf_counter() - t0
    t1 = time.perf_counter()
    preds = [r.table if r.ok else None for r in results]
    gold_tables = [g.table for g in golds]
    t_tables = time.perf_counter() - t1
    t2 = time.perf_counter()
    score_batch(
        gold_tables,
        preds,
        modes=MODES,
        metrics=METRICS,
        order_matters=[gold_has_order_by(gold) for _, gold, _ in batch],
        workers=workers,
    )
    t_score = time.perf_counter() - t2
    for box in boxes.values():
        box.close()
    return {"exec": t_exec, "tables": t_tables, "score": t_score}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--engine", default="duckdb", choices=["duckdb", "sqlite"])
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--record", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = ap.parse_args()
    batch = make_batch()
    with tempfile.TemporaryDirectory() as tmp:
        src = build_all_demos(tmp, engine="sqlite")
        paths = build_all_demos(Path(tmp) / "duck", engine="duckdb") if args.engine == "duckdb" else src
        bare = min(bare_engine(paths, batch, args.engine) for _ in range(args.repeats))
        runs = [sqlrl_reward(paths, batch, args.engine, args.workers) for _ in range(args.repeats)]
    best = min(runs, key=lambda r: sum(r.values()))
    total = sum(best.values())
    scoring = best["tables"] + best["score"]
    lines = [
        f"### End-to-end reward for a batch of {len(batch)} predictions ({args.engine}, {args.workers} workers)",
        "",
        f"Command: `python benchmarks/bench_reward_overhead.py --engine {args.engine} --workers {args.workers}`"
        f" — {platform.machine()}, {platform.python_version()}, best of {args.repeats}.",
        "",
        "| stage | ms | share of end-to-end |",
        "|---|---:|---:|",
        f"| sandbox execution (checks, engine, fetch; {args.workers} workers) | {best['exec'] * 1e3:.1f} "
        f"| {best['exec'] / total:.1%} |",
        f"| result tables for the core (canonical cells + hashes) | {best['tables'] * 1e3:.1f} "
        f"| {best['tables'] / total:.1%} |",
        f"| scoring: {len(MODES)} modes + {len(METRICS)} metrics (core) | {best['score'] * 1e3:.1f} "
        f"| {best['score'] / total:.1%} |",
        f"| **end to end** | **{total * 1e3:.1f}** | 100% |",
        f"| bare engine, serial execute + fetchall, no checks (reference) | {bare * 1e3:.1f} | — |",
        "",
        f"Scoring overhead (tables + scoring) = {scoring / total:.1%} of the end-to-end reward time (target < 10%).",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        record_section(f"reward overhead ({args.engine})", text)


if __name__ == "__main__":
    main()
