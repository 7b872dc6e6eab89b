"""The reward batch with its work started ahead and without, calls taking turns in one process.

SQLite (``--engine sqlite``): the rewards start a batch's gold queries on a thread of the core's own
(``ExecutionService.prefetch``), then its predictions part by part as they read the completions, so that reading
overlaps with the engine. DuckDB (``--engine duckdb``): the service reads every text for SQLite (the compat
rewrites, ``Sandbox.prepare_texts``) on the calling thread before its threads run the queries, instead of each
thread reading each text between DuckDB's queries. This script measures what that gains on bench_rewards.py's
64x16 batch (as sampled), against the floor of bench_reward_floor.py (each distinct query executed once on an
open connection and fetched; on DuckDB the text the sandbox runs). Calls with the work ahead and calls without
(as before it existed) take turns on one executor, every call's texts new, so that whatever the machine does
meanwhile touches both alike (the floor's 21 runs come first). It prints the best and the median of each, over
the floor, and the ratio of the two. Run from the repository root:

    PYTHONPATH=src python benchmarks/bench_reward_ahead.py [--engine sqlite|duckdb] [--calls 60] [--record]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import statistics
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _results import machine, record_section  # noqa: E402
from bench_reward_floor import (  # noqa: E402
    distinct_queries,
    duckdb_floor_setup,
    floor,
    new_texts,
    reward,
    reward_functions,
)
from bench_rewards import make_batch  # noqa: E402

from sqlrl.sandbox import Sandbox  # noqa: E402
from sqlrl.sandbox.service import ExecutionService, Prefetch  # noqa: E402

SECTIONS = {
    "sqlite": "Reward batch: queries started ahead, or not (SQLite)",
    "duckdb": "Reward batch: texts read ahead, or not (DuckDB)",
}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", choices=["sqlite", "duckdb"], default="sqlite")
    ap.add_argument("--calls", type=int, default=60, help="reward calls of each kind")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    prefetch, prepare_texts = ExecutionService.prefetch, ExecutionService._prepare_texts
    ahead = {"on": True}

    def switched(self: ExecutionService, queries: list, **options: object) -> Prefetch:
        return prefetch(self, queries, **options) if ahead["on"] else Prefetch()  # type: ignore[arg-type]

    def switched_texts(self: ExecutionService, keys: list) -> None:
        if ahead["on"]:
            prepare_texts(self, keys)

    if args.engine == "sqlite":
        ExecutionService.prefetch = switched  # type: ignore[method-assign]
    else:
        ExecutionService._prepare_texts = switched_texts  # type: ignore[method-assign]
    boxes: dict[str, Sandbox] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sampled, warm = make_batch(Path(tmp), args.seed)
        queries = distinct_queries(sampled)
        dbs = sorted({d for d, _ in queries})
        if args.engine == "sqlite":
            connections = {db: sqlite3.connect(f"file:{db}?mode=ro", uri=True, cached_statements=0) for db in dbs}
            floor_queries, error = queries, sqlite3.Error
        else:
            import duckdb

            boxes = {db: Sandbox(db, engine="duckdb", timeout=5.0) for db in dbs}
            floor_queries, connections = duckdb_floor_setup(queries, boxes)
            error = duckdb.Error
        funcs = reward_functions(warm, args.engine)
        floors = [floor(floor_queries, connections, error) for _ in range(21)]
        times: dict[bool, list[float]] = {True: [], False: []}
        for k in range(2 * args.calls):
            ahead["on"] = k % 2 == 0
            times[ahead["on"]].append(reward(funcs, new_texts(sampled, k)))
        funcs[0].executor.close()
        for con in connections.values():
            con.close()
        for box in boxes.values():
            box.close()
    best_floor = min(floors)
    lines = [
        "| queries | reward ms, best (/ floor) | reward ms, median (/ floor) |",
        "|---|---:|---:|",
    ]
    summary = {}
    for on in (False, True):
        best, median = min(times[on]), statistics.median(times[on])
        summary[on] = (best, median)
        tag = ("texts read ahead" if args.engine == "duckdb" else "started ahead") if on else "all in the call (before)"
        lines.append(f"| {tag} | {1e3 * best:.1f} ({best / best_floor:.2f}x) | {1e3 * median:.1f} "
                     f"({median / best_floor:.2f}x) |")  # fmt: skip
    gain_best = summary[False][0] / summary[True][0]
    gain_median = summary[False][1] / summary[True][1]
    table = "\n".join(lines)
    print(table)
    print(f"floor {1e3 * best_floor:.1f} ms (best of {len(floors)}); before / ahead: best {gain_best:.2f}x, "
          f"median {gain_median:.2f}x")  # fmt: skip
    if args.record:
        section = SECTIONS[args.engine]
        text = (
            f"## {section}\n\n{__doc__.split(chr(10) + chr(10), 1)[0]}\n\n{table}\n\n"
            f"Floor {1e3 * best_floor:.1f} ms (best of {len(floors)}). The call without the work ahead over the call"
            f" with it: {gain_best:.2f}x at best, {gain_median:.2f}x at the median. {args.calls} calls of each"
            f" kind, taking turns, 1,024 completions and 403 distinct queries per call. Machine: {machine()};"
            f" 1-minute load average {load:.2f} before the run, {os.getloadavg()[0]:.2f} after. Reproduce:\n\n"
            f"    PYTHONPATH=src python benchmarks/bench_reward_ahead.py --engine {args.engine} --calls {args.calls}"
            f" --record\n"
        )
        record_section(section, text)


if __name__ == "__main__":
    main()
