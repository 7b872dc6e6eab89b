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

With ``--text2sql-data DIR`` (a checkout of github.com/jkkummerfeld/text2sql-data) its SQLite databases
are measured too: the suite is built from the ``train`` query split, the other splits are held out, and
the other gold texts the authors wrote for a question are equivalent rewrites (false alarms if rejected).

With ``--spider DIR`` (a Spider folder: ``database/<db_id>/<db_id>.sqlite`` and ``dev.json``, or
``--spider-split`` another file of ``{"db_id", "query"}`` items; ``--spider-dbs`` picks databases) each
database's distinct gold queries (in file order; those that fail on SQLite or that sqlglot cannot parse left
out) are split by position: the even-numbered ones build the suite, the odd-numbered ones are held out (Spider
lists a question's paraphrases next to each other, so a held-out query can be a near copy of a built one).
Spider has no second gold text per question, so there is no *authors' equivalent* column.

    PYTHONPATH=src python benchmarks/bench_suite.py [-k 10] [--seed 0] [--candidates 50]
        [--text2sql-data DIR] [--spider DIR [--spider-split dev.json] [--spider-dbs a,b]] [--no-toy] [--record]
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


def optimized(sql: str, schema: dict, dialect: str = "sqlite") -> str | None:
    import sqlglot
    from sqlglot.optimizer import optimize

    try:
        return optimize(sqlglot.parse_one(sql, read=dialect), schema=schema, dialect=dialect).sql(dialect)
    except Exception:  # noqa: BLE001 - a query the optimizer cannot handle has no rewrite
        return None


def db_schema(path: Path) -> dict:
    if path.suffix == ".duckdb":
        import duckdb

        con = duckdb.connect(str(path), read_only=True)
        try:
            rows = con.execute("SELECT table_name, column_name, data_type FROM duckdb_columns()").fetchall()
        finally:
            con.close()
        out: dict = {}
        for table, column, kind in rows:
            out.setdefault(table, {})[column] = kind
        return out
    con = sqlite3.connect(path)
    try:
        tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: {c[1]: (c[2] or "TEXT") for c in con.execute(f'PRAGMA table_info("{t}")')} for t in tables}
    finally:
        con.close()


def text2sql_data_golds(root: Path) -> dict[str, tuple[Path, list[str], list[str], list[tuple[str, str]]]]:
    """Per text2sql-data database (``<name>-db.added-in-2020.sqlite`` beside ``<name>.json``): the gold queries
    of the ``train`` query split (the suite is built from them), of the other splits (held out), and
    ``(gold, other)`` pairs where ``other`` is another gold text its authors wrote for the same question."""
    import json

    from engine_compat_corpus import _fill

    data = root / "data" if (root / "data").is_dir() else root
    out = {}
    for db in sorted(data.glob("*-db.added-in-2020.sqlite")):
        name = db.name.split("-db.")[0]
        questions = data / f"{name}.json"
        if not questions.exists():
            continue
        train: list[str] = []
        held: list[str] = []
        same: list[tuple[str, str]] = []
        entries = json.loads(questions.read_text())
        splits = sorted({str(e.get("query-split")) for e in entries})
        # the train split; a corpus split in numbered folds (restaurants) holds out its last two
        build_from = {"train"} if "train" in splits else set(splits[:-2])
        for entry in entries:
            values = {v["name"]: v.get("example", "") for v in entry.get("variables", [])}
            sentences = entry.get("sentences") or []
            if sentences:
                values.update(sentences[0].get("variables") or {})
            texts = list(dict.fromkeys(" ".join(_fill(t, values).split()) for t in entry["sql"]))
            (train if str(entry.get("query-split")) in build_from else held).append(texts[0])
            same += [(texts[0], other) for other in texts[1:]]
        out[name] = (db, list(dict.fromkeys(train)), list(dict.fromkeys(held)), same)
    return out


