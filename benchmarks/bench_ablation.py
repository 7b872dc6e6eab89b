"""Does GRPO help? An ablation on sqlrl-toy with the quickstart's tiny model, over several seeds.

Per seed, one SFT warm start (the quickstart's SFT phase) is shared by three arms that each get
the same number of optimizer steps afterwards:

- ``sft``        : SFT continued for the same number of steps (no RL);
- ``grpo_exec``  : one GRPO stage with the execution reward only;
- ``two_stage``  : the quickstart's two stages: dense partial rewards, then execution-focused
                   rewards from the best stage-1 checkpoint by validation accuracy.

Every arm is scored on the held-out dev split (153 questions whose compositions never occur in
training) by greedy decoding and execution match. A GRPO step costs more compute than an SFT
step (it samples ``num_generations`` completions per prompt), so the wall time of every arm is
printed next to its accuracy.

    PYTHONPATH=src python benchmarks/bench_ablation.py --seeds 0 1 2 --record

or one process per seed (``OMP_NUM_THREADS=1``), then ``--collect --record`` to build the table.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import record_section  # noqa: E402

from sqlrl.train import Runner, TrainConfig, quickstart_config  # noqa: E402


def _signal(state: dict) -> dict:
    """GRPO diagnostics: share of groups whose completions all got the same reward (no gradient), and the
    sampled completions' validity in the first and last 10 steps."""
    logs = [r for name, p in state["phases"].items() if name not in ("base", "sft") for r in p.get("log_history", [])]
    logs = [r for r in logs if "frac_reward_zero_std" in r]
    if not logs:
        return {}

    def mean(rows: list, key: str) -> float:
        vals = [r[key] for r in rows if isinstance(r.get(key), (int, float))]
        return statistics.mean(vals) if vals else float("nan")

    return {"zero_std_groups": mean(logs, "frac_reward_zero_std"),
            "valid_first10": mean(logs[:10], "sql/valid"), "valid_last10": mean(logs[-10:], "sql/valid")}  # fmt: skip


def _run(cfg: dict, label: str) -> dict:
    t0 = time.perf_counter()
    summary = Runner(TrainConfig.from_dict(cfg), overwrite=True).run()
    seconds = time.perf_counter() - t0
    last = list(summary["phases"].values())[-1]
    signal = _signal(json.loads((Path(cfg["output_dir"]) / "state.json").read_text()))
    print(f"  {label}: dev EX {last['eval_accuracy']:.3f} in {seconds / 60:.1f} min {signal}", flush=True)
    return {"accuracy": last["eval_accuracy"], "executable": last["eval_executable"], "seconds": seconds,
            "phases": summary["phases"], "signal": signal}  # fmt: skip


def run_seed(seed: int, out: Path, steps: int | None) -> dict:
    base = quickstart_config()
    base["seed"] = seed
    base["report_to"] = ["none"]
    base["progress"] = False
    stages = base["stages"]
    if steps is not None:
        for s in stages:
            s["steps"] = steps // 2
    total = sum(s["steps"] for s in stages)
    results: dict[str, dict] = {}
    warm = {**base, "output_dir": str(out / f"seed{seed}" / "warm"), "stages": []}
    results["warm_start"] = _run(warm, "SFT warm start")
    sft_model = results["warm_start"]["phases"]["sft"]["final"]
    after = {**base, "model": {"path": sft_model}, "sft": None}
    sft_more = {
        **after,
        "output_dir": str(out / f"seed{seed}" / "sft"),
        "stages": [],
        "sft": {**base["sft"], "steps": total, "learning_rate": stages[0]["learning_rate"], "warmup": 0.0},
    }
    results["sft"] = _run(sft_more, f"SFT +{total} steps")
    exec_stage = {**stages[0], "name": "grpo_exec", "rewards": "execution", "steps": total}
    results["grpo_exec"] = _run({**after, "output_dir": str(out / f"seed{seed}" / "grpo_exec"),
                                 "stages": [exec_stage]}, f"GRPO execution reward, {total} steps")  # fmt: skip
    results["two_stage"] = _run({**after, "output_dir": str(out / f"seed{seed}" / "two_stage"), "stages": stages},
                                f"two-stage GRPO, {total} steps")  # fmt: skip
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", default="runs/ablation", help="where the runs go")
    ap.add_argument("--steps", type=int, default=None, help="GRPO steps per arm (default: the quickstart's total)")
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    ap.add_argument("--note", default="", help="a sentence recorded with the table (how the runs were made)")
    ap.add_argument(
        "--collect", action="store_true",
        help="do not train: build the table from OUT/seed<N>.json written earlier (e.g. by one process per seed)",
    )  # fmt: skip
    args = ap.parse_args()
    out = Path(args.out)
    per_seed = {}
    for seed in args.seeds:
        path = out / f"seed{seed}.json"
        if args.collect:
            per_seed[seed] = json.loads(path.read_text())
            continue
        print(f"seed {seed}", flush=True)
        per_seed[seed] = run_seed(seed, out, args.steps)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(per_seed[seed], indent=2, default=str) + "\n")
    arms = [
        ("warm_start", "SFT warm start (shared start of the arms)"),
        ("sft", "+ SFT, same steps"),
        ("grpo_exec", "+ GRPO, execution reward only"),
        ("two_stage", "+ two-stage GRPO (partial, then execution)"),
    ]
    lines = ["| arm | dev EX per seed | mean ± sd | executable | minutes per arm |", "|---|---|---|---|---|"]
    for key, label in arms:
        accs = [per_seed[s][key]["accuracy"] for s in args.seeds]
        exe = statistics.mean(per_seed[s][key]["executable"] for s in args.seeds)
        mins = statistics.mean(per_seed[s][key]["seconds"] for s in args.seeds) / 60
        sd = statistics.stdev(accs) if len(accs) > 1 else 0.0
        lines.append(f"| {label} | {' / '.join(f'{a:.1%}' for a in accs)} | {statistics.mean(accs):.1%} ± {sd:.1%} "
                     f"| {exe:.1%} | {mins:.1f} |")  # fmt: skip
    for key in ("grpo_exec", "two_stage"):
        sig = [per_seed[s][key]["signal"] for s in args.seeds]
        lines.append("")
        lines.append(
            f"{key}: groups with zero reward variance (no gradient) "
            f"{statistics.mean(x['zero_std_groups'] for x in sig):.0%} of all groups; sampled SQL valid "
            f"{statistics.mean(x['valid_first10'] for x in sig):.0%} in the first 10 steps, "
            f"{statistics.mean(x['valid_last10'] for x in sig):.0%} in the last 10."
        )
    table = "\n".join(lines)
    print(table)
    if args.record:
        cmd = f"PYTHONPATH=src python benchmarks/bench_ablation.py --seeds {' '.join(map(str, args.seeds))}"
        if args.steps:
            cmd += f" --steps {args.steps}"
        record_section(
            "ablation",
            "## GRPO ablation on sqlrl-toy (tiny model, CPU)\n\n"
            f"`{cmd} --record`\n\nHeld-out dev split (153 questions, compositions unseen in training), greedy "
            "decoding, execution match. All arms start from the same SFT warm start per seed and take the same "
            "number of optimizer steps; a GRPO step samples 8 completions for each of 8 prompts, so it costs more "
            f"than an SFT step (see minutes). {args.note}\n\n{table}",
        )


if __name__ == "__main__":
    main()
