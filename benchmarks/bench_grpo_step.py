"""Where a GRPO stage's time goes on CPU: generation, the update, rewards, and everything else.

Runs the quickstart's last GRPO stage (its own settings: curriculum, zero-variance skip, 16 prompts x 4
completions) for ``--steps`` steps from a finished quickstart's SFT model under ``cProfile`` (the main
thread: where the trainer waits is where its time goes), and splits the stage's wall time into:

- the curriculum (sampling every pooled prompt once before the stage) and validation at checkpoints;
- generation of the completions (``model.generate`` inside TRL's ``_generate_and_score_completions``);
- rewards (sqlrl's reward functions: extraction, the sandbox, scoring; threads included, as waited on);
- the update: the loss's forward pass, backward, the optimizer step;
- the rest of a training step (TRL and transformers bookkeeping, logging, checkpoints).

    sqlrl quickstart   # once, for runs/quickstart/sft/final
    PYTHONPATH=src python benchmarks/bench_grpo_step.py --model runs/quickstart/sft/final --record

``--config configs/interactive.yaml`` runs that config's interactive stage instead (episodes through TRL's tool
loop), from the model its SFT made, and splits generation into the model's turns, the environment (``reset``,
the tool calls) and TRL's tool loop around them; the environment's share of a step is ``reset``, the tool
calls and the rewards of the episodes' answers:

    sqlrl quickstart && sqlrl train --config configs/interactive.yaml   # once, for runs/interactive/sft/final
    PYTHONPATH=src python benchmarks/bench_grpo_step.py --config configs/interactive.yaml \
        --model runs/interactive/sft/final --record
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _results import machine, record_section  # noqa: E402


def _cumulative(stats: pstats.Stats, *patterns: tuple[str, str]) -> float:
    """Summed cumulative seconds of the functions whose (file substring, name) match one of ``patterns``."""
    total = 0.0
    for (file, _line, name), (_cc, _nc, _tt, ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        if any(f in file and n == name for f, n in patterns):
            total += ct
    return total


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", default="runs/quickstart/sft/final", help="the start model (a quickstart's SFT model)")
    ap.add_argument("--steps", type=int, default=15, help="GRPO steps (15: one validation checkpoint)")
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: the idle cores)")
    ap.add_argument("--config", default=None, help="a training config whose interactive stage to run instead")
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    args = ap.parse_args()
    if not (Path(args.model) / "config.json").exists():
        sys.exit(f"error: --model {args.model} is not a model folder; run `sqlrl quickstart` first")

    from sqlrl.train import Runner, TrainConfig, quickstart_config

    if args.config is not None:
        import yaml

        cfg = yaml.safe_load(Path(args.config).read_text())
        stage = next(s for s in cfg["stages"] if s.get("mode") == "interactive")
        stage = {**stage, "init": "previous", "steps": args.steps, "eval_steps": args.steps}
    else:
        cfg = quickstart_config()
        stage = {**cfg["stages"][-1], "init": "previous", "steps": args.steps}
    out = tempfile.mkdtemp(prefix="sqlrl-grpo-step-")
    cfg.update(output_dir=out, model={"path": args.model}, sft=None, stages=[stage], eval_after_each_phase=False,
               report_to=["none"], progress=False, torch_threads=args.threads)  # fmt: skip
    runner = Runner(TrainConfig.from_dict(cfg), overwrite=True)
    prof = cProfile.Profile()
    t0 = time.perf_counter()
    prof.enable()
    runner.run()
    prof.disable()
    wall = time.perf_counter() - t0
    st = pstats.Stats(prof)

    stage_total = _cumulative(st, ("sqlrl/train/runner.py", "_run_grpo"))
    curriculum = _cumulative(st, ("sqlrl/train/runner.py", "_curriculum"))
    validation = _cumulative(st, ("sqlrl/train/evaluate.py", "execution_accuracy"),
                             ("sqlrl/train/evaluate.py", "episode_accuracy"))  # fmt: skip
    train = _cumulative(st, ("transformers/trainer.py", "train"))
    gen_and_score = _cumulative(st, ("trl/trainer/grpo_trainer.py", "_generate_and_score_completions"))
    generate = _cumulative(st, ("trl/trainer/grpo_trainer.py", "_generate"))
    rewards = _cumulative(st, ("trl/trainer/grpo_trainer.py", "_calculate_rewards"))
    loss = _cumulative(st, ("trl/trainer/grpo_trainer.py", "compute_loss"))
    backward = _cumulative(st, ("accelerate/accelerator.py", "backward"))
    optimizer = _cumulative(st, ("accelerate/optimizer.py", "step"))
    in_train = _cumulative(st, ("sqlrl/train/runner.py", "on_save"))  # validation at checkpoints, inside train()
    steps_time = train - in_train
    rest_step = steps_time - gen_and_score - loss - backward - optimizer
    if args.config is not None:
        interactive(args, st, stage_total, steps_time, generate, rewards, gen_and_score, loss, backward, optimizer,
                    rest_step, validation, stage_total - train - max(0.0, validation - in_train))  # fmt: skip
        return
    rows = [
        ("curriculum (before the stage)", curriculum),
        ("validation at checkpoints (start + every eval_steps)", validation),
        ("generation of the completions", generate),
        ("rewards (extraction, sandbox, scoring)", rewards),
        ("rest of generate-and-score (TRL: advantages, masks, metrics)", gen_and_score - generate - rewards),
        ("update: loss forward", loss),
        ("update: backward", backward),
        ("update: optimizer step", optimizer),
        ("rest of the training steps (TRL/transformers loop, logging, checkpoints)", rest_step),
        (
            "stage setup and saving (model load, datasets, trainer, final model)",
            stage_total - curriculum - train - max(0.0, validation - in_train),
        ),
    ]
    lines = ["| part | seconds | share of the stage | per step |", "|---|---:|---:|---:|"]
    for label, sec in rows:
        lines.append(f"| {label} | {sec:.1f} | {sec / stage_total:.1%} | {sec / args.steps:.2f} |")
    lines.append(f"| **the stage** | **{stage_total:.1f}** | 100% | {stage_total / args.steps:.2f} |")
    core = generate + loss + backward + optimizer
    summary = (f"Generation and the update are {core / steps_time:.0%} of the training steps' time "
               f"({steps_time / args.steps:.2f} s per step); rewards {rewards / steps_time:.1%}.")  # fmt: skip
    text = "\n".join(lines)
    print(text)
    print(summary)
    print(f"process wall time {wall:.0f} s (imports before it not counted)")
    if args.record:
        import torch

        threads = torch.get_num_threads()  # what the run set
        record_section(
            "grpo step profile",
            "## Where a GRPO step's time goes (CPU)\n\n"
            "`PYTHONPATH=src python benchmarks/bench_grpo_step.py --model runs/quickstart/sft/final "
            f"--steps {args.steps} --record` ({machine(f'{threads} torch threads')}; quiet machine)\n\n"
            "The quickstart's last GRPO stage with its own settings, from the quickstart's SFT model, under cProfile "
            f"(main thread; a reward's sandbox threads count as the time it waits for them).\n\n{text}\n\n{summary}",
        )


ENV_TOOLS = ("run_query", "list_tables", "describe_table", "answer")


def interactive(args: argparse.Namespace, st: pstats.Stats, stage_total: float, steps_time: float, generate: float,
                rewards: float, gen_and_score: float, loss: float, backward: float, optimizer: float, rest_step: float,
                validation: float, setup: float) -> None:  # fmt: skip
    """The interactive stage's table: generation split into the model's turns, the environment and TRL's loop."""
    turns = _cumulative(st, ("trl/trainer/grpo_trainer.py", "_generate_single_turn"))
    tools = _cumulative(st, *(("sqlrl/env/environment.py", name) for name in ENV_TOOLS))
    reset = _cumulative(st, ("sqlrl/env/environment.py", "reset"))
    env = tools + reset + rewards
    rows = [
        ("generation: the model's turns", turns),
        ("generation: the environment's tools (run_query, list_tables, describe_table, answer)", tools),
        ("generation: TRL's tool loop around them (parsing calls, tool suffixes, masks)", generate - turns - tools),
        ("environment reset (one per episode)", reset),
        ("rewards of the episodes' answers (execution, episode terms)", rewards),
        ("rest of generate-and-score (TRL: advantages, masks, metrics)", gen_and_score - generate - rewards - reset),
        ("update: loss forward", loss),
        ("update: backward", backward),
        ("update: optimizer step", optimizer),
        ("rest of the training steps (TRL/transformers loop, logging, checkpoints)", rest_step),
    ]
    lines = ["| part | seconds | share of the training steps | per step |", "|---|---:|---:|---:|"]
    for label, sec in rows:
        lines.append(f"| {label} | {sec:.2f} | {sec / steps_time:.1%} | {sec / args.steps:.3f} |")
    lines.append(f"| **the training steps** | **{steps_time:.1f}** | 100% | {steps_time / args.steps:.2f} |")
    for label, sec in (("validation in episodes (start and end of the stage)", validation),
                       ("stage setup and saving (model load, datasets, trainer, final model)", setup)):  # fmt: skip
        lines.append(f"| {label}, apart | {sec:.2f} | | |")
    update = loss + backward + optimizer
    summary = (f"The environment (reset, tool calls, the rewards of the answers) is {env / steps_time:.1%} of the "
               f"training steps' time ({1e3 * env / args.steps:.0f} ms of {steps_time / args.steps:.2f} s per step); "
               f"the model's turns {turns / steps_time:.0%}, the update {update / steps_time:.0%}.")  # fmt: skip
    text = "\n".join(lines)
    print(text)
    print(summary)
    if args.record:
        import torch

        record_section(
            "interactive grpo step profile",
            "## Where an interactive GRPO step's time goes (CPU)\n\n"
            f"`PYTHONPATH=src python benchmarks/bench_grpo_step.py --config {args.config} --model {args.model} "
            f"--steps {args.steps} --record` ({machine(f'{torch.get_num_threads()} torch threads')})\n\n"
            "The config's interactive stage (episodes through TRL's tool loop, its own settings), from the model its "
            "SFT made, under cProfile (main thread). Shares are of the training steps (generate-and-score and the "
            f"update), validation and setup shown apart.\n\n{text}\n\n{summary}",
        )


if __name__ == "__main__":
    main()
