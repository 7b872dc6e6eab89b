"""Episode demonstrations for a supervised warm start: the gold query explored, then given as the answer.

A small model trained only on single-turn answers never calls a tool, so GRPO on episodes would never see
one. ``sft.tool_demos: f`` (with an interactive stage in the run) turns a fraction ``f`` of the SFT examples
into episodes: the question with the tool help, an assistant turn calling ``run_query`` with the gold query,
the tool's real output (run through a :class:`~sqlrl.env.SqlEnvironment`), then the answer as a ```sql block.
SFT trains on the whole completion, the tool output included (it is short, and these are demonstrations).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from typing import Any

from sqlrl.env.config import EnvConfig
from sqlrl.env.environment import environment_factory

__all__ = ["demonstration", "with_tool_demos"]


def demonstration(env: Any, row: Mapping[str, Any], gold: str, answer_text: str) -> dict[str, Any]:
    """An SFT row (``prompt``/``completion`` messages) demonstrating one episode of ``row``."""
    help_text = env.reset(**{k: v for k, v in row.items() if k != "prompt"}) or ""
    output = env.run_query(gold)
    prompt = [dict(m) for m in row["prompt"]]
    prompt[-1] = {**prompt[-1], "content": prompt[-1]["content"] + help_text}
    call = {"type": "function", "function": {"name": "run_query", "arguments": {"sql": gold}}}
    completion = [
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "name": "run_query", "content": output},
        {"role": "assistant", "content": answer_text},
    ]
    return {"prompt": prompt, "completion": completion}


def with_tool_demos(
    sft_rows: Sequence[dict[str, Any]],
    grpo_rows: Sequence[Mapping[str, Any]],
    fraction: float,
    config: EnvConfig,
    seed: int = 0,
) -> list[dict[str, Any]]:
    """``sft_rows`` with a ``fraction`` of them (chosen by ``seed``) replaced by demonstrations; ``grpo_rows`` are
    the same examples as GRPO rows (``db_path``, ``gold_sql``, ...), in the same order."""
    if len(sft_rows) != len(grpo_rows):
        raise ValueError("sft_rows and grpo_rows must hold the same examples in the same order")
    picked = set(random.Random(seed).sample(range(len(sft_rows)), round(fraction * len(sft_rows))))
    make = environment_factory(config)
    env = make()
    out = []
    for i, (sft, row) in enumerate(zip(sft_rows, grpo_rows, strict=True)):
        if i in picked and row.get("gold_sql"):
            out.append(demonstration(env, row, row["gold_sql"], sft["completion"][-1]["content"]))
        else:
            out.append(sft)
    make.service.close()  # type: ignore[attr-defined]
    return out
