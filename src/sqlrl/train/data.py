"""Training rows from any supported dataset: chat prompts plus the columns the rewards read.

A GRPO row is ``{"prompt": [messages], "gold_sql", "db_path", "engine", "dialect", "db_id",
"question", "evidence"}`` (the reward-column contract of :mod:`sqlrl.rewards`; plus ``"suite_dir"`` when
``data.suite`` names a folder of test suites); an SFT row is
``{"prompt": [messages], "completion": [assistant message]}`` with the gold SQL in a fenced block.

Mixed dialects: with several ``data.dialects``, each example draws its dialect from a generator
seeded by the run's seed and the example's id (stable across runs); the gold query is transpiled
from the benchmark's dialect with sqlglot, the prompt asks for that dialect, and non-SQLite
dialects execute on DuckDB (the sandbox imports the SQLite file). Examples whose gold cannot be
transpiled keep their original dialect (counted in ``stats``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlrl.data.example import Example, ExampleSet
from sqlrl.data.prompts import PromptOptions, build_messages
from sqlrl.train.config import DataConfig, PromptConfig

__all__ = ["TrainData", "answer_text", "load_train_data", "to_rows"]


@dataclass
class TrainData:
    """The examples of a run: ``train`` (RL/SFT), ``val`` (checkpoint choice), ``evals`` (reported, by split;
    ``eval`` is the first split's)."""

    train: list[Example]
    val: list[Example]
    evals: dict[str, list[Example]]
    tables: dict[str, Any] = field(default_factory=dict)
    stats: dict[str, int] = field(default_factory=dict)

    @property
    def eval(self) -> list[Example]:
        return next(iter(self.evals.values()), [])


def _load(cfg: DataConfig, split: str) -> ExampleSet:
    from sqlrl.data import load_bird, load_jsonl, load_spider

    if cfg.source == "toy":
        if split == cfg.train_split and cfg.augment > 0:
            from sqlrl.data.toy.augment import augmented_train

            return augmented_train(cfg.augment)
        from sqlrl.data import load_toy

        return load_toy(split)
    if cfg.source == "spider":
        return load_spider(cfg.root, split=split)
    if cfg.source == "bird":
        return load_bird(cfg.root, split=split)
    return load_jsonl(cfg.root, database_dir=cfg.database_dir)


def load_train_data(cfg: DataConfig, seed: int = 0) -> TrainData:
    """Load the train and eval splits, hold out ``val_size`` seeded training examples for validation (for
    ``jsonl`` data, which has no eval split, the validation examples are also the ``val`` eval split)."""
    train_ds = _load(cfg, cfg.train_split)
    train = [ex for ex in train_ds if ex.gold_sql]
    rng = random.Random(seed)
    order = list(range(len(train)))
    rng.shuffle(order)
    if len(train) <= cfg.val_size:
        raise ValueError(f"{len(train)} training examples cannot spare val_size={cfg.val_size} for validation")
    val_idx = set(order[: cfg.val_size])
    val = [train[i] for i in sorted(val_idx)]
    rest = [train[i] for i in order[cfg.val_size :]]
    if cfg.max_train:
        rest = rest[: cfg.max_train]
    evals: dict[str, list[Example]] = {}
    for split in cfg.eval_splits if cfg.source != "jsonl" else ["val"]:
        ev = val if cfg.source == "jsonl" else [ex for ex in _load(cfg, split) if ex.gold_sql]
        evals[split] = ev[: cfg.eval_size] if cfg.eval_size else ev
    tables = dict(getattr(train_ds, "tables", {}) or {})
    stats = {"train": len(rest), "val": len(val), "eval": len(next(iter(evals.values())))}
    if len(evals) > 1:
        stats.update({f"eval_{split}": len(ev) for split, ev in evals.items()})
    return TrainData(rest, val, evals, tables, stats)


def answer_text(sql: str, think: bool = False) -> str:
    """The assistant answer SFT teaches: the SQL in a fenced block (an empty ``<think>`` first if asked)."""
    body = f"```sql\n{sql.strip()}\n```"
    return f"<think>\n</think>\n{body}" if think else body


def _dialect_of(ex: Example, dialects: list[str], seed: int) -> str:
    if len(dialects) == 1:
        return dialects[0]
    return dialects[random.Random(f"{seed}|{ex.id}").randrange(len(dialects))]


def to_rows(
    examples: list[Example],
    prompt: PromptConfig,
    data: DataConfig,
    *,
    seed: int = 0,
    tables: dict[str, Any] | None = None,
    sft: bool = False,
    stats: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """GRPO rows (or SFT rows with ``sft=True``) for ``examples``; see the module docs."""
    from sqlrl.sql.dialects import transpile
    from sqlrl.sql.errors import SqlError

    rows: list[dict[str, Any]] = []
    for ex in examples:
        dialect = _dialect_of(ex, data.dialects, seed)
        gold = ex.gold_sql or ""
        if dialect != ex.dialect:
            try:
                gold = transpile(gold, read=ex.dialect, write=dialect)
            except SqlError:
                dialect, gold = ex.dialect, ex.gold_sql or ""
                if stats is not None:
                    stats["untranspilable"] = stats.get("untranspilable", 0) + 1
        options = PromptOptions(
            schema_format=prompt.schema_format,
            sample_values=prompt.sample_values,
            think=prompt.think,
            instruction=prompt.instruction,
            max_length=prompt.max_length,
            dialect=dialect,
        )
        messages = build_messages(ex, options=options, tables_entry=(tables or {}).get(ex.db_id))
        if sft:
            rows.append(
                {"prompt": messages, "completion": [{"role": "assistant", "content": answer_text(gold, prompt.think)}]}
            )
            continue
        engine = data.engine if dialect == "sqlite" else "duckdb"
        row = {
            "prompt": messages,
            "gold_sql": gold,
            "db_path": str(ex.db_path),
            "engine": engine,
            "dialect": dialect,
            "db_id": ex.db_id,
            "question": ex.question,
            "evidence": ex.evidence or "",
        }
        if data.suite is not None:  # the folder of test suites, for the rewards built with suite=True
            row["suite_dir"] = str(Path(data.suite).resolve())
        rows.append(row)
    return rows
