"""SQLite vs DuckDB (``sqlite_compat``) verdicts on public SQLite benchmark databases that you supply.

``engine_compat.py`` measures hand-written queries on generated demo databases; this script runs
real gold queries on real databases. Nothing is downloaded: pass the paths of data you fetched.

- ``--text2sql-data DIR``: a checkout of github.com/jkkummerfeld/text2sql-data (its root or its
  ``data/`` folder). Every ``data/<name>.json`` with a ``data/<name>-db.added-in-2020.sqlite`` next
  to it is used (in the upstream repository: geography, restaurants, advising, atis). Each entry's
  ``sql`` texts are gold queries; their variables (``"state_name0"``) are filled with the values of
  the entry's first sentence (else the variable's ``example``).
- ``--spider DIR``: a Spider folder with ``database/<db_id>/<db_id>.sqlite`` and ``dev.json`` (or
  ``--spider-split`` another split file); each item's ``query`` is a gold query. Databases that are
  missing are skipped.

For every gold query the predictions are the other ``sql`` texts of the same entry (text2sql-data
lists equivalent variants) and ``bench_eval.mutate``'s mutations of the gold (swapped columns,
dropped condition, changed aggregate, wrong table, DISTINCT, changed LIMIT, float cast, UNION ALL,
syntax error). Each (gold, prediction) pair gets a Spider execution-match verdict (both run, results
equal under ``sqlrl.scoring.compare`` mode ``spider``, row order compared when the gold has
``ORDER BY``) on SQLite (the reference the official scripts use) and on DuckDB with the data imported
from the same SQLite file (``Sandbox(path, engine="duckdb")``, ``sqlite_compat`` on). The script
prints how many verdicts differ, grouped by cause (the DuckDB or SQLite error, or the kind of result
difference), and the same for the gold queries themselves. Run::

    PYTHONPATH=src python benchmarks/engine_compat_corpus.py --text2sql-data /path/to/text2sql-data \\
        [--spider /path/to/spider] [--examples 3] [--seed 0]

Recorded numbers: ``ENGINE_COMPAT.md``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sqlite3
import sys
import tempfile
import time
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_eval import KINDS, mutate  # noqa: E402

from sqlrl.sandbox import ExecResult, Sandbox  # noqa: E402


@dataclass
class Gold:
    corpus: str
    db: Path
    sql: str
    variants: list[str]  # other gold texts of the same question


def _fill(sql: str, values: dict[str, str]) -> str:
    """Replace text2sql-data's variable names (whole words) by their values, longest name first."""
    for name in sorted(values, key=len, reverse=True):
        sql = re.sub(rf"(?<![\w$]){re.escape(name)}(?![\w$])", lambda _m, v=values[name]: v, sql)
    return sql


def load_text2sql_data(root: Path) -> list[Gold]:
    data = root / "data" if (root / "data").is_dir() else root
    golds = []
    for db in sorted(data.glob("*-db.added-in-2020.sqlite")):
        name = db.name.split("-db.")[0]
        questions = data / f"{name}.json"
        if not questions.exists():
            continue
        for entry in json.loads(questions.read_text()):
            values = {v["name"]: v.get("example", "") for v in entry.get("variables", [])}
            sentences = entry.get("sentences") or []
            if sentences:
                values.update(sentences[0].get("variables") or {})
            texts = list(dict.fromkeys(_fill(s, values) for s in entry["sql"]))
            for i, sql in enumerate(texts):
                golds.append(Gold(f"text2sql-data/{name}", db, sql, texts[:i] + texts[i + 1 :]))
    return golds


def load_spider(root: Path, split: str) -> list[Gold]:
    items = json.loads((root / split).read_text())
    golds = []
    for item in items:
        db = root / "database" / item["db_id"] / f"{item['db_id']}.sqlite"
        if db.exists():
            golds.append(Gold(f"spider/{item['db_id']}", db, item["query"], []))
    return golds