def spider_golds(root: Path, split: str, dbs: list[str] | None) -> dict[str, tuple[Path, list[str], list[str], list]]:
    """Per Spider database (``database/<db_id>/<db_id>.sqlite`` present): its distinct gold queries in file
    order, those at even positions to build the suite from, those at odd positions held out. Golds that fail
    on SQLite or that sqlglot cannot parse (``build_suite`` needs the tree) are left out and counted."""
    import json

    import sqlglot

    by_db: dict[str, list[str]] = {}
    for item in json.loads((root / split).read_text()):
        by_db.setdefault(item["db_id"], []).append(" ".join(item["query"].split()))
    out = {}
    for db_id, queries in sorted(by_db.items()):
        path = root / "database" / db_id / f"{db_id}.sqlite"
        if (dbs and db_id not in dbs) or not path.exists():
            continue
        usable = []
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            for q in dict.fromkeys(queries):
                try:
                    con.execute(q).fetchmany(1)
                    sqlglot.parse_one(q, read="sqlite")
                except Exception:  # noqa: BLE001 - a gold that fails on SQLite or in sqlglot: left out
                    continue
                usable.append(q)
        finally:
            con.close()
        dropped = len(dict.fromkeys(queries)) - len(usable)
        if dropped:
            print(
                f"{db_id}: {dropped} of {len(dict.fromkeys(queries))} distinct gold queries left out", file=sys.stderr
            )
        out[db_id] = (path, usable[0::2], usable[1::2], [])
    return out


def golds(file: Path) -> dict[str, list[str]]:
    """The distinct gold queries of a ``SQL<TAB>db_id`` file, by database."""
    out: dict[str, list[str]] = {}
    for line in file.read_text().splitlines():
        sql, _, db = line.partition("\t")
        if sql.strip() and sql.strip() not in out.setdefault(db.strip(), []):
            out[db.strip()].append(sql.strip())
    return out


def pct(a: int, b: int) -> str:
    return f"{a}/{b} ({100 * a / b:.0f}%)" if b else "0/0"


