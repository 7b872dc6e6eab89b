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
  ``answer(fixed)``; when the draft ran, ``answer(draft)``. The repair reads only the tools' outputs;
- *single-turn, k drafts*: the explorer's generated tokens spent without a tool: ``k`` drafts per episode
  (drawn as above, independently), the most frequent one answered (self-consistency; ties: the first), ``k``
  chosen so that its tokens per episode reach the explorer's.

Generated tokens: the assistant turns a model would write for each policy's calls (``<tool_call>`` JSON as
:mod:`sqlrl.env.template` renders it, and ``<|im_end|>``), in a byte-level BPE tokenizer trained on the
questions and gold queries (:func:`sqlrl.models.tiny.train_tokenizer`, the tiny model's). Tool outputs are
read, not generated, and not counted.

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
import json
import math
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


def call(name: str, **arguments: str) -> str:
    """The assistant turn a model generates for one tool call (the tool-calling template's text)."""
    return f'<tool_call>\n{{"name": "{name}", "arguments": {json.dumps(arguments)}}}\n</tool_call><|im_end|>'


def single_turn(env, drafts: list[str]) -> tuple[list[str], bool]:
    """``answer`` the first draft. Returns the generated turns and whether an exploratory query failed."""
    env.answer(drafts[0])
    return [call("answer", sql=drafts[0])], False


def voter(env, drafts: list[str]) -> tuple[list[str], bool]:
    """Write every draft, ``answer`` the most frequent (ties: the first written)."""
    counts: dict[str, int] = {}
    for d in drafts:
        counts[" ".join(d.split())] = counts.get(" ".join(d.split()), 0) + 1
    best = max(drafts, key=lambda d: counts[" ".join(d.split())])  # max keeps the first of equal counts
    env.answer(best)
    return [call("answer", sql=d) for d in drafts], False


def explorer(env, drafts: list[str]) -> tuple[list[str], bool]:
    draft = drafts[0]
    turns = [call("run_query", sql=draft)]
    out = env.run_query(draft)
    m = _NO_TABLE.search(out) if out.startswith("error") else None
    if m is None:
        env.answer(draft)
        return [*turns, call("answer", sql=draft)], out.startswith("error")
    turns.append(call("list_tables"))
    listing = env.list_tables()
    names = [line.split(" (")[0] for line in listing.splitlines()[1:]]
    close = difflib.get_close_matches(m.group(1), names, n=1, cutoff=0.5)
    fixed = re.sub(rf"\b{re.escape(m.group(1))}\b", close[0], draft) if close else draft
    env.run_query(fixed)
    env.answer(fixed)
    return [*turns, call("run_query", sql=fixed), call("answer", sql=fixed)], True


def run(policy, rows, drafts, args, reward, weights, count_tokens, k: int = 1) -> dict:
    """One policy over every pass and batch; ``drafts[pass][episode]`` is a list of ``(kind, sql)``, of which
    the policy reads the first ``k``."""
    config = EnvConfig(tool_help=False, max_turns=6)
    make = environment_factory(config)
    funcs, _ = episode_rewards(reward, weights, config)
    g, per = args.generations, args.batch_prompts * args.generations
    pool = [make() for _ in range(per)]
    batches = []
    scores: list[float] = []
    calls = tokens = 0
    failed: list[bool] = []  # per episode: an exploratory query failed
    for p in range(args.passes):
        for start in range(0, len(rows), args.batch_prompts):
            batch = [r for r in rows[start : start + args.batch_prompts] for _ in range(g)]
            ds = drafts[p][start * g : start * g + len(batch)]
            envs = pool[: len(batch)]
            t0 = time.perf_counter()
            turns = []
            for env, row, options in zip(envs, batch, ds, strict=True):
                env.reset(db_path=row["db_path"])
                written, fail = policy(env, [sql for _, sql in options[:k]])
                turns.append(written)
                failed.append(fail)
            completions = [[{"role": "assistant", "content": ""}] for _ in batch]
            out = funcs[0](prompts=[r["question"] for r in batch], completions=completions, environments=envs,
                           gold_sql=[r["gold_sql"] for r in batch], db_path=[r["db_path"] for r in batch])  # fmt: skip
            batches.append(time.perf_counter() - t0)
            scores += [float(x or 0.0) for x in out]
            calls += sum(e.episode["tool_calls"] for e in envs)
            tokens += sum(count_tokens(t) for written in turns for t in written)
    episodes = len(scores)
    total = sum(batches)
    stats = make.service.stats
    make.service.close()
    first = batches[: len(batches) // args.passes]
    return {
        "episodes": episodes, "seconds": total, "eps": episodes / total, "calls": calls / episodes,
        "ms_call": 1e3 * total / max(calls, 1), "ms_batch": 1e3 * sorted(batches)[len(batches) // 2],
        "eps_cold": len(first) * per / sum(first), "ex": sum(scores) / episodes, "executed": stats["executed"],
        "memo_hits": stats["memo_hits"], "tokens": tokens / episodes, "failed": sum(failed) / episodes,
        "fixed": sum(s for s, f in zip(scores, failed, strict=True) if f) / max(sum(failed), 1),
    }  # fmt: skip


def token_counter(rows: list[dict]):
    """Tokens of a generated text in a byte-level BPE trained on the workload's questions and gold queries."""
    from sqlrl.models.tiny import train_tokenizer

    texts = [r["question"] for r in rows] + [r["gold_sql"] for r in rows]
    tok = train_tokenizer(texts, vocab_size=2000)
    return lambda text: len(tok(text, add_special_tokens=False)["input_ids"])


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
    drafts = [[[draft_for(r["gold_sql"], tables[r["db_path"]], rng, args.p_err, args.p_wrong)]
               for r in rows for _ in range(args.generations)] for _ in range(args.passes)]  # fmt: skip
    kinds = {k: sum(d[0][0] == k for d in drafts[0]) / len(drafts[0]) for k in ("gold", "broken", "wrong")}
    count_tokens = token_counter(rows)
    load_before = os.getloadavg()[0]
    results = {}

    def play(name: str, policy, k: int = 1) -> None:
        reward, weights = build_rewards([{"name": "execution", "weight": 1.0}], timeout=5.0)
        results[name] = run(policy, rows, drafts, args, reward, weights, count_tokens, k)

    play("single-turn", single_turn)
    play("explorer", explorer)
    # the explorer's tokens spent on more single-turn drafts: the first draft is the one the others played
    k = max(2, math.ceil(results["explorer"]["tokens"] / results["single-turn"]["tokens"]))
    for passes in drafts:
        for i, options in enumerate(passes):
            row = rows[i // args.generations]
            options += [draft_for(row["gold_sql"], tables[row["db_path"]], rng, args.p_err, args.p_wrong)
                        for _ in range(k - 1)]  # fmt: skip
    voted = f"single-turn, {k} drafts voted"
    play(voted, voter, k)
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
        "| tool queries run | tool memo hits | generated tokens per episode | EX of the final answer |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, r in results.items():
        lines.append(f"| {name} | {r['eps']:,.0f} | {r['eps_cold']:,.0f} | {r['calls']:.2f} | {r['ms_call']:.2f} | "
                     f"{r['ms_batch']:.1f} | {r['executed']:,} | {r['memo_hits']:,} | {r['tokens']:.1f} | "
                     f"{r['ex']:.3f} |")  # fmt: skip
    ex = results["explorer"]
    gain = ex["ex"] - results["single-turn"]["ex"]
    lines += [
        "",
        f"The explorer's EX is {gain:+.3f} above single-turn on the same drafts: it repairs the drafts whose error "
        "names a table (from list_tables' output alone) and cannot notice the mutations that run, which is the "
        f"share it leaves ({kinds['wrong']:.0%} wrong drafts). In {ex['failed']:.1%} of its episodes the exploratory "
        f"query failed; {ex['fixed']:.1%} of those episodes end with a right answer (a broken draft is its gold "
        "with one table misspelt, which the names list_tables gives repair). At equal generated tokens "
        f"({results[voted]['tokens']:.1f} per episode against the explorer's {ex['tokens']:.1f}), single-turn "
        f"writing {k} drafts and answering the most frequent reaches {results[voted]['ex']:.3f} "
        f"({results[voted]['ex'] - ex['ex']:+.3f} against the explorer): a vote helps where drafts agree on the "
        "gold, but without running them it cannot tell a draft that fails from one that runs. The drafts are "
        "independent draws, where a model's samples are not. This "
        "measures the environment and what reading a tool error can buy; it is not a trained model's result.",
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
