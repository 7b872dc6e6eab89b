"""``sqlrl train --config FILE.yaml`` and ``sqlrl quickstart``: command classes with ``register``/``run``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from sqlrl._cliutil import EXIT_USAGE, error

__all__ = ["QuickstartCommand", "TrainCommand", "print_accuracy_table"]


def _set(cfg_dict: dict[str, Any], dotted: str, value: str) -> None:
    """``--set stages.0.steps=5``: override one field, parsing the value as YAML."""
    import yaml

    keys = dotted.split(".")
    node: Any = cfg_dict
    for k in keys[:-1]:
        node = node[int(k)] if isinstance(node, list) else node.setdefault(k, {})
    last = keys[-1]
    parsed = yaml.safe_load(value)
    if isinstance(node, list):
        node[int(last)] = parsed
    else:
        node[last] = parsed


def print_accuracy_table(summary: dict[str, Any]) -> None:
    """The table the quickstart ends with: after every phase, greedy execution accuracy on each eval split
    (and sampled EX and pass@k when ``eval_samples`` asked for them)."""
    from rich.console import Console
    from rich.table import Table

    phases = {name: p for name, p in summary["phases"].items() if "eval_accuracy" in p}
    splits = list(next((p["eval"] for p in phases.values() if p.get("eval")), {}) or {"eval": None})
    ks = {r.get("k", 0) for p in phases.values() for r in (p.get("eval") or {}).values()}
    k = max(ks, default=0)
    table = Table(title=f"Execution accuracy after each phase ({summary['output_dir']})")
    table.add_column("after")
    for split in splits:
        table.add_column(f"{split}\nEX", justify="right")
        if k:
            table.add_column(f"{split}\nsampled", justify="right")
            table.add_column(f"{split}\npass@{k}", justify="right")
    table.add_column("exec-\nutable", justify="right")
    table.add_column("best\nval. EX", justify="right")
    table.add_column("min", justify="right")
    for name, p in phases.items():
        val = p.get("val_accuracy") or {}
        best = f"{max(val.values()):.1%}" if val else ""
        mins = f"{p['seconds'] / 60:.1f}" if "seconds" in p else ""
        label = {"base": "initial model", "sft": "SFT"}.get(name, f"GRPO {name}")
        cells = []
        for split in splits:
            r = (p.get("eval") or {}).get(split) or {"accuracy": p["eval_accuracy"]}
            cells.append(f"{r['accuracy']:.1%}")
            if k:
                cells += [f"{r['sampled']:.1%}" if r.get("sampled") is not None else "",
                          f"{r['pass_at_k']:.1%}" if r.get("pass_at_k") is not None else ""]  # fmt: skip
        table.add_row(label, *cells, f"{p['eval_executable']:.1%}", best, mins)
    Console(width=None if sys.stdout.isatty() else 160).print(table)  # a log file gets the whole table
    if len(splits) > 1:
        print(f"executable: on {splits[0]}; sampled EX: {k} samples per question at the eval temperature" if k else
              f"executable: on {splits[0]}")  # fmt: skip
    print(f"total {summary['seconds'] / 60:.1f} min; summary.json and training.png in {summary['output_dir']}")


def _run(cfg: Any, args: argparse.Namespace) -> int:
    from sqlrl.train.runner import Runner, TrainingError, _dist

    try:
        summary = Runner(cfg, resume=args.resume, overwrite=args.overwrite).run()
    except TrainingError as exc:
        return error(str(exc), EXIT_USAGE)
    if _dist().is_main_process:
        print_accuracy_table(summary)
    return 0


def _start(data: dict[str, Any], args: argparse.Namespace) -> int:
    """Apply ``--set``/``--output-dir`` to the config dict, then print it or run it."""
    cfg = _finish_config(data, args)
    if cfg is None:
        return 2
    if args.print_config:
        print(cfg.to_yaml())
        return 0
    return _run(cfg, args)


def _add_run_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--output-dir", default=None, help="override output_dir")
    p.add_argument("--resume", action="store_true", help="continue a killed run in output_dir (skips finished phases)")
    p.add_argument(
        "--overwrite", action="store_true", help="delete a previous run in output_dir first (never without this flag)"
    )
    p.add_argument(
        "--set", action="append", default=[], metavar="KEY=VALUE",
        help="override a field, e.g. --set stages.0.steps=5 --set data.augment=0 (repeatable)",
    )  # fmt: skip
    p.add_argument("--print-config", action="store_true", help="print the resolved configuration and exit")


def _finish_config(data: dict[str, Any], args: argparse.Namespace):
    from sqlrl.train.config import ConfigError, TrainConfig

    try:
        for item in args.set:
            if "=" not in item:
                raise ConfigError(f"--set expects KEY=VALUE, got {item!r}")
            key, value = item.split("=", 1)
            _set(data, key.strip(), value)
        if args.output_dir:
            data["output_dir"] = args.output_dir
        return TrainConfig.from_dict(data)
    except (ConfigError, IndexError, KeyError, ValueError) as exc:
        error(f"config: {exc}", EXIT_USAGE)
        return None


class TrainCommand:
    """train a model: optional SFT warm start, then GRPO stages (see docs in sqlrl.train.config)"""

    name = "train"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser(TrainCommand.name, help=TrainCommand.__doc__, description=TrainCommand.__doc__)
        p.add_argument("--config", required=True, help="YAML configuration file (see configs/ and docs/training.md)")
        _add_run_flags(p)
        p.set_defaults(command=TrainCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        import yaml

        from sqlrl.train.config import ConfigError

        path = Path(args.config)
        if not path.is_file():
            where = "is a directory" if path.is_dir() else "does not exist"
            return error(f"--config {path} {where}; give a YAML file (see configs/)")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            return error(f"--config {path} is not UTF-8 text ({exc})")
        try:
            data = yaml.safe_load(text) or {}
            if not isinstance(data, dict):
                raise ConfigError(f"{path}: the top level must be a mapping of settings")
        except ConfigError as exc:
            return error(f"config: {exc}", EXIT_USAGE)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
            problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
            return error(f"config: {path} is not valid YAML: {problem}{where}", EXIT_USAGE)
        return _start(data, args)


class QuickstartCommand:
    """the offline quickstart: sqlrl-toy, a tiny model, SFT then two-stage GRPO, accuracy after each phase"""

    name = "quickstart"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser(
            QuickstartCommand.name, help=QuickstartCommand.__doc__, description=QuickstartCommand.__doc__
        )
        _add_run_flags(p)
        p.add_argument("--seed", type=int, default=None, help="seed of data split, model and sampling")
        p.set_defaults(command=QuickstartCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl.train.presets import quickstart_config

        data = quickstart_config()
        if args.seed is not None:
            data["seed"] = args.seed
        return _start(data, args)
