"""The verbal loop end to end against a chat-completions server on loopback with scripted replies."""

from __future__ import annotations

import json
import re
import time
from typing import Any

import pytest

pytest.importorskip("openai")

from test_verbal_server import ChatServer, backend  # noqa: E402

from sqlrl.data import load_toy  # noqa: E402
from sqlrl.eval.bird import evaluate_bird  # noqa: E402
from sqlrl.eval.spider import evaluate_spider  # noqa: E402
from sqlrl.verbal import (  # noqa: E402
    NO_SQL,
    VerbalConfig,
    VerbalLoop,
    group_records,
    preference_records,
    read_trajectories,
    run_verbal,
    sft_records,
    write_predictions,
)
from sqlrl.verbal.backends import FunctionBackend  # noqa: E402

GOLD = "SELECT name FROM members WHERE membership_type = 'student'"
LIMIT1 = GOLD + " LIMIT 1"
LIMIT3 = "SELECT DISTINCT name FROM members WHERE membership_type = 'student' AND 1 = 1 LIMIT 3"
EMPTY = "SELECT name FROM members WHERE membership_type = 'Student'"
BROKEN = "SELECT name FORM members WHERE membership_type = 'student'"
_CANDIDATE = re.compile(r"^Candidate (\d+)[^\n]*:\n```sql\n(.*?)\n```", re.M | re.S)


def fence(sql: str) -> str:
    return f"Here is the query.\n```sql\n{sql}\n```"


class Script:
    """A scripted LLM: generator replies by question (cycled), judge replies from a function of the candidates."""

    def __init__(self, gen: Any = None, judge: Any = None, refine: Any = None) -> None:
        self.gen = gen or {}
        self.judge = judge or (lambda cands, req: json.dumps({"scores": {k: 5 for k in cands}}))
        self.refine = refine
        self.counts: dict[str, int] = {}
        self.judge_requests: list[dict[str, Any]] = []
        self.gen_requests: list[dict[str, Any]] = []

    def __call__(self, req: dict[str, Any]) -> Any:
        messages = req["messages"]
        if messages[0]["content"].startswith("You are a meticulous"):
            self.judge_requests.append(req)
            cands = dict(_CANDIDATE.findall(messages[1]["content"]))
            reply = self.judge(cands, req)
            return reply if isinstance(reply, tuple) else [reply]
        self.gen_requests.append(req)
        if len(messages) > 2 and self.refine is not None:
            reply = self.refine(req)
            return reply if isinstance(reply, tuple) else reply * req["n"]
        question = messages[-1]["content"].rsplit("Question: ", 1)[-1].strip()
        script = self.gen.get(question, self.gen.get("*", [fence("SELECT 1")]))
        if isinstance(script, tuple):
            return script
        out = []
        for _ in range(req["n"]):
            i = self.counts.get(question, 0)
            self.counts[question] = i + 1
            out.append(script[i % len(script)])
        return out


def by_sql(scores: dict[str, float], critique: str = "") -> Any:
    """A judge that scores each candidate by its SQL text (so shuffled orders must map back)."""

    def judge(cands: dict[str, str], req: dict[str, Any]) -> str:
        return json.dumps({"scores": {k: scores.get(sql, 1) for k, sql in cands.items()}, "critique": critique})

    return judge


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    return load_toy("dev", cache_dir=tmp_path_factory.mktemp("toy-cache"))


@pytest.fixture(scope="module")
def student(toy):
    ex = next(e for e in toy if e.gold_sql == GOLD)
    return ex


@pytest.fixture
def llm():
    script = Script()
    with ChatServer(script) as server:
        server.script = script
        yield server


def solve(server, example, *, judge_backend=None, **config):
    opts = {"k": 4, "max_attempts": 4, "sample_batch": 4, "judge_rounds": 3, "judge_retries": 1}
    opts.update(config)
    with VerbalLoop(backend(server.url), judge_backend, config=VerbalConfig(**opts)) as loop:
        return loop.solve(example)


