"""Majority voting over sampled SQL by execution result (self-consistency), pure Python.

Each sample becomes a :class:`Candidate`: the SQL extracted from the completion (or None), whether
it ran, and a key for its result (the scoring core's ``Table.fingerprint()``, a hash of the bag of
result rows: row order is ignored, column order and values count; with
``GenerateConfig(vote_column_order=False)`` the runner uses ``fingerprint(column_order=False)``, so
a column permutation of a result gets its key, and passes the column-ordered fingerprint as
``exact_key``). :func:`majority_vote` picks one sample per question:

1. Samples that ran are clustered by key. The largest cluster wins; between clusters of equal
   size, the one whose first sample came earlier. The chosen sample is the winning cluster's
   first (earliest) sample, so its SQL is a real sample, not a rewrite. When candidates carry an
   ``exact_key`` (keys that ignore column order), the winning cluster's samples vote again on it:
   the chosen sample is the earliest of its most common exact result, so the prediction has the
   column order most of the cluster's samples agree on.
2. When no sample ran but some SQL was extracted, failed samples are clustered by their SQL text
   (whitespace collapsed) with the same rule; a failed execution never beats one that ran.
3. When no sample has SQL, the first sample is chosen with ``sql=None``.

>>> votes = majority_vote([
...     Candidate("SELECT 1", ok=True, key=7),
...     Candidate("SELECT 2", ok=True, key=9),
...     Candidate("SELECT 3 -- same result as 2", ok=True, key=9),
...     Candidate("SELECT nope", ok=False),
... ])
>>> votes.index, votes.sql, votes.reason, votes.clusters
(1, 'SELECT 2', 'majority', [[1, 2], [0]])

Keys that ignore column order (``exact_key`` counts it): ``b, a`` votes with ``a, b``, and the
column order of two of the three samples wins:

>>> votes = majority_vote([
...     Candidate("SELECT b, a FROM t", ok=True, key=5, exact_key=51),
...     Candidate("SELECT c FROM t", ok=True, key=6, exact_key=61),
...     Candidate("SELECT a, b FROM t", ok=True, key=5, exact_key=52),
...     Candidate("SELECT t.a, t.b FROM t", ok=True, key=5, exact_key=52),
... ])
>>> votes.index, votes.sql, votes.clusters
(2, 'SELECT a, b FROM t', [[0, 2, 3], [1]])
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field

__all__ = ["VOTE_REASONS", "Candidate", "Vote", "majority_vote"]

#: Why a sample was chosen: ``single`` (one sample), ``majority`` (a largest cluster of executed
#: samples), ``tie`` (several largest clusters; the earliest won), ``no_execution`` (nothing ran:
#: the most frequent SQL text), ``no_sql`` (no sample had SQL).
VOTE_REASONS = ("single", "majority", "tie", "no_execution", "no_sql")


@dataclass(frozen=True)
class Candidate:
    """One sample after SQL extraction and execution.

    Attributes:
        sql: the SQL found in the completion, or None.
        ok: whether the SQL ran without error.
        key: a hashable summary of the result (the result table's fingerprint) when ``ok``.
        exact_key: a finer summary that decides between the samples of the winning cluster (the
            fingerprint with column order counted, when ``key`` ignores it); None: no second vote.
    """

    sql: str | None
    ok: bool = False
    key: Hashable | None = None
    exact_key: Hashable | None = None


@dataclass(frozen=True)
class Vote:
    """The outcome of :func:`majority_vote`.

    Attributes:
        index: the chosen sample, a member of ``clusters[0]`` (its first unless exact keys decide).
        sql: its SQL (None when no sample had any).
        reason: one of :data:`VOTE_REASONS`.
        clusters: sample indices per cluster, largest first (ties: earliest first); clusters of
            executed samples, or of SQL texts when nothing ran.
    """

    index: int
    sql: str | None
    reason: str
    clusters: list[list[int]] = field(default_factory=list)

    @property
    def votes(self) -> int:
        """Size of the winning cluster (0 when no sample had SQL)."""
        return len(self.clusters[0]) if self.clusters else 0


def _clusters(keys: Sequence[tuple[int, Hashable]]) -> list[list[int]]:
    """Indices grouped by key; largest group first, then by first index (dicts keep insertion order)."""
    groups: dict[Hashable, list[int]] = {}
    for i, key in keys:
        groups.setdefault(key, []).append(i)
    return sorted(groups.values(), key=lambda g: (-len(g), g[0]))


def majority_vote(candidates: Sequence[Candidate]) -> Vote:
    """Choose one of ``candidates`` by majority of execution results (see the module for the rules).

    Raises:
        ValueError: ``candidates`` is empty.
    """
    if not candidates:
        raise ValueError("majority_vote needs at least one candidate")
    ran = [(i, c.key) for i, c in enumerate(candidates) if c.ok and c.sql is not None]
    if ran:
        clusters = _clusters(ran)
    else:
        texts = [(i, " ".join(c.sql.split())) for i, c in enumerate(candidates) if c.sql is not None and c.sql.strip()]
        if not texts:
            return Vote(0, None, "no_sql")
        clusters = _clusters(texts)
    best = clusters[0][0]
    if ran and len(clusters[0]) > 1:  # the most common exact result of the winning cluster, earliest on ties
        best = _clusters([(i, candidates[i].exact_key) for i in clusters[0]])[0][0]
    if len(candidates) == 1:
        reason = "single"
    elif not ran:
        reason = "no_execution"
    elif len(clusters) > 1 and len(clusters[1]) == len(clusters[0]):
        reason = "tie"
    else:
        reason = "majority"
    return Vote(best, candidates[best].sql, reason, clusters)
