"""Per-query cost of the sandbox on many tiny queries, against the bare engine.

5,000 queries (the demo set's concert_singer gold queries and predictions, errors included, cycled)
run one after another through ``Sandbox.execute`` on each engine, then through a plain connection
(``execute`` + ``fetchall``, errors swallowed). The difference is what the sandbox's checks,
deadline guards and result fetching cost per query. Run:

    python benchmarks/bench_sandbox_overhead.py [--queries 5000] [--repeats 5]
"""

from __future__ import annotations

import argparse
import sqlite3
import statistics
import tempfile
import time
from pathlib import Path

import duckdb

from sqlrl.data.demo import DEMO_QUERIES, build_demo_duckdb, build_demo_sqlite
from sqlrl.sandbox import Sandbox


def queries(n: int) -> list[str]:
    sets = [qs for qs in DEMO_QUERIES if qs.database == "concert_singer"]
    mix = [sql for qs in sets for sql in (qs.gold, *(p.sql for p in qs.predictions))]
    return [mix[i % len(mix)] for i in range(n)]


def per_query_us(run, work: list[str], repeats: int) -> float:
    for sql in work[:200]:  # warm up: connections, statement caches, the watchdog thread
        run(sql)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for sql in work:
            run(sql)
        times.append((time.perf_counter() - t0) / len(work) * 1e6)
    return statistics.median(times)


def bare(con):
    def run(sql: str) -> None:
        try:
            con.execute(sql).fetchall()
        except Exception:  # noqa: BLE001 - the floor swallows errors
            pass

    return run


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--queries", type=int, default=5000)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--engines", nargs="+", default=["sqlite", "duckdb"], choices=["sqlite", "duckdb"])
    args = ap.parse_args()
    work = queries(args.queries)
    with tempfile.TemporaryDirectory() as tmp:
        paths = {
            "sqlite": build_demo_sqlite(Path(tmp) / "cs.sqlite", "concert_singer"),
            "duckdb": build_demo_duckdb(Path(tmp) / "cs.duckdb", "concert_singer"),
        }
        print(f"{len(work)} queries, median of {args.repeats} runs, microseconds per query")
        print(f"{'engine':8} {'sandbox':>9} {'bare':>9} {'overhead':>9}")
        for engine in args.engines:
            path = paths[engine]
            with Sandbox(path, engine=engine, timeout=5.0, cache_dir=Path(tmp) / "cache") as sb:
                sandboxed = per_query_us(sb.execute, work, args.repeats)
            con = duckdb.connect(str(path), read_only=True) if engine == "duckdb" else sqlite3.connect(path)
            floor = per_query_us(bare(con), work, args.repeats)
            con.close()
            print(f"{engine:8} {sandboxed:9.1f} {floor:9.1f} {sandboxed - floor:9.1f}")


if __name__ == "__main__":
    main()
