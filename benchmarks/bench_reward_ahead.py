"""The reward batch with its queries started ahead and without, calls taking turns in one process.

The rewards start a batch's SQLite gold queries on a thread of the core's own (``ExecutionService.prefetch``),
then its predictions part by part as they read the completions, so that reading overlaps with the engine.
This script measures what that gains on bench_rewards.py's 64x16 batch (as sampled), against the floor of
bench_reward_floor.py (each distinct query executed once on an open connection and fetched). Calls with the
queries started ahead and calls without (``prefetch`` then starts nothing, as before it existed: every query
runs in the call, on the service's threads) take turns on one executor, every call's texts new, so that
whatever the machine does meanwhile touches both alike (the floor's 21 runs come first). It prints the best
and the median of each, over the floor, and the ratio of the two. Run from the repository root:

    PYTHONPATH=src python benchmarks/bench_reward_ahead.py [--calls 60] [--record]
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
from bench_reward_floor import distinct_queries, floor, new_texts, reward, reward_functions  # noqa: E402
from bench_rewards import make_batch  # noqa: E402

from sqlrl.sandbox.service import ExecutionService, Prefetch  # noqa: E402

SECTION = "Reward batch: queries started ahead, or not (SQLite)"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--calls", type=int, default=60, help="reward calls of each kind")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    prefetch = ExecutionService.prefetch
    ahead = {"on": True}

    def switched(self: ExecutionService, queries: list, **options: object) -> Prefetch:
        return prefetch(self, queries, **options) if ahead["on"] else Prefetch()  # type: ignore[arg-type]

    ExecutionService.prefetch = switched  # type: ignore[method-assign]
    with tempfile.TemporaryDirectory() as tmp:
        sampled, warm = make_batch(Path(tmp), args.seed)
        queries = distinct_queries(sampled)
        connections = {
            db: sqlite3.connect(f"file:{db}?mode=ro", uri=True, cached_statements=0) for db in {d for d, _ in queries}
        }
        funcs = reward_functions(warm, "sqlite")
        floors = [floor(queries, connections, sqlite3.Error) for _ in range(21)]
        times: dict[bool, list[float]] = {True: [], False: []}
        for k in range(2 * args.calls):
            ahead["on"] = k % 2 == 0
            times[ahead["on"]].append(reward(funcs, new_texts(sampled, k)))
        funcs[0].executor.close()
        for con in connections.values():
            con.close()
    best_floor = min(floors)
    lines = [
        "| queries | reward ms, best (/ floor) | reward ms, median (/ floor) |",
        "|---|---:|---:|",
    ]
    summary = {}
    for on in (False, True):
        best, median = min(times[on]), statistics.median(times[on])
        summary[on] = (best, median)
        tag = "started ahead" if on else "all in the call (before)"
        lines.append(f"| {tag} | {1e3 * best:.1f} ({best / best_floor:.2f}x) | {1e3 * median:.1f} "
                     f"({median / best_floor:.2f}x) |")  # fmt: skip
    gain_best = summary[False][0] / summary[True][0]
    gain_median = summary[False][1] / summary[True][1]
    table = "\n".join(lines)
    print(table)
    print(f"floor {1e3 * best_floor:.1f} ms (best of {len(floors)}); before / ahead: best {gain_best:.2f}x, "
          f"median {gain_median:.2f}x")  # fmt: skip
    if args.record:
        text = (
            f"## {SECTION}\n\n{__doc__.split(chr(10) + chr(10), 1)[0]}\n\n{table}\n\n"
            f"Floor {1e3 * best_floor:.1f} ms (best of {len(floors)}). The call without them ahead over the call"
            f" with them: {gain_best:.2f}x at best, {gain_median:.2f}x at the median. {args.calls} calls of each"
            f" kind, taking turns, 1,024 completions and 403 distinct queries per call. Machine: {machine()};"
            f" 1-minute load average {load:.2f} before the run, {os.getloadavg()[0]:.2f} after. Reproduce:\n\n"
            f"    PYTHONPATH=src python benchmarks/bench_reward_ahead.py --calls {args.calls} --record\n"
        )
        record_section(SECTION, text)


if __name__ == "__main__":
    main()
