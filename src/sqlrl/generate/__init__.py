"""``sqlrl generate``: predictions for a dataset from a local chat model, greedy or by majority vote
over sampled queries clustered by execution result, written in the official prediction formats.

>>> from sqlrl.generate import Candidate, majority_vote
>>> majority_vote([Candidate("SELECT 1", ok=True, key=1), Candidate("SELECT 2", ok=False)]).sql
'SELECT 1'

:mod:`sqlrl.generate.voting` is pure Python; :mod:`sqlrl.generate.runner` imports torch only when
it loads a model. Names are imported on first use, so ``sqlrl --help`` stays fast.
"""

from __future__ import annotations

import importlib
from typing import Any

_EXPORTS = {
    "NO_SQL": "runner",
    "GenerateConfig": "runner",
    "GenerateResult": "runner",
    "generate_predictions": "runner",
    "one_line": "runner",
    "VOTE_REASONS": "voting",
    "Candidate": "voting",
    "Vote": "voting",
    "majority_vote": "voting",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name in _EXPORTS:
        return getattr(importlib.import_module(f"sqlrl.generate.{_EXPORTS[name]}"), name)
    raise AttributeError(f"module 'sqlrl.generate' has no attribute {name!r}")
