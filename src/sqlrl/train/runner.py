"""Run a training configuration: optional SFT warm start, then GRPO stages, on TRL's trainers.

Layout of ``output_dir``::

    config.yaml          the resolved configuration (the prompt included, also when taken from the model)
    state.json           which phases are done, their final models, validation and eval scores
    base_model/          the tiny model (when model.path is ``tiny``)
    sft/                 SFTTrainer checkpoints, ``final/`` model
    <stage>/             GRPOTrainer checkpoints (each with ``sqlrl_val.json``), ``final/`` model
    <phase>/runs/        TensorBoard logs of each phase (tensorboard --logdir OUTPUT_DIR)
    <phase>/eval-<split>.jsonl  each eval question's greedy completion and verdict after the phase
    <stage>/val-<step>.jsonl    each validation question's greedy completion and verdict at that step
    summary.json         accuracies per phase and eval split, best checkpoints, reward means
    training.png         reward curves per reward, validation accuracy per stage, eval accuracy per phase

Every model folder written (``base_model/``, each ``checkpoint-<step>/``, ``final/``) holds
``sqlrl_prompt.json``, the prompt settings it was trained with (:mod:`sqlrl.models.prompt_settings`),
which ``sqlrl generate``, ``sqlrl verbal`` and a later ``sqlrl train`` read. A config without a
``prompt`` section takes the settings of ``model.path`` when it has that file.

Two-stage RL: a stage with ``init: best`` starts from the checkpoint of the previous GRPO stage
(its start model included) with the highest validation execution accuracy, with a fresh optimizer
and cosine schedule (a new trainer). ``resume=True`` skips finished phases and continues an
unfinished one from its last checkpoint. ``keep_checkpoints: N`` deletes all but the N newest checkpoints
of a phase after each save, never its best one or the newest complete one. With several processes
(``torchrun``/``accelerate launch``) every process trains; the main process alone evaluates, writes state,
plots and deletes checkpoints.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import shutil
import time
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlrl.errors import SqlrlError
from sqlrl.models.prompt_settings import PromptSettings
from sqlrl.train.config import GRPOStageConfig, PromptConfig, TrainConfig
from sqlrl.train.data import TrainData, load_train_data, to_rows

__all__ = ["Runner", "TrainingError", "check_suites"]

_VAL_FILE = "sqlrl_val.json"


def _step(ckpt: Path) -> int:
    return int(ckpt.name.split("-")[-1])


def _checkpoints(phase_dir: Path) -> list[Path]:
    """The ``checkpoint-<step>`` folders of a phase, complete or not, oldest first."""
    return sorted((p for p in phase_dir.glob("checkpoint-*") if p.name[11:].isdigit()), key=_step)


def _json_object(path: Path) -> dict | None:
    """The JSON object in ``path``; None when the file is missing, empty or cut off (a killed writer)."""
    try:
        obj = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return obj if isinstance(obj, dict) else None


def _complete(ckpt: Path) -> bool:
    """Whether a checkpoint was saved whole: the Trainer writes ``trainer_state.json`` last, so a process
    killed while saving leaves it missing, empty or cut off mid-JSON."""
    return _json_object(ckpt / "trainer_state.json") is not None


def _last_checkpoint(phase_dir: Path) -> str | None:
    """The newest complete checkpoint (see ``_complete``); a partial folder is skipped when resuming."""
    if not phase_dir.is_dir():
        return None
    done = [p for p in _checkpoints(phase_dir) if _complete(p)]
    return str(done[-1]) if done else None


def _prune_checkpoints(phase_dir: Path, keep: int, protect: list[str]) -> list[Path]:
    """Delete all but the ``keep`` newest complete checkpoints of ``phase_dir`` and the paths in ``protect``;
    the newest complete one (what resuming continues from) always stays. A partial folder older than it
    is deleted too (resuming never uses it); a newer one is left alone. Returns the deleted folders."""
    folders = _checkpoints(phase_dir)
    done = [p for p in folders if _complete(p)]
    if not done:
        return []
    kept = {p.resolve() for p in done[-keep:]} | {Path(p).resolve() for p in protect}
    removed = [p for p in folders if _step(p) < _step(done[-1]) and p.resolve() not in kept]
    for p in removed:
        shutil.rmtree(p, ignore_errors=True)
    return removed


def torch_threads(setting: int, processes: int = 1) -> int:
    """The torch thread count for ``setting`` (see ``TrainConfig.torch_threads``); 0 means leave torch's default
    (``setting`` -1, or a CUDA machine)."""
    if setting > 0:
        return setting
    if setting < 0:
        return 0
    import torch

    if torch.cuda.is_available():
        return 0
    cores = os.cpu_count() or 1
    idle = max(1, min(cores, int(cores - _busy_cores(cores) + 0.5)))
    return max(1, idle // max(1, processes))


def _cpu_times() -> tuple[int, int] | None:
    """(idle, total) jiffies of all CPUs from /proc/stat; None where there is none."""
    try:
        with open("/proc/stat", encoding="ascii") as f:
            fields = [int(x) for x in f.readline().split()[1:]]
    except (OSError, ValueError):
        return None
    return fields[3] + (fields[4] if len(fields) > 4 else 0), sum(fields[:8])


def _busy_cores(cores: int, window: float = 0.5) -> float:
    """How many cores other processes keep busy now: CPU time over ``window`` seconds from /proc/stat (the load
    average trails by a minute: a machine that just went quiet still looks loaded), else the load average."""
    first = _cpu_times()
    if first is not None:
        time.sleep(window)
        second = _cpu_times()
        if second is not None and second[1] > first[1]:
            return cores * (1.0 - (second[0] - first[0]) / (second[1] - first[1]))
    try:
        return os.getloadavg()[0]
    except OSError:  # not available on this platform
        return 0.0


def _completions_per_process(stage: GRPOStageConfig, world: int) -> int:
    """A GRPO step's completions per process; raises when the stage cannot be shared among ``world`` processes."""
    completions = stage.prompts_per_step * stage.num_generations
    if completions % world:
        raise TrainingError(
            f"{stage.name}: prompts_per_step x num_generations = {completions} completions per step must "
            f"divide among {world} processes"
        )
    if stage.zero_variance == "resample" and world > 1:
        raise TrainingError(f"{stage.name}: zero_variance 'resample' runs in one process; use 'skip' with {world}")
    return completions // world


