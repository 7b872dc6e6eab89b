"""Ready-made configurations. ``quickstart_config()`` is what ``sqlrl quickstart`` runs and what
``configs/quickstart.yaml`` holds (a test keeps the two equal)."""

from __future__ import annotations

from typing import Any

__all__ = ["QUICKSTART_INSTRUCTION", "quickstart_config", "smoke_config"]

QUICKSTART_INSTRUCTION = "Write one SQLite query that answers the question, in a ```sql fenced code block."


def quickstart_config() -> dict[str, Any]:
    """sqlrl-toy with generated extra training pairs, the tiny model, SFT, then two GRPO stages.

    Sized to finish within 15 minutes on two CPU cores. What the settings are for:

    - SFT for 6 epochs: at 3 the tiny model has not yet learnt to copy values from the question (22.7% EX
      on the i.i.d. split); at 6 it has (68%).
    - 96 new tokens in training and evaluation: 7% of the gold queries need more than 64 tokens.
    - GRPO at temperature 1.0 on a curriculum of the prompts the start model solves sometimes but not
      always, zero-variance completions out of the loss, 16 prompts x 4 completions per step, and
      ``negative_weight`` 0.1: with TRL's defaults the tiny model's sampled reward on a fixed prompt set
      falls (``benchmarks/bench_grpo_signal.py``).
    """
    grpo = {"steps": 30, "num_generations": 4, "prompts_per_step": 16, "learning_rate": 1.0e-4, "warmup": 0.1,
            "temperature": 1.0, "max_completion_length": 96, "eval_steps": 15, "negative_weight": 0.1,
            "zero_variance": "skip", "curriculum_samples": 4, "curriculum_pool": 512}  # fmt: skip
    return {
        "output_dir": "runs/quickstart",
        "seed": 0,
        "model": {"path": "tiny", "tiny": {"hidden_size": 192, "num_layers": 4, "vocab_size": 4000}},
        "data": {"source": "toy", "augment": 4, "val_size": 96, "eval_split": ["iid", "dev"]},
        "prompt": {"schema_format": "none", "instruction": QUICKSTART_INSTRUCTION},
        "sft": {"epochs": 6.0, "learning_rate": 2.0e-3, "batch_size": 16, "save_steps": 1000},
        "stages": [
            {"name": "stage1", "rewards": "stage1", **grpo},
            {"name": "stage2", "rewards": "stage2", "init": "best", **grpo},
        ],
        "eval_max_new_tokens": 96,
        "eval_batch_size": 64,
        "eval_samples": 4,
        "eval_temperature": 1.0,
        "report_to": ["tensorboard"],
    }


def smoke_config(output_dir: str, steps: int = 2) -> dict[str, Any]:
    """A run of seconds for tests: a very small model, a few SFT steps, ``steps`` GRPO steps per stage."""
    cfg = quickstart_config()
    cfg.update(
        output_dir=output_dir,
        model={
            "path": "tiny",
            "tiny": {"hidden_size": 32, "num_layers": 1, "num_heads": 2, "num_kv_heads": 1, "vocab_size": 600},
        },  # fmt: skip
        data={"source": "toy", "augment": 0, "val_size": 4, "eval_size": 4, "max_train": 32},
        sft={"epochs": 1.0, "learning_rate": 1.0e-3, "batch_size": 16, "save_steps": 100},
        eval_max_new_tokens=16,
        eval_samples=0,
        report_to=["none"],
        progress=False,
    )
    cfg["stages"] = [
        {**s, "steps": steps, "num_generations": 2, "prompts_per_step": 2, "max_completion_length": 16,
         "eval_steps": 1, "curriculum_samples": 0}
        for s in cfg["stages"]
    ]  # fmt: skip
    return cfg
