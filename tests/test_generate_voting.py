"""Majority voting by execution result on hand-made candidates (pure Python, no torch, no model)."""

from __future__ import annotations

import doctest

import pytest

from sqlrl import Table
from sqlrl.generate import NO_SQL, Candidate, GenerateConfig, majority_vote, one_line, runner, voting


def ran(sql: str, key, exact=None) -> Candidate:
    return Candidate(sql, ok=True, key=key, exact_key=exact)


def failed(sql: str | None) -> Candidate:
    return Candidate(sql, ok=False)


# (candidates, chosen index, reason, clusters)
CASES = [
    ([ran("a", 1)], 0, "single", [[0]]),
    ([failed("a")], 0, "single", [[0]]),
    ([failed(None)], 0, "no_sql", []),
    ([ran("a", 1), ran("b", 2), ran("c", 2)], 1, "majority", [[1, 2], [0]]),
    ([ran("a", 1), ran("b", 2), ran("c", 2), ran("d", 1)], 0, "tie", [[0, 3], [1, 2]]),  # tie: earlier cluster
    ([ran("a", 1), ran("b", 2)], 0, "tie", [[0], [1]]),
    ([failed("x"), failed("x"), failed("x"), ran("b", 2)], 3, "majority", [[3]]),  # failures never win over a run
    ([failed(None), ran("b", 5), failed("y")], 1, "majority", [[1]]),
    ([failed("x"), failed("y  z"), failed("y z"), failed(None)], 1, "no_execution", [[1, 2], [0]]),  # by SQL text
    ([failed(None), failed("x"), failed("y")], 1, "no_execution", [[1], [2]]),
    ([failed(None), failed(None), failed("  ")], 0, "no_sql", []),
    # exact keys pick within the winning cluster: its most common exact result, earliest on ties
    ([ran("a", 1, "x"), ran("b", 2, "z"), ran("c", 1, "y"), ran("d", 1, "y")], 2, "majority", [[0, 2, 3], [1]]),
    ([ran("a", 1, "x"), ran("b", 1, "y"), ran("c", 2, "z")], 0, "majority", [[0, 1], [2]]),
    ([ran("a", 1, "x"), ran("b", 2, "y"), ran("c", 2, "z")], 1, "majority", [[1, 2], [0]]),
    ([ran("a", 1, "x"), ran("b", 1, "x"), ran("c", 1, "x")], 0, "majority", [[0, 1, 2]]),
]


@pytest.mark.parametrize(("candidates", "index", "reason", "clusters"), CASES)
def test_majority_vote(candidates, index, reason, clusters):
    vote = majority_vote(candidates)
    assert (vote.index, vote.reason, vote.clusters) == (index, reason, clusters)
    assert vote.sql == candidates[index].sql if reason != "no_sql" else vote.sql is None
    assert vote.votes == (len(clusters[0]) if clusters else 0)


def test_empty_is_an_error():
    with pytest.raises(ValueError, match="at least one"):
        majority_vote([])


def test_fingerprint_clusters_equal_results():
    """The keys the runner uses: result fingerprints ignore row order, not values or column order."""
    a = Table.from_rows([(1, "x"), (2, "y")]).fingerprint()
    b = Table.from_rows([(2, "y"), (1, "x")]).fingerprint()
    c = Table.from_rows([("x", 1), ("y", 2)]).fingerprint()
    d = Table.from_rows([(1, "x")]).fingerprint()
    vote = majority_vote([ran("q0", d), ran("q1", a), ran("q2", c), ran("q3", b)])
    assert a == b and len({a, c, d}) == 3
    assert (vote.index, vote.clusters) == (1, [[1, 3], [0], [2]])