def gen_for(server, example, replies):
    server.script.gen[example.question] = replies


def test_judge_can_overrule_the_majority(llm, student):
    gen_for(llm, student, [fence(LIMIT1)] * 3 + [fence(GOLD)])
    llm.script.judge = by_sql({GOLD: 9, LIMIT1: 2})
    traj = solve(llm, student)
    assert traj.prediction == GOLD and traj.reason == "judge"
    assert traj.baselines == {"single": LIMIT1, "majority": LIMIT1}
    assert traj.gold == {"mode": "spider", "prediction": True, "single": False, "majority": False, "any": True}
    assert len(llm.script.judge_requests) == 3 and len(llm.script.gen_requests) == 1
    prompt = llm.script.judge_requests[0]["messages"][1]["content"]
    assert "Question: What are the names of all members with a student membership?" in prompt
    assert "CREATE TABLE members" in prompt and "result of 3 of the 4 queries" in prompt
    assert "Result: 11 rows, columns (name); first 5:" in prompt and "Result: 1 row, columns (name):" in prompt
    rec = traj.to_json()
    json.dumps(rec)  # the trajectory line is JSON
    assert rec["choices"][-1]["scores"] == {"0": 2.0, "1": 9.0}
    assert [c["count"] for c in rec["candidates"]] == [3, 1] and rec["stats"]["judge_requests"] == 3


def test_malformed_judge_replies_are_retried_then_ignored(llm, student):
    gen_for(llm, student, [fence(LIMIT1)] * 3 + [fence(GOLD)])
    replies = iter([
        "I like the second one.",                                   # round 0: no scores
        '```json\n{"scores": {"1": 9, "2": 9}, "critique": "x"}\n```',  # retry: read
        '{"scores": {"1": 11, "2": 3}}',                            # round 1: out of range
        '{"scores": {"1": 5}}',                                     # retry: a candidate missing; round ignored
    ])  # fmt: skip
    llm.script.judge = lambda cands, req: next(replies)
    traj = solve(llm, student, judge_rounds=2, judge_retries=1)
    calls = traj.judge
    assert [c.error != "" for c in calls] == [True, False, True, True]
    assert "outside 0..10" in calls[2].error and "no score for candidate 2" in calls[3].error
    retry = llm.script.judge_requests[1]["messages"]
    assert [m["role"] for m in retry] == ["system", "user", "assistant", "user"]
    assert (
        retry[2]["content"] == "I like the second one." and "could not be used (no scores found)" in retry[3]["content"]
    )
    # one readable round, 9 vs 9: a tie, so the larger cluster wins
    assert traj.reason == "judge" and traj.prediction == LIMIT1


def test_unreadable_judge_falls_back_to_majority(llm, student):
    gen_for(llm, student, [fence(LIMIT1)] * 3 + [fence(GOLD)])
    llm.script.judge = lambda cands, req: "Candidate one looks best to me."
    traj = solve(llm, student, judge_rounds=2, judge_retries=2)
    assert traj.reason == "judge_failed" and traj.prediction == LIMIT1
    assert len(llm.script.judge_requests) == 6  # 2 rounds x 3 tries, then it stops


def test_generator_endpoint_errors_end_without_sql(llm, student):
    llm.script.gen["*"] = (500, {"error": {"message": "overloaded"}})
    traj = solve(llm, student, k=2, max_attempts=5, sample_batch=2, refine_rounds=2)
    assert traj.prediction == NO_SQL and traj.reason == "no_sql"
    # ceil(5 / 2) = 3 requests per sampling phase, + 2 refinement rounds x 1 request; 3 tries each
    assert len(traj.requests) == 5 and all("HTTP 500" in r["error"] for r in traj.requests)
    assert len(llm.script.gen_requests) == 15
    assert traj.stats()["generator_failed_requests"] == 5


