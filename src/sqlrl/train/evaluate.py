"""Execution accuracy of a model on GRPO rows: greedy completions scored by the execution reward.

Used for validation (choosing the best checkpoint of a stage) and for the eval split after every
phase. The score is the ``spider``-mode execution match of :func:`sqlrl.rewards.execution_reward`
(order matters only when the gold query has ``ORDER BY``), i.e. the same comparison the rewards use.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EvalResult", "execution_accuracy"]


@dataclass
class EvalResult:
    """Execution accuracy and rates over ``n`` examples, with every completion kept."""

    accuracy: float
    executable: float
    n: int
    completions: list[str] = field(default_factory=list, repr=False)
    correct: list[float] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"accuracy": self.accuracy, "executable": self.executable, "n": self.n}


def execution_accuracy(
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict[str, Any]],
    *,
    max_new_tokens: int = 128,
    batch_size: int = 64,
    timeout: float = 5.0,
    workers: int = -1,
    reward: Any = None,
    progress: bool = False,
    desc: str = "eval",
) -> EvalResult:
    """Greedy-decode every row's prompt and score the completions by execution match.

    Args:
        model, tokenizer: a transformers causal LM and its tokenizer (with a chat template).
        rows: GRPO rows (``prompt`` messages plus the reward columns, see :mod:`sqlrl.train.data`).
        reward: an ``execution_reward(mode="spider", empty_gold="allow")`` to reuse across calls (its
            executor keeps gold results); made from ``timeout``/``workers`` when None.
    """
    from sqlrl.models.local import LocalChatModel
    from sqlrl.rewards import execution_reward, syntax_reward

    if not rows:
        return EvalResult(0.0, 0.0, 0)
    was_training = model.training
    lm = LocalChatModel(model, tokenizer, device=str(next(model.parameters()).device), batch_size=batch_size)
    completions: list[str] = []
    chunks = range(0, len(rows), batch_size)
    if progress:
        from tqdm.auto import tqdm

        chunks = tqdm(chunks, desc=desc, unit="batch", leave=False)
    for start in chunks:
        part = rows[start : start + batch_size]
        outs = lm.generate([r["prompt"] for r in part], max_new_tokens=max_new_tokens)
        completions.extend(o[0] for o in outs)
    if was_training:
        model.train()
    columns = {k: [r.get(k) for r in rows] for k in rows[0] if k != "prompt"}
    prompts = [r["prompt"] for r in rows]
    if reward is None:
        reward = execution_reward(mode="spider", empty_gold="allow", timeout=timeout, workers=workers)
    correct = [float(x or 0.0) for x in reward(prompts=prompts, completions=completions, **columns)]
    valid = syntax_reward(executor=reward.executor)
    runs = [float(x or 0.0) for x in valid(prompts=prompts, completions=completions, **columns)]
    n = len(rows)
    return EvalResult(sum(correct) / n, sum(runs) / n, n, completions, correct)
