"""Does GRPO help? An ablation on sqlrl-toy with the quickstart's tiny model, over several seeds.

Per seed, one SFT warm start (the quickstart's SFT phase) is shared by arms that each take the same
number of optimizer steps afterwards:

- ``sft``       : SFT continued for the same number of steps at the GRPO learning rate (no RL);
- ``grpo_exec`` : one GRPO stage with the execution reward only (the quickstart's stage-2 settings);
- ``partial``   : one GRPO stage with the dense partial rewards only (the quickstart's stage-1 settings);
- ``two_stage`` : the quickstart's two stages, each half the steps: dense partial rewards, then
                  execution-focused rewards from the best stage-1 checkpoint by validation accuracy.

Every arm is scored on both held-out splits of sqlrl-toy: ``iid`` (new questions of the training
compositions: does the model learn?) and ``dev`` (compositions never seen in training: does it
compose?), by greedy execution accuracy, and by sampled EX and pass@k at the quickstart's eval
temperature. A GRPO step costs more compute than an SFT step (it samples ``num_generations``
completions per prompt), so each arm's wall time is printed next to its accuracy.

    PYTHONPATH=src python benchmarks/bench_ablation.py --seeds 0 1 2 --record

``--jobs 2`` runs two seeds at a time (one torch thread each); ``--collect --record`` rebuilds the
table from the per-seed JSON files of an earlier run.
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import machine, quarter_means, record_section  # noqa: E402

ARMS = [
    ("warm_start", "SFT warm start (shared start of the arms)"),
    ("sft", "+ SFT, same steps"),
    ("grpo_exec", "+ GRPO, execution reward only"),
    ("partial", "+ GRPO, partial rewards only"),
    ("two_stage", "+ two-stage GRPO (partial, then execution)"),
]


def _signal(state: dict) -> dict:
    """GRPO diagnostics over the steps of every stage: quarter means of the weighted reward, the execution
    reward (when logged), the zero-variance share, the entropy and the completion length; and the validation
    EX of every checkpoint."""
    logs = [r for name, p in state["phases"].items() if name not in ("base", "sft") for r in p.get("log_history", [])]
    logs = [r for r in logs if "frac_reward_zero_std" in r]
    if not logs:
        return {}

    def quarters(key: str) -> list[float]:
        return quarter_means([r[key] for r in logs if isinstance(r.get(key), (int, float))], digits=4)

    curves = {k: quarters(k) for k in ("reward", "rewards/execution/mean", "frac_reward_zero_std", "entropy",
                                       "completions/mean_length", "sql/valid")}  # fmt: skip
    val = {name: {s: round(v["accuracy"], 3) for s, v in sorted(p["val"].items(), key=lambda x: int(x[0]))}
           for name, p in state["phases"].items() if p.get("val")}  # fmt: skip
    zero = [r["frac_reward_zero_std"] for r in logs]
    return {"zero_std_groups": statistics.mean(zero), "curves": {k: v for k, v in curves.items() if v}, "val": val}


def _run(cfg: dict, label: str) -> dict:
    from sqlrl.train import Runner, TrainConfig

    t0 = time.perf_counter()
    summary = Runner(TrainConfig.from_dict(cfg), overwrite=True).run()
    seconds = time.perf_counter() - t0
    last = list(summary["phases"].values())[-1]
    signal = _signal(json.loads((Path(cfg["output_dir"]) / "state.json").read_text()))
    evals = last["eval"]
    line = ", ".join(f"{s} EX {r['accuracy']:.3f}" for s, r in evals.items())
    print(f"  {label}: {line} in {seconds / 60:.1f} min", flush=True)
    return {"eval": evals, "seconds": seconds, "phases": summary["phases"], "signal": signal}


def run_seed(seed: int, out: Path, steps: int | None, threads: int) -> dict:
    from sqlrl.train import quickstart_config

    base = quickstart_config()
    base.update(seed=seed, report_to=["none"], progress=False, torch_threads=threads)
    stages = base["stages"]
    if steps is not None:
        for s in stages:
            s["steps"] = steps // 2
    total = sum(s["steps"] for s in stages)
    root = out / f"seed{seed}"
    results: dict[str, dict] = {}
    results["warm_start"] = _run({**base, "output_dir": str(root / "warm"), "stages": []}, "SFT warm start")
    after = {**base, "model": {"path": results["warm_start"]["phases"]["sft"]["final"]}, "sft": None}
    more = {**base["sft"], "steps": total, "learning_rate": stages[0]["learning_rate"], "warmup": 0.0}
    sft_more = {**after, "output_dir": str(root / "sft"), "stages": [], "sft": more}
    results["sft"] = _run(sft_more, f"SFT +{total} steps")
    exec_stage = {**copy.deepcopy(stages[-1]), "name": "grpo_exec", "rewards": "execution", "init": "previous",
                  "steps": total}  # fmt: skip
    results["grpo_exec"] = _run({**after, "output_dir": str(root / "grpo_exec"), "stages": [exec_stage]},
                                f"GRPO execution reward, {total} steps")  # fmt: skip
    partial_stage = {**copy.deepcopy(stages[0]), "name": "partial", "steps": total}
    results["partial"] = _run({**after, "output_dir": str(root / "partial"), "stages": [partial_stage]},
                              f"GRPO partial rewards, {total} steps")  # fmt: skip
    results["two_stage"] = _run({**after, "output_dir": str(root / "two_stage"), "stages": stages},
                                f"two-stage GRPO, {total} steps")  # fmt: skip
    results["steps"] = total
    return results


def _pct(xs: list[float]) -> str:
    sd = statistics.stdev(xs) if len(xs) > 1 else 0.0
    return f"{statistics.mean(xs):.1%} ± {sd:.1%}"


def table(per_seed: dict[int, dict], seeds: list[int]) -> str:
    first = per_seed[seeds[0]]
    splits = list(first["warm_start"]["eval"])
    k = next((r.get("k") for r in first["warm_start"]["eval"].values() if r.get("k")), 0)
    lines = []
    for split in splits:
        head = f"| arm | {split} EX per seed | mean ± sd | gain over + SFT per seed |"
        if k:
            head += f" sampled EX | pass@{k} |"
        head += " minutes per arm |"
        lines += [f"**{split}**", "", head, "|---" * (head.count("|") - 1) + "|"]
        for key, label in ARMS:
            if key not in first:
                continue
            accs = [per_seed[s][key]["eval"][split]["accuracy"] for s in seeds]
            gains = "" if key in ("warm_start", "sft") else " / ".join(
                f"{per_seed[s][key]['eval'][split]['accuracy'] - per_seed[s]['sft']['eval'][split]['accuracy']:+.1%}"
                for s in seeds)  # fmt: skip
            row = f"| {label} | {' / '.join(f'{a:.1%}' for a in accs)} | {_pct(accs)} | {gains} |"
            if k:
                row += f" {_pct([per_seed[s][key]['eval'][split]['sampled'] for s in seeds])} |"
                row += f" {_pct([per_seed[s][key]['eval'][split]['pass_at_k'] for s in seeds])} |"
            mins = statistics.mean(per_seed[s][key]["seconds"] for s in seeds) / 60
            lines.append(row + f" {mins:.1f} |")
        lines.append("")
    for key in ("grpo_exec", "partial", "two_stage"):
        if key not in first:
            continue
        sig = [per_seed[s][key]["signal"] for s in seeds]
        curves = sig[0].get("curves", {})
        lines.append(f"{key} (seed {seeds[0]}, quarter means over the steps): " + "; ".join(
            f"{name} {' → '.join(f'{v:.2f}' for v in vals)}" for name, vals in curves.items()) +
            f"; zero-variance groups over seeds {statistics.mean(x['zero_std_groups'] for x in sig):.0%}; "
            f"validation EX by checkpoint {sig[0].get('val')}")  # fmt: skip
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    ap.add_argument("--out", default="runs/ablation", help="where the runs go")
    ap.add_argument("--steps", type=int, default=None, help="optimizer steps per arm (default: the quickstart's total)")
    ap.add_argument("--jobs", type=int, default=1, help="seeds run at once, each in its own process")
    ap.add_argument("--threads", type=int, default=0, help="torch threads per process (default: 1 with --jobs > 1)")
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    ap.add_argument("--note", default="", help="a sentence recorded with the table (how the runs were made)")
    ap.add_argument("--collect", action="store_true", help="do not train: read OUT/seed<N>.json written earlier")
    ap.add_argument("--one-seed", type=int, default=None, help=argparse.SUPPRESS)  # a worker of --jobs
    args = ap.parse_args()
    out = Path(args.out)
    threads = args.threads or (1 if args.jobs > 1 else 0)
    t0 = time.perf_counter()
    if args.one_seed is not None:
        res = run_seed(args.one_seed, out, args.steps, threads)
        (out / f"seed{args.one_seed}.json").write_text(json.dumps(res, indent=2, default=str) + "\n")
        return
    if not args.collect:
        pending = list(args.seeds)
        running: list[subprocess.Popen] = []
        out.mkdir(parents=True, exist_ok=True)
        while pending or running:
            while pending and len(running) < args.jobs:
                seed = pending.pop(0)
                cmd = [sys.executable, __file__, "--one-seed", str(seed), "--out", str(out), "--threads", str(threads)]
                if args.steps:
                    cmd += ["--steps", str(args.steps)]
                print(f"seed {seed}: started", flush=True)
                running.append(subprocess.Popen(cmd, env={**os.environ, "TOKENIZERS_PARALLELISM": "false"}))
            time.sleep(2)
            for p in [p for p in running if p.poll() is not None]:
                running.remove(p)
                if p.returncode:
                    sys.exit(f"a seed failed (exit {p.returncode})")
    per_seed = {s: json.loads((out / f"seed{s}.json").read_text()) for s in args.seeds}
    text = table(per_seed, args.seeds)
    minutes = (time.perf_counter() - t0) / 60
    print(text)
    print(f"wall time {minutes:.1f} min")
    if args.record:
        cmd = f"PYTHONPATH=src python benchmarks/bench_ablation.py --seeds {' '.join(map(str, args.seeds))}"
        cmd += f" --steps {args.steps}" if args.steps else ""
        cmd += f" --jobs {args.jobs}" if args.jobs > 1 else ""
        steps = per_seed[args.seeds[0]]["steps"]
        record_section(
            "ablation",
            "## GRPO ablation on sqlrl-toy (tiny model, CPU)\n\n"
            f"`{cmd} --record` ({minutes:.0f} min wall time in all; {machine()})\n\n"
            f"Every arm starts from the same SFT warm start per seed and takes {steps} optimizer steps. Greedy "
            "execution accuracy on the i.i.d. hold-out (`iid`: new questions of the training compositions) and "
            "the compositional one (`dev`: combinations never seen in training); sampled EX and pass@k at the "
            f"quickstart's eval temperature. {args.note}\n\n{text}",
        )


if __name__ == "__main__":
    main()
