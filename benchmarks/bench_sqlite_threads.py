"""Why SQLite's queries of a reward batch gain little from a second thread: SQLite's memory statistics.

The core's SQLite reader runs a batch of queries without the GIL (``Sandbox.execute_tables``), yet on two threads
the sampled GRPO batch of bench_reward_floor.py runs only about 1.3x as fast as on one. SQLite counts every
allocation under one process-wide mutex while its memory statistics are on (``SQLITE_CONFIG_MEMSTATUS``, on by
default), and two threads preparing and running queries take turns for it. The sandbox needs the statistics:
its ``memory_limit`` is ``PRAGMA hard_heap_limit``, which SQLite enforces only with them on. And Python's
``sqlite3`` initialises SQLite at import, after which the setting can no longer change.

This script measures the difference. Child processes take turns, one with the statistics as they are and one
with them turned off through ctypes before anything imports ``sqlite3`` (the library Python's ``sqlite3`` links,
found by name). Each child runs the batch's distinct queries through sandboxes (every text new each repeat),
on one thread and split over two threads, and keeps the best and the median time. Run from the repository root:

    PYTHONPATH=src python benchmarks/bench_sqlite_threads.py [--rounds 3] [--repeat 30] [--record]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SECTION = "SQLite on two threads and its memory statistics"


def child(memstatus: bool, repeat: int, seed: int) -> dict:
    """One child's measurement (``memstatus`` False: turned off before SQLite starts)."""
    if not memstatus:
        import ctypes
        import ctypes.util

        name = ctypes.util.find_library("sqlite3")
        if name is None:
            return {"error": "no libsqlite3 to configure"}
        rc = ctypes.CDLL(name).sqlite3_config(9, ctypes.c_int(0))  # SQLITE_CONFIG_MEMSTATUS, 0
        if rc != 0:
            return {"error": f"sqlite3_config returned {rc}"}
    import tempfile
    import time
    from concurrent.futures import ThreadPoolExecutor

    sys.path.insert(0, str(HERE))
    from bench_reward_floor import by_database, distinct_queries
    from bench_rewards import make_batch

    from sqlrl.sandbox import Sandbox

    with tempfile.TemporaryDirectory() as tmp:
        sampled, _ = make_batch(Path(tmp), seed)
        queries = distinct_queries(sampled)
        halves = [by_database(queries[0::2]), by_database(queries[1::2])]
        every = by_database(queries)
        boxes = {db: Sandbox(db, engine="sqlite", timeout=5.0) for db in every}
        pool = ThreadPoolExecutor(1)

        def work(grouped: dict[str, list[str]], tag: str) -> None:
            for db, sqls in grouped.items():
                boxes[db].execute_tables([f"/* {tag} */ {sql}" for sql in sqls])

        work(every, "warm")
        pool.submit(work, every, "warm-pool").result()  # the pool thread's connections, opened before timing
        one, two = [], []
        for k in range(repeat):
            t = time.perf_counter()
            work(every, f"one{k}")
            one.append(time.perf_counter() - t)
            t = time.perf_counter()
            other = pool.submit(work, halves[1], f"b{k}")
            work(halves[0], f"a{k}")
            other.result()
            two.append(time.perf_counter() - t)
        pool.shutdown()
        for box in boxes.values():
            box.close()
    return {"queries": len(queries), "one": one, "two": two}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3, help="pairs of child processes, taking turns")
    ap.add_argument("--repeat", type=int, default=30, help="timed repeats in each child")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    ap.add_argument("--child", choices=["on", "off"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(args.child == "on", args.repeat, args.seed)))
        return
    load = os.getloadavg()[0]
    runs: dict[str, list[dict]] = {"on": [], "off": []}
    for _ in range(args.rounds):
        for mode in ("on", "off"):
            out = subprocess.run(
                [sys.executable, __file__, "--child", mode, "--repeat", str(args.repeat), "--seed", str(args.seed)],
                capture_output=True, text=True, check=True,
            )  # fmt: skip
            result = json.loads(out.stdout.strip().splitlines()[-1])
            if "error" in result:
                sys.exit(f"memory statistics {mode}: {result['error']}")
            runs[mode].append(result)
    n = runs["on"][0]["queries"]
    lines = [
        "| memory statistics | run | one thread, best / median ms | two threads, best / median ms "
        "| two threads' gain (best) |",
        "|---|---:|---:|---:|---:|",
    ]
    for k in range(args.rounds):
        for mode in ("on", "off"):
            r = runs[mode][k]
            one, two = min(r["one"]), min(r["two"])
            lines.append(
                f"| {mode} | {k + 1} | {1e3 * one:.2f} / {1e3 * statistics.median(r['one']):.2f} "
                f"| {1e3 * two:.2f} / {1e3 * statistics.median(r['two']):.2f} | {one / two:.2f}x |"
            )
    table = "\n".join(lines)
    print(table)
    if args.record:
        from _results import machine, record_section

        text = (
            f"## {SECTION}\n\n{(chr(10) * 2).join(__doc__.split(chr(10) + chr(10))[:2])}\n\n"
            f"The {n} distinct queries of the sampled batch, every text new in each repeat; the two threads each "
            f"take every other query.\n\n{table}\n\n"
            f"{args.rounds} pairs of processes taking turns, {args.repeat} repeats each. Machine: {machine()}; "
            f"1-minute load average {load:.2f} before the run, {os.getloadavg()[0]:.2f} after. Reproduce:\n\n"
            f"    PYTHONPATH=src python benchmarks/bench_sqlite_threads.py --rounds {args.rounds} "
            f"--repeat {args.repeat} --record\n"
        )
        record_section(SECTION, text)


if __name__ == "__main__":
    main()
