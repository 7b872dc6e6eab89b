"""Interactive episodes at the GRPO batch shape, with scripted policies: how fast the environment runs, and
what exploring buys a policy that can read a tool's error.

Workload: the first ``--prompts`` questions of sqlrl-toy train, in GRPO batches of ``--batch-prompts``
prompts x ``--generations`` episodes (the quickstart's 16 x 4). Every episode gets a *draft* query drawn
with a seeded RNG: the gold query (probability 1 - p_err - p_wrong), a *broken* draft (a table name
misspelt: one letter dropped or an ``s`` added, probability ``--p-err``: the draft fails with "no such
table"), or a *wrong* draft (a sqlglot mutation of the gold that runs but answers something else,
``--p-wrong``: :func:`sqlrl.sql.mutate.mutations`). Two scripted policies play the same drafts:

- *single-turn*: ``answer(draft)`` at once (the environment's floor: one call, the reward);
- *explorer*: ``run_query(draft)``; when it fails with an unknown table, ``list_tables``, the closest table
  name by difflib to the one in the error replaces it, ``run_query(fixed)`` checks it, then
  ``answer(fixed)``; when the draft ran, ``answer(draft)``. The repair reads only the tools' outputs.

Timed per batch, as TRL runs it: environments drawn from one factory (shared execution service and memo),
``reset`` per episode, the tool calls one after another, then the execution reward of the final answers
through :func:`sqlrl.env.episode_rewards` (the same reward objects across batches, as in a stage). Model
generation is not included: these are the environment's own costs. The first pass over the prompts runs
with cold memos; ``--passes`` > 1 repeats the prompts (a second epoch: gold and repeated queries hit the memo).

    PYTHONPATH=src python benchmarks/bench_env.py --record
"""

from __future__ import annotations

import argparse
import difflib
import os
import random
import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import machine, record_section  # noqa: E402

from sqlrl.data import load_toy  # noqa: E402
from sqlrl.env import EnvConfig, environment_factory, episode_rewards  # noqa: E402
from sqlrl.rewards import build_rewards  # noqa: E402
from sqlrl.sql.mutate import mutations  # noqa: E402

_NO_TABLE = re.compile(r"no such table: (\w+)", re.IGNORECASE)


def draft_for(gold: str, tables: list[str], rng: random.Random, p_err: float, p_wrong: float) -> tuple[str, str]:
    """``(kind, sql)``: the gold, a broken draft (a misspelt table) or a wrong one (a mutation)."""
    x = rng.random()
    if x < p_err:
        used = [t for t in tables if re.search(rf"\b{re.escape(t)}\b", gold, re.IGNORECASE)]
        if used:
            t = rng.choice(used)
            bad = t + "s" if rng.random() < 0.5 or len(t) < 4 else t[:-2] + t[-1]
            return "broken", re.sub(rf"\b{re.escape(t)}\b", bad, gold, count=1, flags=re.IGNORECASE)
    elif x < p_err + p_wrong:
        muts = [m for _, m in mutations(gold)]
        if muts:
            return "wrong", rng.choice(muts)
    return "gold", gold


def single_turn(env, draft: str) -> None:
    env.answer(draft)


def explorer(env, draft: str) -> None:
    out = env.run_query(draft)
    m = _NO_TABLE.search(out) if out.startswith("error") else None
    if m is None:
        env.answer(draft)
        return
    listing = env.list_tables()
    names = [line.split(" (")[0] for line in listing.splitlines()[1:]]
    close = difflib.get_close_matches(m.group(1), names, n=1, cutoff=0.5)
    fixed = re.sub(rf"\b{re.escape(m.group(1))}\b", close[0], draft) if close else draft
    env.run_query(fixed)
    env.answer(fixed)


