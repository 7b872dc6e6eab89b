"""Training: an optional SFT warm start and two-stage GRPO on TRL's trainers (``[train]`` extra).

>>> from sqlrl.train import TrainConfig
>>> cfg = TrainConfig.from_dict({"output_dir": "runs/x", "stages": [{"name": "s1", "steps": 5}]})
>>> cfg.stages[0].num_generations
8

Run a configuration with ``sqlrl train --config FILE.yaml`` or ``Runner(cfg).run()``. Importing
this package does not import torch; :class:`~sqlrl.train.runner.Runner` needs the extra.
"""

from __future__ import annotations

from sqlrl._lazy import lazy_exports

# Names are imported from their modules on first use: `sqlrl train --help` does not load the runner.
_HOMES = {
    "ConfigError": "config", "DataConfig": "config", "GRPOStageConfig": "config", "LoraSettings": "config",
    "ModelConfig": "config", "PromptConfig": "config", "SFTConfig": "config", "TrainConfig": "config",
    "quickstart_config": "presets", "smoke_config": "presets", "Runner": "runner", "TrainingError": "runner",
}  # fmt: skip
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

__all__ = [
    "ConfigError",
    "DataConfig",
    "GRPOStageConfig",
    "LoraSettings",
    "ModelConfig",
    "PromptConfig",
    "Runner",
    "SFTConfig",
    "TrainConfig",
    "TrainingError",
    "quickstart_config",
    "smoke_config",
]
