"""What a GRPO reward batch costs over the engine's own work: sqlrl's rewards against the floor.

The batch is bench_rewards.py's: 64 sqlrl-toy questions x 16 completions, each the gold query or a
mutation of it, fenced after a ``<think>`` block; the *all distinct* variant adds a unique comment to
every query, so that nothing is run once for several completions and no memo helps.

- **reward**: ``build_rewards([execution, partial paverl])`` called as TRL calls it, both functions
  on the same lists, one after the other; one executor for every repeat, as in training, whose
  sandboxes an earlier batch of other questions opened. Each repeat's texts are new (a comment naming
  the repeat opens every completion's query and every gold query), so that nothing a previous batch
  left helps: no memoised result, no prepared statement, no extracted SQL.
- **sandbox**: the same distinct queries through ``Sandbox.execute(sql, rows=False)`` (one sandbox per
  database, its connection open), as the rewards run them: the sandbox's checks and guards over the
  engine, without the rewards (on SQLite the core reads the cells into its table; DuckDB returns rows).
  Two rows: *texts seen* (the same sandboxes every repeat, so each text's SQLite-compat reading and
  inline check are known, as for gold queries every epoch) and *first run* (other sandboxes, also open
  for every repeat, given each repeat's texts new: a comment naming the repeat opens each one, so that
  every text is read for the first time, as a batch of new completions is; nothing a text left, a
  prepared statement or a compat reading, helps).
  *batch, first run*: the same through ``Sandbox.execute_tables``, each database's queries in one call,
  on one thread (on SQLite the core's reader runs them in one call without the GIL; DuckDB runs each
  through ``execute``).
- **floor**: each distinct query of the batch (the golds and the SQL extracted from the
  completions, prepared before timing) executed once on an open read-only connection per database
  and fetched with ``fetchall``: the engine's work and nothing else. SQLite's connections keep no
  prepared statements (``cached_statements=0``), so every repeat prepares each query, as its first
  run does (a batch of new completions finds none prepared). With ``--engine duckdb`` the
  connection is DuckDB's, on the sandbox's own DuckDB copy of the SQLite file, with its SQLite-compat
  settings, running the text the sandbox runs after its SQLite-compat rewrites (found before timing).
- **floor, one transaction** (SQLite): the same inside one read transaction per database (``BEGIN`` ...
  ``COMMIT``): what the core's reader does for a batch (a query then skips taking the file's lock).

The two take turns in every repeat; each keeps its best time. Run from the repository root:

    PYTHONPATH=src python benchmarks/bench_reward_floor.py [--engine sqlite|duckdb] [--repeat 15] [--record]
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _results import machine, record_section  # noqa: E402
from bench_rewards import columns, distinct_copy, make_batch  # noqa: E402

from sqlrl.rewards import build_rewards  # noqa: E402
from sqlrl.sandbox import Sandbox  # noqa: E402
from sqlrl.sql.extract import clean_sql, extract_sql  # noqa: E402

SECTION = "Reward batch against the engine floor"


def distinct_queries(batch: dict) -> list[tuple[str, str]]:
    """Every distinct ``(database, sql)`` the rewards run: golds as they run (cleaned) and extracted SQL."""
    seen: dict[tuple[str, str], None] = {}
    for text, gold, db in zip(batch["completions"], batch["gold_sql"], batch["db_path"], strict=True):
        seen[(db, clean_sql(gold))] = None
        sql = extract_sql(text).sql
        if sql is not None:
            seen[(db, sql)] = None
    return list(seen)


def floor(queries: list[tuple[str, str]], connections: dict[str, Any], errors: type[BaseException]) -> float:
    t = time.perf_counter()
    for db, sql in queries:
        try:
            connections[db].execute(sql).fetchall()
        except errors:
            pass
    return time.perf_counter() - t


def sandboxed(queries: list[tuple[str, str]], boxes: dict[str, Sandbox]) -> float:
    t = time.perf_counter()
    for db, sql in queries:
        boxes[db].execute(sql, rows=False)
    return time.perf_counter() - t


def by_database(queries: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Each database's queries, in order."""
    out: dict[str, list[str]] = {}
    for db, sql in queries:
        out.setdefault(db, []).append(sql)
    return out


