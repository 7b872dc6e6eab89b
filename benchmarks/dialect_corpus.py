"""Gold queries written in other dialects: do they give the SQLite result through sqlrl's dialect path?

For every gold query (SQLite) of a corpus, and every dialect of ``--dialects`` (default postgres,
mysql, snowflake, bigquery): the gold is transpiled SQLite -> dialect with sqlglot
(``sqlrl.sql.dialects.transpile``, what a model writing that dialect would produce), handed to the
execution reward's path for that dialect (``RewardExecutor(dialect=...)``: transpiled by sqlglot
to DuckDB and run on DuckDB over the SQLite file's imported data), and its result compared with the
original gold's result on SQLite (Spider execution match, ``sqlrl.scoring.compare`` mode ``spider``,
row order compared when the gold has ``ORDER BY``). Golds that fail on SQLite are left out.
Prints, per dialect: golds, matching %, failures by cause (transpile error, DuckDB error class,
result differs).

Corpora:

- ``--toy`` (default when nothing else is given): the gold queries of sqlrl-toy (generated, no
  download; ``--toy-split``);
- ``--text2sql-data DIR``: github.com/jkkummerfeld/text2sql-data (see ``engine_compat_corpus.py``);
- ``--spider DIR``: a Spider folder, ``database/<db_id>/<db_id>.sqlite`` and ``dev.json`` (or
  ``--spider-split`` another file of ``{"db_id", "query"}`` items); one corpus per database, as
  ``engine_compat_corpus.py`` reads it.

Run::

    PYTHONPATH=src python benchmarks/dialect_corpus.py --toy --text2sql-data /path/to/text2sql-data \\
        [--spider /path/to/spider [--spider-split dev.json]]

Recorded numbers: ``ENGINE_COMPAT.md`` (last section).
"""

from __future__ import annotations

import argparse
import re
import sys
import tempfile
from collections import Counter, defaultdict
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from engine_compat_corpus import Gold, load_spider, load_text2sql_data  # noqa: E402

from sqlrl.rewards import RewardExecutor, read_batch  # noqa: E402
from sqlrl.sandbox import ErrorKind, Sandbox  # noqa: E402
from sqlrl.scoring import compare, gold_has_order_by  # noqa: E402
from sqlrl.sql.dialects import transpile  # noqa: E402

DIALECTS = ("postgres", "mysql", "snowflake", "bigquery")


def load_toy(split: str, cache_dir: Path) -> list[Gold]:
    from sqlrl.data import load_toy as toy

    seen: dict[tuple[str, str], Gold] = {}
    for ex in toy(split, cache_dir=cache_dir):
        key = (str(ex.db_path), ex.gold_sql)
        seen.setdefault(key, Gold(f"sqlrl-toy/{split}", Path(ex.db_path), ex.gold_sql, []))
    return list(seen.values())


def _error_class(message: str) -> str:
    line = message.splitlines()[0] if message else ""
    line = re.sub(r'"[^"]*"|\'[^\']*\'', "…", line)
    return re.sub(r"\d+", "N", line)[:100]


def measure(golds: list[Gold], dialects: list[str], cache_dir: Path, sqlite_ties: bool = False) -> dict[str, dict]:
    refs = {}
    sqlite_boxes: dict[Path, Sandbox] = {}
    for g in golds:
        sb = sqlite_boxes.get(g.db) or sqlite_boxes.setdefault(g.db, Sandbox(g.db, engine="sqlite"))
        refs[id(g)] = sb.execute(g.sql)
    for sb in sqlite_boxes.values():
        sb.close()
    usable = [g for g in golds if refs[id(g)].ok]
    out = {}
    for dialect in dialects:
        causes: Counter[str] = Counter()
        examples: dict[str, str] = {}
        texts, keep = [], []
        for g in usable:
            try:
                texts.append(transpile(g.sql, read="sqlite", write=dialect))
                keep.append(g)
            except Exception as e:  # noqa: BLE001 - sqlglot's own limit: counted, not raised
                cause = f"transpile sqlite -> {dialect}: {type(e).__name__}"
                causes[cause] += 1
                examples.setdefault(cause, g.sql)
        executor = RewardExecutor(dialect=dialect, timeout=30.0, cache_dir=str(cache_dir), sqlite_ties=sqlite_ties)
        batch = read_batch(
            None,
            texts,
            columns={"gold_sql": [g.sql for g in keep], "db_path": [str(g.db) for g in keep]},
            default_dialect=dialect,
        )
        engines = {batch.engine(i) for i in range(len(batch))}
        executed = executor.execute(batch)
        matched = 0
        for g, text, pred in zip(keep, texts, executed.preds, strict=True):
            ref = refs[id(g)]
            if pred.ok and compare(ref.table, pred.table, mode="spider", order_matters=gold_has_order_by(g.sql)):
                matched += 1
                continue
            if pred.ok:
                cause = "result differs"
            elif pred.error_kind == ErrorKind.TRANSPILE:
                cause = f"transpile {dialect} -> duckdb: {_error_class(pred.error)}"
            else:
                cause = f"DuckDB {pred.error_kind.value}: {_error_class(pred.error)}"
            causes[cause] += 1
            examples.setdefault(cause, f"{g.sql}  =>  {text}")
        executor.close()
        out[dialect] = {
            "golds": len(usable),
            "matched": matched,
            "engines": sorted(engines),
            "causes": dict(causes.most_common()),
            "examples": examples,
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--toy", action="store_true", help="the gold queries of sqlrl-toy (generated, no download)")
    ap.add_argument("--toy-split", default="dev")
    ap.add_argument("--text2sql-data", type=Path, default=None, help="a text2sql-data checkout")
    ap.add_argument("--spider", type=Path, default=None, help="a Spider folder (database/<db>/<db>.sqlite)")
    ap.add_argument("--spider-split", default="dev.json", help="the split file inside --spider")
    ap.add_argument("--dialects", default=",".join(DIALECTS))
    ap.add_argument("--sqlite-ties", action="store_true", help="DuckDB sandboxes with sqlite_ties=True")
    args = ap.parse_args()
    dialects = [d.strip() for d in args.dialects.split(",") if d.strip()]
    corpora: dict[str, list[Gold]] = {}
    tmp = Path(tempfile.mkdtemp(prefix="sqlrl-dialects-"))
    if args.toy or (args.text2sql_data is None and args.spider is None):
        corpora[f"sqlrl-toy ({args.toy_split})"] = load_toy(args.toy_split, tmp / "toy")
    if args.text2sql_data is not None:
        by = defaultdict(list)
        for g in load_text2sql_data(args.text2sql_data):
            by[g.corpus].append(g)
        corpora.update(by)
    if args.spider is not None:
        by = defaultdict(list)
        for g in load_spider(args.spider, args.spider_split):
            by[g.corpus].append(g)
        corpora.update(by)
    print("| corpus | dialect | golds | match | % | engine |")
    print("|---|---|---:|---:|---:|---|")
    details = []
    for name, golds in corpora.items():
        for dialect, r in measure(golds, dialects, tmp / "cache", args.sqlite_ties).items():
            pct = 100.0 * r["matched"] / max(r["golds"], 1)
            print(f"| {name} | {dialect} | {r['golds']} | {r['matched']} | {pct:.1f} | {', '.join(r['engines'])} |")
            for cause, n in r["causes"].items():
                details.append(f"- {name} / {dialect}: {n} x {cause}\n    e.g. {r['examples'][cause]}")
    print("\nFailures by cause:" if details else "\nNo failures.")
    print("\n".join(details))


if __name__ == "__main__":
    main()
