"""Does a GRPO stage raise the reward it optimises? Two measurements that a training log cannot make.

1. **The prompts each step draws.** A stage's logged reward at step t is the mean over the prompts
   drawn at step t. This replays the stage's own prompt order (TRL's ``RepeatSampler`` with the run's
   seed) and scores the stage's *start* model on those prompts, step by step, with the stage's
   sampling settings: the reward curve the stage would log if it learned nothing. A logged curve that
   falls along with it is the prompt order, not the policy.
2. **A fixed prompt set.** A small model is taught 8 training questions by SFT until it solves them
   sometimes, then GRPO stages with different settings train on exactly those 8 prompts; the mean
   sampled execution reward on them is measured before and after (16 samples per prompt).

    PYTHONPATH=src python benchmarks/bench_grpo_signal.py --order runs/quickstart --record
    PYTHONPATH=src python benchmarks/bench_grpo_signal.py --fixed --record

(``--order RUN`` needs a finished run: its ``config.yaml``, its ``sft/final`` model and the stage's
``log_history`` in ``state.json``.)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import machine, quarter_means, record_section  # noqa: E402

FIXED_ARMS = [  # (label, stage overrides)
    ("TRL defaults (negative_weight 1), lr 1e-4", {"learning_rate": 1e-4, "negative_weight": 1.0}),
    ("TRL defaults (negative_weight 1), lr 3e-4", {"learning_rate": 3e-4, "negative_weight": 1.0}),
    ("negative_weight 0.1, lr 1e-4", {"learning_rate": 1e-4, "negative_weight": 0.1}),
    ("negative_weight 0, lr 3e-4", {"learning_rate": 3e-4, "negative_weight": 0.0}),
]


def _model(path: str):
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return AutoModelForCausalLM.from_pretrained(path), AutoTokenizer.from_pretrained(path)


def prompt_order(run: Path, stage_name: str, samples: int) -> dict:
    """The start model's sampled reward on the prompts each step of ``stage_name`` drew, by quarter of the stage,
    next to the rewards the stage logged."""
    from trl.trainer.utils import RepeatSampler

    from sqlrl.train import TrainConfig
    from sqlrl.train.data import load_train_data, to_rows
    from sqlrl.train.evaluate import sampled_correctness

    cfg = TrainConfig.from_yaml(run / "config.yaml")
    stage = next(s for s in cfg.stages if s.name == stage_name)
    state = json.loads((run / "state.json").read_text())
    phase = state["phases"][stage_name]
    data = load_train_data(cfg.data, seed=cfg.seed)
    rows = to_rows(data.train, cfg.prompt, cfg.data, seed=cfg.seed, tables=data.tables)
    if phase.get("curriculum"):
        rows = [rows[i] for i in phase["curriculum"]["rows"]]
    sampler = RepeatSampler(rows, mini_repeat_count=stage.num_generations, batch_size=stage.prompts_per_step,
                            repeat_count=1, shuffle=True, seed=cfg.seed)  # fmt: skip
    order: list[int] = []
    while len(order) < stage.steps * stage.prompts_per_step:  # a stage longer than one pass: the next epoch's order
        order += list(sampler)[:: stage.num_generations]
    order = order[: stage.steps * stage.prompts_per_step]
    model, tok = _model(phase["start"])
    correct = sampled_correctness(model, tok, [rows[i] for i in order], samples=samples, temperature=stage.temperature,
                                  max_new_tokens=stage.max_completion_length, seed=cfg.seed)  # fmt: skip
    per_step = [statistics.mean(x for row in correct[s * stage.prompts_per_step : (s + 1) * stage.prompts_per_step]
                                for x in row) for s in range(stage.steps)]  # fmt: skip
    logged = [r["rewards/execution/mean"] for r in phase["log_history"] if "rewards/execution/mean" in r]

    return {"start_model_on_drawn_prompts": quarter_means(per_step), "logged_execution_reward": quarter_means(logged)}


def fixed_set(out: Path, steps: int) -> list[tuple[str, float, float, float]]:
    """Before/after sampled reward on 8 fixed training prompts for each arm of :data:`FIXED_ARMS`."""
    import torch

    from sqlrl.train import Runner, TrainConfig, smoke_config
    from sqlrl.train.data import load_train_data, to_rows
    from sqlrl.train.evaluate import sampled_correctness

    torch.set_num_threads(1)
    tiny = {"hidden_size": 128, "num_layers": 2, "num_heads": 2, "num_kv_heads": 1, "vocab_size": 700}
    cfg = smoke_config(str(out / "sft"), steps=1)
    cfg.update(model={"path": "tiny", "tiny": tiny}, stages=[], eval_after_each_phase=False, torch_threads=1,
               data={"source": "toy", "augment": 0, "val_size": 4, "eval_size": 4, "max_train": 8},
               sft={"epochs": 1.0, "steps": 100, "learning_rate": 2e-3, "batch_size": 8,
                    "save_steps": 1000})  # fmt: skip
    sft = Runner(TrainConfig.from_dict(cfg), overwrite=True).run()["phases"]["sft"]["final"]
    base_stage = {"name": "s", "rewards": "execution", "steps": steps, "num_generations": 8, "prompts_per_step": 4,
                  "temperature": 1.0, "max_completion_length": 96, "eval_steps": 1000}  # fmt: skip
    tc = TrainConfig.from_dict({**cfg, "sft": None, "model": {"path": sft}, "stages": [base_stage]})
    data = load_train_data(tc.data, seed=0)
    rows = to_rows(data.train, tc.prompt, tc.data, seed=0, tables=data.tables)

    def reward(path: str) -> float:
        model, tok = _model(path)
        c = sampled_correctness(model, tok, rows, samples=16, temperature=1.0, max_new_tokens=96, seed=123)
        return sum(map(sum, c)) / (16 * len(rows))

    before = reward(sft)
    results = []
    for i, (label, over) in enumerate(FIXED_ARMS):
        t0 = time.perf_counter()
        run = {**cfg, "sft": None, "model": {"path": sft}, "output_dir": str(out / f"arm{i}"),
               "stages": [{**base_stage, **over}]}  # fmt: skip
        final = Runner(TrainConfig.from_dict(run), overwrite=True).run()["phases"]["s"]["final"]
        after = reward(final)
        print(f"{label}: {before:.3f} -> {after:.3f}", flush=True)
        results.append((label, before, after, time.perf_counter() - t0))
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--order", type=Path, default=None, help="a finished run: replay its stage's prompt order")
    ap.add_argument("--stage", default=None, help="the stage to replay (default: the run's last)")
    ap.add_argument("--samples", type=int, default=8, help="samples per drawn prompt for --order")
    ap.add_argument("--fixed", action="store_true", help="the fixed-prompt-set arms")
    ap.add_argument("--steps", type=int, default=30, help="GRPO steps per fixed-set arm")
    ap.add_argument("--out", type=Path, default=Path("runs/grpo-signal"))
    ap.add_argument("--record", action="store_true", help="write the results into benchmarks/RESULTS.md")
    args = ap.parse_args()
    if args.order:
        from sqlrl.train import TrainConfig

        stage = args.stage or TrainConfig.from_yaml(args.order / "config.yaml").stages[-1].name
        res = prompt_order(args.order, stage, args.samples)
        cmd = f"PYTHONPATH=src python benchmarks/bench_grpo_signal.py --order {args.order} --stage {stage} --record"
        text = ("## GRPO: the prompts each step draws\n\n"
                f"`{cmd}` "
                f"({machine()})\n\nQuarter means over the stage's steps. The stage's start model, sampled "
                f"{args.samples} times per prompt on the prompts each step drew (same order, same temperature): "
                f"{res['start_model_on_drawn_prompts']}; the execution reward the stage logged: "
                f"{res['logged_execution_reward']}.")  # fmt: skip
        print(text)
        if args.record:
            record_section(f"grpo prompt order {stage}", text)
    if args.fixed:
        t0 = time.perf_counter()
        rows = fixed_set(args.out, args.steps)
        lines = ["| GRPO settings | reward before | after | minutes |", "|---|---:|---:|---:|"]
        lines += [f"| {label} | {b:.3f} | {a:.3f} | {s / 60:.1f} |" for label, b, a, s in rows]
        text = ("## GRPO on a fixed prompt set\n\n"
                f"`PYTHONPATH=src python benchmarks/bench_grpo_signal.py --fixed --steps {args.steps} --record` "
                f"({(time.perf_counter() - t0) / 60:.0f} min; {machine()})\n\n"
                "A 128-wide, 2-layer tiny Qwen2 taught 8 sqlrl-toy training questions by SFT (100 steps), then one "
                f"GRPO stage of {args.steps} steps on exactly those 8 prompts (4 per step, 8 completions each, "
                "temperature 1.0, execution reward, loss `dapo`); mean execution match of 16 samples per prompt at "
                "temperature 1.0 before and after.\n\n" + "\n".join(lines))  # fmt: skip
        print(text)
        if args.record:
            record_section("grpo fixed prompt set", text)


if __name__ == "__main__":
    main()