def first_run(queries: list[tuple[str, str]], boxes: dict[str, Sandbox], repeat: int, batch: bool = False) -> float:
    """``sandboxed`` with every text new to ``boxes`` (a comment naming the repeat opens it); ``batch``: each
    database's queries in one ``execute_tables`` call."""
    fresh = [(db, f"/* {'b' if batch else 'f'}{repeat} */ {sql}") for db, sql in queries]
    if not batch:
        return sandboxed(fresh, boxes)
    grouped = by_database(fresh)
    t = time.perf_counter()
    for db, sqls in grouped.items():
        boxes[db].execute_tables(sqls)
    return time.perf_counter() - t


def duckdb_floor_setup(queries: list[tuple[str, str]], boxes: dict[str, Sandbox]) -> tuple[list, dict]:
    """DuckDB connections on the sandboxes' own DuckDB copies (their settings), and the texts DuckDB runs for
    each query: the engine's SQLite-compat reading (double-quoted strings, type affinity, LIKE and CAST types),
    and for a query DuckDB refused for a bare column or a type, the rewrite that then ran. Each query goes
    through its sandbox once before, so that the floor runs what the sandbox runs (a refused text costs a
    binder error; its rewrite, the whole query)."""
    for db, sql in queries:
        boxes[db].execute(sql, rows=False)
    # DuckDB allows one configuration per file and process: a cursor of the sandbox's own instance (its
    # lockdown and SQLite-compat settings), used directly, without the sandbox.
    connections = {db: box._engine._root.cursor() for db, box in boxes.items()}
    return [(db, boxes[db]._engine.prepare(sql)) for db, sql in queries], connections


def floor_in_transactions(queries: list[tuple[str, str]], connections: dict[str, Any]) -> float:
    """:func:`floor` with each database's queries inside one read transaction (SQLite)."""
    grouped = by_database(queries)
    t = time.perf_counter()
    for db, sqls in grouped.items():
        con = connections[db]
        con.execute("BEGIN")
        for sql in sqls:
            try:
                con.execute(sql).fetchall()
            except sqlite3.Error:
                pass
        con.execute("COMMIT")
    return time.perf_counter() - t


def reward_functions(warm: dict, engine: str) -> list:
    """The two rewards on one executor, its sandboxes opened by a batch of other questions."""
    funcs, _ = build_rewards(
        [{"name": "execution"}, {"name": "partial", "metric": "paverl"}], timeout=5.0, engine=engine
    )
    funcs[0](prompts=warm["prompts"], completions=warm["completions"], **columns(warm))
    return funcs


def new_texts(batch: dict, repeat: int) -> dict:
    """The batch with every query text new: a comment naming the repeat opens each completion's query and
    each gold query (a completion equal to its gold still equals it; repeats within the batch still repeat)."""
    out = dict(batch)
    out["completions"] = [t.replace("```sql\n", f"```sql\n/* r{repeat} */ ") for t in batch["completions"]]
    out["gold_sql"] = [f"/* r{repeat} */ {g}" for g in batch["gold_sql"]]
    return out


