"""What a test suite costs the execution reward on a GRPO batch, against plain EX and the engine floor.

The batch is bench_rewards.py's: 64 sqlrl-toy questions x 16 completions, each the gold query or a
mutation of it (about 70%). A suite is built per database from the batch's gold queries (``-k``,
``--candidates``). Timed, best of ``--repeat`` runs taken in turns, each with a fresh executor whose
sandboxes an earlier batch of other questions opened (a training run after its first step):

- **plain**: ``execution_reward()`` on the batch;
- **suite**: ``execution_reward(suite=...)``: the completions that match on the original run again on
  every variant of their database's suite (each distinct query once per variant);
- **floor**: the engine alone (``sqlite3``, open read-only connections, ``fetchall``): every distinct
  query of the batch on its database once, and for the suite also every distinct gold and prediction
  of the rows that match on the original on every variant of their suite, once.

Reported: the share of completions the suite turns from right to wrong, and the ratios; the target is
a suite reward within K times the plain floor (a naive loop runs every completion K+1 times).

    PYTHONPATH=src python benchmarks/bench_suite_cost.py [-k 10] [--candidates 50] [--repeat 7] [--record]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_reward_floor import distinct_queries  # noqa: E402
from bench_reward_floor import floor as engine_floor  # noqa: E402
from bench_rewards import columns, make_batch  # noqa: E402


def timed_reward(batch: dict, warm: dict, suite: Path | None) -> tuple[float, list]:
    from sqlrl.rewards import execution_reward

    reward = execution_reward(timeout=5.0, suite=suite)
    reward(prompts=warm["prompts"], completions=warm["completions"], **columns(warm))
    t = time.perf_counter()
    values = reward(prompts=batch["prompts"], completions=batch["completions"], **columns(batch))
    seconds = time.perf_counter() - t
    reward.executor.close()
    return seconds, values


def floor(queries: list[tuple[str, str]]) -> float:
    """bench_reward_floor's floor: each query once on an open read-only ``sqlite3`` connection per database."""
    connections = {db: sqlite3.connect(f"file:{db}?mode=ro", uri=True) for db in dict.fromkeys(db for db, _ in queries)}
    try:
        return engine_floor(queries, connections, sqlite3.Error)
    finally:
        for con in connections.values():
            con.close()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--candidates", type=int, default=50)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    a = ap.parse_args()

    from sqlrl.sql.extract import clean_sql, extract_sql
    from sqlrl.suite import build_suite
    from sqlrl.suite.verdict import suite_databases, tied_golds

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        batch, warm = make_batch(Path(tmp), a.seed)
        golds: dict[str, list[str]] = {}
        for gold, db in zip(batch["gold_sql"] + warm["gold_sql"], batch["db_path"] + warm["db_path"], strict=True):
            if gold not in golds.setdefault(db, []):
                golds[db].append(gold)
        suites = Path(tmp) / "suites"
        t0 = time.perf_counter()
        variants = {db: build_suite(db, qs, k=a.k, candidates=a.candidates, out_dir=suites, progress=False).variants
                    for db, qs in golds.items()}  # fmt: skip
        build_s = time.perf_counter() - t0
        plain_queries = distinct_queries(batch)
        _, plain_values = timed_reward(batch, warm, None)
        on_variants: dict[tuple[str, str], None] = {}
        for text, gold, db, v in zip(batch["completions"], batch["gold_sql"], batch["db_path"], plain_values,
                                     strict=True):  # fmt: skip
            if v == 1.0:
                tied = tied_golds(suites / Path(db).stem)
                for variant in suite_databases(suites / Path(db).stem)[1:]:
                    if clean_sql(gold).strip() not in tied.get(variant.name, ()):
                        on_variants[(str(variant), clean_sql(gold))] = None
                        on_variants[(str(variant), extract_sql(text).sql or "")] = None
        suite_queries = plain_queries + list(on_variants)
        best = {"plain": float("inf"), "suite": float("inf"), "floor": float("inf"), "suite floor": float("inf")}
        suite_values: list = []
        for _ in range(a.repeat):
            best["floor"] = min(best["floor"], floor(plain_queries))
            best["suite floor"] = min(best["suite floor"], floor(suite_queries))
            best["plain"] = min(best["plain"], timed_reward(batch, warm, None)[0])
            seconds, suite_values = timed_reward(batch, warm, suites)
            best["suite"] = min(best["suite"], seconds)
    n = len(batch["completions"])
    right = sum(1 for v in plain_values if v == 1.0)
    flipped = sum(1 for p, s in zip(plain_values, suite_values, strict=True) if p == 1.0 and s == 0.0)
    k_used = max(len(v) for v in variants.values())
    table = "\n".join([
        "| completions | right on the database | rejected by the suite | variants per database | distinct queries "
        "(plain / with the suite) | floor ms (plain / suite) | reward ms (plain / suite) | suite reward / plain floor "
        "| suite reward / plain reward |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        f"| {n} | {right} | {flipped} ({100 * flipped / max(right, 1):.0f}% of right) | "
        f"{', '.join(str(len(v)) for v in variants.values())} | {len(plain_queries)} / {len(suite_queries)} | "
        f"{1e3 * best['floor']:.1f} / {1e3 * best['suite floor']:.1f} | {1e3 * best['plain']:.1f} / "
        f"{1e3 * best['suite']:.1f} | {best['suite'] / best['floor']:.2f}x | {best['suite'] / best['plain']:.2f}x |",
    ])  # fmt: skip
    print(table)
    target = best["suite"] <= k_used * best["floor"]
    print(f"suites built in {build_s:.1f} s; target (suite reward <= {k_used}x the plain floor): "
          f"{'met' if target else 'NOT met'}")  # fmt: skip
    if a.record:
        from _results import machine, record_section

        text = (
            "## What a test suite costs the execution reward (GRPO batch)\n\n"
            f"{__doc__.split(chr(10) + chr(10), 1)[1].split(chr(10) + chr(10) + '    PYTHONPATH')[0]}\n\n"
            f"{table}\n\nTarget (suite reward within K = {k_used} times the plain floor): "
            f"{'met' if target else 'not met'}. Suites built in {build_s:.1f} s (k = {a.k}, {a.candidates} "
            f"candidates). Best of {a.repeat} runs each, taken in turns. Machine: {machine()}; 1-minute load "
            f"average {load:.2f} before the run, {os.getloadavg()[0]:.2f} after. Reproduce:\n\n"
            f"    PYTHONPATH=src python benchmarks/bench_suite_cost.py -k {a.k} --candidates {a.candidates} "
            f"--repeat {a.repeat} --record\n"
        )
        record_section("suite cost", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
