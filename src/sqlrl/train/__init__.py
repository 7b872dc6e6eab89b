"""Training: an optional SFT warm start and two-stage GRPO on TRL's trainers (``[train]`` extra).

>>> from sqlrl.train import TrainConfig
>>> cfg = TrainConfig.from_dict({"output_dir": "runs/x", "stages": [{"name": "s1", "steps": 5}]})
>>> cfg.stages[0].num_generations
8

Run a configuration with ``sqlrl train --config FILE.yaml`` or ``Runner(cfg).run()``. Importing
this package does not import torch; :class:`~sqlrl.train.runner.Runner` needs the extra.
"""

from sqlrl.train.config import (
    ConfigError,
    DataConfig,
    GRPOStageConfig,
    LoraSettings,
    ModelConfig,
    PromptConfig,
    SFTConfig,
    TrainConfig,
)
from sqlrl.train.presets import quickstart_config, smoke_config
from sqlrl.train.runner import Runner, TrainingError

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
