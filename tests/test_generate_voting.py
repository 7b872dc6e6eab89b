"""Majority voting by execution result on hand-made candidates (pure Python, no torch, no model)."""

from __future__ import annotations

import doctest

import pytest

from sqlrl import Table
from sqlrl.generate import NO_SQL, Candidate, GenerateConfig, majority_vote, one_line, runner, voting


def ran(sql: str, key) -> Candidate:
    return Candidate(sql, ok=True, key=key)


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


def test_one_line_and_config():
    assert one_line("SELECT a\n\tFROM t\r\n") == "SELECT a  FROM t"
    assert one_line("") == one_line("   ") == one_line(None) == NO_SQL
    assert GenerateConfig().sampling_temperature == 0.0
    assert GenerateConfig(n=4).sampling_temperature == 0.8
    assert GenerateConfig(n=4, temperature=1.2).sampling_temperature == 1.2
    with pytest.raises(ValueError, match="temperature > 0"):
        GenerateConfig(n=4, temperature=0.0)
    with pytest.raises(ValueError, match="n must be"):
        GenerateConfig(n=0)
    with pytest.raises(ValueError, match="top_p"):
        GenerateConfig(top_p=0)


def test_doctests():
    assert doctest.testmod(voting).failed == 0
    assert doctest.testmod(runner).failed == 0