def _tables(db: Path) -> list[str]:
    con = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        return [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
    finally:
        con.close()


def _same(gold: ExecResult, pred: ExecResult, ordered: bool) -> bool:
    from sqlrl.scoring import compare

    return bool(compare(gold.table, pred.table, mode="spider", order_matters=ordered))


def _match(gold: ExecResult, pred: ExecResult, ordered: bool) -> bool:
    return gold.ok and pred.ok and _same(gold, pred, ordered)


def _error_cause(error: str) -> str:
    """A short, stable name for an engine error (numbers, names and quoted text removed)."""
    line = error.splitlines()[0]
    if "Referenced column" in line and "not found" in line:
        return "Binder Error: Referenced column ... not found"
    if "explicit cast" in line or "Cannot compare values of type" in line or "Could not convert" in line:
        return "text compared with a number (" + line.split(":")[0] + ")"
    if "must appear in the GROUP BY" in line:
        return "bare column (GROUP BY)"
    line = re.sub(r'"[^"]*"|\'[^\']*\'', "…", line)
    return re.sub(r"\d+", "N", line)[:90]


def cause(gold_ref: ExecResult, pred_ref: ExecResult, gold_duck: ExecResult, pred_duck: ExecResult) -> str:
    """Why one pair's verdict differs between the engines."""
    for side, ref, duck in (("gold", gold_ref, gold_duck), ("prediction", pred_ref, pred_duck)):
        if ref.ok and not duck.ok:
            return f"{side} fails only on DuckDB: {_error_cause(duck.error)}"
        if duck.ok and not ref.ok:
            return f"{side} fails only on SQLite: {_error_cause(ref.error)}"
    for side, ref, duck in (("gold", gold_ref, gold_duck), ("prediction", pred_ref, pred_duck)):
        if ref.ok and duck.ok and not _same(ref, duck, False):
            return f"{side} result differs between the engines"
    return "row order differs (ties under ORDER BY, or no ORDER BY)"


def run(golds: list[Gold], seed: int, examples: int, cache_dir: Path, sqlite_ties: bool = False) -> dict:
    rng = random.Random(seed)
    sandboxes: dict[Path, tuple[Sandbox, Sandbox]] = {}
    tables: dict[Path, list[str]] = {}
    pairs = 0
    pairs_gold_ok = 0  # pairs whose gold runs on SQLite (the ones a reward can score)
    diff_gold_ok = 0
    pair_causes: Counter[str] = Counter()
    gold_causes: Counter[str] = Counter()
    shown: dict[str, list[str]] = defaultdict(list)
    by_corpus: Counter[str] = Counter()
    flips = Counter()  # (sqlite verdict, duckdb verdict)
    t_sqlite = t_duck = 0.0
    try:
        for g in golds:
            if g.db not in sandboxes:
                sandboxes[g.db] = (
                    Sandbox(g.db, engine="sqlite", timeout=20.0),
                    Sandbox(g.db, engine="duckdb", timeout=20.0, cache_dir=cache_dir, sqlite_ties=sqlite_ties),
                )
                tables[g.db] = _tables(g.db)
            lite, duck = sandboxes[g.db]
            preds = list(g.variants)
            for kind in KINDS:
                m = mutate(g.sql, kind, tables[g.db], rng)
                if m is not None and m != g.sql:
                    preds.append(m)
            t0 = time.perf_counter()
            gold_ref = lite.execute_gold(g.sql)
            preds_ref = [lite.execute(p) for p in preds]
            t1 = time.perf_counter()
            gold_duck = duck.execute_gold(g.sql)
            preds_duck = [duck.execute(p) for p in preds]
            t_sqlite += t1 - t0
            t_duck += time.perf_counter() - t1
            if not gold_ref.ok or not gold_duck.ok or not _same(gold_ref, gold_duck, "order by" in g.sql.lower()):
                why = cause(gold_ref, gold_ref, gold_duck, gold_duck) if gold_ref.ok != gold_duck.ok else None
                if why is None and gold_ref.ok:
                    why = (
                        "gold result differs between the engines"
                        if not _same(gold_ref, gold_duck, False)
                        else "gold row order differs"
                    )
                if why is not None:
                    gold_causes[why] += 1
                    if len(shown[f"gold: {why}"]) < examples:
                        shown[f"gold: {why}"].append(f"{g.corpus}: {g.sql}")
            ordered = "order by" in g.sql.lower()
            for p, pr, pd in zip(preds, preds_ref, preds_duck, strict=True):
                pairs += 1
                pairs_gold_ok += gold_ref.ok
                v_ref, v_duck = _match(gold_ref, pr, ordered), _match(gold_duck, pd, ordered)
                if v_ref != v_duck:
                    diff_gold_ok += gold_ref.ok
                    why = cause(gold_ref, pr, gold_duck, pd)
                    pair_causes[why] += 1
                    by_corpus[g.corpus] += 1
                    flips[(v_ref, v_duck)] += 1
                    if len(shown[why]) < examples:
                        shown[why].append(f"{g.corpus}: gold {g.sql}\n        pred {p}")
    finally:
        for pair in sandboxes.values():
            for sb in pair:
                sb.close()
    return dict(
        golds=len(golds),
        pairs=pairs,
        pairs_gold_ok=pairs_gold_ok,
        diff_gold_ok=diff_gold_ok,
        pair_causes=pair_causes,
        gold_causes=gold_causes,
        by_corpus=by_corpus,
        flips=flips,
        shown=shown,
        seconds=(t_sqlite, t_duck),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--text2sql-data", type=Path, help="a checkout of jkkummerfeld/text2sql-data")
    parser.add_argument("--spider", type=Path, help="a Spider folder (database/<db>/<db>.sqlite and a split file)")
    parser.add_argument("--spider-split", default="dev.json")
    parser.add_argument("--seed", type=int, default=0, help="seed of the mutations")
    parser.add_argument("--examples", type=int, default=2, help="examples printed per cause")
    parser.add_argument("--sqlite-ties", action="store_true", help="DuckDB sandboxes with sqlite_ties=True")
    args = parser.parse_args()
    golds: list[Gold] = []
    if args.text2sql_data:
        golds += load_text2sql_data(args.text2sql_data)
    if args.spider:
        golds += load_spider(args.spider, args.spider_split)
    if not golds:
        parser.error("no gold queries: pass --text2sql-data and/or --spider (paths to data you fetched)")
    import duckdb

    corpora = Counter(g.corpus for g in golds)
    print(f"DuckDB {duckdb.__version__}, SQLite {sqlite3.sqlite_version}, sqlite_ties={args.sqlite_ties}")
    print("gold queries: " + ", ".join(f"{c} {n}" for c, n in sorted(corpora.items())))
    with tempfile.TemporaryDirectory() as tmp:
        r = run(golds, args.seed, args.examples, Path(tmp), args.sqlite_ties)
    n_diff = sum(r["pair_causes"].values())
    print(f"\n(gold, prediction) pairs: {r['pairs']}; verdict differs on {n_diff}")
    ok, dok = r["pairs_gold_ok"], r["diff_gold_ok"]
    if ok:
        print(f"  pairs whose gold runs on SQLite: {ok}; same verdict on {ok - dok} ({100 * (ok - dok) / ok:.2f}%)")
    for (a, b), n in sorted(r["flips"].items()):
        print(f"  sqlite={int(a)} duckdb={int(b)}: {n}")
    for c, n in sorted(r["by_corpus"].items()):
        print(f"  {c}: {n}")
    print("\nby cause:")
    for why, n in r["pair_causes"].most_common():
        print(f"  {n:5d}  {why}")
    print(f"\ngold queries whose result differs between the engines: {sum(r['gold_causes'].values())} / {r['golds']}")
    for why, n in r["gold_causes"].most_common():
        print(f"  {n:5d}  {why}")
    t_sqlite, t_duck = r["seconds"]
    print(f"\nwall time: SQLite {t_sqlite:.2f} s, DuckDB {t_duck:.2f} s (one thread, first runs included)")
    if args.examples:
        print("\nexamples:")
        for why, lines in r["shown"].items():
            print(f"## {why}")
            for line in lines:
                print(f"    {line}")


if __name__ == "__main__":
    main()