def test_column_order_free_keys_vote_permuted_results_together():
    """The keys of ``vote_column_order=False``: a column permutation of a result votes with it; the
    column order most of the winning cluster produced is the prediction's."""
    ab = Table.from_rows([(1, "x"), (2, "y")])
    ba = Table.from_rows([("y", 2), ("x", 1)])  # columns swapped, rows too
    other = Table.from_rows([(3, "z")])
    samples = [("SELECT b, a", ba), ("SELECT c", other), ("SELECT c AS d", other), ("SELECT a, b", ab),
               ("SELECT t.a, t.b", ab)]  # fmt: skip

    def vote(column_order: bool):
        exact = (lambda t: None) if column_order else (lambda t: t.fingerprint())
        return majority_vote([ran(sql, t.fingerprint(column_order=column_order), exact(t)) for sql, t in samples])

    kept = vote(True)  # today's keys: three results, the two pairs tie, the earlier pair wins
    assert (kept.index, kept.reason, kept.clusters) == (1, "tie", [[1, 2], [3, 4], [0]])
    merged = vote(False)
    assert (merged.index, merged.reason, merged.clusters) == (3, "majority", [[0, 3, 4], [1, 2]])
    assert merged.sql == "SELECT a, b" and merged.votes == 3  # not the earlier "SELECT b, a": a minority order


def test_one_line_and_config():
    assert one_line("SELECT a\n\tFROM t\r\n") == "SELECT a  FROM t"
    assert one_line("") == one_line("   ") == one_line(None) == NO_SQL
    assert GenerateConfig().sampling_temperature == 0.0
    assert GenerateConfig(n=4).sampling_temperature == 0.8
    assert GenerateConfig(n=4, temperature=1.2).sampling_temperature == 1.2
    assert GenerateConfig().vote_column_order is True  # BIRD's EX counts column order: so does the default vote
    with pytest.raises(ValueError, match="temperature > 0"):
        GenerateConfig(n=4, temperature=0.0)
    with pytest.raises(ValueError, match="n must be"):
        GenerateConfig(n=0)
    with pytest.raises(ValueError, match="top_p"):
        GenerateConfig(top_p=0)


def test_doctests():
    assert doctest.testmod(voting).failed == 0
    assert doctest.testmod(runner).failed == 0


def test_weighted_candidates_and_representatives():
    """The verbal loop's use: distinct queries weigh their samples; the simpler of equal ones represents."""
    cands = [
        Candidate("SELECT a FROM t WHERE 1 = 1", ok=True, key=1, samples=[0, 3], complexity=9),
        Candidate("SELECT b FROM t", ok=True, key=2, samples=[1, 4, 5]),
        Candidate("SELECT a FROM t", ok=True, key=1, samples=[2, 6], complexity=5),
        Candidate("SELECT nope", ok=False, samples=[7]),
    ]
    vote = majority_vote(cands)
    assert (vote.index, vote.reason, vote.clusters, vote.sizes) == (2, "majority", [[0, 2], [1]], [4, 3])
    assert vote.representatives == [2, 1] and vote.votes == 4 and vote.executed


def test_equal_clusters_go_to_the_simpler_representative_and_prefer_nonempty():
    class Rows:
        def __init__(self, n):
            self.num_rows = n

    cands = [
        Candidate("SELECT DISTINCT a FROM t", ok=True, key=1, samples=[0], complexity=8, execution=Rows(3)),
        Candidate("SELECT a FROM t WHERE 0", ok=True, key=2, samples=[1], complexity=4, execution=Rows(0)),
        Candidate("SELECT a FROM t", ok=True, key=3, samples=[2], complexity=6, execution=Rows(2)),
    ]
    assert majority_vote(cands).clusters == [[1], [2], [0]]  # by simplicity, then first seen
    vote = majority_vote(cands, prefer_nonempty=True)
    assert (vote.index, vote.clusters, vote.reason) == (2, [[2], [0], [1]], "tie")  # the empty result last


def test_nothing_ran_clusters_by_text_not_by_result():
    vote = majority_vote([Candidate("SELECT nope", ok=False, samples=[0])])
    assert (vote.index, vote.reason, vote.executed) == (0, "single", False)
    vote = majority_vote([Candidate("SELECT x", samples=[0, 2], complexity=3), Candidate("SELECT  y", samples=[1, 3])])
    assert (vote.index, vote.reason, vote.clusters, vote.executed) == (1, "no_execution", [[1], [0]], False)