def test_judge_timeouts_fall_back_to_majority(llm, student):
    gen_for(llm, student, [fence(LIMIT1)] * 3 + [fence(GOLD)])
    llm.script.judge = lambda cands, req: time.sleep(1.0) or "{}"
    t0 = time.perf_counter()
    slow_judge = backend(llm.url, timeout=0.2, max_retries=0)
    traj = solve(llm, student, judge_backend=slow_judge, judge_rounds=2, judge_retries=1)
    assert traj.reason == "judge_failed" and traj.prediction == LIMIT1
    assert [c.error.startswith("timeout") for c in traj.judge] == [True] * 4
    assert time.perf_counter() - t0 < 3.0


def test_no_executable_candidate(llm, student):
    gen_for(llm, student, [fence(BROKEN), "I do not know.", fence(BROKEN), fence("SELECT nope FROM members")])
    traj = solve(llm, student)
    assert traj.reason == "no_executable" and traj.prediction == BROKEN
    assert llm.script.judge_requests == [] and traj.clusters == []
    assert [s["sql"] is None for s in traj.samples] == [False, True, False, False]
    assert traj.candidates[0].execution.error_kind == "syntax" and traj.gold["prediction"] is False


def test_one_candidate_needs_no_judge(llm, student):
    alias = "SELECT m.name FROM members AS m WHERE m.membership_type = 'student'"
    gen_for(llm, student, [fence(alias), fence(GOLD), fence(GOLD), fence(alias + " ")])
    traj = solve(llm, student)
    assert traj.reason == "single_cluster" and llm.script.judge_requests == []
    assert len(traj.clusters) == 1 and len(traj.candidates) == 2  # the trailing space is the same query
    # two samples each: the simpler query represents the cluster
    assert traj.prediction == GOLD
    traj = solve(llm, student, judge_single_cluster=True, judge_rounds=1)
    assert traj.reason == "judge" and len(llm.script.judge_requests) == 1


def test_cluster_column_order_false_merges_column_permutations(llm, student):
    name_city = "SELECT name, city FROM members WHERE membership_type = 'student'"
    city_name = "SELECT city, name FROM members WHERE membership_type = 'student'"
    gen_for(llm, student, [fence(city_name), fence(name_city), fence(name_city), fence(GOLD)])
    kept = solve(llm, student, use_judge=False)
    assert [c.candidates for c in kept.clusters] == [[0], [1], [2]]  # column order counts (BIRD's EX)
    assert kept.prediction == name_city and kept.reason == "majority"
    merged = solve(llm, student, use_judge=False, cluster_column_order=False)
    assert [(c.candidates, c.size) for c in merged.clusters] == [([0, 1], 3), ([2], 1)]  # as Spider's EX
    assert merged.candidates[0].execution.key == merged.candidates[1].execution.key
    assert merged.prediction == name_city  # the cluster's most sampled query represents it
    assert merged.config_hash != kept.config_hash  # the setting is part of the recorded configuration
    llm.script.counts.clear()
    gen_for(llm, student, [fence(city_name), fence(name_city)])
    traj = solve(llm, student, k=2, max_attempts=2, sample_batch=2, cluster_column_order=False)
    assert len(traj.clusters) == 1 and traj.reason == "single_cluster" and llm.script.judge_requests == []


def test_ties_go_to_the_larger_cluster_then_the_simpler_query(llm, student):
    llm.script.judge = by_sql({})  # every candidate scores 1
    gen_for(llm, student, [fence(LIMIT1), fence(GOLD), fence(GOLD), fence(LIMIT1), fence(GOLD), fence(LIMIT3)])
    traj = solve(llm, student, k=6, max_attempts=6, sample_batch=6)
    assert traj.reason == "judge" and traj.prediction == GOLD  # 3 samples against 2 and 1
    llm.script.counts.clear()
    gen_for(llm, student, [fence(LIMIT3), fence(LIMIT3), fence(GOLD), fence(GOLD)])
    traj = solve(llm, student)
    assert traj.prediction == GOLD  # same size and score: the simpler query, though seen later


