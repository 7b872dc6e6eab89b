"""Reward throughput for one GRPO batch (64 prompts x 16 completions) on sqlrl-toy: sqlrl's reward
functions against two baselines written the way public text-to-SQL RL code computes rewards.

The batch: 64 questions of sqlrl-toy's train split (seeded), 16 completions each, every completion
``<think>...</think>`` plus a fenced ``sql`` block holding the gold query or one of
``bench_eval.mutate``'s mutations of it (swapped columns, dropped condition, changed aggregate,
wrong table, DISTINCT, changed LIMIT, float cast, duplicated rows, syntax error), drawn with
repeats as a sampled group has them.

Timed end to end, completion texts in and one reward per completion out, best of ``--repeat`` runs
taken in turns:

- **PaVeRL-SQL style** (re-implemented here from the public ``accuracy_reward.py``; none of its
  code is copied): per completion, the last fenced ``sql`` block by regex, SQL shorter than 16
  characters scores 0; the query runs in a new thread on a new ``sqlite3`` connection and its rows
  become a pandas DataFrame; the gold result is read from its CSV file (twice, as the original
  does), compared by PaVeRL's pandas column matching (``official_style.paverl_acc``), and mapped
  to 0 / 0.5 / 10·acc. Gold CSVs are written once before timing, as PaVeRL prepares them offline.
- **Reasoning-SQL style**: per completion, the gold and the prediction each run in their own
  thread on a new connection (joined with the timeout), compared as BIRD row sets. A second row
  runs each gold only once per prompt.
- **sqlrl**: ``partial_reward("paverl", paper_mapping=True)`` against the first and
  ``execution_reward("bird")`` against the second (both ``empty_gold="allow"``, since the baselines
  have no empty-gold guard), then the ``stage1`` and ``stage2`` presets (all their functions in
  a row, as a GRPO step calls them). Each repeat uses a fresh executor whose sandboxes were opened
  by an earlier batch of other questions (the state of a training run after its first step) and
  whose memos hold none of this batch's queries.

Every sqlrl reward must equal its baseline's on every completion, or the run fails. Run from the
repository root:

    PYTHONPATH=src python benchmarks/bench_rewards.py --record
"""

from __future__ import annotations

import argparse
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import official_style  # noqa: E402
import pandas as pd  # noqa: E402
from _results import machine, record_section  # noqa: E402
from bench_eval import KINDS, mutate  # noqa: E402

from sqlrl.data import load_toy  # noqa: E402
from sqlrl.rewards import build_rewards, execution_reward, partial_reward  # noqa: E402
from sqlrl.rewards.batch import _extract  # noqa: E402  (the process-wide cache of extracted SQL)

SECTION = "Reward throughput (GRPO batch)"
PROMPTS, GROUP = 64, 16
_FENCE = re.compile(r"```sql\s*(.*?)\s*```", re.S)


# ---------------------------------------------------------------------------- the batch


def make_batch(root: Path, seed: int) -> tuple[dict, dict]:
    """The timed batch and a warm-up batch of other questions, mutated alike (a training step before: its
    sandboxes, threads and their connections open, none of its queries the timed batch's):
    ``{"prompts", "completions", columns}``."""
    rng = random.Random(seed)
    examples = list(load_toy("train", cache_dir=root))
    rng.shuffle(examples)
    tables: dict[str, list[str]] = {}
    for ex in examples:
        if ex.db_id not in tables:
            con = sqlite3.connect(ex.db_path)
            tables[ex.db_id] = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            con.close()

    def batch(chosen: list, mutated: bool) -> dict:
        out: dict = {"prompts": [], "completions": [], "gold_sql": [], "db_path": [], "db_id": [], "question": []}
        for ex in chosen:
            for _ in range(GROUP):
                sql = ex.gold_sql
                if mutated and rng.random() < 0.7:
                    sql = mutate(ex.gold_sql, rng.choice(KINDS), tables[ex.db_id], rng) or ex.gold_sql
                out["prompts"].append(ex.question)
                out["completions"].append(f"<think>The question asks about {ex.db_id}.</think>\n```sql\n{sql}\n```")
                out["gold_sql"].append(ex.gold_sql)
                out["db_path"].append(str(ex.db_path))
                out["db_id"].append(ex.db_id)
                out["question"].append(ex.question)
        return out

    return batch(examples[:PROMPTS], True), batch(examples[PROMPTS : 2 * PROMPTS], True)


