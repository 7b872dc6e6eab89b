"""Distilled test suites on DuckDB: sqlrl-toy's databases as DuckDB files (same keys), their suites of DuckDB
variants, against the SQLite suites of the same data.

Each sqlrl-toy database is copied to a DuckDB file with the same tables, types and keys (its ``CREATE TABLE``
statements transpiled by sqlglot, the rows copied); its dev and train gold queries are transpiled to DuckDB's
dialect (those that fail to transpile or to run on the copy are left out, on both engines). Then, as
``bench_suite.py`` measures a SQLite suite (:func:`bench_suite.measure`): a suite is built from the dev
golds, and for the near-misses that plain EX accepts on the original (in sample: the dev golds' mutations;
held out: the train golds') the share the suite rejects; false alarms on sqlglot's optimizer rewrites. The
same golds on the SQLite original give the SQLite row beside it.

    PYTHONPATH=src python benchmarks/bench_suite_duckdb.py [-k 10] [--seed 0] [--candidates 50] [--record]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def duckdb_copy(source: Path, target: Path) -> Path:
    """``source`` (SQLite) as a DuckDB file: its tables with their keys (sqlglot's DuckDB DDL), then its rows."""
    import duckdb

    from sqlrl.sql.dialects import transpile

    con = sqlite3.connect(f"file:{source}?mode=ro", uri=True)
    out = duckdb.connect(str(target))
    try:
        tables = con.execute("SELECT name, sql FROM sqlite_master WHERE type = 'table' ORDER BY rowid").fetchall()
        for _, sql in tables:  # sqlrl-toy creates parents first
            out.execute(transpile(sql, read="sqlite", write="duckdb"))
        for name, _ in tables:
            rows = con.execute(f'SELECT * FROM "{name}"').fetchall()
            if rows:
                out.executemany(f'INSERT INTO "{name}" VALUES ({", ".join("?" * len(rows[0]))})', rows)
    finally:
        con.close()
        out.close()
    return target


def _runs(db: Path, queries: list[str]) -> list[bool]:
    from sqlrl.sandbox.service import ExecutionService

    with ExecutionService(keep_rows=False) as service:
        return [r.ok for r in service.run([(db, q) for q in queries])]


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--candidates", type=int, default=50)
    p.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = p.parse_args()

    from bench_suite import golds, measure, pct

    from sqlrl.data.toy import build_toy
    from sqlrl.data.toy.load import toy_dir
    from sqlrl.sql.dialects import transpile
    from sqlrl.sql.errors import SqlError

    paths = build_toy(toy_dir())

    def both(sql: str) -> tuple[str, str] | None:
        try:
            return sql, transpile(sql, read="sqlite", write="duckdb")
        except SqlError:
            return None

    dev, train = golds(paths.dev_gold), golds(paths.train_gold)
    rows = []
    dropped = 0
    with tempfile.TemporaryDirectory() as tmp:
        for db_id in sorted(dev):
            lite = paths.db_path(db_id)
            duck = duckdb_copy(lite, Path(tmp) / f"{db_id}.duckdb")
            split = {}
            for label, queries in (("dev", dev[db_id]), ("train", train.get(db_id, []))):
                pairs = [pr for pr in map(both, queries) if pr is not None]
                ok = [a and b for a, b in zip(_runs(lite, [s for s, _ in pairs]), _runs(duck, [d for _, d in pairs]),
                                               strict=True)]  # fmt: skip
                split[label] = [pr for pr, good in zip(pairs, ok, strict=True) if good]
                dropped += len(queries) - len(split[label])
            for engine, db, pick in (("sqlite", lite, 0), ("duckdb", duck, 1)):
                in_sample = [pr[pick] for pr in split["dev"]]
                held_out = [pr[pick] for pr in split["train"]]
                row = measure(db_id, db, in_sample, held_out, [], str(Path(tmp) / engine), args, dialect=engine)
                rows.append((engine, row))

    lines = [
        "| database | engine | variants | build (s) | caught, in sample | caught, held out "
        "| false alarms on rewrites |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for engine, r in rows:
        lines.append(
            f"| {r['db']} | {engine} | {r['variants']} | {r['build_s']:.1f} | {pct(r['in_caught'], r['in_lucky'])} | "
            f"{pct(r['held_caught'], r['held_lucky'])} | {pct(r['rewrites_alarms'], r['rewrites'])} |"
        )
    alarms = [f"{engine}: {g}  <>  {o}" for engine, r in rows for g, o in r["alarms"]]
    table = "\n".join(lines)
    print(table)
    print(f"gold queries left out (no DuckDB translation, or failing on either engine): {dropped}")
    if alarms:
        print("false alarms (gold <> equivalent):", *alarms[:10], sep="\n  ")
    if args.record:
        from _results import machine, record_section

        cmd = (
            f"PYTHONPATH=src python benchmarks/bench_suite_duckdb.py -k {args.k} --seed {args.seed} "
            f"--candidates {args.candidates}"
        )
        text = (
            "## Distilled test suites on DuckDB (sqlrl-toy as DuckDB files)\n\n"
            "Each sqlrl-toy database copied to a DuckDB file with the same tables and keys (DDL transpiled by "
            "sqlglot), its gold queries transpiled to DuckDB; `build_suite` on the DuckDB file writes DuckDB "
            'variants (docs/suites.md, "DuckDB files and CSV folders"). Columns as in "Distilled test suites '
            'on sqlrl-toy"; the SQLite rows are the same golds on the SQLite original. '
            f"{dropped} gold queries were left out on both engines (no DuckDB translation, or failing on either "
            "engine).\n\n"
            f"{table}\n\n"
            + "".join(f"- false alarm: `{a}`\n" for a in alarms[:10])
            + ("\n" if alarms else "")
            + f"Command: `{cmd}`. Machine: {machine()}.\n"
        )
        record_section("suites on duckdb", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