def test_vote_weight_adds_the_vote_share(llm, student):
    gen_for(llm, student, [fence(LIMIT1)] * 3 + [fence(GOLD)])
    llm.script.judge = by_sql({GOLD: 6, LIMIT1: 5})
    traj = solve(llm, student, judge_rounds=1)
    assert traj.prediction == GOLD and "combined" not in traj.choices[-1]
    traj = solve(llm, student, judge_rounds=1, vote_weight=1.0)  # 5 + 7.5 against 6 + 2.5
    assert traj.prediction == LIMIT1 and traj.choices[-1]["combined"] == {"0": 12.5, "1": 8.5}
    assert traj.choices[-1]["score"] == 5.0


def test_shuffled_rounds_map_scores_back(llm, student):
    gen_for(llm, student, [fence(LIMIT1), fence(GOLD), fence(LIMIT3), fence(EMPTY)])
    llm.script.judge = by_sql({GOLD: 8, LIMIT1: 3, LIMIT3: 5, EMPTY: 0})
    traj = solve(llm, student, judge_rounds=5, seed=3)
    orders = {tuple(c.order) for c in traj.judge}
    assert len(orders) > 1
    assert traj.choices[-1]["scores"] == {"0": 3.0, "1": 8.0, "2": 5.0, "3": 0.0}
    assert traj.prediction == GOLD
    traj = solve(llm, student, judge_rounds=1, max_judge_candidates=2)
    shown = dict(_CANDIDATE.findall(llm.script.judge_requests[-1]["messages"][1]["content"]))
    # all of size 1: the two simplest queries with rows are shown (the empty result ranks last)
    assert sorted(shown.values()) == sorted([GOLD, LIMIT1]) and traj.choices[-1]["judged"] == [1, 0]
    traj = solve(llm, student, judge_rounds=1, max_judge_candidates=2, prefer_nonempty=False)
    assert traj.choices[-1]["judged"] == [1, 3]  # now by simplicity alone: GOLD and EMPTY


def test_require_nonempty_keeps_sampling(llm, student):
    gen_for(llm, student, [fence(EMPTY)])
    traj = solve(llm, student, k=2, max_attempts=6, sample_batch=2)
    assert len(traj.requests) == 1
    traj = solve(llm, student, k=2, max_attempts=6, sample_batch=2, require_nonempty=True)
    assert len(traj.requests) == 3 and traj.reason == "single_cluster"


def test_refinement_feeds_errors_back(llm, student):
    gen_for(llm, student, [fence(BROKEN)])
    llm.script.refine = lambda req: [fence(GOLD)]
    traj = solve(llm, student, refine_rounds=2, refine_samples=2)
    assert traj.prediction == GOLD and traj.reason == "single_cluster"
    assert [c["reason"] for c in traj.choices] == ["no_executable", "single_cluster"]  # stops once it is good
    refine_req = llm.script.gen_requests[-1]["messages"]
    assert [m["role"] for m in refine_req] == ["system", "user", "assistant", "user"]
    assert BROKEN in refine_req[2]["content"] and "It did not run." in refine_req[3]["content"]
    assert 'Error (syntax): near "members"' in refine_req[3]["content"]
    assert traj.feedback[0]["message"] == refine_req[3]["content"]
    assert {s["round"] for s in traj.samples} == {0, 1} and traj.requests[-1]["n"] == 2


def test_refinement_with_critique_and_empty_results(llm, student):
    gen_for(llm, student, [fence(LIMIT1), fence(LIMIT3)])
    llm.script.judge = by_sql({GOLD: 9, LIMIT1: 4, LIMIT3: 3}, critique="it should list every student member")
    llm.script.refine = lambda req: [fence(GOLD)]
    traj = solve(llm, student, refine_rounds=1, judge_rounds=1)
    assert traj.prediction == GOLD and traj.reason == "judge"
    message = traj.feedback[0]["message"]
    assert "A reviewer's critique: it should list every student member" in message and LIMIT1 in message
    assert traj.choices[0]["score"] == 4.0 and traj.choices[1]["score"] == 9.0
    # an empty result is refined even with no judge to ask
    gen_for(llm, student, [fence(EMPTY)])
    traj = solve(llm, student, refine_rounds=1, use_judge=False)
    assert "It returned no rows" in traj.feedback[0]["message"] and traj.prediction == GOLD
    # a good enough choice is not refined
    gen_for(llm, student, [fence(GOLD), fence(LIMIT1)])
    llm.script.judge = by_sql({GOLD: 9, LIMIT1: 1})
    traj = solve(llm, student, refine_rounds=3, judge_rounds=1)
    assert traj.feedback == [] and traj.prediction == GOLD


