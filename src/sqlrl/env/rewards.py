"""The single-turn rewards, applied to an episode's final answer, and the per-episode terms.

TRL calls every reward function of an interactive stage with the whole episode as the completion
(assistant turns, tool calls and tool results) and the episodes' environments in ``environments``.
:func:`episode_rewards` wraps each function built by :func:`sqlrl.rewards.build_rewards` so that it
scores what a single-turn completion would be: the SQL given to ``answer`` (as a ```sql block), or,
when the model never called ``answer``, the text of its last assistant turn. Called without
``environments`` (single-turn data, the evaluation) a wrapped function is the function itself.

The ``episode`` term (added only when a penalty of :class:`~sqlrl.env.EnvConfig` is set) is each
episode's :attr:`~sqlrl.env.SqlEnvironment.penalty`. The first wrapped function of a step also logs,
through TRL's ``log_metric`` hook, the episodes' ``episode/turns``, ``episode/tool_calls``,
``episode/calls/<tool>``, ``episode/tool_error_rate`` (failed calls over calls),
``episode/answered`` and ``episode/out_of_turns``.

>>> from sqlrl.env import SqlEnvironment
>>> class Env:  # what the wrappers read of an environment
...     final_sql, penalty, episode = "SELECT 1", 0.0, {}
>>> final_answer([{"role": "assistant", "content": "", "tool_calls": []}], Env())
'```sql\\nSELECT 1\\n```'
>>> final_answer([{"role": "assistant", "content": "SELECT 2"}], None)
'SELECT 2'
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from sqlrl.env.config import EnvConfig
from sqlrl.env.environment import TOOLS

__all__ = ["EpisodeReward", "episode_metrics", "episode_rewards", "final_answer"]


def final_answer(completion: Any, env: Any) -> str:
    """The text scored for an episode: ``answer``'s SQL as a ```sql block, else the last assistant turn's text."""
    sql = getattr(env, "final_sql", None)
    if sql is not None:
        return f"```sql\n{sql}\n```"
    if isinstance(completion, str):
        return completion
    for message in reversed(list(completion or [])):
        if message.get("role", "assistant") != "assistant":
            continue
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
        if content:
            return str(content)
    return ""


def episode_metrics(environments: Sequence[Any]) -> dict[str, float]:
    """Mean counts of a batch of finished episodes (what the training log shows)."""
    episodes = [e.episode for e in environments]
    n = max(len(episodes), 1)
    calls = sum(e["tool_calls"] for e in episodes)
    out = {
        "episode/turns": sum(e["turns"] for e in episodes) / n,
        "episode/tool_calls": calls / n,
        "episode/tool_error_rate": sum(e["failed_calls"] for e in episodes) / max(calls, 1),
        "episode/answered": sum(e["answered"] for e in episodes) / n,
        "episode/out_of_turns": sum(e["out_of_turns"] for e in episodes) / n,
    }
    for tool in TOOLS:
        out[f"episode/calls/{tool}"] = sum(e["calls"].get(tool, 0) for e in episodes) / n
    return out


class _Shared:
    """The final answers of the current batch, built once for every wrapped function (the same list
    object, so the rewards' executor reads the batch once) and the metrics logged once."""

    def __init__(self) -> None:
        # the very objects of the last call (held, so that their ids cannot be reused) and its final answers
        self.key: tuple[Any, Any, tuple[Any, ...]] | None = None
        self.answers: list[list[dict[str, str]]] = []

    def answers_for(self, completions: Sequence[Any], environments: Sequence[Any]) -> tuple[list[Any], bool]:
        finals = tuple(getattr(e, "final_sql", None) for e in environments)
        items = tuple(completions)
        last = self.key
        fresh = (last is None or last[1] is not environments or last[2] != finals or len(last[0]) != len(items)
                 or not all(a is b for a, b in zip(last[0], items, strict=True)))  # fmt: skip
        if fresh:
            self.key = (items, environments, finals)
            self.answers = [
                [{"role": "assistant", "content": final_answer(c, e)}]
                for c, e in zip(completions, environments, strict=True)
            ]
        return self.answers, fresh


class EpisodeReward:
    """A reward function scoring the final answers of episodes with ``func`` (see the module docs)."""

    def __init__(self, func: Callable[..., list[float | None]], shared: _Shared) -> None:
        self.func = func
        self.__name__ = getattr(func, "__name__", type(func).__name__)
        self._shared = shared

    def __call__(
        self, prompts: Any = None, completions: Any = None, completion_ids: Any = None, **kwargs: Any
    ) -> list[float | None]:
        environments = kwargs.get("environments")
        if not environments:
            return self.func(prompts=prompts, completions=completions, completion_ids=completion_ids, **kwargs)
        answers, fresh = self._shared.answers_for(completions, environments)
        log_metric = kwargs.get("log_metric")
        if fresh and callable(log_metric):
            for name, value in episode_metrics(environments).items():
                log_metric(name, value)
        return self.func(prompts=prompts, completions=answers, completion_ids=completion_ids, **kwargs)


def _episode_term(prompts: Any = None, completions: Any = None, **kwargs: Any) -> list[float | None]:
    environments = kwargs.get("environments")
    if not environments:
        return [None] * len(completions or [])
    return [float(e.penalty) for e in environments]


_episode_term.__name__ = "episode"


def episode_rewards(
    funcs: Sequence[Callable[..., Any]], weights: Sequence[float], config: EnvConfig
) -> tuple[list[Callable[..., Any]], list[float]]:
    """``funcs`` (from :func:`sqlrl.rewards.build_rewards`) wrapped to score episodes' final answers, plus the
    ``episode`` penalty term (weight 1) when ``config`` sets a penalty; and the matching weights."""
    shared = _Shared()
    out: list[Callable[..., Any]] = [EpisodeReward(f, shared) for f in funcs]
    out_weights = list(weights)
    if config.has_penalties:
        out.append(_episode_term)
        out_weights.append(1.0)
    return out, out_weights
