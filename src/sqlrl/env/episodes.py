"""Episodes driven by any chat model, through text: the tool-call format, the loop, the trajectories.

Outside TRL (``sqlrl generate --interactive``, the benchmark's scripted policies) a model sees and
writes plain text, in the format TRL parses for Qwen-style templates and the tiny model's template
renders:

- a tool call is ``<tool_call>{"name": "run_query", "arguments": {"sql": "..."}}</tool_call>`` (JSON
  inside the tags; several calls in one turn run in order);
- each tool result comes back as a user message ``<tool_response>\\n...\\n</tool_response>`` (what the
  tiny template renders for a ``tool`` message; a call that raised gives ``{'error': '...'}``, as in TRL);
- a turn without a tool call ends the episode, as does ``answer``; at most ``max_turns + 1`` model
  turns are asked for (TRL's ``max_tool_calling_iterations`` in training).

>>> parse_tool_calls('look <tool_call>{"name": "list_tables", "arguments": {}}</tool_call>')
[{'name': 'list_tables', 'arguments': {}}]
>>> parse_tool_calls('<tool_call>{"name": oops}</tool_call>')[0]['error'][:24]
'the tool call is not JSO'
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlrl.env.config import EnvConfig
from sqlrl.env.environment import SqlEnvironment, environment_factory
from sqlrl.env.rewards import final_answer
from sqlrl.sql.extract import extract_sql

__all__ = ["Episode", "call_tool", "format_tool_call", "parse_tool_calls", "run_episodes"]

_CALL = re.compile(r"<tool_call>\s*(.*?)\s*</tool_call>", re.DOTALL)


def format_tool_call(name: str, arguments: Mapping[str, Any] | None = None) -> str:
    """The text of one tool call.

    >>> format_tool_call("describe_table", {"table": "singer"})
    '<tool_call>\\n{"name": "describe_table", "arguments": {"table": "singer"}}\\n</tool_call>'
    """
    body = json.dumps({"name": name, "arguments": dict(arguments or {})}, ensure_ascii=False)
    return f"<tool_call>\n{body}\n</tool_call>"


def parse_tool_calls(text: str) -> list[dict[str, Any]]:
    """Every tool call in ``text``: ``{"name", "arguments"}``, or ``{"name", "error"}`` for one that is not a
    JSON object with a name and an arguments object."""
    calls: list[dict[str, Any]] = []
    for body in _CALL.findall(text or ""):
        try:
            data = json.loads(body)
        except json.JSONDecodeError as e:
            calls.append({"name": "unknown", "error": f"the tool call is not JSON: {e}"})
            continue
        if not isinstance(data, dict) or not isinstance(data.get("name"), str):
            calls.append({"name": "unknown", "error": 'a tool call is {"name": ..., "arguments": {...}}'})
            continue
        args = data.get("arguments", {})
        if isinstance(args, str):  # OpenAI style: arguments as a JSON string
            try:
                args = json.loads(args)
            except json.JSONDecodeError:
                args = None
        if not isinstance(args, dict):
            calls.append({"name": data["name"], "error": "the arguments of a tool call must be a JSON object"})
            continue
        calls.append({"name": data["name"], "arguments": args})
    return calls


def call_tool(env: SqlEnvironment, call: Mapping[str, Any]) -> str:
    """Run one parsed call on ``env`` as TRL's tool loop does: an exception (unknown tool, wrong arguments)
    becomes ``{'error': '...'}``; the environment records it as a failed call."""
    if "error" in call:
        return str({"error": call["error"]})
    name = call["name"]
    tool = getattr(env, name, None) if name in _tool_names() else None
    try:
        if tool is None:
            raise ValueError(f"Tool {name} not found.")
        return str(tool(**call["arguments"]))
    except Exception as e:  # noqa: BLE001 - what TRL does with a failing tool
        env._failed += 1
        env.trajectory.append({"tool": name, "arguments": call.get("arguments"), "output": str(e), "ok": False})
        return str({"error": str(e)})


def _tool_names() -> tuple[str, ...]:
    from sqlrl.env.environment import TOOLS

    return TOOLS


@dataclass
class Episode:
    """One finished episode.

    Attributes:
        messages: the conversation (prompt, assistant turns as the model wrote them, tool responses).
        calls: every tool call with its arguments, output and whether it succeeded.
        counts: the environment's :attr:`~sqlrl.env.SqlEnvironment.episode` counts.
        final_text: what the rewards score (see :func:`sqlrl.env.rewards.final_answer`).
        prediction: the final SQL (``answer``'s, else extracted from the last turn; None without SQL).
        penalty: the per-episode reward term.
        error: why the model failed to answer a turn (None when it did).
    """

    messages: list[dict[str, str]]
    calls: list[dict[str, Any]] = field(default_factory=list)
    counts: dict[str, Any] = field(default_factory=dict)
    final_text: str = ""
    prediction: str | None = None
    penalty: float = 0.0
    error: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "prediction": self.prediction, "final_text": self.final_text, "counts": self.counts,
            "penalty": self.penalty, "error": self.error, "calls": self.calls, "messages": self.messages,
        }  # fmt: skip


def run_episodes(
    model: Any,
    rows: Sequence[Mapping[str, Any]],
    *,
    config: EnvConfig | None = None,
    make_env: Callable[[], SqlEnvironment] | None = None,
    temperature: float = 0.0,
    max_tokens: int = 256,
    seed: int | None = None,
) -> list[Episode]:
    """Run one episode per row (``prompt`` messages plus the row's ``db_path``, ``engine``, ``dialect``) with
    ``model`` (a :class:`~sqlrl.models.ChatModel`, or anything :func:`~sqlrl.models.chat.as_chat_model`
    takes); the active episodes of a turn are asked in one batch. A failed model request ends its episode
    with ``error`` set."""
    from sqlrl.models.chat import as_chat_model

    config = config or EnvConfig()
    chat = as_chat_model(model)
    make = make_env or environment_factory(config)
    envs = [make() for _ in rows]
    conversations: list[list[dict[str, str]]] = []
    for env, row in zip(envs, rows, strict=True):
        help_text = env.reset(**{k: v for k, v in row.items() if k != "prompt"})
        messages = [dict(m) for m in row["prompt"]]
        if help_text:
            messages[-1] = {**messages[-1], "content": messages[-1]["content"] + help_text}
        conversations.append(messages)
    errors: list[str | None] = [None] * len(rows)
    active = list(range(len(rows)))
    for _ in range(config.max_turns + 1):
        if not active:
            break
        results = chat.chat([conversations[i] for i in active], n=1, temperature=temperature,
                            max_tokens=max_tokens, seed=seed)  # fmt: skip
        still = []
        for i, result in zip(active, results, strict=True):
            if not result.ok or not result.texts:
                errors[i] = result.error or "the model returned no completion"
                continue
            text = result.texts[0]
            conversations[i].append({"role": "assistant", "content": text})
            calls = parse_tool_calls(text)
            if not calls:
                continue
            for call in calls:
                output = call_tool(envs[i], call)
                conversations[i].append({"role": "user", "content": f"<tool_response>\n{output}\n</tool_response>"})
            if envs[i].final_sql is None:
                still.append(i)
        active = still
    episodes = []
    for env, messages, error in zip(envs, conversations, errors, strict=True):
        assistant = [m for m in messages if m["role"] == "assistant"]
        text = final_answer(assistant, env)
        sql = env.final_sql
        if sql is None:
            last = assistant[-1]["content"] if assistant else ""
            sql = extract_sql(last).sql if last and not parse_tool_calls(last) else None
        episodes.append(Episode(messages=messages, calls=list(env.trajectory), counts=env.episode, final_text=text,
                                prediction=sql, penalty=env.penalty, error=error))  # fmt: skip
    return episodes
