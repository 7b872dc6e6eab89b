"""Verbal RL: in-context improvement of SQL by group self-evaluation with execution feedback (DESIGN.md §8).

No gradients: a backbone LLM samples candidate queries until ``k`` of them execute (or a bounded
number of attempts); the candidates run in the sandbox and are clustered by result hash; a judge
(the same or another LLM) scores the whole group, seeing each query with its execution summary, in
several rounds that are averaged; the best is chosen (ties: larger cluster, then simpler query);
optional refinement rounds feed errors, empty results and the judge's critique back. Every loop is
bounded and every call has a timeout, so a run always ends; everything is logged as JSON Lines that
:mod:`sqlrl.verbal.trajectory` turns into SFT, preference or RL data.

>>> from sqlrl.data import load_toy  # doctest: +SKIP
>>> from sqlrl.verbal import OpenAIChatBackend, VerbalConfig, run_verbal  # doctest: +SKIP
>>> llm = OpenAIChatBackend("Qwen/Qwen2.5-Coder-7B-Instruct", base_url="http://localhost:8000/v1")  # doctest: +SKIP
>>> summary = run_verbal(load_toy("dev"), llm, out_dir="runs/verbal", config=VerbalConfig(k=4))  # doctest: +SKIP

Command line: ``sqlrl verbal --base-url http://localhost:8000/v1 --model NAME --out runs/verbal``.
"""

from sqlrl.verbal.backends import ChatBackend, ChatResult, FunctionBackend, LocalChatBackend, OpenAIChatBackend
from sqlrl.verbal.config import VerbalConfig
from sqlrl.verbal.judge import parse_judge_reply
from sqlrl.verbal.loop import NO_SQL, Trajectory, VerbalLoop, sql_complexity
from sqlrl.verbal.run import RunSummary, dataset_kind, run_verbal, write_predictions
from sqlrl.verbal.trajectory import group_records, preference_records, read_trajectories, sft_records

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