def check_suites(cfg: TrainConfig, rows: list[dict[str, Any]]) -> dict[str, int]:
    """Before any training: a stage whose rewards read the ``suite_dir`` column (the ``suite`` preset, ``suite:
    true``) needs ``data.suite``, and ``data.suite`` needs a test suite for every training database. Returns
    the number of variants of each training database's suite (empty without ``data.suite``).

    Raises:
        ConfigError: a stage rewards on suites without ``data.suite``, or a training database has no suite
            (all of them are named, with the command that builds one).
    """
    from sqlrl.rewards import RewardSpec, RewardSpecError
    from sqlrl.rewards.batch import RewardInputError
    from sqlrl.rewards.on_suite import suite_folder
    from sqlrl.train.config import ConfigError

    users = []
    for stage in cfg.stages:
        try:
            spec = RewardSpec.load(stage.rewards)
        except RewardSpecError:
            continue  # reported, with its reason, when the stage builds its rewards
        if any(t.params.get("suite") is True for t in spec.terms):
            users.append(stage.name)
    root = cfg.data.suite
    if users and root is None:
        raise ConfigError(
            f"stage(s) {', '.join(users)} reward on test suites (the suite preset, or suite: true) but data.suite is "
            f"not set: set data.suite to the --out folder of `sqlrl suite build`, or give the reward its folder "
            f"(suite: DIR)"
        )
    if root is None:
        return {}
    counts: dict[str, int] = {}
    problems: list[str] = []
    for db in sorted({str(r["db_path"]) for r in rows}):
        try:
            counts[db] = len(suite_folder(root, db)[1])
        except RewardInputError as e:
            problems.append(str(e).split(": build it with")[0])
    if problems:
        shown = "; ".join(problems[:5]) + (f"; and {len(problems) - 5} more" if len(problems) > 5 else "")
        raise ConfigError(
            f"data.suite {root} lacks the test suite of {len(problems)} training database(s): {shown}. Build each "
            f"with `sqlrl suite build --db <database> --gold <its training gold queries> --out {root}`"
        )
    return counts


class TrainingError(SqlrlError, RuntimeError):
    """A run that cannot start or continue (e.g. an output folder with another run in it)."""


def _dist():
    """The process state shared with TRL's trainers (CPU-only machines run several processes over gloo). On a
    CUDA machine each process of this machine needs a GPU of its own: more processes than visible GPUs raise a
    TrainingError saying so, instead of NCCL failing later on a GPU shared by two ranks."""
    import torch
    from accelerate import PartialState

    cuda = torch.cuda.is_available()
    if cuda:
        local = int(os.environ.get("LOCAL_WORLD_SIZE") or 1)
        gpus = torch.cuda.device_count()
        if local > gpus:
            raise TrainingError(
                f"{local} training processes on this machine but {gpus} visible GPU(s): each process needs a GPU "
                f"of its own. Start at most {gpus} (torchrun --nproc_per_node, accelerate --num_processes), or "
                "train on the CPU with CUDA_VISIBLE_DEVICES=''"
            )
    return PartialState(cpu=not cuda)


def _check_output_dir(out: Path, overwrite: bool) -> bool:
    """Whether a new run must first delete a previous run in ``out`` (only with ``overwrite``); raises
    TrainingError when ``out`` holds a run and ``overwrite`` is off, or holds anything else at all."""
    if not out.exists():
        return False
    if not out.is_dir():
        raise TrainingError(f"output_dir {out} is a file; pass --output-dir DIR to write the run elsewhere")
    if (out / "state.json").exists() or (out / "config.yaml").exists():
        if overwrite:
            return True
        raise TrainingError(
            f"{out} already holds a run; pass --resume to continue it, --overwrite to delete it and start over, "
            "or --output-dir DIR to keep it and write the new run elsewhere"
        )
    if any(out.iterdir()):
        raise TrainingError(
            f"{out} is not empty and holds no sqlrl run (no state.json or config.yaml), so nothing is deleted; "
            "pass --output-dir DIR with a new or empty folder"
        )
    return False


