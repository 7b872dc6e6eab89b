"""The ray backend on a local two-process Ray cluster against the in-process executor (opt-in: needs Ray).

- **Rewards**: bench_rewards.py's GRPO batch (64 sqlrl-toy questions x 16 completions, each the gold
  or a mutation of it; *all distinct*: a unique comment in every query, so nothing is shared) scored
  by ``build_rewards([execution, partial paverl])`` as TRL calls it, both functions one after the
  other, in-process (``backend="local"``) and on two Ray actors (``backend="ray", ray_actors=2``,
  after ``ray.init(num_cpus=2)``: two worker processes, one CPU each). Per backend one executor,
  warmed by a batch of other questions (sandboxes open, actors started: a training run after its
  first step); before every timed batch its memos are cleared, so every query of the batch runs.
  The two backends take turns in each repeat and keep their best time. Scores must be identical.
- **Evaluation**: ``evaluate_spider`` (execution, test-suite semantics) on sqlrl-toy's dev split with
  a mutated prediction per question, in-process and on the two actors; verdicts must be identical.

Run from the repository root in an environment with Ray (``pip install 'sqlrl[ray]'``), e.g.:

    PYTHONPATH=src python benchmarks/bench_ray.py [--repeat 5] [--record]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _results import machine, record_section  # noqa: E402
from bench_eval import KINDS, mutate  # noqa: E402
from bench_rewards import columns, distinct_copy, make_batch  # noqa: E402

from sqlrl.data.toy import build_toy  # noqa: E402
from sqlrl.data.toy.load import toy_dir  # noqa: E402
from sqlrl.eval.spider import evaluate_spider  # noqa: E402
from sqlrl.rewards import build_rewards  # noqa: E402

SECTION = "Ray backend (local two-process cluster)"
SPEC = [{"name": "execution"}, {"name": "partial", "metric": "paverl"}]


def score(funcs: list, batch: dict) -> tuple[float, list[list[float | None]]]:
    funcs[0].executor.clear()  # every query of the batch runs: no memo from the last repeat
    cols = columns(batch)
    t = time.perf_counter()
    out = [f(prompts=batch["prompts"], completions=batch["completions"], **cols) for f in funcs]
    return time.perf_counter() - t, out


def spider_files(root: Path, seed: int) -> tuple[Path, Path, Path, Path]:
    """sqlrl-toy dev: its gold file, a prediction file (gold or a mutation per question), databases, tables."""
    import sqlite3

    paths = build_toy(toy_dir(root))
    rng = random.Random(seed)
    preds = []
    tables: dict[str, list[str]] = {}
    for line in paths.dev_gold.read_text().splitlines():
        if not line.strip():
            continue
        sql, db_id = line.rsplit("\t", 1)
        if db_id not in tables:
            con = sqlite3.connect(paths.database_dir / db_id / f"{db_id}.sqlite")
            tables[db_id] = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            con.close()
        if rng.random() < 0.6:
            sql = mutate(sql, rng.choice(KINDS), tables[db_id], rng) or sql
        preds.append(" ".join(sql.split()))
    pred = root / "pred.sql"
    pred.write_text("\n".join(preds) + "\n")
    return paths.dev_gold, pred, paths.database_dir, paths.tables


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--actors", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()
    import ray

    load = os.getloadavg()
    t0 = time.perf_counter()
    ray.init(num_cpus=args.actors, include_dashboard=False, log_to_driver=False)
    ray_start = time.perf_counter() - t0
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sampled, warm = make_batch(root, args.seed)
        local, _ = build_rewards(SPEC, timeout=5.0)
        remote, _ = build_rewards(SPEC, timeout=5.0, backend="ray", ray_actors=args.actors)
        t0 = time.perf_counter()
        for funcs in (local, remote):
            funcs[0](prompts=warm["prompts"], completions=warm["completions"], **columns(warm))
        warm_ray = time.perf_counter() - t0
        rows = []
        for tag, batch in (("as sampled", sampled), ("all distinct", distinct_copy(sampled))):
            best = {"local": float("inf"), "ray": float("inf")}
            for _ in range(args.repeat):
                t_local, want = score(local, batch)
                calls = remote[0].executor.service.stats["remote_calls"]
                t_ray, got = score(remote, batch)
                calls = remote[0].executor.service.stats["remote_calls"] - calls
                if got != want:
                    raise SystemExit(f"{tag}: the ray backend's scores differ from the in-process ones")
                best["local"] = min(best["local"], t_local)
                best["ray"] = min(best["ray"], t_ray)
            rows.append((tag, len(batch["completions"]), best["local"], best["ray"], calls))
        service = remote[0].executor.service
        actors = service.actor_stats()
        pids = sorted({a["pid"] for a in actors})
        sandboxes = [a["sandboxes"] for a in actors]
        remote[0].executor.close()  # ends the actors: the cluster's CPUs are free for the evaluation's own

        gold, pred, db_dir, tables = spider_files(root, args.seed)
        times = {}
        reports = {}
        for backend in ("local", "ray"):
            t = time.perf_counter()
            reports[backend] = evaluate_spider(
                gold, pred, db_dir, tables, etype="exec", timeout=10.0, workers=2, progress=False,
                backend=backend, ray_actors=args.actors,
            )  # fmt: skip
            times[backend] = time.perf_counter() - t
        verdicts = {b: [ex.metrics.get("execution") for ex in r.examples] for b, r in reports.items()}
        if verdicts["local"] != verdicts["ray"]:
            raise SystemExit("evaluate_spider: the ray backend's verdicts differ from the in-process ones")
        n_eval, acc = len(verdicts["local"]), sum(v or 0 for v in verdicts["local"]) / max(len(verdicts["local"]), 1)
    ray.shutdown()

    lines = [
        "| work | items | in-process ms | ray (2 actors) ms | ray / in-process | remote calls per batch |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for tag, n, t_local, t_ray, calls in rows:
        lines.append(
            f"| rewards, {tag} | {n} completions | {1e3 * t_local:.1f} | {1e3 * t_ray:.1f} | {t_ray / t_local:.2f}x "
            f"| {calls} |"
        )
    lines.append(
        f"| evaluate_spider exec (sqlrl-toy dev) | {n_eval} questions | {1e3 * times['local']:.0f} "
        f"| {1e3 * times['ray']:.0f} | {times['ray'] / times['local']:.2f}x | (actors started per call) |"
    )
    table = "\n".join(lines)
    facts = (
        f"Scores identical on every completion of both batches (every repeat); evaluation verdicts identical on all "
        f"{n_eval} questions (execution accuracy {acc:.3f}). Ray: `ray.init(num_cpus={args.actors})` took "
        f"{ray_start:.1f} s; the first (warm-up) batches, actors starting included, {warm_ray:.1f} s together. "
        f"Actors: {len(pids)} worker processes, sandboxes open per actor {sandboxes} (each database on one actor)."
    )
    print(table)
    print(facts)
    if args.record:
        after = os.getloadavg()
        import ray as ray_module

        text = (
            f"## {SECTION}\n\n{__doc__.split(chr(10) + chr(10), 1)[0]}\n\n{table}\n\n{facts}\n\n"
            f"What the ray rows add: the queries and their results pickled through Ray's object store, one "
            f"round trip per actor for the golds and one for the predictions, and the tables built on the driver "
            f"from the rows the actors send. On one 2-core machine the two actors and the driver share the same "
            f"cores, so this measures the backend's cost, not a gain; the gain comes from actors on other "
            f"machines. The evaluation row includes starting its two actors (new worker processes that import "
            f"sqlrl), about 1.5 s, paid once per evaluate call.\n\n"
            f"Best of {args.repeat} runs per batch, taken in turns; the evaluation once per backend. Run in a "
            f"virtual environment holding Ray, sqlrl's base dependencies and pandas. Machine: "
            f"{machine(f'Ray {ray_module.__version__}')}; load average (1, 5, 15 min) "
            f"{load[0]:.2f}, {load[1]:.2f}, {load[2]:.2f} before the run, {after[0]:.2f}, {after[1]:.2f}, "
            f"{after[2]:.2f} after. Reproduce:\n\n"
            f"    PYTHONPATH=src python benchmarks/bench_ray.py --repeat {args.repeat} --record\n"
        )
        record_section(SECTION, text)


if __name__ == "__main__":
    main()