def test_run_resumes_and_outputs_score_with_the_evaluators(llm, toy, tmp_path):
    from sqlrl.data.example import ExampleSet

    dataset = ExampleSet(
        "sqlrl-toy", "dev", [ex for ex in toy if "distinct" not in ex.gold_sql.lower()][:6], toy.tables
    )
    prefer_wrong = {ex.question for ex in dataset[::2]}
    for ex in dataset:
        gen_for(llm, ex, [fence(f"SELECT * FROM ({ex.gold_sql}) LIMIT 1"), fence(ex.gold_sql)])

    def judge(cands, req):
        wrong_first = any(q in req["messages"][1]["content"] for q in prefer_wrong)
        return json.dumps({"scores": {k: (9 if ("LIMIT 1" in sql) == wrong_first else 2) for k, sql in cands.items()}})

    llm.script.judge = judge
    out = tmp_path / "run"
    cfg = VerbalConfig(k=2, max_attempts=2, sample_batch=2, judge_rounds=1)
    interrupted = Interrupting(backend(llm.url), after=3)
    with pytest.raises(KeyboardInterrupt):
        run_verbal(dataset, interrupted, backend(llm.url), out_dir=out, config=cfg, progress=False)
    assert len(read_trajectories(out / "trajectories.jsonl")) == 3
    with open(out / "trajectories.jsonl", "a") as f:
        f.write('{"id": "sqlrl-toy/dev/3", "predic')  # a write cut short
    requests = len(llm.script.gen_requests)
    summary = run_verbal(dataset, backend(llm.url), out_dir=out, config=cfg, progress=False)
    assert (summary.skipped, summary.ran, summary.done, summary.errors) == (3, 3, 6, 0)
    assert len(llm.script.gen_requests) == requests + 3  # the finished questions were not asked again
    records = read_trajectories(out / "trajectories.jsonl")
    assert [r["id"] for r in records] == [ex.id for ex in dataset]
    lines = (out / "trajectories.jsonl").read_text().splitlines()
    assert len(lines) == 6 and all(json.loads(line) for line in lines)

    db_root = dataset[0].db_path.parent.parent
    report = evaluate_spider(
        summary.files["gold"], summary.files["pred"], db_root, db_root.parent / "tables.json", etype="exec"
    )
    ex_rate = report.summary()["all"]["execution"]
    assert ex_rate == pytest.approx(summary.stats["gold_match"]["prediction"], abs=1e-4) and ex_rate < 1.0
    assert [e.metrics["execution"] == 1.0 for e in report.examples] == [r["gold_match"]["prediction"] for r in records]
    assert summary.stats["gold_match"]["any"] == 1.0
    bird = write_predictions(dataset, records, tmp_path / "bird", "bird")
    rep = evaluate_bird(bird["pred"], bird["gold"], db_root, difficulty=bird["difficulty"])
    assert [e.metrics["ex"] == 1.0 for e in rep.examples] == [r["gold_match"]["prediction"] for r in records]
    spider2 = write_predictions(dataset, records, tmp_path / "s2", "spider2")
    assert len(list(spider2["pred"].rglob("*.sql"))) == 6

    # a third run has nothing left to do; resume=False starts over
    summary = run_verbal(dataset, backend(llm.url), out_dir=out, config=cfg, progress=False)
    assert (summary.skipped, summary.ran) == (6, 0)
    summary = run_verbal(dataset[:2], backend(llm.url), out_dir=out, config=cfg, progress=False, resume=False)
    assert (summary.skipped, summary.ran) == (0, 2) and len(read_trajectories(out / "trajectories.jsonl")) == 2

    sft = sft_records(records)
    assert len(sft) == 6 and sft[0]["prompt"][0]["role"] == "system" and "```sql" in sft[0]["completion"][0]["content"]
    assert len(sft_records(records, require_gold_match=True)) == round(6 * ex_rate)
    assert sft_records(records, completion="text")[0]["completion"][0]["content"].startswith("Here is the query.")
    groups = group_records(records)
    assert all(len(g["completions"]) == 2 == len(g["rewards"]) for g in groups)
    assert any(sorted(g["rewards"]) == [0.2, 0.9] for g in groups)  # judged: scores / 10
    assert [1.0, 1.0] in [g["rewards"] for g in groups]  # one cluster, no judge: the vote share
    pairs = preference_records(records)
    assert len(pairs) == sum(1 for g in groups if len(set(g["rewards"])) > 1) > 0  # only judged groups pair up
    assert all(p["chosen"] != p["rejected"] for p in pairs)


