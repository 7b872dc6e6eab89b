"""Verbal RL: in-context improvement of SQL by group self-evaluation with execution feedback.

See docs/architecture.md, 'Verbal RL and generation'.

No gradients: a backbone LLM samples candidate queries until ``k`` of them execute (or a bounded
number of attempts); the candidates run in the sandbox and are clustered by result hash; a judge
(the same or another LLM) scores the whole group, seeing each query with its execution summary, in
several rounds that are averaged; the best is chosen (ties: larger cluster, then simpler query);
optional refinement rounds feed errors, empty results and the judge's critique back. Every loop is
bounded and every call has a timeout, so a run always ends; everything is logged as JSON Lines that
:mod:`sqlrl.verbal.trajectory` turns into SFT, preference or RL data.

>>> from sqlrl.data import load_toy  # doctest: +SKIP
>>> from sqlrl.models import OpenAIChatModel  # doctest: +SKIP
>>> from sqlrl.verbal import VerbalConfig, run_verbal  # doctest: +SKIP
>>> llm = OpenAIChatModel("Qwen/Qwen2.5-Coder-7B-Instruct", base_url="http://localhost:8000/v1")  # doctest: +SKIP
>>> summary = run_verbal(load_toy("dev"), llm, out_dir="runs/verbal", config=VerbalConfig(k=4))  # doctest: +SKIP

Command line: ``sqlrl verbal --base-url http://localhost:8000/v1 --model NAME --out runs/verbal``.

The models are :mod:`sqlrl.models`' chat models; the former names ``ChatBackend``, ``ChatResult``,
``FunctionBackend``, ``LocalChatBackend`` and ``OpenAIChatBackend`` stay importable from here and
from :mod:`sqlrl.verbal.backends`.
"""

from __future__ import annotations

import importlib
from typing import Any

# Names are imported on first use, so that ``sqlrl --help`` and ``import sqlrl.verbal.config`` stay cheap.
_WHERE = {
    "ChatBackend": "backends", "ChatResult": "backends", "FunctionBackend": "backends", "LocalChatBackend": "backends",
    "OpenAIChatBackend": "backends", "VerbalConfig": "config", "parse_judge_reply": "judge", "NO_SQL": "loop",
    "Trajectory": "loop", "VerbalLoop": "loop", "sql_complexity": "loop", "RunSummary": "run",
    "dataset_kind": "run", "run_verbal": "run", "write_predictions": "run", "group_records": "trajectory",
    "preference_records": "trajectory", "read_trajectories": "trajectory", "sft_records": "trajectory",
}  # fmt: skip

__all__ = [
    "NO_SQL",
    "ChatBackend",
    "ChatResult",
    "FunctionBackend",
    "LocalChatBackend",
    "OpenAIChatBackend",
    "RunSummary",
    "Trajectory",
    "VerbalConfig",
    "VerbalLoop",
    "dataset_kind",
    "group_records",
    "parse_judge_reply",
    "preference_records",
    "read_trajectories",
    "run_verbal",
    "sft_records",
    "sql_complexity",
    "write_predictions",
]


def __getattr__(name: str) -> Any:
    if name in _WHERE:
        value = getattr(importlib.import_module(f"sqlrl.verbal.{_WHERE[name]}"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'sqlrl.verbal' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
