"""Execution accuracy of a model on GRPO rows: greedy completions scored by the execution reward.

Used for validation (choosing the best checkpoint of a stage) and for the eval splits after every
phase. The score is the ``spider``-mode execution match of :func:`sqlrl.rewards.execution_reward`
(order matters only when the gold query has ``ORDER BY``), i.e. the same comparison the rewards use.

With ``samples=k`` it also samples ``k`` completions per question at ``temperature`` and reports
*sampled EX* (the mean match over all samples: what GRPO raises, an estimate of pass@1 at that
temperature) and *pass@k* (the share of questions with at least one matching sample).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlrl.sandbox.parallel import progress_bar

__all__ = ["EvalResult", "episode_accuracy", "execution_accuracy", "sampled_correctness"]


@dataclass
class EvalResult:
    """Execution accuracy and rates over ``n`` examples, with every greedy completion kept.

    ``sampled`` and ``pass_at_k`` are None unless ``k`` samples per question were drawn.
    """

    accuracy: float
    executable: float
    n: int
    completions: list[str] = field(default_factory=list, repr=False)
    correct: list[float] = field(default_factory=list, repr=False)
    sampled: float | None = None
    pass_at_k: float | None = None
    k: int = 0

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"accuracy": self.accuracy, "executable": self.executable, "n": self.n}
        if self.k:
            out.update(sampled=self.sampled, pass_at_k=self.pass_at_k, k=self.k)
        return out


def _generate(
    model: Any, tokenizer: Any, rows: Sequence[dict[str, Any]], batch_size: int, progress: bool, desc: str,
    seed: int | None = None, **kwargs: Any,
) -> list[list[str]]:  # fmt: skip
    """Completions for every row, ``batch_size`` prompts per call (batch ``i`` seeded ``seed + i``); the model
    is left in the train/eval mode it was in."""
    from sqlrl.models.local import LocalChatModel

    was_training = model.training
    device = str(next(model.parameters()).device)
    lm = LocalChatModel(model, tokenizer, device=device, batch_size=batch_size)
    chunks = range(0, len(rows), batch_size)
    bar = progress_bar(len(chunks), bool(progress), desc, unit="batch")
    out: list[list[str]] = []
    for start in chunks:
        part = [r["prompt"] for r in rows[start : start + batch_size]]
        out.extend(lm.generate(part, seed=None if seed is None else seed + start, **kwargs))
        if bar is not None:
            bar.update(1)
    if bar is not None:
        bar.close()
    if was_training:
        model.train()
    return out


def _scorer(reward: Any, rows: Sequence[dict[str, Any]]) -> Any:
    """``completions -> [score per row]`` with ``reward``, the rows' prompts and columns read once."""
    columns = {k: [r.get(k) for r in rows] for k in rows[0] if k != "prompt"}
    prompts = [r["prompt"] for r in rows]
    return lambda completions: [float(x or 0.0) for x in reward(prompts=prompts, completions=completions, **columns)]


def _reward(reward: Any, timeout: float, workers: int) -> Any:
    if reward is not None:
        return reward
    from sqlrl.rewards import execution_reward

    return execution_reward(mode="spider", empty_gold="allow", timeout=timeout, workers=workers)


def _scored(rows: Sequence[dict[str, Any]], completions: list[str], reward: Any) -> EvalResult:
    """One completion per row scored by ``reward`` (execution match) and by whether it runs at all."""
    from sqlrl.rewards import syntax_reward

    correct = _scorer(reward, rows)(completions)
    runs = _scorer(syntax_reward(executor=reward.executor), rows)(completions)
    n = len(rows)
    return EvalResult(sum(correct) / n, sum(runs) / n, n, completions, correct)


def sampled_correctness(
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict[str, Any]],
    *,
    samples: int,
    temperature: float = 1.0,
    max_new_tokens: int = 128,
    batch_size: int = 64,
    seed: int = 0,
    timeout: float = 5.0,
    workers: int = -1,
    reward: Any = None,
    progress: bool = False,
    desc: str = "sample",
) -> list[list[float]]:
    """``samples`` completions per row at ``temperature``, scored by execution match: ``[row][sample]``.

    The model is left in the train/eval mode it was in.
    """
    if not rows or samples < 1:
        return [[] for _ in rows]
    texts = _generate(model, tokenizer, rows, batch_size, progress, desc, n=samples, temperature=temperature,
                      max_new_tokens=max_new_tokens, seed=seed)  # fmt: skip
    score = _scorer(_reward(reward, timeout, workers), rows)
    per_sample = [score([t[j] for t in texts]) for j in range(samples)]
    return [[per_sample[j][i] for j in range(samples)] for i in range(len(rows))]


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
    samples: int = 0,
    temperature: float = 1.0,
    seed: int = 0,
) -> EvalResult:
    """Greedy-decode every row's prompt and score the completions by execution match.

    Args:
        model, tokenizer: a transformers causal LM and its tokenizer (with a chat template).
        rows: GRPO rows (``prompt`` messages plus the reward columns, see :mod:`sqlrl.train.data`).
        reward: an ``execution_reward(mode="spider", empty_gold="allow")`` to reuse across calls (its
            executor keeps gold results); made from ``timeout``/``workers`` when None.
        samples: also draw this many completions per question at ``temperature`` (seeded by ``seed``)
            for sampled EX and pass@k (0: greedy only; see :func:`sampled_correctness`).
    """
    if not rows:
        return EvalResult(0.0, 0.0, 0)
    texts = _generate(model, tokenizer, rows, batch_size, progress, desc, max_new_tokens=max_new_tokens)
    reward = _reward(reward, timeout, workers)
    result = _scored(rows, [t[0] for t in texts], reward)
    if samples > 0:
        per_row = sampled_correctness(
            model, tokenizer, rows, samples=samples, temperature=temperature, max_new_tokens=max_new_tokens,
            batch_size=batch_size, seed=seed, reward=reward, progress=progress, desc=f"{desc} (sampled)",
        )  # fmt: skip
        result.sampled = sum(map(sum, per_row)) / (samples * result.n)
        result.pass_at_k = sum(any(c) for c in per_row) / result.n
        result.k = samples
    return result


def episode_accuracy(
    model: Any,
    tokenizer: Any,
    rows: Sequence[dict[str, Any]],
    env: Any,
    *,
    max_new_tokens: int = 128,
    batch_size: int = 64,
    timeout: float = 5.0,
    workers: int = -1,
    reward: Any = None,
) -> EvalResult:
    """Greedy interactive episodes (:func:`sqlrl.env.run_episodes`, ``env`` an :class:`~sqlrl.env.EnvConfig`) for
    every row, their final answers scored by execution match: what an interactive stage trains. ``completions``
    are the final answers; ``max_new_tokens`` is per turn. The model is left in the mode it was in."""
    from sqlrl.env import run_episodes
    from sqlrl.models.local import LocalChatModel

    if not rows:
        return EvalResult(0.0, 0.0, 0)
    was_training = model.training
    device = str(next(model.parameters()).device)
    lm = LocalChatModel(model, tokenizer, device=device, batch_size=batch_size)
    episodes = run_episodes(lm, rows, config=env, temperature=0.0, max_tokens=max_new_tokens)
    if was_training:
        model.train()
    return _scored(rows, [e.final_text for e in episodes], _reward(reward, timeout, workers))
