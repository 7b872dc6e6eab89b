"""Ready-made configurations. ``quickstart_config()`` is what ``sqlrl quickstart`` runs and what
``configs/quickstart.yaml`` holds (a test keeps the two equal)."""

from __future__ import annotations

from typing import Any

__all__ = ["QUICKSTART_INSTRUCTION", "quickstart_config", "smoke_config"]

QUICKSTART_INSTRUCTION = "Write one SQLite query that answers the question, in a ```sql fenced code block."


def quickstart_config() -> dict[str, Any]:
    """sqlrl-toy with generated extra training pairs, the tiny model, SFT, then two GRPO stages.

    Sized to finish within 15 minutes on two CPU cores.
    """
    grpo = {"steps": 40, "num_generations": 8, "prompts_per_step": 8, "learning_rate": 1.0e-4,
            "temperature": 0.7, "max_completion_length": 64, "eval_steps": 20}  # fmt: skip
    return {
        "output_dir": "runs/quickstart",
        "seed": 0,
        "model": {"path": "tiny", "tiny": {"hidden_size": 192, "num_layers": 4, "vocab_size": 4000}},
        "data": {"source": "toy", "augment": 4, "val_size": 96},
        "prompt": {"schema_format": "none", "instruction": QUICKSTART_INSTRUCTION},
        "sft": {"epochs": 3.0, "learning_rate": 2.0e-3, "batch_size": 16, "save_steps": 100},
        "stages": [
            {"name": "stage1", "rewards": "stage1", **grpo},
            {"name": "stage2", "rewards": "stage2", "init": "best", **grpo},
        ],
        "eval_max_new_tokens": 64,
        "eval_batch_size": 64,
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
        report_to=["none"],
        progress=False,
    )
    cfg["stages"] = [
        {**s, "steps": steps, "num_generations": 2, "prompts_per_step": 2, "max_completion_length": 16,
         "eval_steps": 1}
        for s in cfg["stages"]
    ]  # fmt: skip
    return cfg
