"""A prompt curriculum for a GRPO stage: train on what the model solves sometimes but not always.

A prompt the model always solves, or never does, gives a GRPO group with one reward for every
completion: no advantage, no gradient. Arctic-Text2SQL-R1 (Yao et al., 2025) filters its training
data for this reason. A stage with ``curriculum_samples: k`` does the same before it starts: it
samples ``k`` completions for each of ``curriculum_pool`` seeded training prompts (all when 0) with
the stage's start model at the stage's temperature, scores them by execution match, and trains on
the prompts whose pass rate lies strictly between 0 and 1. When fewer than ``min_keep`` remain, the
closest others (pass rates nearest 0.5) fill up to it, so a stage never runs dry.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

__all__ = ["CurriculumStats", "pool_indices", "select_prompts"]


@dataclass
class CurriculumStats:
    """What the filter saw: prompts scored, kept, always solved, never solved, and the mean pass rate."""

    scored: int
    kept: int
    always: int
    never: int
    mean_pass_rate: float

    def to_dict(self) -> dict[str, Any]:
        return {"scored": self.scored, "kept": self.kept, "always_solved": self.always, "never_solved": self.never,
                "mean_pass_rate": round(self.mean_pass_rate, 4)}  # fmt: skip


def pool_indices(n: int, pool: int, seed: int) -> list[int]:
    """``pool`` seeded indices of ``range(n)`` (all of them, in order, when ``pool`` is 0 or at least ``n``)."""
    if pool <= 0 or pool >= n:
        return list(range(n))
    return sorted(random.Random(f"sqlrl-curriculum|{seed}").sample(range(n), pool))


def select_prompts(
    rows: Sequence[dict[str, Any]], pass_rates: Sequence[float], *, min_keep: int = 1
) -> tuple[list[dict[str, Any]], CurriculumStats]:
    """The rows whose pass rate is strictly between 0 and 1, topped up to ``min_keep`` by the rows whose
    pass rate is closest to 0.5 (ties keep the original order).

    >>> rows = [{"q": i} for i in range(5)]
    >>> kept, stats = select_prompts(rows, [0.0, 0.5, 1.0, 0.25, 0.0], min_keep=3)
    >>> [r["q"] for r in kept], stats.kept, stats.always, stats.never
    ([0, 1, 3], 3, 1, 2)
    """
    if len(rows) != len(pass_rates):
        raise ValueError(f"{len(rows)} rows but {len(pass_rates)} pass rates")
    mixed = [i for i, p in enumerate(pass_rates) if 0.0 < p < 1.0]
    if len(mixed) < min_keep:
        others = sorted((i for i, p in enumerate(pass_rates) if not 0.0 < p < 1.0),
                        key=lambda i: abs(pass_rates[i] - 0.5))  # fmt: skip
        mixed += others[: min_keep - len(mixed)]
    keep = sorted(mixed)
    n = len(pass_rates)
    stats = CurriculumStats(
        scored=n, kept=len(keep), always=sum(p >= 1.0 for p in pass_rates), never=sum(p <= 0.0 for p in pass_rates),
        mean_pass_rate=sum(pass_rates) / n if n else 0.0,
    )  # fmt: skip
    return [rows[i] for i in keep], stats
