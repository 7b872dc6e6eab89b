"""Distilled test suites on sqlrl-toy: how many wrong queries plain EX accepts that the suite rejects, and how
many equivalent rewrites the suite wrongly rejects.

For each sqlrl-toy database a suite is built from the dev gold queries (``build_suite``, ``-k``, ``--seed``,
``--candidates``). Then, per database:

- *wrong, in sample*: the mutations of the dev gold queries (``sqlrl.sql.mutate.mutations``, the ones the
  suite was distilled against) that match their gold on the original database (plain EX says right);
- *wrong, held out*: the same for the train gold queries, which the suite never saw;
- *catch rate*: the share of those the suite rejects. Some mutations are equivalent to their gold
  (``SELECT DISTINCT count(*)``, a LEFT JOIN whose WHERE drops the NULL rows), so the ceiling is below 1;
- *equivalent rewrites*: sqlglot's optimizer output (``sqlglot.optimizer.optimize`` with the database's
  schema) of every dev and train gold that plain EX accepts; a *false alarm* is one the suite rejects.

    PYTHONPATH=src python benchmarks/bench_suite.py [-k 10] [--seed 0] [--candidates 50] [--record]
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def optimized(sql: str, schema: dict) -> str | None:
    import sqlglot
    from sqlglot.optimizer import optimize

    try:
        return optimize(sqlglot.parse_one(sql, read="sqlite"), schema=schema, dialect="sqlite").sql("sqlite")
    except Exception:  # noqa: BLE001 - a query the optimizer cannot handle has no rewrite
        return None


def db_schema(path: Path) -> dict:
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: {c[1]: (c[2] or "TEXT") for c in con.execute(f'PRAGMA table_info("{t}")')} for t in tables}
    finally:
        con.close()


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--candidates", type=int, default=50)
    p.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = p.parse_args()

    from sqlrl.data.toy import build_toy
    from sqlrl.data.toy.load import toy_dir
    from sqlrl.sql.mutate import mutations
    from sqlrl.suite import build_suite, suite_verdicts

    paths = build_toy(toy_dir())

    def golds(file: Path) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for line in file.read_text().splitlines():
            sql, _, db = line.partition("\t")
            if sql.strip() and sql.strip() not in out.setdefault(db.strip(), []):
                out[db.strip()].append(sql.strip())
        return out

    dev, train = golds(paths.dev_gold), golds(paths.train_gold)
    rows, totals, kinds_caught, kinds_missed = [], Counter(), Counter(), Counter()
    with tempfile.TemporaryDirectory() as out:
        for db_id in sorted(dev):
            db = paths.db_path(db_id)
            t0 = time.perf_counter()
            suite = build_suite(db, dev[db_id], k=args.k, seed=args.seed, out_dir=out, candidates=args.candidates)
            build_s = time.perf_counter() - t0
            row = {"db": db_id, "variants": len(suite.variants), "build_s": build_s}
            for label, queries in (("in", dev[db_id]), ("held", train.get(db_id, []))):
                pairs = [(g, m, kind) for g in queries for kind, m in mutations(g)]
                plain = suite_verdicts([(g, m) for g, m, _ in pairs], [db])
                lucky = [pr for pr, v in zip(pairs, plain, strict=True) if v]
                on_suite = suite_verdicts([(g, m) for g, m, _ in lucky], suite)
                caught = sum(1 for v in on_suite if not v)
                for (_, _, kind), v in zip(lucky, on_suite, strict=True):
                    (kinds_missed if v else kinds_caught)[kind] += label == "held"
                row[f"{label}_lucky"], row[f"{label}_caught"] = len(lucky), caught
            schema = db_schema(db)
            rewrites = [
                (g, r) for g in dev[db_id] + train.get(db_id, []) if (r := optimized(g, schema)) is not None and r != g
            ]
            plain = suite_verdicts(rewrites, [db])
            accepted = [pr for pr, v in zip(rewrites, plain, strict=True) if v]
            on_suite = suite_verdicts(accepted, suite)
            row["rewrites"], row["false_alarms"] = len(accepted), sum(1 for v in on_suite if not v)
            row["alarms"] = [g for (g, _), v in zip(accepted, on_suite, strict=True) if not v][:3]
            rows.append(row)
            for key in ("variants", "in_lucky", "in_caught", "held_lucky", "held_caught", "rewrites", "false_alarms"):
                totals[key] += row[key]

    def pct(a: int, b: int) -> str:
        return f"{a}/{b} ({100 * a / b:.0f}%)" if b else "0/0"

    lines = [
        "| database | variants | build (s) | caught, in sample | caught, held out | false alarms on rewrites |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['db']} | {r['variants']} | {r['build_s']:.1f} | {pct(r['in_caught'], r['in_lucky'])} | "
            f"{pct(r['held_caught'], r['held_lucky'])} | {pct(r['false_alarms'], r['rewrites'])} |"
        )
    t = totals
    lines.append(
        f"| all | {t['variants']} | | {pct(t['in_caught'], t['in_lucky'])} | {pct(t['held_caught'], t['held_lucky'])} "
        f"| {pct(t['false_alarms'], t['rewrites'])} |"
    )
    by_kind = ", ".join(
        f"{k} {kinds_caught[k]}/{kinds_caught[k] + kinds_missed[k]}"
        for k in sorted(set(kinds_caught) | set(kinds_missed), key=lambda k: -(kinds_caught[k] + kinds_missed[k]))
        if kinds_caught[k] + kinds_missed[k]
    )
    lucky_nd = t["held_lucky"] - kinds_caught["distinct"] - kinds_missed["distinct"]
    by_kind += (
        f"; without `distinct` (mostly DISTINCT on a one-row aggregate, equivalent): "
        f"{pct(t['held_caught'] - kinds_caught['distinct'], lucky_nd)}"
    )
    alarms = [a for r in rows for a in r["alarms"]]
    table = "\n".join(lines)
    print(table)
    print(f"held-out catches by mutation kind (caught/lucky): {by_kind}")
    if alarms:
        print("false alarms on (gold):", *alarms[:5], sep="\n  ")
    if args.record:
        from _results import machine, record_section

        cmd = (
            f"PYTHONPATH=src python benchmarks/bench_suite.py -k {args.k} --seed {args.seed} "
            f"--candidates {args.candidates}"
        )
        text = (
            "## Distilled test suites on sqlrl-toy\n\n"
            "Suites built from each database's dev gold queries (`build_suite`); *lucky*: mutations of a gold query "
            "(`sqlrl.sql.mutate`) that plain EX accepts on the original database; *caught*: the share the suite "
            "rejects, for the dev golds' mutations (the suite was distilled against them) and for the train golds' "
            "(never seen). Some mutations are equivalent to their gold (`SELECT DISTINCT count(*)`, a LEFT JOIN "
            "whose WHERE drops the NULL rows), so no suite reaches 100%. *False alarms*: sqlglot optimizer "
            "rewrites of the dev and train golds that plain EX accepts and the suite rejects. Variants where a "
            "dev gold's ORDER BY ties decide its result are skipped for that gold (`tied`); the train golds "
            "have no such list, so a held-out catch can come from a tie.\n\n"
            f"{table}\n\nHeld-out catches by mutation kind (caught/lucky): {by_kind}.\n\n"
            f"Command: `{cmd}`. Machine: {machine()}.\n"
        )
        record_section("suites on sqlrl-toy", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