def reward(funcs: list, batch: dict) -> float:
    cols = columns(batch)
    t = time.perf_counter()
    for f in funcs:
        f(prompts=batch["prompts"], completions=batch["completions"], **cols)
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=15)
    ap.add_argument("--engine", choices=["sqlite", "duckdb"], default="sqlite")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        sampled, warm = make_batch(Path(tmp), args.seed)
        rows = []
        for tag, batch in (("as sampled", sampled), ("all distinct", distinct_copy(sampled))):
            queries = distinct_queries(batch)
            dbs = sorted({db for db, _ in queries})
            boxes = {db: Sandbox(db, engine=args.engine, timeout=5.0) for db in dbs}
            if args.engine == "duckdb":
                import duckdb

                floor_queries, connections = duckdb_floor_setup(queries, boxes)
                engine_error: type[BaseException] = duckdb.Error
            else:
                floor_queries, engine_error = queries, sqlite3.Error
                connections = {db: sqlite3.connect(f"file:{db}?mode=ro", uri=True, cached_statements=0) for db in dbs}
            funcs = reward_functions(warm, args.engine)
            new_boxes = {db: Sandbox(db, engine=args.engine, timeout=5.0) for db in dbs}  # for texts new each repeat
            warm_queries = by_database(distinct_queries(warm))
            for db, box in new_boxes.items():
                box.execute_tables(warm_queries.get(db) or ["SELECT 1"])
            best_floor = best_txn = best_box = best_first = best_batch = best_reward = float("inf")
            for k in range(args.repeat):
                best_floor = min(best_floor, floor(floor_queries, connections, engine_error))
                if args.engine == "sqlite":
                    best_txn = min(best_txn, floor_in_transactions(floor_queries, connections))
                best_box = min(best_box, sandboxed(queries, boxes))
                best_first = min(best_first, first_run(queries, new_boxes, k))
                best_batch = min(best_batch, first_run(queries, new_boxes, k, batch=True))
                best_reward = min(best_reward, reward(funcs, new_texts(batch, k)))
            funcs[0].executor.close()
            for con in connections.values():
                con.close()
            for box in [*boxes.values(), *new_boxes.values()]:
                box.close()
            rows.append((tag, len(batch["completions"]), len(queries), best_floor, best_txn, best_box, best_first,
                         best_batch, best_reward))  # fmt: skip
    lines = [
        "| batch | completions | distinct queries | floor ms | floor ms, one transaction "
        "| sandbox ms, texts seen (/ floor) | sandbox ms, first run (/ floor) | sandbox batch ms, first run (/ floor) "
        "| reward ms (execution, partial) "
        "| reward / floor | reward / floor, one transaction |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for tag, n, q, f, ft, b, b1, bb, r in rows:
        box, first, batched = (f"{1e3 * x:.1f} ({x / f:.2f}x)" for x in (b, b1, bb))
        txn, per_txn = (f"{1e3 * ft:.1f}", f"{r / ft:.2f}x") if ft < float("inf") else ("—", "—")
        lines.append(f"| {tag} | {n} | {q} | {1e3 * f:.1f} | {txn} | {box} | {first} | {batched} | {1e3 * r:.1f} "
                     f"| {r / f:.2f}x | {per_txn} |")  # fmt: skip
    table = "\n".join(lines)
    print(table)
    if args.record:
        section = f"{SECTION} ({args.engine})"
        text = (
            f"## {section}\n\n{__doc__.split(chr(10) + chr(10), 1)[0]}\n\n{table}\n\n"
            f"The floors and the sandbox rows run on one thread. The rewards use the machine's cores: on SQLite the"
            f" gold queries start on a thread of the core's own before the completions are read, and the predictions"
            f" of each quarter of the batch as soon as it is read (batches per database, each one call of the core's"
            f" reader without the GIL and in one read transaction), and what is left runs in parts of at least 32"
            f" queries on the service's threads; DuckDB's queries run on threads when recent queries average over"
            f" 0.1 ms. So the reward row can be"
            f" nearer the floor than the sandbox alone, or under it. The reward's texts are new in every repeat; the"
            f" floor's and the sandbox's are the same texts every repeat (SQLite's floor prepares each one every"
            f" time).\n\n"
            f"Best of {args.repeat} runs each, taken in turns. Machine: {machine()}; 1-minute load "
            f"average {load:.2f} before the run, {os.getloadavg()[0]:.2f} after. Reproduce:\n\n"
            f"    PYTHONPATH=src python benchmarks/bench_reward_floor.py --engine {args.engine} "
            f"--repeat {args.repeat} --record\n"
        )
        record_section(section, text)


if __name__ == "__main__":
    main()
