"""Sampled execution accuracy of a training run's models: what GRPO optimises, next to greedy EX.

The trainer reports greedy execution accuracy. GRPO, though, raises the expected reward of
*sampled* completions, which greedy decoding can hide. For each named model folder of a run
(``sft/final``, ``stage1/final``, ...), this samples ``--n`` completions per question of the run's
eval split at ``--temperature`` and reports the mean execution match over all samples (sampled EX,
an estimate of pass@1 at that temperature) and the share of questions with at least one correct
sample (pass@n), scored like validation (``spider`` mode, order only under ORDER BY).

Run from the directory the training run was launched from (the run's ``config.yaml`` holds
relative paths), e.g. after ``sqlrl quickstart``::

    PYTHONPATH=/path/to/sqlrl/src python /path/to/sqlrl/benchmarks/bench_sampled_ex.py runs/quickstart \\
        sft/final stage1/final stage2/final --n 8 --temperature 0.7 --record
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _results import record_section  # noqa: E402

SECTION = "sampled execution accuracy"


def sampled_ex(run: Path, models: list[str], n: int, temperature: float, batch: int) -> list[tuple[str, float, float]]:
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from sqlrl.models.local import LocalChatModel
    from sqlrl.rewards import execution_reward
    from sqlrl.train.config import TrainConfig
    from sqlrl.train.data import load_train_data, to_rows

    cfg = TrainConfig.from_yaml(run / "config.yaml")
    if cfg.torch_threads:
        torch.set_num_threads(cfg.torch_threads)
    data = load_train_data(cfg.data, seed=cfg.seed)
    rows = to_rows(data.eval, cfg.prompt, cfg.data, seed=cfg.seed + 1, tables=data.tables)  # as the runner does
    prompts = [r["prompt"] for r in rows]
    columns = {k: [r.get(k) for r in rows] for k in rows[0] if k != "prompt"}
    reward = execution_reward(mode="spider", empty_gold="allow", timeout=cfg.timeout, workers=cfg.workers)
    out = []
    for name in models:
        path = run / name
        model = AutoModelForCausalLM.from_pretrained(path).eval()
        lm = LocalChatModel(model, AutoTokenizer.from_pretrained(path), device="cpu", batch_size=batch)
        samples: list[list[str]] = []
        for start in range(0, len(rows), batch):
            samples += lm.generate(
                prompts[start : start + batch], n=n, temperature=temperature, top_p=1.0,
                max_new_tokens=cfg.eval_max_new_tokens, seed=cfg.seed + start,
            )  # fmt: skip
        correct = [
            [float(x or 0.0) for x in reward(prompts=prompts, completions=[s[j] for s in samples], **columns)]
            for j in range(n)
        ]
        mean = sum(map(sum, correct)) / (n * len(rows))
        pass_n = sum(any(c[i] for c in correct) for i in range(len(rows))) / len(rows)
        print(f"{name}: sampled EX {mean:.1%}, pass@{n} {pass_n:.1%}", flush=True)
        out.append((name, mean, pass_n))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("run", type=Path, help="the training run's output_dir")
    ap.add_argument("models", nargs="+", help="model folders inside the run, e.g. sft/final stage1/final")
    ap.add_argument("--n", type=int, default=8, help="samples per question")
    ap.add_argument("--temperature", type=float, default=0.7)
    ap.add_argument("--batch", type=int, default=64, help="questions per generation call")
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()
    t0 = time.perf_counter()
    results = sampled_ex(args.run, args.models, args.n, args.temperature, args.batch)
    lines = [
        f"## Sampled execution accuracy ({args.run})",
        "",
        f"Command: `PYTHONPATH=src python benchmarks/bench_sampled_ex.py {args.run} {' '.join(args.models)} "
        f"--n {args.n} --temperature {args.temperature} --record` (from the directory the run was launched in), "
        f"{time.perf_counter() - t0:.0f} s on {os.cpu_count()} cores. Eval split of the run; {args.n} samples per "
        f"question at temperature {args.temperature}; scored like validation.",
        "",
        f"| model | sampled EX (mean over samples) | pass@{args.n} |",
        "|---|---:|---:|",
        *[f"| {name} | {mean:.1%} | {pass_n:.1%} |" for name, mean, pass_n in results],
    ]
    print("\n".join(lines))
    if args.record:
        record_section(SECTION, "\n".join(lines))


if __name__ == "__main__":
    main()
