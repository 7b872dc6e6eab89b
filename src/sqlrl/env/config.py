"""The settings of an interactive episode: budgets, truncation limits and per-episode reward terms."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from sqlrl.errors import SqlrlError

__all__ = ["EnvConfig", "EnvConfigError"]


class EnvConfigError(SqlrlError, ValueError):
    """Episode settings that cannot work; the message names the field and what it accepts."""


@dataclass(frozen=True)
class EnvConfig:
    """How long an episode may run, how much of a tool's output the model sees, and what it costs.

    Budgets (one episode = one question on one database):

    Attributes:
        max_turns: exploration tool calls (``run_query``, ``list_tables``, ``describe_table``) per
            episode. A call past the budget runs nothing and returns an error telling the model to
            answer; ``answer`` is always allowed once.
        max_chars: characters of tool output per episode, all calls together. Each output is cut to
            what is left of it; once it is spent, exploration calls return an error.

    Truncation of one tool output (applied in this order; see :mod:`sqlrl.env.render`):

    Attributes:
        max_rows: result rows shown by ``run_query`` (the count of rows fetched is always shown).
        sample_rows: sample rows shown by ``describe_table``.
        max_cell_chars: characters per cell; a longer cell ends in ``...``.
        max_output_chars: characters per tool output; a longer output is cut and ends in
            ``[truncated: N more characters]``.
        max_sql_chars: a ``run_query``/``answer`` SQL longer than this is refused unrun.

    Execution:

    Attributes:
        timeout: seconds one tool query may run (the sandbox stops it; the tool returns a timeout error).
        fetch_rows: rows fetched per query (more are dropped and the output says so).
        tool_help: append the tools and the call format to the question (``reset`` returns it; TRL
            appends it to the prompt's last user message).

    Per-episode reward terms (added to the rewards of the final answer; all 0 by default):

    Attributes:
        tool_call_penalty: subtracted per tool call (``answer`` included).
        failed_call_penalty: subtracted per failed tool call (a query error, a refused call, an
            unknown table, a call past a budget).
        out_of_turns_penalty: subtracted once when the model asked for a tool after ``max_turns``
            was spent.
    """

    max_turns: int = 6
    max_chars: int = 4000
    max_rows: int = 10
    sample_rows: int = 3
    max_cell_chars: int = 40
    max_output_chars: int = 1200
    max_sql_chars: int = 4000
    timeout: float = 2.0
    fetch_rows: int = 1000
    tool_help: bool = True
    tool_call_penalty: float = 0.0
    failed_call_penalty: float = 0.0
    out_of_turns_penalty: float = 0.0

    def __post_init__(self) -> None:
        for name in ("max_turns", "max_rows", "sample_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 0:
                raise EnvConfigError(f"env.{name} must be an integer >= 0, not {value!r}")
        for name in ("max_chars", "max_cell_chars", "max_output_chars", "max_sql_chars", "fetch_rows"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 8:
                raise EnvConfigError(f"env.{name} must be an integer >= 8, not {value!r}")
        if not isinstance(self.timeout, (int, float)) or isinstance(self.timeout, bool) or self.timeout <= 0:
            raise EnvConfigError(f"env.timeout must be a positive number of seconds, not {self.timeout!r}")
        for name in ("tool_call_penalty", "failed_call_penalty", "out_of_turns_penalty"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise EnvConfigError(
                    f"env.{name} must be a number >= 0 (it is subtracted from the reward), not {value!r}"
                )

    @classmethod
    def from_dict(cls, data: dict[str, Any] | None) -> EnvConfig:
        """From a mapping (a config's ``env`` section); unknown keys fail with a "did you mean"."""
        import difflib

        data = dict(data or {})
        names = [f.name for f in dataclasses.fields(cls)]
        for key in data:
            if key not in names:
                close = difflib.get_close_matches(str(key), names, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; valid keys: {', '.join(names)}"
                raise EnvConfigError(f"unknown episode setting env.{key}{hint}")
        return cls(**data)

    @property
    def has_penalties(self) -> bool:
        """Whether any per-episode term is set (only then is the ``episode`` reward term added)."""
        return bool(self.tool_call_penalty or self.failed_call_penalty or self.out_of_turns_penalty)