def columns(batch: dict) -> dict:
    return {k: v for k, v in batch.items() if k not in ("prompts", "completions")}


# ---------------------------------------------------------------------------- baselines


class _QueryThread(threading.Thread):
    """One query on its own connection in its own thread (the pattern both baselines use)."""

    def __init__(self, sql: str, db: str, frame: bool) -> None:
        super().__init__(daemon=True)
        self.sql, self.db, self.frame = sql, db, frame
        self.result = None
        self.error: Exception | None = None

    def run(self) -> None:
        try:
            con = sqlite3.connect(self.db)
            con.text_factory = lambda b: b.decode(errors="ignore")
            cur = con.cursor()
            cur.execute(self.sql)
            rows = cur.fetchall()
            if self.frame:
                self.result = pd.DataFrame(rows, columns=[d[0] for d in cur.description])
            else:
                self.result = rows
            cur.close()
            con.close()
        except Exception as e:  # noqa: BLE001 - the reward turns any failure into 0
            self.error = e


def _run(sql: str, db: str, timeout: float, frame: bool):
    t = _QueryThread(sql, db, frame)
    t.start()
    t.join(timeout)
    if t.is_alive() or t.error is not None:
        return None
    return t.result


def paverl_style(batch: dict, gold_csv: dict[str, str], timeout: float) -> list[float]:
    """PaVeRL-SQL's reward, one completion at a time (see the module docs)."""
    out = []
    for text, gold, db in zip(batch["completions"], batch["gold_sql"], batch["db_path"], strict=True):
        blocks = _FENCE.findall(text)
        sql = blocks[-1].strip() if blocks else ""
        reward = 0.0
        try:
            if len(sql) >= 16:
                pred = _run(sql, db, timeout, frame=True)
                gold_df = pd.read_csv(gold_csv[gold])
                if pred is not None:
                    gold_df = pd.read_csv(gold_csv[gold])
                    acc = official_style.paverl_acc(gold_df, pred)
                    reward = 0.5 if acc == 0 else 10 * acc
        except Exception:  # noqa: BLE001 - as the original: any failure scores 0
            reward = 0.0
        out.append(reward)
    return out


def reasoning_sql_style(batch: dict, timeout: float, gold_once: bool = False) -> list[float]:
    """Thread-per-query execution reward with BIRD's row-set comparison (see the module docs)."""
    out = []
    golds: dict[tuple[str, str], object] = {}
    for text, gold, db in zip(batch["completions"], batch["gold_sql"], batch["db_path"], strict=True):
        blocks = _FENCE.findall(text)
        if not blocks:
            out.append(0.0)
            continue
        if gold_once:
            if (gold, db) not in golds:
                golds[(gold, db)] = _run(gold, db, timeout, frame=False)
            gold_rows = golds[(gold, db)]
        else:
            gold_rows = _run(gold, db, timeout, frame=False)
        pred_rows = _run(blocks[-1].strip(), db, timeout, frame=False)
        ok = gold_rows is not None and pred_rows is not None and set(pred_rows) == set(gold_rows)
        out.append(1.0 if ok else 0.0)
    return out


