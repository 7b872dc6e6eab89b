"""Majority voting over sampled SQL by execution result (self-consistency), pure Python: the one vote
of ``sqlrl generate`` and of ``sqlrl verbal``.

Each distinct query is a :class:`Candidate`: the SQL extracted from a completion (or None), whether
it ran, a key for its result (the scoring core's ``Table.fingerprint()``, a hash of the bag of
result rows: row order is ignored, column order and values count; with
``GenerateConfig(vote_column_order=False)`` the runner uses ``fingerprint(column_order=False)``, so
a column permutation of a result gets its key, and passes the column-ordered fingerprint as
``exact_key``), and the samples that wrote it (one, the candidate's position, unless given).
:func:`majority_vote` picks one candidate:

1. Candidates that ran are clustered by key; a cluster's size is its number of samples. The
   largest cluster wins; between clusters of equal size, the one whose first sample came earlier.
   The chosen candidate is the winning cluster's *representative*: the candidate with the most
   samples, then the simpler one (lower ``complexity``), then the earliest, so its SQL is a real
   sample, not a rewrite. When candidates carry an ``exact_key`` (keys that ignore column order),
   the winning cluster's samples vote again on it: the representative is taken among its most
   common exact result, so the prediction has the column order most of the cluster's samples agree on.
2. When no candidate ran but some SQL was extracted, failed candidates are clustered by their SQL
   text (whitespace collapsed) with the same rule; a failed execution never beats one that ran.
3. When no candidate has SQL, the first is chosen with ``sql=None``.

``sqlrl generate`` passes one candidate per sample (no ``complexity``), so the earliest sample of
the largest cluster wins. ``sqlrl verbal`` passes its distinct queries with their samples and
syntax-tree sizes, and ``prefer_nonempty=True``: results with rows rank before empty ones; between
clusters of equal size the one with the simpler representative goes first, then the earlier.

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

Candidates written by several samples (``samples``) weigh as many votes; the simpler of two equal
representatives wins:

>>> votes = majority_vote([
...     Candidate("SELECT a FROM t WHERE 1 = 1", ok=True, key=1, samples=[0, 3], complexity=9),
...     Candidate("SELECT a FROM t", ok=True, key=1, samples=[1, 2], complexity=5),
...     Candidate("SELECT b FROM t", ok=True, key=2, samples=[4, 5, 6]),
... ])
>>> votes.index, votes.clusters, votes.votes, votes.representatives
(1, [[0, 1], [2]], 4, [1, 2])
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["VOTE_REASONS", "Candidate", "Vote", "majority_vote"]

#: Why a candidate was chosen: ``single`` (one sample), ``majority`` (a largest cluster of executed
#: samples), ``tie`` (several largest clusters; the earliest won), ``no_execution`` (nothing ran:
#: the most frequent SQL text), ``no_sql`` (no sample had SQL).
VOTE_REASONS = ("single", "majority", "tie", "no_execution", "no_sql")


@dataclass(eq=False)
class Candidate:
    """A query sampled once or more, and its execution: what :func:`majority_vote` counts.

    Attributes:
        sql: the SQL found in the completion, or None.
        ok: whether the SQL ran without error.
        key: a hashable summary of the result (the result table's fingerprint) when ``ok``.
        exact_key: a finer summary that decides between the samples of the winning cluster (the
            fingerprint with column order counted, when ``key`` ignores it); None: no second vote.
        samples: the indices of the samples that wrote this query, first one first; empty: one
            sample, the candidate's position in the list voted on.
        complexity: the query's syntax-tree size (:func:`sqlrl.verbal.loop.sql_complexity`); among
            candidates of equal votes the simpler represents its cluster. 0 when not measured.
        execution: the sandbox's :class:`~sqlrl.sandbox.ExecResult` of the query, when kept.
        index: the candidate's position among its question's candidates (``sqlrl verbal``).
        round: the refinement round that first sampled it (0: the first sampling).
        cluster: the index of its result cluster in the caller's list (None: it did not run).
        gold_match: whether its result matches the gold's (None: not scored).
    """

    sql: str | None
    ok: bool = False
    key: Hashable | None = None
    exact_key: Hashable | None = None
    samples: list[int] = field(default_factory=list)
    complexity: int = 0
    execution: Any = None
    index: int = -1
    round: int = 0
    cluster: int | None = None
    gold_match: bool | None = None

    @property
    def count(self) -> int:
        """Samples that wrote this query (at least 1)."""
        return len(self.samples) or 1

    @property
    def nonempty(self) -> bool:
        """It ran, and its result has rows (or its rows were not kept)."""
        return self.ok and (self.execution is None or self.execution.num_rows > 0)

    def to_json(self) -> dict[str, Any]:
        """The candidate as the verbal trajectory file records it (``execution`` needs a ``to_json``)."""
        return {
            "index": self.index,
            "sql": self.sql,
            "round": self.round,
            "samples": self.samples,
            "count": len(self.samples),
            "complexity": self.complexity,
            "cluster": self.cluster,
            "execution": self.execution.to_json(),
            "gold_match": self.gold_match,
        }


@dataclass(frozen=True)
class Vote:
    """The outcome of :func:`majority_vote`.

    Attributes:
        index: the chosen candidate, the representative of ``clusters[0]``.
        sql: its SQL (None when no candidate had any).
        reason: one of :data:`VOTE_REASONS`.
        clusters: candidate indices per cluster, in rank order (largest first; see the module);
            clusters of executed candidates, or of SQL texts when nothing ran.
        representatives: the representative candidate of each cluster, in the same order.
        sizes: the samples of each cluster, in the same order.
        executed: the clusters are of executed candidates (by result), not of SQL texts.
    """

    index: int
    sql: str | None
    reason: str
    clusters: list[list[int]] = field(default_factory=list)
    representatives: list[int] = field(default_factory=list)
    sizes: list[int] = field(default_factory=list)
    executed: bool = False

    @property
    def votes(self) -> int:
        """Samples of the winning cluster (0 when no candidate had SQL)."""
        return self.sizes[0] if self.sizes else 0


def _first(candidates: Sequence[Candidate], i: int) -> int:
    c = candidates[i]
    return c.samples[0] if c.samples else i


def _groups(members: Sequence[int], key: Any) -> list[list[int]]:
    """``members`` grouped by ``key(i)``, each group in the order of ``members`` (dicts keep insertion order)."""
    groups: dict[Hashable, list[int]] = {}
    for i in members:
        groups.setdefault(key(i), []).append(i)
    return list(groups.values())


def _representative(candidates: Sequence[Candidate], members: list[int], exact: bool) -> int:
    """The most sampled, simplest, earliest member; with ``exact``, among those of the most common exact result."""

    def size(group: list[int]) -> int:
        return sum(candidates[i].count for i in group)

    def first(group: list[int]) -> int:
        return min(_first(candidates, i) for i in group)

    best = members
    if exact:
        best = min(_groups(members, lambda i: candidates[i].exact_key), key=lambda g: (-size(g), first(g)))
    return min(best, key=lambda i: (-candidates[i].count, candidates[i].complexity, _first(candidates, i)))


def majority_vote(candidates: Sequence[Candidate], *, prefer_nonempty: bool = False) -> Vote:
    """Choose one of ``candidates`` by majority of execution results (see the module for the rules).

    Args:
        candidates: the candidates; their positions are the indices of the returned :class:`Vote`.
        prefer_nonempty: clusters whose result has rows rank before empty ones, whatever their sizes.

    Raises:
        ValueError: ``candidates`` is empty.
    """
    if not candidates:
        raise ValueError("majority_vote needs at least one candidate")
    ran = [i for i, c in enumerate(candidates) if c.ok and c.sql is not None]
    if ran:
        clusters = _groups(ran, lambda i: candidates[i].key)
    else:
        texts = [i for i, c in enumerate(candidates) if c.sql is not None and c.sql.strip()]
        if not texts:
            return Vote(0, None, "no_sql")
        clusters = _groups(texts, lambda i: " ".join(candidates[i].sql.split()))  # type: ignore[union-attr]
    reps = [_representative(candidates, g, exact=bool(ran)) for g in clusters]
    sizes = [sum(candidates[i].count for i in g) for g in clusters]

    def rank(k: int) -> tuple[bool, int, int, int]:
        g = clusters[k]
        empty = prefer_nonempty and not candidates[g[0]].nonempty
        return empty, -sizes[k], candidates[reps[k]].complexity, min(_first(candidates, i) for i in g)

    order = sorted(range(len(clusters)), key=rank)
    clusters, reps, sizes = [clusters[k] for k in order], [reps[k] for k in order], [sizes[k] for k in order]
    best = reps[0]
    if sum(c.count for c in candidates) == 1:
        reason = "single"
    elif not ran:
        reason = "no_execution"
    elif len(clusters) > 1 and sizes[1] == sizes[0]:
        reason = "tie"
    else:
        reason = "majority"
    return Vote(best, candidates[best].sql, reason, clusters, reps, sizes, executed=bool(ran))
