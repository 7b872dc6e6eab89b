"""Texts of the tool-call protocol, for training the tiny model's tokenizer (so ``<tool_call>``, the tool
names and the error words are tokens of their own, not byte fallbacks)."""

from __future__ import annotations

from sqlrl.env.config import EnvConfig
from sqlrl.env.environment import TOOLS, tool_help
from sqlrl.env.episodes import format_tool_call

__all__ = ["tool_texts"]


def tool_texts() -> list[str]:
    """A few lines in the protocol's words, repeated so BPE merges them."""
    lines = [tool_help(EnvConfig(max_turns=n)) for n in range(1, 9)]
    for name in TOOLS:
        lines.append(format_tool_call(name, {"sql": "SELECT count(*) FROM t"} if name in ("run_query", "answer")
                                      else {"table": "t"} if name == "describe_table" else {}))  # fmt: skip
    lines += [
        "<tool_response>\ncolumns: n INTEGER\nrows: 1\nn\n1\n</tool_response>",
        "<tool_response>\nerror (runtime): no such column: x\n</tool_response>",
        "<tool_response>\ntables:\nt (3 columns)\n</tool_response>",
        "<tool_response>\nanswer recorded: SELECT 1. The episode is over.\n</tool_response>",
        "error (out_of_turns): call answer(sql) now",
        "[truncated: 10 more characters] (first 10 shown) sample rows (first 3):",
    ]
    return lines * 20