def write_gold_csvs(batch: dict, folder: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    for gold, db in zip(batch["gold_sql"], batch["db_path"], strict=True):
        if gold in out:
            continue
        con = sqlite3.connect(db)
        cur = con.execute(gold)
        frame = pd.DataFrame(cur.fetchall(), columns=[d[0] for d in cur.description])
        con.close()
        path = folder / f"gold_{len(out)}.csv"
        frame.to_csv(path, index=False)
        out[gold] = str(path)
    return out


# ---------------------------------------------------------------------------- timing


def _x(ratio: float) -> str:
    """A speed-up as text: whole numbers from 10x, one decimal below (0.5x, 8.5x)."""
    return f"{ratio:.0f}x" if ratio >= 10 else f"{ratio:.1f}x"


def timed(fn: Callable[[], list]) -> tuple[float, list]:
    t = time.perf_counter()
    values = fn()
    return time.perf_counter() - t, values


def ours(make: Callable[[], list], batch: dict, warm: dict) -> tuple[float, list]:
    """A fresh set of reward functions, warmed on other questions, then timed on the batch (the process's cache
    of extracted SQL emptied first: the batch's completions are new to it, as a training step's are)."""
    funcs = make()
    funcs[0](prompts=warm["prompts"], completions=warm["completions"], **columns(warm))
    _extract.cache_clear()
    t = time.perf_counter()
    values = [f(prompts=batch["prompts"], completions=batch["completions"], **columns(batch)) for f in funcs]
    seconds = time.perf_counter() - t
    funcs[0].executor.close()
    return seconds, values


def target_note(sampled: dict, unique: dict) -> str:
    """Which comparisons meet the 10x target, and why the others do not."""
    pairs = [
        (f"{batch} vs {base}", m[b] / m[o])
        for batch, m in (("as sampled", sampled), ("all distinct", unique))
        for base, b, o in (("PaVeRL", "paverl", "ours_p"), ("thread per query", "rsql", "ours_e"),
                           ("thread per query with gold once", "rsql1", "ours_e"))
    ]  # fmt: skip
    missed = [f"{name} ({x:.1f}x)" for name, x in pairs if x < 10]
    if not missed:
        return "The 10x target is met in every comparison."
    return (
        "The 10x target is met except " + ", ".join(missed) + f": with every query distinct, sqlrl runs all "
        f"{PROMPTS * GROUP + PROMPTS:,} queries (the completions' and the golds') and most of its time is SQLite "
        "executing them behind the sandbox's checks, while the baseline's own overhead (a thread and a connection "
        "per query) is under a millisecond per completion on these small databases, so there is less to save."
    )


def same_note(quirks: list[int], ours_values: list, base_values: list, batch: dict) -> str:
    if not quirks:
        return ""
    examples = "; ".join(
        f"`{_FENCE.findall(batch['completions'][i])[-1].strip()}` scores {ours_values[i]:g} in sqlrl, "
        f"{base_values[i]:g} in PaVeRL"
        for i in quirks[:2]
    )
    return (
        f" except {len(quirks)} PaVeRL reward(s) on predictions whose result has two columns of the same name: "
        "PaVeRL addresses pandas columns by name, so such a column stands for both and its comparison fails "
        f"into acc 0, while sqlrl matches columns by position ({examples})"
    )


def duplicate_column_names(batch: dict, i: int) -> bool:
    """Whether completion ``i``'s result has two columns of one name (PaVeRL's pandas frames then pick
    both columns where it means one, and its comparison fails into acc 0)."""
    blocks = _FENCE.findall(batch["completions"][i])
    try:
        con = sqlite3.connect(batch["db_path"][i])
        names = [d[0] for d in con.execute(blocks[-1].strip()).description]
        con.close()
    except Exception:  # noqa: BLE001
        return False
    return len(set(names)) < len(names)


def check_same(
    name: str, ours_values: list, base_values: list, batch: dict, explained=None, loose: bool = False
) -> list[int]:
    """Indices where the rewards differ only for a documented reason; any other difference fails the run
    (``loose``: is printed and returned too)."""
    diffs = [i for i, (a, b) in enumerate(zip(ours_values, base_values, strict=True)) if abs(a - b) > 1e-9]
    known = [i for i in diffs if explained is not None and explained(batch, i)]
    other = [i for i in diffs if i not in known]
    for i in other[:10]:
        print(f"  {name}: ours {ours_values[i]} vs baseline {base_values[i]}: {batch['completions'][i]!r}")
    if other and not loose:
        raise SystemExit(f"{name}: {len(other)} of {len(ours_values)} rewards differ from the baseline")
    return known + other if loose else known


def distinct_copy(batch: dict) -> dict:
    """The batch with a unique comment added to every query, so that no two completions share a query."""
    out = dict(batch)
    out["completions"] = [t.replace("\n```", f" /* {k} */\n```") for k, t in enumerate(batch["completions"])]
    return out


def measure(batch: dict, warm: dict, gold_csv: dict[str, str], args: argparse.Namespace) -> dict:
    """Every timing and every check on one batch. The variants take turns within each repeat, so that
    other work on the machine slows them alike; each keeps its best time."""

    engine = args.engine

    def paverl() -> list:
        return [partial_reward("paverl", paper_mapping=True, empty_gold="allow", timeout=args.timeout, engine=engine)]

    def bird() -> list:
        return [execution_reward("bird", empty_gold="allow", timeout=args.timeout, engine=engine)]

    variants: dict[str, Callable[[], tuple[float, list]]] = {
        "paverl": lambda: timed(lambda: paverl_style(batch, gold_csv, args.timeout)),
        "rsql": lambda: timed(lambda: reasoning_sql_style(batch, args.timeout)),
        "rsql1": lambda: timed(lambda: reasoning_sql_style(batch, args.timeout, gold_once=True)),
        "ours_p": lambda: ours(paverl, batch, warm),
        "ours_e": lambda: ours(bird, batch, warm),
        "stage1": lambda: ours(lambda: build_rewards("stage1", timeout=args.timeout, engine=engine)[0], batch, warm),
        "stage2": lambda: ours(lambda: build_rewards("stage2", timeout=args.timeout, engine=engine)[0], batch, warm),
    }
    times: dict[str, list[float]] = {name: [] for name in variants}
    values: dict[str, list] = {}
    for k in range(max(args.repeat, args.repeat_fast)):
        for name, run in variants.items():
            if name == "paverl" and k >= args.repeat:
                continue  # seconds per run: fewer repeats
            seconds, values[name] = run()
            times[name].append(seconds)
    m: dict = {name: min(t) for name, t in times.items()}
    m["median"] = {name: statistics.median(t) for name, t in times.items()}
    m["runs"] = {name: len(t) for name, t in times.items()}
    v_paverl, v_rsql, v_rsql1 = values["paverl"], values["rsql"], values["rsql1"]
    v_ours_p, v_ours_e = values["ours_p"][0], values["ours_e"][0]
    # On DuckDB (SQLite's data imported, SQLite-compat settings) a verdict may differ where SQLite's own does
    # not (ties under ORDER BY, see ENGINE_COMPAT.md): counted and printed instead of failing the run.
    loose = engine == "duckdb"
    m["quirks"] = check_same("paverl", v_ours_p, v_paverl, batch, explained=duplicate_column_names, loose=loose)
    m["engine_diffs"] = len(check_same("execution (bird)", v_ours_e, v_rsql, batch, loose=loose))
    check_same("execution (bird), gold once", v_ours_e, v_rsql1, batch, loose=loose)
    m["quirk_note"] = same_note(m["quirks"], v_ours_p, v_paverl, batch)
    n = len(batch["completions"])
    m["distinct"] = len(set(batch["completions"]))
    m["correct"] = sum(v == 1.0 for v in v_rsql) / n
    m["failed"] = sum(v == 0.0 for v in v_paverl) / n
    return m


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeat", type=int, default=5, help="runs of the PaVeRL-style baseline (seconds each)")
    ap.add_argument("--repeat-fast", type=int, default=15, help="runs of every other variant")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--timeout", type=float, default=5.0)
    ap.add_argument("--engine", choices=["sqlite", "duckdb"], default="sqlite", help="the engine of sqlrl's rewards")
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()
    load0 = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        batch, warm = make_batch(root, args.seed)
        gold_csv = write_gold_csvs(batch, root)
        n = len(batch["completions"])
        sampled = measure(batch, warm, gold_csv, args)
        unique = measure(distinct_copy(batch), warm, gold_csv, args)
    load1 = os.getloadavg()[0]

    def rows(m: dict, tag: str) -> list[str]:
        def row(label: str, key: str, base: str | None = None, base2: str | None = None) -> str:
            best, median = m[key], m["median"][key]
            speed = f"{m[base] / best:.1f}x" if base else "—"
            med = f"{m['median'][base] / median:.1f}x" if base else "—"
            if base2:
                speed += f" / {m[base2] / best:.1f}x"
                med += f" / {m['median'][base2] / median:.1f}x"
            return (
                f"| {tag} | {label} | {best * 1e3:,.1f} | {median * 1e3:,.1f} | {m['runs'][key]} | "
                f"{n / best:,.0f} | {speed} | {med} |"
            )

        return [
            row("PaVeRL-SQL style: thread + connection per query, pandas frames, gold CSV, column matching", "paverl"),
            row("sqlrl `partial_reward('paverl', paper_mapping=True)`", "ours_p", "paverl"),
            row("Reasoning-SQL style: thread + connection per query, gold re-run per completion, row sets", "rsql"),
            row("Reasoning-SQL style, gold run once per prompt", "rsql1"),
            row("sqlrl `execution_reward('bird')` (vs gold re-run / run once)", "ours_e", "rsql", "rsql1"),
            row("sqlrl preset `stage1`: partial table_f1, syntax, schema linking, format", "stage1"),
            row("sqlrl preset `stage2`: execution, format, length", "stage2"),
        ]

    s, u = sampled, unique
    duck = args.engine == "duckdb"
    section = f"{SECTION}, DuckDB engine" if duck else SECTION
    if duck:
        same = (
            f"The rewards equal the baselines' (which run on SQLite) on all {n} completions of both batches but "
            f"{s['engine_diffs']} (as sampled) and {u['engine_diffs']} (all distinct) execution verdicts, and "
            f"{len(s['quirks'])} / {len(u['quirks'])} PaVeRL rewards (duplicate column names, see the SQLite "
            "section, and DuckDB's verdicts: ENGINE_COMPAT.md)."
        )
        why = (
            "sqlrl's rewards run on DuckDB over the SQLite files' imported data with the SQLite-compat settings "
            "and rewrites; DuckDB spends 0.2-0.8 ms on each of these small queries (about 10x SQLite), so here "
            "sqlrl's time is mostly DuckDB's own, on 2 threads, and a ratio under 1x means sqlrl on DuckDB is slower "
            "than that baseline on SQLite."
        )
    else:
        same = (
            f"The rewards are identical to the baselines' on all {n} completions of both batches"
            f"{s['quirk_note']}. {target_note(s, u)}"
        )
        why = ""
    lines = [
        f"## {section}",
        "",
        f"On one GRPO batch of {PROMPTS} prompts x {GROUP} completions from sqlrl-toy, end to end, sqlrl's rewards "
        f"are **{_x(s['paverl'] / s['ours_p'])}** faster than a PaVeRL-SQL-style reward and "
        f"**{_x(s['rsql'] / s['ours_e'])}** faster than a Reasoning-SQL-style thread-per-query execution reward "
        f"({_x(s['rsql1'] / s['ours_e'])} when that baseline runs each gold once per prompt). With every "
        f"completion's query made distinct, so that nothing is run once for several completions: "
        f"{_x(u['paverl'] / u['ours_p'])}, {_x(u['rsql'] / u['ours_e'])} and {_x(u['rsql1'] / u['ours_e'])}. "
        f"{same} {why}".rstrip(),
        "",
        "Reproduce (repository root, after `python setup.py build_ext --inplace`):",
        "",
        f"    PYTHONPATH=src python benchmarks/bench_rewards.py{' --engine duckdb' if duck else ''} --record",
        "",
        f"Machine: {machine('pandas ' + pd.__version__)}. The variants take turns, {args.repeat_fast} runs each "
        f"({args.repeat} of the PaVeRL-style baseline); speedups from the best runs, and in the last column from "
        "the medians. 1-minute "
        f"load average {load0:.2f} before, {load1:.2f} after: the machine is shared, and the thread-per-query "
        f"baselines' times swing most with the load. {'DuckDB' if duck else 'SQLite'} engine, query timeout "
        f"{args.timeout:g} s, sqlrl's default workers ("
        + (
            "automatic: one thread while queries take under 0.1 ms)."
            if duck
            else "the cores: each database's queries in parts of at least 32, each part one call of the core's reader "
            "without the GIL)."
        ),
        "",
        f"Batch *as sampled*: {n} completions, {s['distinct']} distinct; {s['correct']:.0%} match their gold "
        f"(BIRD sets), {s['failed']:.0%} score 0 under PaVeRL's mapping (not executable). Each completion is "
        "the gold query (30%) or a sqlglot mutation of it (`bench_eval.mutate`), fenced after a `<think>` block. "
        f"Batch *all distinct*: the same with a unique `/* k */` comment in every query ({u['distinct']} distinct).",
        "",
        "| batch | reward | best ms per batch | median ms | runs | completions/s (best) | speedup (best) "
        "| speedup (median) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
        *rows(s, "as sampled"),
        *rows(u, "all distinct"),
        "",
        "sqlrl runs each distinct query of the batch once (predictions repeat within a group, and a prediction "
        "equal to its gold reuses the gold's run), on pooled read-only connections, and scores all pairs in one "
        "call of the compiled core; the functions of a preset share those executions. The stage1 preset is "
        "dominated by schema linking (sqlglot resolves each distinct query against the schema, a few ms each).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        record_section(section, text)


if __name__ == "__main__":
    main()
