"""Reward functions for text-to-SQL reinforcement learning, in TRL's protocol (no torch needed).

With TRL::

    from sqlrl.rewards import build_rewards
    funcs, weights = build_rewards("stage1", timeout=5.0)     # or a RewardSpec / YAML file / list
    trainer = GRPOTrainer(model, reward_funcs=funcs, args=GRPOConfig(reward_weights=weights), ...)

The dataset needs the columns ``gold_sql`` and ``db_path`` (and optionally ``engine``, ``dialect``,
``db_id``, ``question``, ``evidence``; see :mod:`sqlrl.rewards.batch`). Any other trainer (verl,
OpenRLHF, your own loop) calls :func:`score`.

Rewards: ``execution``, ``partial``, ``format``, ``syntax``, ``schema_linking``, ``ngram``,
``components``, ``length`` and ``judge``; :data:`REWARDS` maps each name to its class
(``ExecutionReward`` ...), and each class has a factory function with its signature
(``execution_reward`` ... ``judge_reward``).
Every function scores a whole batch at once: the predictions run in parallel in the sandbox, gold
results are cached, the comparisons run in the compiled core, and the functions built together
share the executions. They never raise for a completion or a query (0.0 when unscorable, None
where not applicable, as each factory documents), but do raise when a batch cannot be scored for
another reason (a missing column or database, a misconfiguration, an internal error), and log the
valid-SQL, timeout and empty-result rates through TRL's ``log_metric`` hook.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Sequence
from typing import Any

from sqlrl.rewards.base import REWARDS, SQLReward
from sqlrl.rewards.batch import Batch, RewardInputError, completion_text, read_batch
from sqlrl.rewards.executor import ExecutedBatch, Outcome, RewardExecutor
from sqlrl.rewards.guard import EMPTY_GOLD_POLICIES

# The reward modules, in the order REWARDS lists their rewards: a reward class registers itself when defined.
# isort: off
from sqlrl.rewards.execution import ExecutionReward, PartialReward, execution_reward, partial_reward
from sqlrl.rewards.text import (
    ComponentsReward,
    FormatReward,
    NgramReward,
    SchemaLinkingReward,
    SyntaxReward,
    components_reward,
    format_reward,
    ngram_reward,
    schema_linking_reward,
    syntax_reward,
)
from sqlrl.rewards.length import LengthReward, length_reward
from sqlrl.rewards.judge import JudgeReward, judge_reward, parse_judge_score
# isort: on

from sqlrl.rewards.spec import PRESETS, RewardSpec, RewardSpecError, RewardTerm, build_rewards

__all__ = [
    "EMPTY_GOLD_POLICIES",
    "PRESETS",
    "REWARDS",
    "Batch",
    "ComponentsReward",
    "ExecutedBatch",
    "ExecutionReward",
    "FormatReward",
    "JudgeReward",
    "LengthReward",
    "NgramReward",
    "Outcome",
    "PartialReward",
    "RewardExecutor",
    "RewardInputError",
    "RewardSpec",
    "RewardSpecError",
    "RewardTerm",
    "SQLReward",
    "SchemaLinkingReward",
    "SyntaxReward",
    "build_rewards",
    "completion_text",
    "components_reward",
    "execution_reward",
    "format_reward",
    "judge_reward",
    "length_reward",
    "ngram_reward",
    "parse_judge_score",
    "partial_reward",
    "read_batch",
    "schema_linking_reward",
    "score",
    "score_terms",
    "syntax_reward",
]

_EXECUTORS: dict[tuple, RewardExecutor] = {}
_EXECUTORS_LOCK = threading.Lock()


def _shared_executor(options: dict[str, Any]) -> RewardExecutor:
    """One executor per set of options, kept for the process: repeated calls reuse sandboxes and caches."""
    key = tuple(sorted((k, repr(v)) for k, v in options.items()))
    with _EXECUTORS_LOCK:
        ex = _EXECUTORS.get(key)
        if ex is None:
            ex = _EXECUTORS[key] = RewardExecutor(**options)
        return ex


def score_terms(
    completions: Sequence[Any],
    gold_sql: str | Sequence[str | None],
    db: Any,
    *,
    spec: Any = "execution",
    prompts: Sequence[Any] | None = None,
    completion_ids: Sequence[Sequence[int]] | None = None,
    **options: Any,
) -> dict[str, list[float | None]]:
    """Every reward of ``spec`` for every completion, by reward name (unweighted; None = not applicable).

    Takes the arguments of :func:`score`.

    >>> import sqlite3, tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "t.sqlite")
    >>> con = sqlite3.connect(db); _ = con.execute("CREATE TABLE t(x INT)")
    >>> _ = con.execute("INSERT INTO t VALUES (1), (2)"); con.commit(); con.close()
    >>> score_terms(["SELECT x FROM t", "SELECT 1"], "SELECT x FROM t", db, spec="stage1")["partial_table_f1"]
    [1.0, 0.6666666666666666]
    """
    spec = RewardSpec.load(spec)
    columns: dict[str, Any] = {"gold_sql": gold_sql, "db_path": db}
    columns_of_rows = ("engine", "dialect", "db_id", "question", "evidence", "gold_dialect", "condition_cols",
                       "ignore_order", "suite_dir")  # fmt: skip
    for key in columns_of_rows:
        if key in options:
            columns[key] = options.pop(key)
    executor = _shared_executor(options)
    out: dict[str, list[float | None]] = {}
    for term in spec.terms:
        func = term.build(executor)
        out[func.__name__] = func(prompts=prompts, completions=completions, completion_ids=completion_ids, **columns)
    return out


def score(
    completions: Sequence[Any],
    gold_sql: str | Sequence[str | None],
    db: Any,
    *,
    spec: Any = "execution",
    prompts: Sequence[Any] | None = None,
    completion_ids: Sequence[Sequence[int]] | None = None,
    **options: Any,
) -> list[float]:
    """Total reward per completion: ``sum(weight * reward)`` over the rewards of ``spec``, as TRL adds them
    (a reward that is None for a completion adds nothing). No torch, no trainer needed (verl, OpenRLHF,
    your own loop).

    Args:
        completions: model outputs (strings or conversational message lists).
        gold_sql: one gold query for every completion, or one per completion.
        db: one database (``.sqlite`` / ``.duckdb`` file or CSV directory) or one per completion.
        spec: a :class:`RewardSpec`, preset name (``execution``, the default; ``stage1``; ``stage2``;
            ``suite``, which needs ``suite_dir``), YAML file or text, or list of ``{name, weight, **params}``.
        prompts: one prompt per completion; completions of one prompt form a group (the ``length``
            reward needs them); default: one group per (gold, database).
        completion_ids: token ids per completion (lengths in tokens for ``length``).
        **options: per-completion columns (``engine``, ``dialect``, ``question``, ``evidence``,
            ``suite_dir`` (the folder of test suites), ...; a single value or a list) and sandbox options
            (``timeout``, ``max_rows``, ``workers``, ...). Executors are kept per set of sandbox options, so
            repeated calls reuse connections and the gold cache.

    >>> import sqlite3, tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "t.sqlite")
    >>> con = sqlite3.connect(db); _ = con.execute("CREATE TABLE t(x INT)")
    >>> _ = con.execute("INSERT INTO t VALUES (1), (2)"); con.commit(); con.close()
    >>> score(["```sql\\nSELECT x FROM t ORDER BY x DESC\\n```", "SELECT x FROM t WHERE x > 1", "DELETE FROM t"],
    ...       "SELECT x FROM t", db)
    [1.0, 0.0, 0.0]
    """
    spec = RewardSpec.load(spec)
    terms = score_terms(completions, gold_sql, db, spec=spec, prompts=prompts, completion_ids=completion_ids, **options)
    totals = [0.0] * len(completions)
    for weight, values in zip(spec.weights, terms.values(), strict=True):
        for i, v in enumerate(values):
            if v is not None and not math.isnan(v):
                totals[i] += weight * v
    return totals
