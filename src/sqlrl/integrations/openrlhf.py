"""sqlrl's rewards as OpenRLHF's Python-file reward function.

OpenRLHF (read at commit ``3c3be6234e0cb353e76bb8019947db9dfe99fca7``) loads the file given to
``--reward.remote_url`` (``--remote_rm_url`` before commit ``ed62d0e2``) when it ends in ``.py``, with
``importlib.util.spec_from_file_location("reward_func", path)``, and calls its ``reward_func``
positionally (``SingleTurnAgentExecutor._fetch_rewards_via_func`` in ``openrlhf/utils/agent.py``)::

    reward_func(queries, prompts, labels)

- ``queries``: the decoded prompt + response (``skip_special_tokens=False``),
- ``prompts``: the prompt text (after the chat template),
- ``labels``: the dataset's ``--data.label_key`` column,

and reads ``rewards``, ``scores`` (falls back to ``rewards``) and ``extra_logs`` from the returned dict
(``execute`` there; ``_process_response_into_experience`` in ``openrlhf/trainer/ppo_utils/samples_generator.py``
turns them into tensors), as in OpenRLHF's ``examples/python/reward_func.py``, which returns torch tensors.

Use it either by pointing OpenRLHF at this file (configured by environment variables
``SQLRL_REWARD_SPEC``: a preset, a YAML file or text, default ``execution``; ``SQLRL_REWARD_OPTIONS``:
JSON sandbox options such as ``{"timeout": 5}``; ``SQLRL_REWARD_STRICT=1``), or by a three-line file of
your own::

    from sqlrl.integrations.openrlhf import make_reward_func
    reward_func = make_reward_func("stage1", timeout=5.0)

Label schema: a JSON object (as a string, or a mapping when the dataset column is a struct) with
``gold_sql`` and ``db_path``, optionally ``engine``, ``dialect``, ``gold_dialect``, ``db_id``,
``question``, ``evidence``; :func:`label` writes one. The response is the query with the prompt removed
from its front (the whole query when it does not start with the prompt) and trailing special tokens
(``<|im_end|>``, ``</s>``, ...) dropped.

Returns ``{"rewards": tensor, "scores": tensor, "extra_logs": {<reward>: tensor, "input_error": tensor}}``
(float32, one value per query; plain lists when torch is not installed). ``rewards`` and ``scores`` are
both the weighted total, as in OpenRLHF's example. A label without a usable gold or database scores 0.0
with ``input_error`` 1 (warned once), unless strict.

Absolute imports only: OpenRLHF runs this file as a standalone module named ``reward_func``.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlrl.integrations._rows import Row, row_from, score_rows

__all__ = ["label", "make_reward_func", "openrlhf_records", "response_text", "reward_func"]

_TRAILING_SPECIAL = re.compile(r"(?:\s*(?:<\|[^|<>\s]{1,40}\|>|</s>|<eos>|<end_of_turn>))+\s*$")


def response_text(query: str, prompt: str) -> str:
    """The response part of an OpenRLHF query: ``query`` without ``prompt`` in front and without trailing
    special tokens.

    >>> response_text("<|im_start|>user\\nQ<|im_end|>\\n<|im_start|>assistant\\nSELECT 1<|im_end|>",
    ...               "<|im_start|>user\\nQ<|im_end|>\\n<|im_start|>assistant\\n")
    'SELECT 1'
    """
    text = query if not isinstance(prompt, str) or not query.startswith(prompt) else query[len(prompt) :]
    return _TRAILING_SPECIAL.sub("", text)


def _parse_label(value: Any) -> tuple[Any, Any]:
    """``(gold, columns)`` for :func:`~sqlrl.integrations._rows.row_from` from one label."""
    if isinstance(value, Mapping):
        return value, None
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError as e:
            return f"<label is not valid JSON: {e}>", {"db_path": None}
        if isinstance(parsed, Mapping):
            return parsed, None
    # A bare gold SQL string has no database: row_from reports the missing db_path.
    return value, {}


def label(gold_sql: str, db_path: str | os.PathLike[str], **columns: Any) -> str:
    """The JSON label for one row (OpenRLHF's ``--data.label_key`` column).

    >>> label("SELECT 1", "/data/t.sqlite", engine="sqlite")
    '{"gold_sql": "SELECT 1", "db_path": "/data/t.sqlite", "engine": "sqlite"}'
    """
    data = {"gold_sql": gold_sql, "db_path": os.fspath(db_path)}
    data.update({k: v for k, v in columns.items() if v is not None})
    return json.dumps(data)


def _as_tensor(values: list[float]) -> Any:
    try:
        import torch
    except ImportError:
        return values
    return torch.tensor(values, dtype=torch.float32)


def make_reward_func(spec: Any = "execution", *, strict: bool = False, **options: Any) -> Callable[..., dict]:
    """A ``reward_func(queries, prompts, labels, **kwargs)`` scoring with ``build_rewards(spec, **options)``
    (built on first use, then kept for the process)."""

    def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], **kwargs: Any) -> dict:
        n = len(queries)
        if len(prompts) != n or len(labels) != n:
            raise ValueError(f"OpenRLHF reward call: {n} queries, {len(prompts)} prompts, {len(labels)} labels")
        rows: list[Row] = []
        for i in range(n):
            gold, columns = _parse_label(labels[i])
            rows.append(
                row_from(response_text(queries[i], prompts[i]), gold, columns, prompt=prompts[i], where=f"label {i}")
            )
        totals, details = score_rows(rows, spec=spec, strict=strict, **options)
        rewards = _as_tensor(totals)
        return {
            "rewards": rewards,
            "scores": rewards,
            "extra_logs": {name: _as_tensor(values) for name, values in details.items()},
        }

    reward_func.__doc__ = f"sqlrl rewards ({spec!r}) in OpenRLHF's reward_func protocol."
    return reward_func


def _from_environment() -> Callable[..., dict]:
    options = json.loads(os.environ.get("SQLRL_REWARD_OPTIONS") or "{}")
    strict = os.environ.get("SQLRL_REWARD_STRICT", "").lower() in ("1", "true", "yes")
    return make_reward_func(os.environ.get("SQLRL_REWARD_SPEC") or "execution", strict=strict, **options)


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], **kwargs: Any) -> dict:
    """OpenRLHF's entry point, configured by ``SQLRL_REWARD_SPEC`` / ``SQLRL_REWARD_OPTIONS`` /
    ``SQLRL_REWARD_STRICT`` (read at each call; the rewards themselves are cached per configuration)."""
    return _from_environment()(queries, prompts, labels, **kwargs)


def openrlhf_records(
    examples: Any, *, prompt_options: Any = None, tables: dict[str, Any] | None = None, engine: str | None = None
) -> list[dict[str, Any]]:
    """JSON Lines rows for OpenRLHF's prompt dataset: ``{"input": [chat messages], "label": label(...)}``
    (train with ``--data.input_key input --data.label_key label --data.apply_chat_template``)."""
    from sqlrl.data.prompts import build_messages

    rows = []
    for ex in examples:
        if not ex.gold_sql or ex.db_path is None:
            continue
        dialect = ex.dialect or "sqlite"
        messages = build_messages(ex, options=prompt_options, tables_entry=(tables or {}).get(ex.db_id))
        rows.append(
            {
                "input": [{"role": m["role"], "content": m["content"]} for m in messages],
                "label": label(
                    ex.gold_sql,
                    ex.db_path,
                    engine=engine or ("sqlite" if dialect == "sqlite" else "duckdb"),
                    dialect=dialect,
                    db_id=ex.db_id,
                    question=ex.question,
                    evidence=ex.evidence or None,
                ),
            }
        )
    return rows
