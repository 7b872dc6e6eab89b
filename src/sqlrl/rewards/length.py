"""Length reward gated by the group's correctness ratio (GRPO-λ).

A length penalty applied to every group makes GRPO shorten its outputs before it can solve the
task, and accuracy collapses (Dai et al., 2025, "Stable Reinforcement Learning for Efficient
Reasoning"). GRPO-λ switches the length term on only for groups whose completions are mostly
correct already. Here, per group of completions of one prompt:

- correctness ratio ``ρ`` = share of the group's completions whose execution verdict is 1 (rows
  without a usable gold are left out; a group with none gets None);
- if ``ρ < threshold``: 0.0 for every completion of the group (no length pressure);
- else, with ``L`` the completion's length and ``lo``/``hi`` the group's shortest/longest,
  ``λ = 0.5 − (L − lo) / (hi − lo)`` (0 when ``hi == lo``), the Kimi k1.5 length reward:
  ``λ`` for a correct completion and ``min(0, λ)`` for a wrong one.

So the term lies in [−0.5, 0.5] and the shortest correct completion of a mostly-correct group gets
+0.5. Lengths are tokens (``completion_ids``) when TRL passes them, else characters.
"""

from __future__ import annotations

from typing import Any

from sqlrl.rewards.base import SQLReward
from sqlrl.rewards.batch import Batch
from sqlrl.rewards.executor import RewardExecutor
from sqlrl.rewards.guard import apply_empty_gold, check_policy
from sqlrl.scoring import MODES

__all__ = ["LengthReward", "length_reward"]

UNITS = ("tokens", "chars")


class LengthReward(SQLReward):
    """Length reward switched on per group by its execution-correctness ratio (GRPO-λ; formula in
    :mod:`sqlrl.rewards.length`).

    Args:
        threshold: the correctness ratio a group needs for the length term (default 0.5).
        mode: the execution-match mode deciding correctness.
        unit: ``tokens`` (from ``completion_ids``; characters when TRL does not pass them) or ``chars``.
        empty_gold: the empty-gold policy for the correctness verdicts (see :mod:`sqlrl.rewards.guard`).
        name: the name TRL logs (default ``length``); it also logs ``<name>/groups_on``, the share of
            groups where the term was on.

    >>> import sqlite3, tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "t.sqlite")
    >>> con = sqlite3.connect(db); _ = con.execute("CREATE TABLE t(x INT)")
    >>> _ = con.execute("INSERT INTO t VALUES (1)"); con.commit(); con.close()
    >>> short, long, wrong = "SELECT x FROM t", "SELECT x FROM t WHERE 1 = 1", "SELECT x + 1 FROM t"
    >>> length_reward(unit="chars")(prompts=["q"] * 3, completions=[short, long, wrong],
    ...                             gold_sql="SELECT x FROM t", db_path=db)
    [0.5, -0.5, 0.0]
    """

    kind = "length"
    required_columns = ("gold_sql", "db_path")

    def __init__(
        self,
        *,
        threshold: float = 0.5,
        mode: str = "spider",
        unit: str = "tokens",
        empty_gold: str = "structure",
        name: str | None = None,
        executor: RewardExecutor | None = None,
        **sandbox_options: Any,
    ) -> None:
        if not isinstance(threshold, (int, float)) or isinstance(threshold, bool) or not 0.0 <= threshold <= 1.0:
            raise ValueError(f"threshold must be a number in [0, 1], got {threshold!r}")
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        if unit not in UNITS:
            raise ValueError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
        self.threshold, self.mode, self.unit = float(threshold), mode, unit
        self.empty_gold = check_policy(empty_gold)
        super().__init__(name=name, executor=executor, **sandbox_options)

    def compute(self, batch: Batch) -> list[float | None]:
        executed = self.execute(batch)
        verdicts = apply_empty_gold(executed, executed.scores("mode", self.mode), self.empty_gold)
        preds = executed.preds
        correct = [None if v is None else bool(v >= 1.0 and p.ok) for v, p in zip(verdicts, preds, strict=True)]
        lengths = batch.lengths if self.unit == "tokens" and batch.lengths else [len(t) for t in batch.texts]
        out: list[float | None] = [None] * len(batch)
        groups = batch.group_members()
        gated_on = 0
        for members in groups:
            known = [i for i in members if correct[i] is not None]
            if not known:
                continue
            ratio = sum(bool(correct[i]) for i in known) / len(known)
            if ratio < self.threshold:
                for i in known:
                    out[i] = 0.0
                continue
            gated_on += 1
            lo = min(lengths[i] for i in known)
            hi = max(lengths[i] for i in known)
            for i in known:
                lam = 0.0 if hi == lo else 0.5 - (lengths[i] - lo) / (hi - lo)
                out[i] = lam if correct[i] else min(0.0, lam)
        if groups:
            self.metric("groups_on", gated_on / len(groups))
        return out


length_reward = LengthReward.factory()
