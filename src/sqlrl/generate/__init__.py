"""``sqlrl generate``: predictions for a dataset from a local chat model, greedy or by majority vote
over sampled queries clustered by execution result, written in the official prediction formats.

>>> from sqlrl.generate import Candidate, majority_vote
>>> majority_vote([Candidate("SELECT 1", ok=True, key=1), Candidate("SELECT 2", ok=False)]).sql
'SELECT 1'

:mod:`sqlrl.generate.voting` is pure Python; :mod:`sqlrl.generate.runner` imports torch only when
it loads a model.
"""

from sqlrl.generate.runner import NO_SQL, GenerateConfig, GenerateResult, generate_predictions, one_line
from sqlrl.generate.voting import VOTE_REASONS, Candidate, Vote, majority_vote

__all__ = [
    "NO_SQL",
    "VOTE_REASONS",
    "Candidate",
    "GenerateConfig",
    "GenerateResult",
    "Vote",
    "generate_predictions",
    "majority_vote",
    "one_line",
]
