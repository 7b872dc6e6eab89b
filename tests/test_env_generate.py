"""sqlrl generate --interactive: episodes for a scripted model, a local model and an OpenAI-compatible server,
written as the usual prediction files (scored by sqlrl eval) plus trajectories."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlrl.cli import main
from sqlrl.data import build_toy, load_toy, toy_dir
from sqlrl.env import EnvConfig, format_tool_call, parse_tool_calls
from sqlrl.env.generate import interactive_predictions, write_trajectories
from sqlrl.generate import GenerateConfig
from sqlrl.models.chat import FunctionChatModel


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def dev(cache: Path):
    return load_toy("dev", cache_dir=cache)[:3]


def explorer(golds: dict[str, str]):
    """A policy that explores first: a query on a table that does not exist, list_tables, then the answer."""

    def respond(messages, n, **kw):
        question = messages[0 if messages[0]["role"] == "user" else 1]["content"].split("Question: ", 1)[-1]
        gold = next(g for q, g in golds.items() if question.startswith(q))
        turn = sum(m["role"] == "assistant" for m in messages)
        script = [format_tool_call("run_query", {"sql": "SELECT * FROM no_such_table"}),
                  format_tool_call("list_tables"), format_tool_call("answer", {"sql": gold})]  # fmt: skip
        return [script[min(turn, 2)]] * n

    return respond


def _eval(out: Path, cache: Path, capsys) -> dict:
    toy = build_toy(toy_dir(cache))
    argv = ["eval", "spider", "--gold", str(out / "gold.sql"), "--pred", str(out / "pred.sql"), "--etype", "exec",
            "--db", str(toy.database_dir), "--table", str(toy.tables), "--no-progress", "--json"]  # fmt: skip
    capsys.readouterr()
    assert main(argv) == 0
    return json.loads(capsys.readouterr().out)["summary"]["all"]


def test_scripted_episodes_write_predictions_and_trajectories(dev, cache, tmp_path, capsys):
    golds = {ex.question: ex.gold_sql for ex in dev}
    result = interactive_predictions(FunctionChatModel(explorer(golds)), dev, GenerateConfig(), EnvConfig(max_turns=3))
    assert all(result.predictions) and [r["episode"]["counts"]["answered"] for r in result.records] == [True] * 3
    ep = result.meta["episodes"]
    assert ep["answered"] == 1.0 and ep["tool_calls"] == 3.0 and ep["tool_error_rate"] == pytest.approx(1 / 3)
    paths = result.write(tmp_path)
    traj = write_trajectories(result, tmp_path)
    lines = [json.loads(line) for line in traj.read_text().splitlines()]
    assert len(lines) == 3 and [c["tool"] for c in lines[0]["calls"]] == ["run_query", "list_tables", "answer"]
    assert lines[0]["calls"][0]["output"].startswith("error (runtime)") and lines[0]["counts"]["answered"]
    assert paths["spider"].read_text().count("\n") == 3
    assert _eval(tmp_path, cache, capsys)["execution"] == 1.0  # sqlrl eval scores the episode's answers as usual


def test_interactive_generation_refuses_several_samples(dev):
    with pytest.raises(ValueError, match="n=1"):
        interactive_predictions(
            FunctionChatModel(lambda m, n, **kw: ["x"] * n), dev, GenerateConfig(n=2, temperature=1)
        )


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, dev):
    pytest.importorskip("torch", reason="the [train] extra is part of [dev]; CI installs it")
    from sqlrl.data import build_messages
    from sqlrl.env.vocabulary import tool_texts
    from sqlrl.models.tiny import build_tiny_model

    texts = [m["content"] for ex in dev for m in build_messages(ex, tables_entry=dev.tables.get(ex.db_id))]
    return build_tiny_model(tmp_path_factory.mktemp("tiny"), texts + tool_texts(), vocab_size=500, hidden_size=32,
                            num_layers=1, num_heads=2, num_kv_heads=1)  # fmt: skip


def test_cli_interactive_with_a_local_model(tiny_model, cache, tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["generate", "--model", str(tiny_model), "--limit", "2", "--cache-dir", str(cache), "--no-progress",
            "--interactive", "--max-turns", "1", "--max-new-tokens", "8", "--out", str(out)]  # fmt: skip
    assert main(argv) == 0
    printed = capsys.readouterr().out
    assert "2 examples" in printed and "episodes:" in printed and "wrote trajectories" in printed
    lines = [json.loads(line) for line in (out / "trajectories.jsonl").read_text().splitlines()]
    assert len(lines) == 2 and all(line["messages"][-1]["role"] in ("assistant", "user") for line in lines)
    users = [m["content"] for m in lines[0]["messages"] if m["role"] == "user"]
    assert "exploration calls" in users[0]  # the tool help follows the question
    assert sum(m["role"] == "assistant" for m in lines[0]["messages"]) in (1, 2)  # at most max_turns + 1 turns
    meta = json.loads((out / "generate.json").read_text())
    assert meta["interactive"] is True and meta["env"]["max_turns"] == 1
    assert _eval(out, cache, capsys)["count"] == 2
    assert main([*argv, "--n", "2", "--temperature", "1", "--overwrite"]) == 2
    assert "one episode per question" in capsys.readouterr().err


def test_cli_interactive_with_an_openai_compatible_server(dev, cache, tmp_path, capsys):
    pytest.importorskip("openai")
    from test_verbal_server import ChatServer

    golds = {ex.question: ex.gold_sql for ex in load_toy("dev", cache_dir=cache)}
    policy = explorer(golds)
    with ChatServer(lambda req: policy(req["messages"], req.get("n", 1))) as server:
        out = tmp_path / "served"
        argv = ["generate", "--base-url", server.url, "--model", "served", "--limit", "3", "--cache-dir", str(cache),
                "--no-progress", "--interactive", "--out", str(out)]  # fmt: skip
        assert main(argv) == 0
        turns = [r["messages"] for r in server.requests]
    assert len(turns) == 9  # three turns for each of three questions
    last = turns[-1]
    assert last[-1]["content"].startswith("<tool_response>\ntables:")
    assert parse_tool_calls(last[-2]["content"])[0]["name"] == "list_tables"
    assert _eval(out, cache, capsys)["execution"] == 1.0
    # --base-url also serves single-turn generation
    with ChatServer(lambda req: [f"```sql\n{next(iter(golds.values()))}\n```"] * req.get("n", 1)) as server:
        single = tmp_path / "single"
        argv = ["generate", "--base-url", server.url, "--model", "served", "--limit", "2", "--cache-dir", str(cache),
                "--no-progress", "--out", str(single)]  # fmt: skip
        assert main(argv) == 0
        assert len(server.requests) == 2 and "<tool_call>" not in json.dumps(server.requests)
    assert not (single / "trajectories.jsonl").exists() and (single / "pred.sql").read_text().count("\n") == 2