def _short(text: str, width: int = 240) -> str:
    flat = " ".join(text.split()).replace("`", "'")
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def measure(
    db_id: str, db: Path, in_sample: list[str], held_out: list[str], same: list[tuple[str, str]], out: str, args,
    dialect: str = "sqlite",
) -> dict:  # fmt: skip
    """One database's row: its suite built from ``in_sample``, what it catches of the near-misses plain EX
    accepts, and its false alarms on sqlglot optimizer rewrites and on ``same`` (equivalent pairs). ``dialect``:
    the golds' (``duckdb`` for a DuckDB file, whose suite has DuckDB variants)."""
    from sqlrl.sql.mutate import mutations
    from sqlrl.suite import build_suite, suite_verdicts

    t0 = time.perf_counter()
    suite = build_suite(db, in_sample, k=args.k, seed=args.seed, out_dir=out, candidates=args.candidates,
                        db_id=db_id)  # fmt: skip
    row: dict = {"db": db_id, "variants": len(suite.variants), "build_s": time.perf_counter() - t0, "kinds": {}}
    for label, queries in (("in", in_sample), ("held", held_out)):
        pairs = [(g, m, kind) for g in queries for kind, m in mutations(g, dialect=dialect)]
        plain = suite_verdicts([(g, m) for g, m, _ in pairs], [db])
        lucky = [pr for pr, v in zip(pairs, plain, strict=True) if v]
        on_suite = suite_verdicts([(g, m) for g, m, _ in lucky], suite)
        row[f"{label}_lucky"], row[f"{label}_caught"] = len(lucky), sum(1 for v in on_suite if not v)
        if label == "held":
            row["kinds"] = [(kind, bool(v)) for (_, _, kind), v in zip(lucky, on_suite, strict=True)]
    schema = db_schema(db)
    rewrites = [(g, r) for g in in_sample + held_out if (r := optimized(g, schema, dialect)) is not None and r != g]
    for label, equivalent in (("rewrites", rewrites), ("authors", same)):
        plain = suite_verdicts(equivalent, [db])
        accepted = [pr for pr, v in zip(equivalent, plain, strict=True) if v]
        on_suite = suite_verdicts(accepted, suite)
        row[label], row[f"{label}_alarms"] = len(accepted), sum(1 for v in on_suite if not v)
        row.setdefault("alarms", []).extend(pr for pr, v in zip(accepted, on_suite, strict=True) if not v)
    return row


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("-k", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--candidates", type=int, default=50)
    p.add_argument(
        "--text2sql-data", type=Path, default=None,
        help="also measure on the SQLite databases of a checkout of github.com/jkkummerfeld/text2sql-data",
    )  # fmt: skip
    p.add_argument("--spider", type=Path, default=None, help="also measure on a Spider folder's SQLite databases")
    p.add_argument("--spider-split", default="dev.json", help="the gold file inside --spider (dev.json)")
    p.add_argument("--spider-dbs", default="", help="comma-separated Spider db_ids (default: every one present)")
    p.add_argument("--no-toy", action="store_true", help="skip sqlrl-toy (measure only --text2sql-data/--spider)")
    p.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = p.parse_args()
    if args.record and args.no_toy:
        p.error("--record writes the sqlrl-toy section: run it without --no-toy")

    from sqlrl.data.toy import build_toy
    from sqlrl.data.toy.load import toy_dir

    paths = build_toy(toy_dir())

    dev, train = golds(paths.dev_gold), golds(paths.train_gold)
    rows, totals, kinds_caught, kinds_missed = [], Counter(), Counter(), Counter()
    jobs = [(db_id, paths.db_path(db_id), dev[db_id], train.get(db_id, []), []) for db_id in sorted(dev)]
    if args.no_toy:
        jobs = []
    if args.text2sql_data:
        jobs += [(name, *value) for name, value in text2sql_data_golds(args.text2sql_data).items()]
    if args.spider:
        picked = [d.strip() for d in args.spider_dbs.split(",") if d.strip()] or None
        jobs += [(name, *value) for name, value in spider_golds(args.spider, args.spider_split, picked).items()]
    with tempfile.TemporaryDirectory() as out:
        for job in jobs:
            row = measure(*job, out, args)
            rows.append(row)
            for kind, survived in row["kinds"]:
                (kinds_missed if survived else kinds_caught)[kind] += 1
            for key in ("variants", "in_lucky", "in_caught", "held_lucky", "held_caught", "rewrites",
                        "rewrites_alarms", "authors", "authors_alarms"):  # fmt: skip
                totals[key] += row[key]

    lines = [
        "| database | variants | build (s) | caught, in sample | caught, held out | false alarms on rewrites "
        "| false alarms on the authors' equivalent golds |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(
            f"| {r['db']} | {r['variants']} | {r['build_s']:.1f} | {pct(r['in_caught'], r['in_lucky'])} | "
            f"{pct(r['held_caught'], r['held_lucky'])} | {pct(r['rewrites_alarms'], r['rewrites'])} | "
            f"{pct(r['authors_alarms'], r['authors']) if r['authors'] else '-'} |"
        )
    t = totals
    lines.append(
        f"| all | {t['variants']} | | {pct(t['in_caught'], t['in_lucky'])} | {pct(t['held_caught'], t['held_lucky'])} "
        f"| {pct(t['rewrites_alarms'], t['rewrites'])} | {pct(t['authors_alarms'], t['authors'])} |"
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
    alarms = [f"{g}  <>  {o}" for r in rows for g, o in r["alarms"]]
    table = "\n".join(lines)
    print(table)
    print(f"held-out catches by mutation kind (caught/lucky): {by_kind}")
    if alarms:
        print("false alarms (gold <> equivalent):", *alarms[:10], sep="\n  ")
    if args.record:
        from _results import machine, record_section

        cmd = (
            f"PYTHONPATH=src python benchmarks/bench_suite.py -k {args.k} --seed {args.seed} "
            f"--candidates {args.candidates}"
        ) + (" --text2sql-data /path/to/text2sql-data" if args.text2sql_data else "")
        text = (
            "## Distilled test suites on sqlrl-toy" + (" and text2sql-data" if args.text2sql_data else "") + "\n\n"
            "Suites built from each database's dev gold queries (`build_suite`); *lucky*: mutations of a gold query "
            "(`sqlrl.sql.mutate`) that plain EX accepts on the original database; *caught*: the share the suite "
            "rejects, for the dev golds' mutations (the suite was distilled against them) and for the train golds' "
            "(never seen). Some mutations are equivalent to their gold (`SELECT DISTINCT count(*)`, a LEFT JOIN "
            "whose WHERE drops the NULL rows), so no suite reaches 100%. *False alarms*: sqlglot optimizer "
            "rewrites of the dev and train golds that plain EX accepts and the suite rejects. Variants where a "
            "dev gold's ORDER BY ties decide its result are skipped for that gold (`tied`); the train golds "
            "have no such list, so a held-out catch can come from a tie. text2sql-data's databases "
            "(github.com/jkkummerfeld/text2sql-data, fetched by the user; the 2020 SQLite files): the suite is "
            "built from the `train` query split (restaurants, in ten numbered folds: folds 0-7), the "
            "other splits are held out, and the *authors' equivalent "
            "golds* are the other SQL texts its authors wrote for the same question (variables filled with "
            "the first sentence's values), paired with the first.\n\n"
            f"{table}\n\nHeld-out catches by mutation kind (caught/lucky): {by_kind}.\n\n"
            + "".join(f"- false alarm: `{_short(a)}`\n" for a in alarms[:10])
            + ("\n" if alarms else "")
            + f"Command: `{cmd}`. Machine: {machine()}.\n"
        )
        record_section("suites on sqlrl-toy", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
