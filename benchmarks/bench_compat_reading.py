"""What a DuckDB sandbox's reading of new texts for SQLite costs, and where it is best done.

The batch is bench_rewards.py's sampled GRPO batch (64 sqlrl-toy questions x 16 completions, 403 distinct
queries), on ``engine="duckdb"`` (SQLite's files imported, the SQLite-compat settings and rewrites). Every
repeat's texts are new: a comment naming the repeat opens each one, so that nothing a text left helps.

- **reading**: ``Sandbox.prepare_texts`` on each database's texts, nothing run: the compat pre-checks, the
  sqlglot parses of the texts they pick (affinity, bare columns), the inline check. Also the number of those
  parses and their own time (the same texts parsed again, timed alone), and which sqlglot build runs them
  (compiled with mypyc, ``sqlglot[c]``, or pure Python).
- **one thread, each text read where it runs**: ``Sandbox.execute`` of each new text, one after the other.
- **one thread, all read first**: ``prepare_texts`` for the whole batch, then the same ``execute`` calls.
- **floor**: each distinct query's final text run once on a cursor of the sandbox's own DuckDB and fetched
  (bench_reward_floor.py's floor).

The two ways take turns in every repeat; each keeps its best and its median. Run from the repository root:

    PYTHONPATH=src python benchmarks/bench_compat_reading.py [--repeat 12] [--record]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _results import machine, record_section  # noqa: E402
from bench_reward_floor import by_database, distinct_queries, duckdb_floor_setup, floor  # noqa: E402
from bench_rewards import make_batch  # noqa: E402

from sqlrl.sandbox import Sandbox  # noqa: E402
from sqlrl.sql import sqlite_compat  # noqa: E402

SECTION = "DuckDB: reading new texts for SQLite"


def sqlglot_build() -> str:
    import sqlglot.parser

    return "compiled (sqlglot[c])" if sqlglot.parser.__file__.endswith(".so") else "pure Python"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=12)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()
    import duckdb

    load = os.getloadavg()[0]
    parsed: list[tuple[str, str]] = []
    parse = sqlite_compat._parse

    def counted(sql: str, dialect: str):  # the texts the rewrites parse, to time those parses alone
        parsed.append((sql, dialect))
        return parse(sql, dialect)

    sqlite_compat._parse = counted
    with tempfile.TemporaryDirectory() as tmp:
        sampled, warm = make_batch(Path(tmp), args.seed)
        queries = distinct_queries(sampled)
        dbs = sorted({db for db, _ in queries})
        seen = {db: Sandbox(db, engine="duckdb", timeout=5.0) for db in dbs}
        floor_queries, connections = duckdb_floor_setup(queries, seen)
        boxes = {db: Sandbox(db, engine="duckdb", timeout=5.0) for db in dbs}
        for db, sqls in by_database(distinct_queries(warm)).items():
            if db in boxes:
                boxes[db].execute_tables(sqls)

        def new(tag: str) -> list[tuple[str, str]]:
            return [(db, f"/* {tag} */ {sql}") for db, sql in queries]

        reading, floors, where_run, first = [], [], [], []
        read_parsed: list[tuple[str, str]] = []
        for k in range(args.repeat):
            texts = by_database(new(f"p{k}"))
            parsed.clear()
            t = time.perf_counter()
            for db, sqls in texts.items():
                boxes[db].prepare_texts(sqls)
            reading.append(time.perf_counter() - t)
            read_parsed = list(parsed)  # this repeat's reading only (the runs below parse their own texts)
            floors.append(floor(floor_queries, connections, duckdb.Error))
            for way in ("where", "first") if k % 2 else ("first", "where"):
                batch = new(f"{way}{k}")
                t = time.perf_counter()
                if way == "first":
                    for db, sqls in by_database(batch).items():
                        boxes[db].prepare_texts(sqls)
                for db, sql in batch:
                    boxes[db].execute(sql, rows=False)
                (first if way == "first" else where_run).append(time.perf_counter() - t)
        sqlite_compat._parse = parse
        t = time.perf_counter()
        for sql, dialect in read_parsed:
            parse(sql, dialect)
        parse_time = time.perf_counter() - t
        for con in connections.values():
            con.close()
        for box in [*seen.values(), *boxes.values()]:
            box.close()
    best_floor = min(floors)
    build = sqlglot_build()
    lines = [
        f"sqlglot {build}; {len(queries)} new texts per repeat; floor {1e3 * best_floor:.1f} ms (best of "
        f"{len(floors)})",
        "",
        "| measure | best ms | median ms | best / floor |",
        "|---|---:|---:|---:|",
        f"| reading (`prepare_texts`), nothing run | {1e3 * min(reading):.1f} | {1e3 * statistics.median(reading):.1f}"
        f" | — |",
        f"| of which the {len(read_parsed)} sqlglot parses, timed alone | {1e3 * parse_time:.1f} | — | — |",
    ]
    for tag, times in (("one thread, each text read where it runs", where_run), ("one thread, all read first", first)):
        lines.append(f"| {tag} | {1e3 * min(times):.1f} | {1e3 * statistics.median(times):.1f} "
                     f"| {min(times) / best_floor:.2f}x |")  # fmt: skip
    table = "\n".join(lines)
    print(table)
    if args.record:
        section = f"{SECTION} (sqlglot {'compiled' if 'compiled' in build else 'pure Python'})"
        text = (
            f"## {section}\n\n{__doc__.split(chr(10) + chr(10), 1)[0]}\n\n{table}\n\n"
            f"{args.repeat} repeats, the two ways taking turns. Machine: {machine()}; 1-minute load average "
            f"{load:.2f} before the run, {os.getloadavg()[0]:.2f} after. Reproduce (the pure Python build: "
            f"`pip uninstall sqlglotc` first, `pip install 'sqlglot[c]'` after):\n\n"
            f"    PYTHONPATH=src python benchmarks/bench_compat_reading.py --repeat {args.repeat} --record\n"
        )
        record_section(section, text)


if __name__ == "__main__":
    main()
