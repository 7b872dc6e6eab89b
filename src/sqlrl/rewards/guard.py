"""No free reward for an empty gold result.

When the gold query returns no rows, every prediction that also returns no rows "matches" it
(both empty → match in every mode), so ``SELECT name FROM t WHERE 1 = 0`` earns full reward and a
policy can learn to produce empty results. Each execution-based reward takes an ``empty_gold``
policy for the rows whose gold result is empty:

``"structure"`` (default)
    a positive score stands only if the prediction has the gold's structure: Spider exact-set
    match against the gold (values ignored, aliases resolved, so ``age > 200`` for ``age > 100``
    passes, while ``1 = 0`` added to or replacing a condition does not); where the Spider parser
    cannot read either query, the two queries must be the same text once parsed by sqlglot, with
    identifiers lower-cased and every literal replaced by a placeholder. Otherwise 0.
``"allow"``
    no guard: the plain verdict or score.
``"skip"``
    the reward is not applicable: ``None`` for every completion of such rows (TRL then leaves this
    reward out of those completions' totals).
"""

from __future__ import annotations

from typing import Any

from sqlrl.rewards.executor import ExecutedBatch, RewardExecutor
from sqlrl.sql.shape import skeleton

__all__ = ["EMPTY_GOLD_POLICIES", "apply_empty_gold", "same_structure", "skeleton"]

EMPTY_GOLD_POLICIES = ("structure", "allow", "skip")


def check_policy(policy: str) -> str:
    if policy not in EMPTY_GOLD_POLICIES:
        raise ValueError(f"empty_gold must be one of {', '.join(EMPTY_GOLD_POLICIES)}, got {policy!r}")
    return policy


def _spider_schema(executor: RewardExecutor, db: str, engine: str) -> Any:
    def compute() -> Any:
        schema = executor.schema(db, engine)
        return None if schema is None else schema.to_spider()

    return executor.derived(("spider_schema", db, engine), compute)


def same_structure(executor: RewardExecutor, db: str, engine: str, gold_sql: str, pred_sql: str, dialect: str) -> bool:
    """Whether ``pred_sql`` has the structure of ``gold_sql`` (see the module docs); never raises.

    Both queries are in ``dialect`` (the sandbox's): Spider exact-set match reads SQLite, so other
    dialects go straight to the skeleton comparison.
    """
    try:
        if dialect == "sqlite":
            from sqlrl.sql.spider import evaluate

            spider = _spider_schema(executor, db, engine)
            if spider is not None:
                m = evaluate(gold_sql, pred_sql, spider)
                if m.gold_error is None and m.pred_error is None:
                    return m.exact
        return skeleton(gold_sql, dialect) == skeleton(pred_sql, dialect)
    except Exception:  # noqa: BLE001 - an unreadable query has no structure to match
        return False


def apply_empty_gold(executed: ExecutedBatch, values: list[float | None], policy: str) -> list[float | None]:
    """``values`` (one score per completion, higher is better) after the empty-gold policy."""
    if policy == "allow":
        return values
    distinct = {id(g): g for g in executed.golds if g is not None}  # rows share their gold's result: each checked once
    empty = {key for key, g in distinct.items() if g.empty}
    if not empty:
        return values
    out = list(values)
    executor = executed.executor
    b = executed.batch
    for i, v in enumerate(values):
        gold = executed.golds[i]
        if v is None or gold is None or id(gold) not in empty:
            continue
        if policy == "skip":
            out[i] = None
            continue
        pred = executed.preds[i]
        if v <= 0 or not pred.ok:
            continue
        db, engine = b.db(i), b.engine(i)
        key = ("structure", db, engine, gold.sql, pred.sql)
        ok = executed.cache.get(key)
        if ok is None:
            ok = same_structure(executor, db, engine, gold.sql, pred.sql, executor.sandbox_dialect(db, engine))  # type: ignore[arg-type]
            executed.cache[key] = ok
        if not ok:
            out[i] = 0.0
    return out
