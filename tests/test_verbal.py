"""Verbal loop building blocks: judge reply parsing, settings, execution summaries, trajectory files."""

from __future__ import annotations

import json

import pytest

from sqlrl.verbal import VerbalConfig, parse_judge_reply, read_trajectories, sql_complexity
from sqlrl.verbal.judge import run_judge
from sqlrl.verbal.prompts import format_summary, reply_format

L2 = ["1", "2"]


@pytest.mark.parametrize(
    ("reply", "scores", "critique"),
    [
        ('{"scores": {"1": 8, "2": 3}, "critique": "no ORDER BY"}', {"1": 8.0, "2": 3.0}, "no ORDER BY"),
        ('Reasoning...\n```json\n{"scores": {"1": 2, "2": 10}}\n```', {"1": 2.0, "2": 10.0}, ""),
        ('<think>{"scores": {"1": 0, "2": 0}}</think>{"scores": {"1": 7, "2": 1}}', {"1": 7.0, "2": 1.0}, ""),
        ('{"scores": [6, 4.5]}', {"1": 6.0, "2": 4.5}, ""),
        ('{"scores": {"candidate 1": "7/10", "Candidate 2": "3"}}', {"1": 7.0, "2": 3.0}, ""),
        ('{"1": 9, "2": 1}', {"1": 9.0, "2": 1.0}, ""),
        ('{"scores": [{"candidate": 2, "score": 5}, {"candidate": 1, "score": 6}]}', {"1": 6.0, "2": 5.0}, ""),
        ("Candidate 1: 9/10\nCandidate 2: 2/10", {"1": 9.0, "2": 2.0}, ""),
        ("- 1: 4\n- 2 = 6", {"1": 4.0, "2": 6.0}, ""),
        ('first {"scores": {"1": 1, "2": 1}} then {"scores": {"1": 3, "2": 2}}', {"1": 3.0, "2": 2.0}, ""),
    ],
)
def test_readable_replies(reply, scores, critique):
    got = parse_judge_reply(reply, L2)
    assert got.ok and got.scores == scores and got.critique == critique


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ("", "empty reply"),
        ("The first is better.", "no scores found"),
        ('{"scores": {"1": 9}}', "no score for candidate 2"),
        ('{"scores": {"1": 9, "2": 11}}', "outside 0..10"),
        ('{"scores": {"1": -1, "2": 3}}', "outside 0..10"),
        ('{"scores": {"1": "high", "2": 3}}', "not a number"),
        ('{"scores": {"1": true, "2": 3}}', "not a number"),
        ('{"scores": {"1": 5, "2": 5, "3": 5}}', "not shown"),
        ('{"scores": [5, 5, 5]}', "not shown"),
        ('{"scores": {"1": 5, "2": 5', "no scores found"),
        ("Candidate 1 (result of 3 of the 4 queries): looks right", "no scores found"),
    ],
)
def test_malformed_replies(reply, error):
    got = parse_judge_reply(reply, L2)
    assert not got.ok and error in got.error


def test_reply_format_is_the_json_asked_for():
    text = reply_format(["1", "2"], 10)
    assert text.startswith('{"scores": {"1": <0-10>, "2": <0-10>}')
    filled = text.replace("<0-10>", "4").replace("<what the best candidate may still get wrong, or none>", "none")
    assert parse_judge_reply(filled, L2).scores == {"1": 4.0, "2": 4.0}


def test_run_judge_bounds_and_averages():
    from sqlrl.verbal import FunctionBackend

    replies = iter(['{"scores": {"1": 8, "2": 2}}', "nonsense", "nonsense", '{"scores": {"1": 4, "2": 6}}'])
    calls = []

    def fn(messages, n, **kw):
        calls.append(messages)
        return [next(replies)]

    out = run_judge(FunctionBackend(fn), clusters=[10, 20], render=lambda order: [{"role": "user", "content": str(order)}],
                    rounds=3, retries=1, score_max=10, temperature=0.0, max_tokens=10, seed=0, shuffle=False)  # fmt: skip
    # round 0 read; round 1 unreadable twice (ignored); round 2 read
    assert out.rounds_ok == 2 and out.mean == {10: 6.0, 20: 4.0} and len(calls) == 4


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"k": 0}, "k must be >= 1"),
        ({"k": 5, "max_attempts": 4}, "raise max_attempts"),
        ({"judge_retries": -1}, "judge_retries must be >= 0"),
        ({"temperature": -0.1}, "temperature must be >= 0"),
        ({"top_p": 0}, "top_p"),
        ({"engine": "postgres"}, "engine"),
        ({"judge_user": "Question: {question} {nope}"}, "unknown placeholder(s) nope"),
        ({"refine_user": "{previous} {"}, "not a valid format template"),
    ],
)
def test_bad_settings(kwargs, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        VerbalConfig(**kwargs)


def test_settings_to_json_round_trip():
    cfg = VerbalConfig(judge_user="Q: {question}\n{candidates}\n{reply_format}")
    data = cfg.to_json()
    assert json.loads(json.dumps(data))["prompt_options"]["sample_values"] == 3 and data["k"] == 4


def test_summaries():
    text = format_summary(True, ["a"], [(b"\x00\x01",), (1.5,), ("x" * 100,)], 7, truncated=True, max_cell_chars=10)
    assert text.splitlines() == [
        "Result: 7+ rows, columns (a); first 3:",
        "  (<blob 2 bytes>)",
        "  (1.5)",
        "  ('xxxxxx...)",
    ]
    assert format_summary(True, ["a", "b"], [], 0) == "Result: no rows, columns (a, b)"
    long_error = format_summary(False, [], [], 0, error_kind="runtime", error="e\n" * 500, max_error_chars=20)
    assert long_error == "Error (runtime): e e e e e e e e e..." and len(long_error) == len("Error (runtime): ") + 20


def test_sql_complexity_orders_simpler_first():
    assert sql_complexity("SELECT a FROM t") < sql_complexity("SELECT a FROM t WHERE b = 1 ORDER BY a")
    assert sql_complexity("SELEC nonsense (") >= 10_000


def test_read_trajectories_keeps_last_and_repairs(tmp_path):
    path = tmp_path / "t.jsonl"
    path.write_text('{"id": "a", "v": 1}\nnot json\n{"id": "b", "v": 1}\n\n{"id": "a", "v": 2}\n{"id": "c", "v"')
    assert [(r["id"], r["v"]) for r in read_trajectories(path)] == [("b", 1), ("a", 2)]
    assert "not json" in path.read_text()  # reading alone never writes
    read_trajectories(path, repair=True)
    assert path.read_text().splitlines() == ['{"id": "a", "v": 1}', '{"id": "b", "v": 1}', '{"id": "a", "v": 2}']
    assert read_trajectories(tmp_path / "missing.jsonl") == []
