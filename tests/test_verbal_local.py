"""The verbal loop with the tiny local model: directly (local backend) and served over HTTP on loopback.

A randomly initialised model writes no usable SQL, so these runs take the "no executable candidate"
path end to end: sampling stops at ``max_attempts``, refinement is tried, nothing is judged, and the
prediction is the placeholder or the model's failing query.
"""

from __future__ import annotations

import pytest

pytest.importorskip("torch")
pytest.importorskip("transformers")
pytest.importorskip("openai")

from test_verbal_server import ChatServer, backend  # noqa: E402

from sqlrl.data import build_messages, load_toy  # noqa: E402
from sqlrl.data.example import ExampleSet  # noqa: E402
from sqlrl.verbal import NO_SQL, LocalChatBackend, VerbalConfig, read_trajectories, run_verbal  # noqa: E402

CONFIG = VerbalConfig(k=2, max_attempts=2, sample_batch=2, max_new_tokens=12, refine_rounds=1, refine_samples=1)


@pytest.fixture(scope="module")
def toy(tmp_path_factory):
    ds = load_toy("dev", cache_dir=tmp_path_factory.mktemp("toy"))
    return ExampleSet(ds.name, ds.split, ds.examples[:2], ds.tables)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory, toy):
    from sqlrl.models.tiny import build_tiny_model

    texts = [m["content"] for ex in toy for m in build_messages(ex)] + [ex.gold_sql for ex in toy]
    path = build_tiny_model(tmp_path_factory.mktemp("tiny"), texts, vocab_size=400, hidden_size=32, num_layers=1,
                            num_heads=2, num_kv_heads=1, max_positions=4096)  # fmt: skip
    return LocalChatBackend(path, device="cpu")


def test_local_backend_runs_the_loop_to_the_end(tiny, toy, tmp_path):
    summary = run_verbal(toy, tiny, out_dir=tmp_path, config=CONFIG, progress=False)
    assert (summary.done, summary.errors) == (2, 0)
    for rec in read_trajectories(tmp_path / "trajectories.jsonl"):
        assert rec["reason"] in ("no_sql", "no_executable")
        assert rec["stats"]["generator_samples"] == 3 and rec["stats"]["judge_requests"] == 0  # 2 + 1 refinement
        assert len(rec["feedback"]) == 1 and rec["gold_match"]["prediction"] is False
        assert rec["prediction"] == NO_SQL or rec["reason"] == "no_executable"
    assert len((tmp_path / "pred.sql").read_text().splitlines()) == 2


def test_tiny_model_served_over_http(tiny, toy, tmp_path):
    def respond(req):
        (texts,) = tiny.model.generate([req["messages"]], n=req["n"], temperature=req.get("temperature", 0.0),
                                       max_new_tokens=req.get("max_tokens", 8), seed=req.get("seed"))  # fmt: skip
        return texts

    with ChatServer(respond) as server:
        summary = run_verbal(toy, backend(server.url), out_dir=tmp_path, config=CONFIG, progress=False)
        assert summary.done == 2 and len(server.requests) == 2 * 2  # one sampling + one refinement request each
    assert all(r["reason"] in ("no_sql", "no_executable") for r in read_trajectories(tmp_path / "trajectories.jsonl"))