def run(policy, rows, drafts, args, reward, weights) -> dict:
    config = EnvConfig(tool_help=False, max_turns=6)
    make = environment_factory(config)
    funcs, _ = episode_rewards(reward, weights, config)
    g, per = args.generations, args.batch_prompts * args.generations
    pool = [make() for _ in range(per)]
    batches = []
    scores: list[float] = []
    calls = 0
    for p in range(args.passes):
        for start in range(0, len(rows), args.batch_prompts):
            batch = [r for r in rows[start : start + args.batch_prompts] for _ in range(g)]
            ds = drafts[p][start * g : start * g + len(batch)]
            envs = pool[: len(batch)]
            t0 = time.perf_counter()
            for env, row, (_, sql) in zip(envs, batch, ds, strict=True):
                env.reset(db_path=row["db_path"])
                policy(env, sql)
            completions = [[{"role": "assistant", "content": ""}] for _ in batch]
            out = funcs[0](prompts=[r["question"] for r in batch], completions=completions, environments=envs,
                           gold_sql=[r["gold_sql"] for r in batch], db_path=[r["db_path"] for r in batch])  # fmt: skip
            batches.append(time.perf_counter() - t0)
            scores += [float(x or 0.0) for x in out]
            calls += sum(e.episode["tool_calls"] for e in envs)
    episodes = len(scores)
    total = sum(batches)
    stats = make.service.stats
    make.service.close()
    first = batches[: len(batches) // args.passes]
    return {
        "episodes": episodes, "seconds": total, "eps": episodes / total, "calls": calls / episodes,
        "ms_call": 1e3 * total / max(calls, 1), "ms_batch": 1e3 * sorted(batches)[len(batches) // 2],
        "eps_cold": len(first) * per / sum(first), "ex": sum(scores) / episodes, "executed": stats["executed"],
        "memo_hits": stats["memo_hits"],
    }  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--prompts", type=int, default=256)
    ap.add_argument("--batch-prompts", type=int, default=16)
    ap.add_argument("--generations", type=int, default=4)
    ap.add_argument("--passes", type=int, default=2)
    ap.add_argument("--p-err", type=float, default=0.3)
    ap.add_argument("--p-wrong", type=float, default=0.2)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--record", action="store_true", help="write the section of benchmarks/RESULTS.md")
    args = ap.parse_args()

    examples = list(load_toy("train"))[: args.prompts]
    from sqlrl.sql.schema import DbSchema

    tables = {}
    rows = []
    for ex in examples:
        db = str(ex.db_path)
        if db not in tables:
            tables[db] = list(DbSchema.from_database(db).tables)
        rows.append({"question": ex.question, "gold_sql": ex.gold_sql, "db_path": db})
    rng = random.Random(args.seed)
    drafts = [[draft_for(r["gold_sql"], tables[r["db_path"]], rng, args.p_err, args.p_wrong)
               for r in rows for _ in range(args.generations)] for _ in range(args.passes)]  # fmt: skip
    kinds = {k: sum(d[0] == k for d in drafts[0]) / len(drafts[0]) for k in ("gold", "broken", "wrong")}
    load_before = os.getloadavg()[0]
    results = {}
    for name, policy in (("single-turn", single_turn), ("explorer", explorer)):
        reward, weights = build_rewards([{"name": "execution", "weight": 1.0}], timeout=5.0)
        results[name] = run(policy, rows, drafts, args, reward, weights)
    load_after = os.getloadavg()[0]

    shape = f"{args.batch_prompts} prompts x {args.generations} episodes"
    lines = [
        "## Interactive episodes: environment throughput and a scripted explorer",
        "",
        f"Scripted policies on sqlrl-toy train ({len(rows)} questions x {args.generations} episodes x {args.passes} "
        f"passes, GRPO batches of {shape}); drafts: {kinds['gold']:.0%} gold, {kinds['broken']:.0%} with a misspelt "
        f"table (fail to run), {kinds['wrong']:.0%} a mutation that runs and answers wrong. Times are the "
        "environment's own (resets, tool calls, truncated rendering, the execution reward of the final answers), "
        "no model generation. *cold*: the first pass, before any memo hit.",
        "",
        "| policy | episodes/s | episodes/s, cold | tool calls per episode | ms per tool call | ms per batch (median) "
        "| tool queries run | tool memo hits | EX of the final answer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['eps']:,.0f} | {r['eps_cold']:,.0f} | {r['calls']:.2f} | {r['ms_call']:.2f} | "
                     f"{r['ms_batch']:.1f} | {r['executed']:,} | {r['memo_hits']:,} | {r['ex']:.3f} |")  # fmt: skip
    gain = results["explorer"]["ex"] - results["single-turn"]["ex"]
    lines += [
        "",
        f"The explorer's EX is {gain:+.3f} above single-turn on the same drafts: it repairs the drafts whose error "
        "names a table (from list_tables' output alone) and cannot notice the mutations that run, which is the "
        f"share it leaves ({kinds['wrong']:.0%} wrong drafts). This measures the environment and what reading a tool "
        "error can buy; it is not a trained model's result.",
        "",
        "    PYTHONPATH=src python benchmarks/bench_env.py --record",
        "",
        f"Machine: {machine()}; 1-minute load average {load_before:.2f} before the run and {load_after:.2f} after "
        "(other processes shared the 2 cores).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        record_section("Interactive episodes", text)


if __name__ == "__main__":
    main()