class Interrupting:
    """A backend wrapper that raises KeyboardInterrupt at its ``after``-th question (Ctrl-C mid-run)."""

    def __init__(self, inner: Any, after: int) -> None:
        self.inner = inner
        self.after = after
        self.calls: list[int] = []

    def chat(self, conversations, **kwargs):
        self.calls.append(1)
        if len(self.calls) > self.after:
            raise KeyboardInterrupt
        return self.inner.chat(conversations, **kwargs)


def test_example_errors_are_recorded_and_retried(toy, tmp_path):
    from dataclasses import replace

    broken = replace(toy[0], db_path=tmp_path / "missing.sqlite")
    from sqlrl.data.example import ExampleSet

    ds = ExampleSet("sqlrl-toy", "dev", [broken, toy[1]], toy.tables)
    be = FunctionBackend(lambda messages, n, **kw: [fence("SELECT count(*) FROM loans")] * n)
    summary = run_verbal(ds, be, out_dir=tmp_path / "o", config=VerbalConfig(k=1, max_attempts=1), progress=False)
    assert summary.errors == 1 and summary.done == 1
    recs = read_trajectories(tmp_path / "o" / "trajectories.jsonl")
    assert recs[0]["reason"] == "error" and recs[0]["prediction"] == NO_SQL
    assert (tmp_path / "o" / "pred.sql").read_text().splitlines()[0] == NO_SQL
    summary = run_verbal(ds, be, out_dir=tmp_path / "o", config=VerbalConfig(k=1, max_attempts=1), progress=False)
    assert summary.ran == 1 and summary.skipped == 1  # the failed example is tried again


def test_judge_prompt_is_bounded_by_max_length(llm, student):
    from sqlrl.data.prompts import PromptOptions

    gen_for(llm, student, [fence(LIMIT1)] * 3 + [fence(GOLD)])
    llm.script.judge = by_sql({GOLD: 9, LIMIT1: 2})
    solve(llm, student, judge_rounds=1)
    full = llm.script.judge_requests[-1]["messages"]
    full_len = sum(len(m["content"]) for m in full)
    assert "CREATE TABLE" in full[1]["content"]

    bound = full_len - 40  # the unbounded judge prompt no longer fits
    llm.script.judge_requests.clear()
    traj = solve(llm, student, judge_rounds=1, prompt_options=PromptOptions(max_length=bound))
    assert traj.prediction == GOLD
    bounded = llm.script.judge_requests[-1]["messages"]
    assert sum(len(m["content"]) for m in bounded) <= bound
    assert "CREATE TABLE" in bounded[1]["content"]  # a smaller schema (fewer sample values), not none

    llm.script.judge_requests.clear()
    tiny = solve(llm, student, judge_rounds=1, prompt_options=PromptOptions(max_length=10**9, sample_values=0))
    assert tiny.prediction == GOLD
    assert "(schema not shown" not in llm.script.judge_requests[-1]["messages"][1]["content"]