def _checkpointing_arg(on: bool) -> dict[str, bool]:
    """Activation (gradient) checkpointing under the installed transformers' name for it: transformers 5.x
    renamed TrainingArguments' ``gradient_checkpointing`` to ``activation_checkpointing`` (the old name
    warns); earlier 5.x releases know only the old one. TRL's configs default it to on, so it is always set."""
    from transformers import TrainingArguments

    fields = {f.name for f in dataclasses.fields(TrainingArguments)}
    return {"activation_checkpointing" if "activation_checkpointing" in fields else "gradient_checkpointing": on}


@contextlib.contextmanager
def _trl_quiet() -> Iterator[None]:
    """Around a training phase: TRL reads ``model.is_gradient_checkpointing`` around every generation (and
    peft when it wraps a model), a property newer transformers deprecate for ``is_activation_checkpointing``
    with a FutureWarning each time. Only that warning is hidden (sqlrl's arguments do not cause it and a user
    cannot act on it); drop this once TRL and peft read the new name."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", r"`is_gradient_checkpointing` is deprecated", FutureWarning)
        yield


def _log(msg: str) -> None:
    if _dist().is_main_process:
        print(f"[sqlrl] {msg}", flush=True)


class Runner:
    """Runs ``cfg``; :meth:`run` returns the summary dict (also written to ``summary.json``)."""

    def __init__(self, cfg: TrainConfig, *, resume: bool = False, overwrite: bool = False) -> None:
        from sqlrl.models.local import require_torch

        require_torch()
        if cfg.use_vllm:
            import importlib.util

            if importlib.util.find_spec("vllm") is None:
                raise TrainingError("use_vllm is set but vllm is not installed (pip install vllm, on a GPU machine)")
        self.cfg = cfg = dataclasses.replace(cfg, prompt=self._prompt_config(cfg))
        self.prompt_settings = PromptSettings(
            **dataclasses.asdict(cfg.prompt), max_new_tokens=cfg.eval_max_new_tokens,
            dialect=cfg.data.dialects[0] if len(cfg.data.dialects) == 1 else None,
        )  # fmt: skip
        self.out = Path(cfg.output_dir)
        self.resume = resume
        state_file = self.out / "state.json"
        if not resume:
            delete = _check_output_dir(self.out, overwrite)  # every process decides before anything is deleted
            _dist().wait_for_everyone()
            if delete and _dist().is_main_process:
                shutil.rmtree(self.out)
        _dist().wait_for_everyone()
        self.state: dict[str, Any] = json.loads(state_file.read_text()) if resume and state_file.exists() else {}
        self.state.setdefault("phases", {})
        self.data: TrainData | None = None
        self._rows: dict[str, list[dict[str, Any]]] = {}
        self._eval_reward: Any = None  # one execution reward for every evaluation: gold results run once

    @staticmethod
    def _prompt_config(cfg: TrainConfig) -> PromptConfig:
        """The config's prompt; without one, the settings ``model.path`` was trained with, else the defaults."""
        if cfg.prompt is not None:
            return cfg.prompt
        settings = PromptSettings.read(cfg.model.path) if cfg.model.path != "tiny" else None
        if settings is None:
            return PromptConfig()
        _log(f"prompt: as {cfg.model.path} was trained (its sqlrl_prompt.json)")
        return PromptConfig(**{f.name: getattr(settings, f.name) for f in dataclasses.fields(PromptConfig)})

    # -- state ---------------------------------------------------------------------------------------

    def _write_state(self) -> None:
        """Write ``state.json`` atomically (main process only; the caller decides when)."""
        if _dist().is_main_process:
            self.out.mkdir(parents=True, exist_ok=True)
            tmp = self.out / "state.json.tmp"
            tmp.write_text(json.dumps(self.state, indent=2) + "\n")
            os.replace(tmp, self.out / "state.json")

    def _save_state(self) -> None:
        """The main process writes ``state.json``; after a barrier the others read it back, so every
        process sees the main process's choices (best checkpoints, finished phases)."""
        self._write_state()
        _dist().wait_for_everyone()
        if not _dist().is_main_process:
            self.state = json.loads((self.out / "state.json").read_text())

    def _phase(self, name: str) -> dict[str, Any]:
        return self.state["phases"].setdefault(name, {})

    # -- data and model ------------------------------------------------------------------------------

    def _prepare_data(self) -> None:
        cfg = self.cfg
        self.data = load_train_data(cfg.data, seed=cfg.seed)
        stats = self.data.stats
        tables = self.data.tables
        self._rows = {
            "train": to_rows(self.data.train, cfg.prompt, cfg.data, seed=cfg.seed, tables=tables, stats=stats),
            "val": to_rows(self.data.val, cfg.prompt, cfg.data, seed=cfg.seed, tables=tables),
            "sft": to_rows(self.data.train, cfg.prompt, cfg.data, seed=cfg.seed, tables=tables, sft=True),
        }
        interactive = [s for s in cfg.stages if s.mode == "interactive"]
        if cfg.sft is not None and cfg.sft.tool_demos and interactive:
            from sqlrl.env import EnvConfig
            from sqlrl.env.demos import with_tool_demos

            env = EnvConfig.from_dict(interactive[0].env)
            self._rows["sft"] = with_tool_demos(self._rows["sft"], self._rows["train"], cfg.sft.tool_demos, env,
                                                seed=cfg.seed)  # fmt: skip
        for split, examples in self.data.evals.items():
            self._rows[f"eval/{split}"] = to_rows(examples, cfg.prompt, cfg.data, seed=cfg.seed + 1, tables=tables)
        variants = check_suites(cfg, self._rows["train"])
        if variants:
            none = sum(1 for n in variants.values() if n == 0)
            _log(f"test suites: {len(variants)} training databases, {sum(variants.values())} variants"
                 + (f" ({none} suites kept no variant: scored on their database alone)" if none else ""))  # fmt: skip
        self.state["data"] = stats
        evals = ", ".join(f"{len(ex)} {split}" for split, ex in self.data.evals.items())
        _log(f"data: {stats['train']} train, {stats['val']} validation, eval: {evals} examples")

    def _base_model(self) -> str:
        cfg = self.cfg
        if cfg.model.path != "tiny":
            from sqlrl.models.local import check_model_dir

            try:
                return str(check_model_dir(cfg.model.path))
            except FileNotFoundError as exc:
                raise TrainingError(f"model.path: {exc}; or 'tiny' for a small model built offline") from None
        path = self.out / "base_model"
        if _dist().is_main_process and not (path / "config.json").exists():
            from sqlrl.models.tiny import build_tiny_model

            texts = [m["content"] for r in self._rows["sft"] for m in [*r["prompt"], *r["completion"]]]
            if any(s.mode == "interactive" for s in cfg.stages):  # the tool-call protocol's words
                from sqlrl.env.vocabulary import tool_texts

                texts += tool_texts()
            build_tiny_model(path, texts, **{"seed": cfg.seed, **cfg.model.tiny})
            if any(s.mode == "interactive" for s in cfg.stages):  # SFT renders episodes with the tool template
                from transformers import AutoTokenizer

                from sqlrl.env.template import prepare_tool_tokenizer

                prepare_tool_tokenizer(AutoTokenizer.from_pretrained(path)).save_pretrained(path)
            self.prompt_settings.write(path)
            _log(f"built the tiny model in {path}")
        _dist().wait_for_everyone()
        return str(path)

    def _load(self, path: str):
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        kwargs: dict[str, Any] = {}
        if self.cfg.model.dtype:
            kwargs["dtype"] = getattr(torch, self.cfg.model.dtype)
        model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
        tok = AutoTokenizer.from_pretrained(path)
        if tok.pad_token is None:
            tok.pad_token = tok.eos_token
        return model, tok

    def _peft_config(self):
        lora = self.cfg.model.lora
        if lora is None:
            return None
        from peft import LoraConfig

        return LoraConfig(
            r=lora.r, lora_alpha=lora.alpha, lora_dropout=lora.dropout, target_modules=lora.target_modules,
            task_type="CAUSAL_LM",
        )  # fmt: skip

    def _save_final(self, trainer: Any, tokenizer: Any, path: Path) -> str:
        """Save the trained model as a plain model folder (LoRA adapters merged)."""
        model = trainer.accelerator.unwrap_model(trainer.model)
        if _dist().is_main_process:
            if hasattr(model, "merge_and_unload"):
                model = model.merge_and_unload()
            model.save_pretrained(path)
            tokenizer.save_pretrained(path)
            self.prompt_settings.write(path)
        _dist().wait_for_everyone()
        return str(path)

    def _common_args(self) -> dict[str, Any]:
        import torch

        cuda = torch.cuda.is_available()
        return {
            "seed": self.cfg.seed,
            "report_to": [r for r in self.cfg.report_to if r != "none"] or "none",
            "bf16": bool(cuda and torch.cuda.is_bf16_supported()),
            "use_cpu": not cuda,
            "disable_tqdm": not self.cfg.progress,
            "dataloader_num_workers": 0,
            "save_strategy": "steps",
            "save_total_limit": None,
            **_checkpointing_arg(self.cfg.gradient_checkpointing),
        }

    def _callbacks(self, protect: Callable[[], list[str]] = list) -> list[Any]:
        """What every phase's trainer runs after a save: the prompt settings written into the checkpoint,
        then ``keep_checkpoints`` (see :meth:`_keep_checkpoints`)."""
        from transformers import TrainerCallback

        settings = self.prompt_settings

        class WritePromptSettings(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):  # noqa: ANN001
                ckpt = Path(args.output_dir) / f"checkpoint-{state.global_step}"
                if _dist().is_main_process and ckpt.is_dir():
                    settings.write(ckpt)

        return [WritePromptSettings(), *self._keep_checkpoints(protect)]

    def _keep_checkpoints(self, protect: Callable[[], list[str]] = list) -> list[Any]:
        """The callback that applies ``keep_checkpoints`` after every save (none when it is unset).

        transformers' ``save_total_limit`` would keep its own ``best_model_checkpoint`` only: it rotates before
        sqlrl has scored the new checkpoint, reads a stale best back from ``trainer_state.json`` on resume, and
        with a limit of 1 deletes the newest checkpoint at the end of training. So it stays off and the main
        process prunes here, after the validation callback, protecting ``protect()`` (the best so far).
        """
        keep = self.cfg.keep_checkpoints
        if keep is None:
            return []
        from transformers import TrainerCallback

        class KeepCheckpoints(TrainerCallback):
            def on_save(self, args, state, control, **kwargs):  # noqa: ANN001
                if _dist().is_main_process:
                    phase_dir = Path(args.output_dir)
                    removed = _prune_checkpoints(phase_dir, keep, protect())
                    if removed:
                        names = ", ".join(p.name for p in removed)
                        _log(f"{phase_dir.name}: deleted {names} (keep_checkpoints: {keep})")

        return [KeepCheckpoints()]

    # -- evaluation ----------------------------------------------------------------------------------

    def _execution_reward(self) -> Any:
        """The execution reward every evaluation shares (its executor keeps the gold results)."""
        if self._eval_reward is None:
            from sqlrl.rewards import execution_reward

            self._eval_reward = execution_reward(
                mode="spider", empty_gold="allow", timeout=self.cfg.timeout, workers=self.cfg.workers
            )
        return self._eval_reward

    def _evaluate(
        self,
        model: Any,
        tokenizer: Any,
        split: str,
        desc: str,
        samples: int = 0,
        temperature: float = 1.0,
        record: Path | None = None,
        episodes: Any = None,
    ) -> dict[str, Any] | None:
        """Execution accuracy on the rows of ``split`` (``val`` or ``eval/<name>``), with sampled EX and pass@k
        over ``samples`` completions at ``temperature`` when ``samples`` > 0; None on processes other than the
        main one. With ``record``, every question's greedy completion and verdict are written there as JSON
        lines."""
        if not _dist().is_main_process:
            return None
        from sqlrl.train.evaluate import episode_accuracy, execution_accuracy

        t0 = time.perf_counter()
        if episodes is not None:  # an interactive stage's model: greedy episodes, their final answers scored
            res = episode_accuracy(model, tokenizer, self._rows[split], episodes,
                                   max_new_tokens=self.cfg.eval_max_new_tokens, batch_size=self.cfg.eval_batch_size,
                                   reward=self._execution_reward())  # fmt: skip
            out = {**res.to_dict(), "mode": "interactive", "seconds": round(time.perf_counter() - t0, 2)}
            self._record(record, split, res)
            return out
        res = execution_accuracy(
            model, tokenizer, self._rows[split], max_new_tokens=self.cfg.eval_max_new_tokens,
            batch_size=self.cfg.eval_batch_size, reward=self._execution_reward(), progress=self.cfg.progress, desc=desc,
            samples=samples, temperature=temperature, seed=self.cfg.seed,
        )  # fmt: skip
        out = {**res.to_dict(), "seconds": round(time.perf_counter() - t0, 2)}
        self._record(record, split, res)
        return out

    def _record(self, record: Path | None, split: str, res: Any) -> None:
        """Every question's completion and verdict, as JSON lines in ``record`` (nothing when None)."""
        if record is None:
            return
        record.parent.mkdir(parents=True, exist_ok=True)
        with open(record, "w", encoding="utf-8") as f:
            for row, text, ok in zip(self._rows[split], res.completions, res.correct, strict=True):
                line = {"db_id": row["db_id"], "question": row["question"], "gold": row["gold_sql"],
                        "completion": text, "correct": ok}  # fmt: skip
                f.write(json.dumps(line, ensure_ascii=False) + "\n")

    # -- phases --------------------------------------------------------------------------------------

    @_trl_quiet()
    def _run_sft(self, start: str) -> str:
        from datasets import Dataset
        from trl import SFTConfig, SFTTrainer

        s = self.cfg.sft
        assert s is not None
        phase_dir = self.out / "sft"
        model, tok = self._load(start)
        if s.tool_demos and any(st.mode == "interactive" for st in self.cfg.stages):
            # the demonstrations' tool calls and results must be rendered (and learnt) as the episodes will show
            # them: any model's template, not only the tiny one built here (whose saved template has it already)
            from sqlrl.env.template import prepare_tool_tokenizer

            try:
                prepare_tool_tokenizer(tok)
            except ValueError as exc:
                raise TrainingError(f"sft: tool_demos: {exc}") from None
        args = SFTConfig(**{
            **dict(
                output_dir=str(phase_dir), num_train_epochs=s.epochs, learning_rate=s.learning_rate,
                per_device_train_batch_size=s.batch_size, max_length=s.max_length, lr_scheduler_type=s.scheduler,
                warmup_steps=s.warmup, save_steps=s.save_steps, logging_steps=10, max_steps=s.steps or -1,
            ),
            **self._common_args(),
            **s.trl,  # TRL's own fields from the config (checked by sqlrl.train.config)
        })  # fmt: skip
        trainer = SFTTrainer(
            model=model, args=args, train_dataset=Dataset.from_list(self._rows["sft"]), processing_class=tok,
            peft_config=self._peft_config(), callbacks=self._callbacks(),
        )  # fmt: skip
        last = _last_checkpoint(phase_dir) if self.resume else None
        if last:
            _log(f"sft: resuming from {last}")
        trainer.train(resume_from_checkpoint=last)
        final = self._save_final(trainer, tok, phase_dir / "final")
        self._phase("sft")["log_history"] = trainer.state.log_history
        return final

    def _grpo_args(self, stage: GRPOStageConfig, phase_dir: Path, batch_size: int, weights: list[float]) -> Any:
        """TRL's ``GRPOConfig`` for a stage: sqlrl's settings, then TRL's own fields from the config."""
        from trl import GRPOConfig

        episodes: dict[str, Any] = {}
        if stage.mode == "interactive":  # model turns per episode: the exploration turns and the answer
            from sqlrl.env import EnvConfig

            episodes["max_tool_calling_iterations"] = EnvConfig.from_dict(stage.env).max_turns + 1

        return GRPOConfig(**{
            **dict(
                output_dir=str(phase_dir), max_steps=stage.steps, learning_rate=stage.learning_rate,
                lr_scheduler_type=stage.scheduler, warmup_steps=stage.warmup,
                per_device_train_batch_size=batch_size, num_generations=stage.num_generations,
                temperature=stage.temperature, top_p=stage.top_p, beta=stage.beta, loss_type=stage.loss_type,
                scale_rewards=stage.scale_rewards, epsilon=stage.epsilon,
                max_completion_length=stage.max_completion_length, reward_weights=weights,
                save_steps=stage.eval_steps, logging_steps=1, use_vllm=self.cfg.use_vllm, vllm_mode=self.cfg.vllm_mode,
                log_completions=False,
            ),
            **self._common_args(),
            **episodes,
            **stage.trl,  # TRL's own fields from the config (checked by sqlrl.train.config)
        })  # fmt: skip

    @_trl_quiet()
    def _run_grpo(self, stage: GRPOStageConfig, start: str) -> tuple[str, str]:
        """Train one GRPO stage from ``start``; returns (final model, best checkpoint by validation)."""
        from datasets import Dataset
        from transformers import TrainerCallback

        from sqlrl.rewards import build_rewards
        from sqlrl.train.grpo_trainer import grpo_trainer_class

        phase_dir = self.out / stage.name
        phase = self._phase(stage.name)
        model, tok = self._load(start)
        world = _dist().num_processes
        completions = _completions_per_process(stage, world)
        funcs, weights = build_rewards(stage.rewards, timeout=self.cfg.timeout, workers=self.cfg.workers)
        episodes: dict[str, Any] = {}
        if stage.mode == "interactive":
            funcs, weights, episodes = self._interactive(stage, tok, funcs, weights)
        args = self._grpo_args(stage, phase_dir, completions, weights)
        runner = self
        val: dict[str, Any] = phase.setdefault("val", {})

        def validate(model: Any, step: int) -> dict[str, Any] | None:
            """Validation EX of the model at ``step``; with ``val_samples`` also its sampled EX at the stage's
            temperature: the reward the stage optimises, on a fixed prompt set (the training log's per-step reward
            is on whichever prompts each step drew, so it can fall while the policy improves)."""
            res = runner._evaluate(model, tok, "val", f"{stage.name} val@{step}", samples=runner.cfg.val_samples,
                                   temperature=stage.temperature, record=phase_dir / f"val-{step}.jsonl",
                                   episodes=runner._episodes(stage.name))  # fmt: skip
            if res is not None:
                line = f"{stage.name} {'start' if step == 0 else f'step {step}'}: validation EX {res['accuracy']:.3f}"
                if res.get("k"):
                    line += f", sampled EX {res['sampled']:.3f} at temperature {stage.temperature}"
                _log(line)
            return res

        class Validate(TrainerCallback):
            """Validation execution accuracy of every checkpoint, written next to it."""

            def on_save(self, args, state, control, model=None, **kwargs):  # noqa: ANN001
                ckpt = Path(args.output_dir) / f"checkpoint-{state.global_step}"
                res = validate(model, state.global_step)
                if res is not None:
                    val[str(state.global_step)] = {**res, "path": str(ckpt)}
                    if ckpt.is_dir():
                        (ckpt / _VAL_FILE).write_text(json.dumps(res) + "\n")
                    runner._write_state()  # no barrier: the other processes are mid-step

        if "0" not in val:
            res = validate(model, 0)
            if res is not None:
                val["0"] = {**res, "path": start}
            self._save_state()
        rows = self._curriculum(stage, model, tok, phase)
        trainer_class = grpo_trainer_class(
            stage.zero_variance, stage.resample_rounds, seed=self.cfg.seed, negative_weight=stage.negative_weight
        )
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", "You are using 'environment_factory'", UserWarning)
            trainer = trainer_class(
                model=model, reward_funcs=funcs, args=args, train_dataset=Dataset.from_list(rows),
                processing_class=tok, peft_config=self._peft_config(),
                callbacks=[Validate(), *self._callbacks(lambda: [self._best(val)])], **episodes,
            )  # fmt: skip
        last = _last_checkpoint(phase_dir) if self.resume else None
        if last:
            _log(f"{stage.name}: resuming from {last}")
            for ckpt in filter(_complete, _checkpoints(phase_dir)):  # scores of checkpoints saved before the kill
                scored = _json_object(ckpt / _VAL_FILE)
                if scored is not None:
                    val.setdefault(str(_step(ckpt)), {**scored, "path": str(ckpt)})
        trainer.train(resume_from_checkpoint=last)
        final = self._save_final(trainer, tok, phase_dir / "final")
        step = str(trainer.state.global_step)
        if step not in val:
            res = self._evaluate(trainer.accelerator.unwrap_model(trainer.model), tok, "val", f"{stage.name} final",
                                 episodes=self._episodes(stage.name))  # fmt: skip
            if res is not None:
                val[step] = {**res, "path": final}
        phase["log_history"] = trainer.state.log_history
        best = self._best(val) if _dist().is_main_process else ""
        phase["best"] = best
        return final, best

    def _episodes(self, phase: str) -> Any:
        """The episode settings of the interactive stage named ``phase`` (its models are evaluated in episodes);
        None for any other phase."""
        stage = next((s for s in self.cfg.stages if s.name == phase and s.mode == "interactive"), None)
        if stage is None:
            return None
        from sqlrl.env import EnvConfig

        return EnvConfig.from_dict(stage.env)

    def _interactive(
        self, stage: GRPOStageConfig, tok: Any, funcs: list[Any], weights: list[float]
    ) -> tuple[list[Any], list[float], dict[str, Any]]:
        """An interactive stage: the tokenizer ready for TRL's tool loop, the rewards scoring each episode's final
        answer (plus the episode terms), and the environment factory (see :mod:`sqlrl.env`)."""
        from sqlrl.env import EnvConfig, environment_factory, episode_rewards
        from sqlrl.env.template import prepare_tool_tokenizer

        try:
            prepare_tool_tokenizer(tok)
        except ValueError as exc:
            raise TrainingError(f"{stage.name}: mode interactive: {exc}") from None
        env = EnvConfig.from_dict(stage.env)
        funcs, weights = episode_rewards(funcs, weights, env)
        return funcs, weights, {"environment_factory": environment_factory(env)}

    def _curriculum(self, stage: GRPOStageConfig, model: Any, tok: Any, phase: dict[str, Any]) -> list[dict[str, Any]]:
        """The training rows of a stage: all of them, or with ``curriculum_samples`` those its start model solves
        sometimes but not always (chosen by the main process once, kept in ``state.json`` for every process and
        for resuming)."""
        rows = self._rows["train"]
        if not stage.curriculum_samples:
            return rows
        from sqlrl.train.curriculum import pool_indices, select_prompts

        if "curriculum" not in phase:
            if _dist().is_main_process:
                from sqlrl.train.evaluate import sampled_correctness

                pool = pool_indices(len(rows), stage.curriculum_pool, self.cfg.seed)
                t0 = time.perf_counter()
                correct = sampled_correctness(
                    model, tok, [rows[i] for i in pool], samples=stage.curriculum_samples,
                    temperature=stage.temperature, max_new_tokens=stage.max_completion_length,
                    batch_size=self.cfg.eval_batch_size, seed=self.cfg.seed, reward=self._execution_reward(),
                    progress=self.cfg.progress, desc=f"{stage.name} curriculum",
                )  # fmt: skip
                rates = [sum(c) / len(c) for c in correct]
                need = stage.prompts_per_step * 2
                kept, stats = select_prompts(list(range(len(pool))), rates, min_keep=need)
                phase["curriculum"] = {**stats.to_dict(), "rows": [pool[i] for i in kept],
                                       "seconds": round(time.perf_counter() - t0, 1)}  # fmt: skip
                _log(f"{stage.name} curriculum: {stats.kept} of {stats.scored} prompts solved sometimes but not "
                     f"always by the start model ({stats.always} always, {stats.never} never; "
                     f"{phase['curriculum']['seconds']:.0f}s)")  # fmt: skip
            self._save_state()
            phase = self._phase(stage.name)
        return [rows[i] for i in phase["curriculum"]["rows"]]

    @staticmethod
    def _best(val: dict[str, Any]) -> str:
        """The path of the highest validation accuracy; ties go to the earliest step."""
        step = max(sorted(val, key=int), key=lambda s: val[s]["accuracy"])
        return val[step]["path"]

    def _checkpoint_model(self, path: str) -> str:
        """A checkpoint folder saved by a LoRA run holds adapters: merge them into a plain model first."""
        p = Path(path)
        if not (p / "adapter_config.json").exists():
            return path
        merged = p / "merged"
        if _dist().is_main_process and not (merged / "config.json").exists():
            from peft import AutoPeftModelForCausalLM
            from transformers import AutoTokenizer

            model = AutoPeftModelForCausalLM.from_pretrained(path).merge_and_unload()
            model.save_pretrained(merged)
            AutoTokenizer.from_pretrained(path).save_pretrained(merged)
            self.prompt_settings.write(merged)
        _dist().wait_for_everyone()
        return str(merged)

    # -- the run -------------------------------------------------------------------------------------

    def run(self) -> dict[str, Any]:
        cfg = self.cfg
        t_start = time.perf_counter()
        threads = torch_threads(cfg.torch_threads, _dist().num_processes)
        if threads:
            import torch

            torch.set_num_threads(threads)
            _log(f"torch threads: {threads}")
        if _dist().is_main_process:
            self.out.mkdir(parents=True, exist_ok=True)
            (self.out / "config.yaml").write_text(cfg.to_yaml())
        self._prepare_data()
        current = self._base_model()
        self.state.setdefault("base_model", current)
        self._save_state()
        order = (["sft"] if cfg.sft is not None else []) + [s.name for s in cfg.stages]
        if "base" not in self.state["phases"] and cfg.eval_base:
            self._phase("base").update({"done": True, "final": current})
            self._evaluate_phase("base", current)
            self._save_state()
        previous_grpo: str | None = None
        for name in order:
            phase = self._phase(name)
            if phase.get("done"):
                current = phase["final"]
                previous_grpo = name if name != "sft" else previous_grpo
                _log(f"{name}: done earlier, continuing from {current}")
                continue
            t0 = time.perf_counter()
            phase["started"] = True
            self._save_state()
            if name == "sft":
                current = self._run_sft(current)
            else:
                stage = next(s for s in cfg.stages if s.name == name)
                start = current
                if stage.init == "best" and previous_grpo is not None:
                    start = self._checkpoint_model(self.state["phases"][previous_grpo]["best"])
                    _log(f"{name}: starting from the best {previous_grpo} checkpoint {start}")
                phase["start"] = start
                current, _ = self._run_grpo(stage, start)
                previous_grpo = name
            phase.update({"final": current, "seconds": round(time.perf_counter() - t0, 1)})
            if cfg.eval_after_each_phase:
                self._evaluate_phase(name, current)
            phase["done"] = True
            self._save_state()
        summary = self._summary(time.perf_counter() - t_start)
        if _dist().is_main_process:
            (self.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
            try:
                from sqlrl.train.plots import plot_training

                plot_training(self.state, self.out / "training.png")
                summary["plot"] = str(self.out / "training.png")
            except ImportError:
                _log("no training plot: matplotlib is not installed (pip install 'sqlrl[plots]')")
            except Exception as exc:  # a plot never fails a finished run
                _log(f"could not draw the plot: {exc}")
        return summary

    def _evaluate_phase(self, name: str, model_path: str) -> None:
        """Every eval split on the model a phase ended with: ``phase["evals"][split]``; ``phase["eval"]`` is the
        first split's."""
        model, tok = self._load(model_path)
        phase = self._phase(name)
        evals: dict[str, Any] = {}
        for split in self.data.evals if self.data is not None else []:
            record = self.out / name / f"eval-{split}.jsonl"
            res = self._evaluate(model, tok, f"eval/{split}", f"eval {name} on {split}", samples=self.cfg.eval_samples,
                                 temperature=self.cfg.eval_temperature, record=record,
                                 episodes=self._episodes(name))  # fmt: skip
            if res is None:
                continue
            evals[split] = res
            kind = "execution accuracy" + (" of the episodes' answers" if res.get("mode") == "interactive" else "")
            line = (f"{name}: {split} {kind} {res['accuracy']:.3f} ({res['n']} examples, "
                    f"{res['executable']:.1%} executable")  # fmt: skip
            if res.get("k"):
                line += f"; sampled EX {res['sampled']:.3f}, pass@{res['k']} {res['pass_at_k']:.3f}"
            _log(f"{line}; {res['seconds']:.0f}s)")
        if evals:
            phase["evals"] = evals
            phase["eval"] = next(iter(evals.values()))

    def _summary(self, seconds: float) -> dict[str, Any]:
        phases = {}
        for name, p in self.state["phases"].items():
            entry: dict[str, Any] = {k: p[k] for k in ("final", "best", "seconds", "start") if k in p}
            if p.get("eval"):
                entry["eval_accuracy"] = p["eval"]["accuracy"]
                entry["eval_executable"] = p["eval"]["executable"]
            if p.get("evals"):
                keys = ("accuracy", "executable", "sampled", "pass_at_k", "k", "n")
                entry["eval"] = {split: {k: r[k] for k in keys if k in r} for split, r in p["evals"].items()}
            if p.get("val"):
                entry["val_accuracy"] = {s: v["accuracy"] for s, v in sorted(p["val"].items(), key=lambda x: int(x[0]))}
            rewards: dict[str, float] = {}
            for rec in p.get("log_history", []):
                for k, v in rec.items():
                    if k.startswith("rewards/") and k.endswith("/mean") and isinstance(v, (int, float)):
                        rewards.setdefault(k, []).append(v)  # type: ignore[attr-defined]
            if rewards:
                entry["reward_mean_first_last"] = {
                    k: [round(v[0], 4), round(v[-1], 4)] for k, v in rewards.items() if not math.isnan(v[0])
                }
            phases[name] = entry
        return {"output_dir": str(self.out), "seconds": round(seconds, 1), "data": self.state.get("data"),
                "phases": phases}  # fmt: skip
