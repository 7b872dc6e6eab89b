"""The training configuration: one YAML file, parsed into dataclasses that reject mistakes early.

```yaml
output_dir: runs/toy
seed: 0
model: {path: tiny}                    # or any local Hugging Face causal LM folder
data: {source: toy, augment: 4, val_size: 64}
prompt: {schema_format: compact}
sft: {epochs: 2, learning_rate: 1.0e-3}   # optional warm start; leave out for none
stages:
  - {name: stage1, rewards: stage1, steps: 60}
  - {name: stage2, rewards: stage2, steps: 60, init: best}
```

Every field has a default and a help text (``FIELD_HELP`` / the dataclass docstrings); unknown
keys raise :class:`ConfigError` with a "did you mean" hint. ``sqlrl train --print-config`` shows
the full resolved configuration.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlrl.errors import SqlrlError

__all__ = [
    "ConfigError",
    "DataConfig",
    "GRPOStageConfig",
    "LoraSettings",
    "ModelConfig",
    "PromptConfig",
    "SFTConfig",
    "TrainConfig",
]


class ConfigError(SqlrlError, ValueError):
    """A training configuration that cannot work; the message says which field and how to fix it."""


@dataclass
class LoraSettings:
    """LoRA through peft (leave ``lora`` out of ``model`` for full fine-tuning).

    Attributes:
        r: adapter rank. alpha: scaling. dropout: adapter dropout.
        target_modules: module names to adapt (default: all linear layers).
    """

    r: int = 16
    alpha: int = 32
    dropout: float = 0.05
    target_modules: list[str] | str = "all-linear"


@dataclass
class ModelConfig:
    """Which model to train.

    Attributes:
        path: a local Hugging Face causal LM folder, or ``tiny`` for a small Qwen2 built offline with a
            tokenizer trained on the training texts (never a hub download).
        tiny: sizes for ``tiny`` (fields of :class:`sqlrl.models.tiny.TinyModelConfig`).
        dtype: load dtype (``float32``, ``bfloat16``, ...; default the checkpoint's).
        lora: LoRA settings, or None for full fine-tuning.
    """

    path: str = "tiny"
    tiny: dict[str, Any] = field(default_factory=dict)
    dtype: str | None = None
    lora: LoraSettings | None = None


@dataclass
class DataConfig:
    """Training and evaluation data.

    Attributes:
        source: ``toy`` (sqlrl-toy, built on first use), ``spider``, ``bird`` or ``jsonl``.
        root: dataset folder (Spider/BIRD layout) or JSONL file; unused for ``toy``.
        train_split: the training split's name for the loaders (``train``).
        eval_split: the split(s) reported after each phase: a name or a list (sqlrl-toy: ``dev``, the
            compositional hold-out, and ``iid``, new questions of the training compositions); the first
            is the headline one (``eval_accuracy`` in ``summary.json``).
        database_dir: databases for ``jsonl`` data.
        augment: ``toy`` only: extra generated training pairs per non-dev composition.
        val_size: training examples held out (seeded) to choose the best checkpoint by execution accuracy.
        eval_size: evaluate on at most this many eval-split examples (0 = all).
        max_train: use at most this many training examples (0 = all).
        dialects: target dialects; several make mixed-dialect data (gold transpiled, the prompt names the
            dialect; non-SQLite dialects execute on DuckDB).
        engine: execution engine for SQLite-origin data in the rewards (``sqlite`` or ``duckdb``).
        suite: a folder of distilled test suites (``sqlrl suite build --out``) holding ``<db_id>/`` for every
            training database (``db_id``: the database file's stem). GRPO rows carry it as the ``suite_dir`` column,
            which the ``suite`` reward preset (and any ``execution``/``partial`` reward with ``suite: true``) reads:
            a completion is right only if it matches on the database and on every variant. Checked before
            training starts; a missing database suite is an error (see docs/suites.md).
    """

    source: str = "toy"
    root: str | None = None
    train_split: str = "train"
    eval_split: str | list[str] = "dev"
    database_dir: str | None = None
    augment: int = 4
    val_size: int = 64
    eval_size: int = 0
    max_train: int = 0
    dialects: list[str] = field(default_factory=lambda: ["sqlite"])
    engine: str = "sqlite"
    suite: str | None = None

    @property
    def eval_splits(self) -> list[str]:
        """``eval_split`` as a list (the first is the headline split)."""
        return [self.eval_split] if isinstance(self.eval_split, str) else list(self.eval_split)


@dataclass
class PromptConfig:
    """Prompt building (see :class:`sqlrl.data.prompts.PromptOptions`). Leave ``prompt`` out of a config
    to ask a model as it was trained (its folder's ``sqlrl_prompt.json``), else with these defaults.

    Attributes:
        schema_format: ``ddl``, ``compact`` or ``none`` (database name only; tiny models).
        sample_values: sample values per column (ddl only).
        think: ask for ``<think>`` reasoning first. instruction: replace the instruction text.
        max_length: cap on the prompt's characters (tables are dropped to fit).
    """

    schema_format: str = "ddl"
    sample_values: int = 3
    think: bool = False
    instruction: str | None = None
    max_length: int | None = None


@dataclass
class SFTConfig:
    """The optional supervised warm start (TRL ``SFTTrainer``, loss on the completion only).

    Attributes:
        epochs, learning_rate, batch_size, max_length: as in TRL; ``scheduler`` is transformers' name.
        save_steps: checkpoint every N steps (for ``--resume``).
        steps: train for exactly this many optimizer steps instead of ``epochs`` (0: use epochs).
        tool_demos: with an interactive stage in the run, this fraction of the examples become episode
            demonstrations (the gold query run with ``run_query``, then the answer; :mod:`sqlrl.env.demos`), so
            the model has seen a tool call before GRPO on episodes (0: none).
        trl: any other field of TRL's ``SFTConfig`` (``gradient_accumulation_steps``, ``weight_decay``,
            ``packing``, ...). Written at the top of the ``sft`` section like the fields above; kept here.
    """

    epochs: float = 2.0
    steps: int = 0
    learning_rate: float = 1e-3
    batch_size: int = 16
    max_length: int = 512
    scheduler: str = "cosine"
    warmup: float = 0.05
    save_steps: int = 50
    tool_demos: float = 0.0
    trl: dict[str, Any] = field(default_factory=dict)


@dataclass
class GRPOStageConfig:
    """One GRPO stage (TRL ``GRPOTrainer``); each stage has a fresh optimizer and cosine schedule.

    Attributes:
        name: stage name (its folder in ``output_dir``).
        rewards: a preset name of :data:`sqlrl.rewards.PRESETS` (``stage1`` dense partial rewards,
            ``stage2`` execution-focused, ``execution``, ``suite``: execution match on the test suites of
            ``data.suite``) or a list of ``{name, weight, ...}`` reward entries.
        init: where the stage starts: ``previous`` (the model the last phase ended with) or ``best``
            (the previous GRPO stage's checkpoint with the highest validation execution accuracy).
        steps: optimizer steps. num_generations: completions per prompt. prompts_per_step: prompts per step.
        temperature, top_p: sampling. learning_rate, beta (KL weight; 0 loads no reference model),
        loss_type (``grpo``, ``dapo``, ``dr_grpo``, ``bnpo``...), scale_rewards (``group``, ``batch``, ``none``),
        epsilon: TRL's GRPO settings. max_completion_length: tokens generated per completion.
        eval_steps: validation execution accuracy and a checkpoint every N steps (and at the end).
        zero_variance: what to do with groups whose completions all got the same reward (no gradient):
            ``keep`` (TRL's default), ``skip`` (leave them out of the loss) or ``resample`` (replace them by groups
            of fresh prompts, at most ``resample_rounds`` extra generations per step; one process only). See
            :mod:`sqlrl.train.grpo_trainer`.
        negative_weight: scale the advantages of below-average completions by this (1: TRL's GRPO; 0: only
            better-than-average completions are reinforced). Below 1 favours pass@1 over pass@k (W-REINFORCE,
            Zhu et al. 2025); see :mod:`sqlrl.train.grpo_trainer`.
        curriculum_samples: before the stage, sample this many completions per training prompt with the start
            model and train only on prompts it solves sometimes but not always (0: off). ``curriculum_pool``:
            score this many seeded training prompts (0: all). See :mod:`sqlrl.train.curriculum`.
        mode: ``single`` (one completion per prompt) or ``interactive``: multi-turn episodes in which the model
            may explore the database with read-only tools before it answers (TRL's ``environment_factory``
            with :class:`sqlrl.env.SqlEnvironment`; tool outputs are left out of the loss). The stage's rewards
            score the episode's final answer; see docs/environment.md.
        env: the episodes' settings for ``mode: interactive`` (fields of :class:`sqlrl.env.EnvConfig`:
            ``max_turns``, ``max_chars``, ``max_rows``, truncation limits, ``timeout``, penalties).
        trl: any other field of TRL's ``GRPOConfig`` (``gradient_accumulation_steps``, ``mask_truncated_completions``,
            ``top_k``, ...). Written in the stage like the fields above; kept here.
    """

    name: str = "stage1"
    rewards: str | list[dict[str, Any]] = "stage1"
    init: str = "previous"
    steps: int = 50
    num_generations: int = 8
    prompts_per_step: int = 8
    temperature: float = 1.0
    top_p: float = 1.0
    learning_rate: float = 1e-4
    beta: float = 0.0
    loss_type: str = "dapo"
    scale_rewards: str = "group"
    epsilon: float = 0.2
    max_completion_length: int = 96
    eval_steps: int = 25
    scheduler: str = "cosine"
    warmup: float = 0.0
    zero_variance: str = "keep"
    resample_rounds: int = 2
    negative_weight: float = 1.0
    curriculum_samples: int = 0
    curriculum_pool: int = 0
    mode: str = "single"
    env: dict[str, Any] = field(default_factory=dict)
    trl: dict[str, Any] = field(default_factory=dict)


@dataclass
class TrainConfig:
    """The whole run: model, data, prompt, optional SFT warm start, then GRPO stages in order.

    Attributes:
        output_dir: everything goes here (phase folders, checkpoints, TensorBoard logs, summary, plot).
        seed: seeds data splits, initialisation and sampling.
        eval_max_new_tokens: greedy tokens per evaluation completion. eval_batch_size: prompts per batch.
        eval_samples: also sample this many completions per eval question at ``eval_temperature`` after each
            phase and report sampled EX (mean match over samples) and pass@k (0: greedy EX only).
        val_samples: also sample this many completions per validation question at each GRPO stage's temperature at
            every checkpoint: the stage's reward on a fixed prompt set (0: greedy validation EX only).
        timeout: seconds per query in rewards and evaluation. workers: sandbox threads (-1 all cores).
        report_to: transformers loggers (``tensorboard``, ``none``, ``wandb``...).
        use_vllm / vllm_mode: generation through TRL's vLLM integration (needs vllm installed).
        eval_after_each_phase: evaluate the eval split after SFT and after every stage.
        eval_base: also evaluate the starting model before any training.
        progress: show progress bars.
        gradient_checkpointing: trade compute for memory (TRL's default is on; off suits small models).
        torch_threads: CPU threads for torch on a machine without CUDA. 0 (default): the cores that are idle
            when the run starts (cores minus the 1-minute load average, at least 1), because threads that wait on
            busy cores are far slower than fewer threads (seen here: 9x slower SFT steps with 2 threads on 2
            loaded cores); with several processes, that count is shared out among them. -1: torch's own default
            (one per core).
        keep_checkpoints: keep at most this many of the newest checkpoints in each phase folder, deleting
            older ones after every save (null: keep all). Never deleted: the stage's best checkpoint by
            validation execution accuracy (what ``init: best`` and ``summary.json`` point to, so a stage
            may keep one more) and the newest complete one (what ``--resume`` continues from).
    """

    output_dir: str = "runs/sqlrl"
    seed: int = 0
    model: ModelConfig = field(default_factory=ModelConfig)
    data: DataConfig = field(default_factory=DataConfig)
    prompt: PromptConfig | None = None
    sft: SFTConfig | None = None
    stages: list[GRPOStageConfig] = field(default_factory=lambda: [GRPOStageConfig()])
    eval_max_new_tokens: int = 128
    eval_batch_size: int = 64
    eval_samples: int = 0
    eval_temperature: float = 1.0
    val_samples: int = 0
    timeout: float = 5.0
    workers: int = -1
    report_to: list[str] = field(default_factory=lambda: ["tensorboard"])
    use_vllm: bool = False
    vllm_mode: str = "colocate"
    eval_after_each_phase: bool = True
    eval_base: bool = False
    progress: bool = True
    gradient_checkpointing: bool = False
    torch_threads: int = 0
    keep_checkpoints: int | None = None

    def __post_init__(self) -> None:
        self.validate()

    # -- construction -------------------------------------------------------------------------------

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        """Build from plain dicts (as YAML gives), with helpful errors for unknown or mistyped keys."""
        return _build(cls, data, "config")

    @classmethod
    def from_yaml(cls, path: str | os.PathLike[str]) -> TrainConfig:
        """Read a YAML file (see the module docs for an example)."""
        import yaml

        p = Path(path)
        if not p.is_file():
            raise ConfigError(f"config file {p} does not exist")
        try:
            data = yaml.safe_load(p.read_text()) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{p} is not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise ConfigError(f"{p}: the top level must be a mapping of settings, not {type(data).__name__}")
        return cls.from_dict(data)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_yaml(self) -> str:
        import yaml

        return yaml.safe_dump(self.to_dict(), sort_keys=False)

    # -- checks -------------------------------------------------------------------------------------

    def validate(self) -> None:
        if self.data.source not in ("toy", "spider", "bird", "jsonl"):
            raise ConfigError(f"data.source must be toy, spider, bird or jsonl, not {self.data.source!r}")
        if self.data.source != "toy" and not self.data.root:
            raise ConfigError(f"data.source {self.data.source!r} needs data.root (the dataset folder or file)")
        if self.data.engine not in ("sqlite", "duckdb"):
            raise ConfigError(f"data.engine must be sqlite or duckdb, not {self.data.engine!r}")
        if self.data.suite is not None and not Path(self.data.suite).is_dir():
            what = "does not exist" if not Path(self.data.suite).exists() else "is no folder"
            raise ConfigError(
                f"data.suite {self.data.suite} {what}: build the suites first (`sqlrl suite build --db <database> "
                f"--gold <gold file> --out {self.data.suite}` for each training database; see docs/suites.md)"
            )
        if not self.data.dialects:
            raise ConfigError("data.dialects must name at least one dialect (e.g. [sqlite])")
        if self.data.val_size < 1:
            raise ConfigError("data.val_size must be at least 1: stage 2 starts from the best checkpoint by validation")
        if self.prompt is not None and self.prompt.schema_format not in ("ddl", "compact", "none"):
            raise ConfigError(f"prompt.schema_format must be ddl, compact or none, not {self.prompt.schema_format!r}")
        splits = [self.data.eval_split] if isinstance(self.data.eval_split, str) else self.data.eval_split
        if not splits or not all(isinstance(x, str) and x for x in splits) or len(set(splits)) != len(splits):
            raise ConfigError(f"data.eval_split must be a split name or a list of distinct names, not {splits!r}")
        if self.eval_samples < 0 or self.val_samples < 0 or self.eval_temperature <= 0:
            raise ConfigError("eval_samples and val_samples must be >= 0 and eval_temperature > 0")
        if not self.stages and self.sft is None:
            raise ConfigError("nothing to train: give an sft section, stages, or both")
        names = [s.name for s in self.stages]
        if len(set(names)) != len(names):
            raise ConfigError(f"stage names must be unique, got {names}")
        for i, s in enumerate(self.stages):
            where = f"stages[{i}] ({s.name})"
            if s.init not in ("previous", "best"):
                raise ConfigError(f"{where}.init must be 'previous' or 'best', not {s.init!r}")
            if s.init == "best" and i == 0:
                raise ConfigError(f"{where}.init 'best' needs an earlier GRPO stage to pick a checkpoint from")
            if s.num_generations < 2:
                raise ConfigError(f"{where}.num_generations must be >= 2: GRPO compares completions within a group")
            if s.steps < 1 or s.prompts_per_step < 1 or s.eval_steps < 1:
                raise ConfigError(f"{where}: steps, prompts_per_step and eval_steps must be positive")
            if s.temperature <= 0:
                raise ConfigError(f"{where}.temperature must be > 0 (GRPO needs different completions per group)")
            if s.scale_rewards not in ("group", "batch", "none"):
                raise ConfigError(f"{where}.scale_rewards must be group, batch or none, not {s.scale_rewards!r}")
            if s.zero_variance not in ("keep", "skip", "resample"):
                raise ConfigError(f"{where}.zero_variance must be keep, skip or resample, not {s.zero_variance!r}")
            if not 0.0 <= s.negative_weight <= 1.0:
                raise ConfigError(f"{where}.negative_weight must be in [0, 1], not {s.negative_weight!r}")
            if s.resample_rounds < 0 or s.curriculum_samples < 0 or s.curriculum_pool < 0:
                raise ConfigError(f"{where}: resample_rounds, curriculum_samples and curriculum_pool must be >= 0")
            if s.mode not in ("single", "interactive"):
                raise ConfigError(f"{where}.mode must be 'single' or 'interactive', not {s.mode!r}")
            if s.env and s.mode != "interactive":
                raise ConfigError(f"{where}.env sets episodes: it needs mode: interactive")
            if s.mode == "interactive":
                from sqlrl.env.config import EnvConfig, EnvConfigError

                try:
                    EnvConfig.from_dict(s.env)
                except (EnvConfigError, TypeError) as exc:
                    raise ConfigError(f"{where}: {exc}") from None
                if s.curriculum_samples:
                    raise ConfigError(f"{where}: curriculum_samples scores single-turn completions; set it to 0 "
                                      "with mode: interactive")  # fmt: skip
            if s.curriculum_samples == 1:
                raise ConfigError(f"{where}.curriculum_samples must be 0 (off) or >= 2: one sample cannot tell "
                                  "'sometimes' from 'always'")  # fmt: skip
        if self.sft is not None and (self.sft.epochs <= 0 or self.sft.batch_size < 1):
            raise ConfigError("sft.epochs must be > 0 and sft.batch_size >= 1")
        if self.sft is not None and not 0.0 <= self.sft.tool_demos <= 1.0:
            raise ConfigError(f"sft.tool_demos must be a fraction in [0, 1], not {self.sft.tool_demos!r}")
        if self.sft is not None and self.sft.tool_demos and not any(s.mode == "interactive" for s in self.stages):
            raise ConfigError("sft.tool_demos demonstrates episodes for an interactive stage: add a stage with "
                              "mode: interactive, or set it to 0")  # fmt: skip
        if self.torch_threads < -1:
            raise ConfigError(
                f"torch_threads must be -1 (torch's default), 0 (idle cores) or a count, not {self.torch_threads}"
            )
        k = self.keep_checkpoints
        if k is not None and (isinstance(k, bool) or not isinstance(k, int) or k < 1):
            raise ConfigError(
                f"keep_checkpoints must be an integer >= 1 (the newest checkpoints kept per phase; the best and "
                f"the newest are always kept) or null to keep every checkpoint, not {k!r}"
            )


# -- dict -> dataclass with good errors -------------------------------------------------------------------

_NESTED: dict[tuple[type, str], type] = {}


def _build(cls: type, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise ConfigError(f"{where} must be a mapping, not {type(data).__name__} ({data!r})")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    kwargs: dict[str, Any] = {}
    passed: dict[str, Any] = {}
    for key, value in data.items():
        if key not in fields and cls in _TRL_CLASSES:
            passed[key] = _trl_field(cls, str(key), value, f"{where}.{key}", fields)
            continue
        if key not in fields:
            close = difflib.get_close_matches(str(key), list(fields), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(fields)}"
            raise ConfigError(f"unknown key {where}.{key}{hint}")
        kwargs[key] = _coerce(fields[key].type, _convert(cls, key, value, f"{where}.{key}"), f"{where}.{key}")
    if passed:
        given = kwargs.get("trl") or {}
        if not isinstance(given, dict):
            raise ConfigError(f"{where}.trl must be a mapping of TRL settings, not {type(given).__name__}")
        kwargs["trl"] = {**given, **_parsed_by_trl(cls, passed, where)}
    try:
        return cls(**kwargs)
    except TypeError as exc:  # pragma: no cover - every field has a default
        raise ConfigError(f"{where}: {exc}") from exc


_NAMES = {"float": "a number", "int": "an integer"}


def _coerce(annotation: Any, value: Any, where: str) -> Any:
    """Numbers and booleans as their fields declare them (YAML reads ``3e-5`` as a string)."""
    kind = str(annotation)
    try:
        if kind == "float" and isinstance(value, (str, int)) and not isinstance(value, bool):
            return float(value)
        if kind == "int" and isinstance(value, str):
            return int(value)
    except ValueError:
        raise ConfigError(f"{where} must be {_NAMES[kind]}, not {value!r}") from None
    if kind == "int" and isinstance(value, float) and value.is_integer():
        return int(value)
    if kind in ("float", "int") and (isinstance(value, bool) or not isinstance(value, (int, float)) or
                                     (kind == "int" and isinstance(value, float))):  # fmt: skip
        raise ConfigError(f"{where} must be {_NAMES[kind]}, not {value!r}")
    if kind == "bool" and not isinstance(value, bool):
        raise ConfigError(f"{where} must be true or false, not {value!r}")
    return value


def _convert(cls: type, key: str, value: Any, where: str) -> Any:
    nested = {
        (TrainConfig, "model"): ModelConfig,
        (TrainConfig, "data"): DataConfig,
        (TrainConfig, "prompt"): PromptConfig,
        (TrainConfig, "sft"): SFTConfig,
        (ModelConfig, "lora"): LoraSettings,
    }
    if (cls, key) in nested:
        if value is None:
            return None
        return _build(nested[(cls, key)], value, where)
    if (cls, key) == (TrainConfig, "stages"):
        if not isinstance(value, list):
            raise ConfigError(f"{where} must be a list of stage settings")
        return [_build(GRPOStageConfig, v, f"{where}[{i}]") for i, v in enumerate(value)]
    if key == "trl" and cls in _TRL_CLASSES:
        if not isinstance(value, dict):
            raise ConfigError(f"{where} must be a mapping of TRL settings, not {type(value).__name__}")
        own = {f.name: f for f in dataclasses.fields(cls)}
        checked = {str(k): _trl_field(cls, str(k), v, f"{where}.{k}", own) for k, v in value.items()}
        return _parsed_by_trl(cls, checked, where)
    if (cls, key) in ((DataConfig, "dialects"), (TrainConfig, "report_to")) and isinstance(value, str):
        return [value]
    return value


# -- TRL's own fields in the sft section and the stages -----------------------------------------------------

#: Fields of TRL's configs that sqlrl sets itself, and the sqlrl setting that decides each.
SET_BY_SQLRL: dict[str, str] = {
    "output_dir": "output_dir (phase folders inside it)",
    "max_steps": "steps",
    "num_train_epochs": "epochs",
    "per_device_train_batch_size": "prompts_per_step x num_generations (GRPO) or batch_size (SFT)",
    "lr_scheduler_type": "scheduler",
    "warmup_steps": "warmup",
    "save_steps": "eval_steps (GRPO) or save_steps (SFT)",
    "reward_weights": "rewards (each entry's weight)",
    "seed": "seed (top level)",
    "report_to": "report_to (top level)",
    "use_vllm": "use_vllm (top level)",
    "vllm_mode": "vllm_mode (top level)",
    "gradient_checkpointing": "gradient_checkpointing (top level)",
    "disable_tqdm": "progress (top level)",
}


def _trl_field(cls: type, key: str, value: Any, where: str, own: dict[str, Any]) -> Any:
    """A key of the ``sft`` section or a stage that is not sqlrl's: a field of TRL's config, checked against it."""
    if key in own:
        raise ConfigError(f"{where}: {key} is a sqlrl setting of this section; write it there, not under trl")
    trl_fields = _trl_fields(cls)
    if key in SET_BY_SQLRL:
        raise ConfigError(f"{where}: sqlrl sets TRL's {key} from {SET_BY_SQLRL[key]}; set that instead")
    if trl_fields is None:
        raise ConfigError(
            f"unknown key {where}; valid keys: {', '.join(own)} (or a field of TRL's config, with the train "
            f"extra installed: pip install 'sqlrl[train]')"
        )
    if key not in trl_fields:
        close = difflib.get_close_matches(key, [*own, *trl_fields], n=1)
        hint = f"; did you mean {close[0]!r}?" if close else ""
        raise ConfigError(
            f"unknown key {where}: neither a sqlrl setting nor a field of TRL's {_TRL_CLASSES[cls]}{hint}"
        )
    return value


_TRL_CLASSES: dict[type, str] = {SFTConfig: "SFTConfig", GRPOStageConfig: "GRPOConfig"}
_TRL_PARSERS: dict[type, Any] = {}


class _ParseError(ConfigError):
    """TRL's parser refused a value (re-raised as a ConfigError naming the field)."""


def _trl_parser(cls: type) -> Any:
    """TRL's own parser (``trl.TrlParser``, transformers' ``HfArgumentParser``) over TRL's config class."""
    if cls not in _TRL_PARSERS:
        import trl

        parser = trl.TrlParser(getattr(trl, _TRL_CLASSES[cls]))

        def fail(message: str) -> None:
            raise _ParseError(message)

        parser.error = fail  # type: ignore[method-assign]  # a ConfigError, never a SystemExit
        _TRL_PARSERS[cls] = parser
    return _TRL_PARSERS[cls]


def _parsed_by_trl(cls: type, values: dict[str, Any], where: str) -> dict[str, Any]:
    """TRL's fields of a section (names already checked), typed and checked by TRL's parser as the same
    settings on a TRL command line would be: ``3e-5`` becomes a float, ``optim: adam`` is refused with
    TRL's list of choices. None and mappings (``model_init_kwargs``) are kept as written."""
    if _trl_fields(cls) is None:  # TRL is not installed: nothing to parse with (names were refused already)
        return values
    parser = _trl_parser(cls)
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None or isinstance(value, dict) or value == []:
            out[key] = value
            continue
        argv = [f"--{key}", *(_as_flag(v) for v in (value if isinstance(value, list) else [value]))]
        try:
            parsed, rest = parser.parse_known_args(argv)
        except _ParseError as exc:
            raise ConfigError(f"{where}.{key}: {exc}") from None
        if rest:
            raise ConfigError(f"{where}.{key}: TRL's {_TRL_CLASSES[cls]} takes one value here, not {value!r}")
        out[key] = getattr(parsed, key)
    return out


def _as_flag(value: Any) -> str:
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def _trl_fields(cls: type) -> list[str] | None:
    """The field names of TRL's config for ``cls``, or None when TRL is not installed."""
    try:
        import trl
    except ImportError:
        return None
    return [f.name for f in dataclasses.fields(getattr(trl, _TRL_CLASSES[cls])) if f.init]
