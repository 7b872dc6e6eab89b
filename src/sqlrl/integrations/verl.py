"""sqlrl's rewards as a verl custom reward function, and sqlrl datasets in verl's parquet layout.

verl 0.9 (``reward.custom_reward_function`` in the PPO trainer config; checked with verl 0.9.1 by
``benchmarks/verl_check.py``)::

    reward:
      custom_reward_function:
        path: pkg://sqlrl.integrations.verl   # or the file path of this module
        name: compute_score                    # the reward loop's naive manager (the default)
        reward_kwargs: {spec: stage1, timeout: 5.0}

verl before 0.9 (read at commit ``b178a3cd56f58b2d502255daba591e92833930a7``) read the same keys at the top
level (``custom_reward_function.*``) and offered ``reward_model.reward_manager=batch`` with
``name: compute_score_batch``; verl 0.9's trainer no longer reads those top-level keys.

The per-sample form is what ``NaiveRewardManager.__call__`` (``verl/workers/reward_manager/naive.py``)
and the reward loop's ``NaiveRewardManager.run_single``
(``verl/experimental/reward_loop/reward_manager/naive.py``) call::

    compute_score(data_source=..., solution_str=..., ground_truth=..., extra_info=...)

and the batched form what ``BatchRewardManager.verify`` (``verl/workers/reward_manager/batch.py``) calls::

    compute_score_batch(data_sources=..., solution_strs=..., ground_truths=..., extra_infos=..., **reward_kwargs)

``get_custom_reward_fn`` (``verl/trainer/ppo/reward.py``) merges ``custom_reward_function.reward_kwargs``
into every call's keyword arguments, so ``spec``, ``strict``, ``details`` and the sandbox options
(``timeout``, ``workers``, ``max_rows``, ...) arrive here as keywords.

Row schema (what :func:`write_parquet` writes): ``reward_model.ground_truth`` is the gold SQL (a string;
a mapping with ``gold_sql`` and the columns below is accepted too) and ``extra_info`` holds ``db_path``
(required) and optionally ``engine``, ``dialect``, ``gold_dialect``, ``db_id``, ``question``,
``evidence`` (the TRL columns of :mod:`sqlrl.rewards.batch`); other keys (verl adds ``num_turns`` and
``rollout_reward_scores``) are ignored.

Return value: a dict with ``score`` (``sum(weight * reward)``, exactly the total TRL computes from
``build_rewards(spec)``) plus one float per reward of the spec and ``input_error``, the same keys for
every row (the managers append every key of the dict to ``reward_extra_info`` lists, which must stay
aligned); ``details=False`` returns the bare float. A row without a usable gold query or ``db_path``
(or whose database file does not exist) scores 0.0 with ``input_error`` 1.0 and a warning logged once,
so one bad row never stops a batch; ``strict=True`` raises :class:`~sqlrl.integrations._rows.RowError`
instead.

The rewards are built once per process per (spec, options) and reused (sandboxes, gold cache). Nothing
here imports verl, torch or ray.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from typing import Any

from sqlrl.integrations._rows import Row, row_from, score_rows, write_records

__all__ = ["compute_score", "compute_score_batch", "verl_records", "write_parquet"]

#: verl's ``ability`` column for sqlrl rows.
ABILITY = "text2sql"


def _result(total: float, details: dict[str, list[float]], i: int, with_details: bool) -> float | dict[str, float]:
    if not with_details:
        return total
    return {"score": total, **{name: values[i] for name, values in details.items()}}


def compute_score_batch(
    data_sources: Sequence[Any],
    solution_strs: Sequence[str],
    ground_truths: Sequence[Any],
    extra_infos: Sequence[Any] | None = None,
    *,
    spec: Any = "execution",
    strict: bool = False,
    details: bool = True,
    **options: Any,
) -> list[float | dict[str, float]]:
    """Scores of a batch, one per solution, for verl's ``BatchRewardManager`` (see the module docs).

    Args:
        data_sources: verl's ``data_source`` column (not read).
        solution_strs: the decoded responses.
        ground_truths: ``reward_model.ground_truth`` per row: the gold SQL.
        extra_infos: ``extra_info`` per row: ``{"db_path", "engine", "dialect", ...}``.
        spec: the reward spec (a preset name, a YAML file or text, a list of terms): ``reward_kwargs.spec``.
        strict: raise on a row without a usable gold or database instead of scoring it 0.0.
        details: return ``{"score", <reward>: ..., "input_error"}`` dicts (default) or bare floats.
        **options: sandbox options for ``build_rewards`` (``timeout``, ``workers``, ...).
    """
    n = len(solution_strs)
    if len(ground_truths) != n or (extra_infos is not None and len(extra_infos) != n):
        raise ValueError(
            f"verl reward batch: {n} solutions but {len(ground_truths)} ground truths"
            + ("" if extra_infos is None else f" and {len(extra_infos)} extra_infos")
        )
    infos = list(extra_infos) if extra_infos is not None else [None] * n
    rows: list[Row] = [row_from(solution_strs[i], ground_truths[i], infos[i], where=f"row {i}") for i in range(n)]
    totals, per_reward = score_rows(rows, spec=spec, strict=strict, **options)
    return [_result(totals[i], per_reward, i, details) for i in range(n)]


def compute_score(
    data_source: Any = None,
    solution_str: str = "",
    ground_truth: Any = None,
    extra_info: Any = None,
    *,
    spec: Any = "execution",
    strict: bool = False,
    details: bool = True,
    **options: Any,
) -> float | dict[str, float]:
    """The score of one solution, for verl's per-sample reward managers (``naive``, the default).

    Takes :func:`compute_score_batch`'s arguments for one row; other keywords verl may pass
    (``reward_router_address``, ``reward_model_tokenizer``) are ignored.
    """
    for ignored in ("reward_router_address", "reward_model_tokenizer", "sandbox_fusion_url", "concurrent_semaphore"):
        options.pop(ignored, None)
    (out,) = compute_score_batch(
        [data_source],
        [solution_str],
        [ground_truth],
        [extra_info],
        spec=spec,
        strict=strict,
        details=details,
        **options,
    )
    return out


def verl_records(
    examples: Iterable[Any],
    *,
    split: str = "train",
    data_source: str | None = None,
    prompt_options: Any = None,
    tables: dict[str, Any] | None = None,
    engine: str | None = None,
) -> list[dict[str, Any]]:
    """verl rows for sqlrl :class:`~sqlrl.data.Example` s (those without a gold query are skipped), in the
    layout of verl's ``examples/data_preprocess/gsm8k.py``: ``data_source``, ``prompt`` (chat messages
    from :func:`sqlrl.data.build_messages`), ``ability``, ``reward_model: {style: rule, ground_truth}``
    and ``extra_info`` (``split``, ``index``, ``id`` and the reward columns).
    """
    from sqlrl.data.prompts import build_messages

    records = []
    for ex in examples:
        if not ex.gold_sql:
            continue
        messages = build_messages(ex, options=prompt_options, tables_entry=(tables or {}).get(ex.db_id))
        dialect = ex.dialect or "sqlite"
        records.append(
            {
                "data_source": data_source or (str(ex.id).split("/", 1)[0] if "/" in str(ex.id) else "sqlrl"),
                "prompt": [{"role": m["role"], "content": m["content"]} for m in messages],
                "ability": ABILITY,
                "reward_model": {"style": "rule", "ground_truth": ex.gold_sql},
                "extra_info": {
                    "split": split,
                    "index": len(records),
                    "id": str(ex.id),
                    "db_id": ex.db_id,
                    "db_path": None if ex.db_path is None else os.fspath(ex.db_path),
                    "engine": engine or ("sqlite" if dialect == "sqlite" else "duckdb"),
                    "dialect": dialect,
                    "question": ex.question,
                    "evidence": ex.evidence or "",
                },
            }
        )
    return records


def write_parquet(examples: Iterable[Any], path: str | os.PathLike[str], **options: Any) -> int:
    """Write :func:`verl_records` of ``examples`` to the parquet file ``path`` (verl's
    ``data.train_files`` / ``data.val_files``); returns the number of rows. Needs pyarrow
    (``pip install sqlrl[verl]``). ``options`` go to :func:`verl_records`."""
    return write_records(verl_records(examples, **options), path)
