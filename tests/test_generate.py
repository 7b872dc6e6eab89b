"""sqlrl generate: the runner with a scripted model (no torch), and the command line end to end with a tiny
local model whose files `sqlrl eval spider` and `sqlrl eval bird` then read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sqlrl.cli import build_parser, main
from sqlrl.data import build_toy, load_toy, toy_dir
from sqlrl.eval.bird import evaluate_bird
from sqlrl.eval.spider import evaluate_spider
from sqlrl.generate import NO_SQL, VOTE_REASONS, GenerateConfig, generate_predictions
from sqlrl.generate.command import GenerateCommand


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cache")


@pytest.fixture(scope="module")
def dev(cache: Path):
    return load_toy("dev", cache_dir=cache)[:3]


class ScriptedModel:
    """Answers each question with fixed completions; records the sampling arguments."""

    def __init__(self, answers: dict[str, list[str]]) -> None:
        self.answers = answers
        self.calls: list[dict] = []

    def generate(self, messages_list, *, n, temperature, top_p, max_new_tokens, seed):
        self.calls.append({"size": len(messages_list), "n": n, "temperature": temperature, "seed": seed})
        out = []
        for messages in messages_list:
            question = messages[-1]["content"].rsplit("Question: ", 1)[1].strip()
            out.append(self.answers[question][:n])
        return out


def test_votes_by_execution_and_writes_every_format(dev, cache, tmp_path):
    g0, g1 = dev[0].gold_sql, dev[1].gold_sql
    answers = {
        dev[0].question: [f"```sql\n{g0}\n```", f"Answer:\n{g0} ;", "SELECT nope FROM nowhere", "no idea"],
        dev[1].question: ["SELECT nope", "SELECT nope", f"<answer>{g1}</answer>", "SELECT 1 FROM nowhere"],
        dev[2].question: ["I cannot answer that."] * 4,
    }
    model = ScriptedModel(answers)
    result = generate_predictions(model, dev, GenerateConfig(n=4, batch_size=2, seed=5, workers=1), progress=False)
    assert model.calls == [
        {"size": 2, "n": 4, "temperature": 0.8, "seed": 5},
        {"size": 1, "n": 4, "temperature": 0.8, "seed": 7},
    ]
    r0, r1, r2 = result.records
    assert (r0["chosen"], r0["vote"], r0["votes"], r0["prediction"]) == (0, "majority", 2, g0)
    assert [s["cluster"] for s in r0["samples"]] == [0, 0, None, None]
    assert r0["samples"][0]["fingerprint"] == r0["samples"][1]["fingerprint"] and r0["samples"][0]["ok"]
    assert r0["samples"][2]["ok"] is False and r0["samples"][2]["error_kind"]
    assert r0["samples"][3]["sql"] is None and "no SQL found" in r0["samples"][3]["extract"]
    assert (r1["chosen"], r1["vote"], r1["prediction"]) == (2, "majority", g1)  # two failures lose to one run
    assert (r2["vote"], r2["prediction"]) == ("no_sql", NO_SQL)
    assert result.summary() == {
        "examples": 3, "samples": 12, "with_sql": 7, "executed_ok": 3, "votes": {"majority": 2, "no_sql": 1}
    }  # fmt: skip

    paths = result.write(tmp_path / "out")
    assert set(paths) == {"spider", "gold", "bird", "samples", "meta"}
    assert paths["spider"].read_text().splitlines() == [g0, g1, NO_SQL]
    assert paths["gold"].read_text().splitlines() == [f"{ex.gold_sql}\t{ex.db_id}" for ex in dev]
    bird = json.loads(paths["bird"].read_text())
    assert paths["bird"].name == "predict_dev.json"
    assert bird == {
        str(i): f"{p}\t----- bird -----\t{ex.db_id}"
        for i, (p, ex) in enumerate(zip(result.predictions, dev, strict=True))
    }
    lines = [json.loads(line) for line in paths["samples"].read_text().splitlines()]
    assert [len(r["samples"]) for r in lines] == [4, 4, 4] and lines[0]["clusters"] == [[0, 1]]
    meta = json.loads(paths["meta"].read_text())
    assert meta["config"]["n"] == 4 and meta["summary"]["examples"] == 3

    toy = build_toy(toy_dir(cache))
    spider = evaluate_spider(paths["gold"], paths["spider"], toy.database_dir, toy.tables, workers=1, progress=False)
    assert [e.metrics["execution"] for e in spider.examples] == [1.0, 1.0, 0.0]
    bird_report = evaluate_bird(paths["bird"], paths["gold"], toy.database_dir, metrics=["ex"], workers=1)
    assert [e.metrics["ex"] for e in bird_report.examples] == [1.0, 1.0, 0.0]


def test_vote_can_ignore_column_order(dev, tmp_path):
    """Column permutations of one result are separate votes by default (BIRD) and one with
    vote_column_order=False (Spider); the merged cluster's prediction has its most common column order."""
    ex = dev[2]
    name_city = "SELECT name, city FROM members WHERE membership_type = 'student'"
    city_name = "SELECT city, name FROM members WHERE membership_type = 'student'"
    first = "SELECT name FROM members WHERE member_id = 1"
    answers = [city_name, first, first.replace("= 1", "< 2"), name_city, name_city + " ORDER BY name"]
    model = ScriptedModel({ex.question: [f"```sql\n{sql}\n```" for sql in answers]})

    kept = generate_predictions(model, dev[2:], GenerateConfig(n=5, workers=1), progress=False).records[0]
    assert (kept["chosen"], kept["vote"], kept["clusters"]) == (1, "tie", [[1, 2], [3, 4], [0]])
    assert all("fingerprint_column_order" not in s for s in kept["samples"])

    config = GenerateConfig(n=5, workers=1, vote_column_order=False)
    result = generate_predictions(model, dev[2:], config, progress=False)
    merged = result.records[0]
    assert (merged["chosen"], merged["vote"], merged["votes"]) == (3, "majority", 3)
    assert merged["clusters"] == [[0, 3, 4], [1, 2]] and merged["prediction"] == name_city
    samples, before = merged["samples"], kept["samples"]
    assert samples[0]["fingerprint"] == samples[3]["fingerprint"]  # the key voted on ignores column order
    # the column-ordered fingerprint is the default's key, recorded next to it
    assert [s.get("fingerprint_column_order") for s in samples] == [s.get("fingerprint") for s in before]
    meta = json.loads(result.write(tmp_path / "out")["meta"].read_text())
    assert meta["config"]["vote_column_order"] is False


def test_cli_vote_ignore_column_order_reaches_the_config():
    args = build_parser().parse_args(["generate", "--model", "m", "--n", "4", "--vote-ignore-column-order"])
    assert GenerateCommand.config(args).vote_column_order is False
    args = build_parser().parse_args(["generate", "--model", "m", "--n", "4", "--think", "--engine", "duckdb"])
    config = GenerateCommand.config(args)
    assert (config.vote_column_order, config.n, config.prompt.think, config.engine) == (True, 4, True, "duckdb")


def test_greedy_takes_the_single_completion_without_executing(dev):
    model = ScriptedModel({ex.question: ["SELECT nope FROM nowhere"] for ex in dev})
    result = generate_predictions(model, dev, GenerateConfig(), progress=False)
    assert model.calls[0]["temperature"] == 0.0 and model.calls[0]["n"] == 1
    assert {r["vote"] for r in result.records} == {"single"}
    assert all("ok" not in r["samples"][0] for r in result.records)  # nothing ran
    assert result.predictions == ["SELECT nope FROM nowhere"] * 3


# -- command line with a tiny local model ---------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory, dev):
    pytest.importorskip("torch", reason="the [train] extra is part of [dev]; CI installs it")
    from sqlrl.data import build_messages
    from sqlrl.models.tiny import build_tiny_model

    texts = [m["content"] for ex in dev for m in build_messages(ex, tables_entry=dev.tables.get(ex.db_id))]
    texts += [ex.gold_sql for ex in dev]
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny"), texts, vocab_size=400, hidden_size=32, num_layers=1, num_heads=2,
        num_kv_heads=1,
    )  # fmt: skip


def test_cli_end_to_end(tiny_model, cache, tmp_path, capsys):
    out = tmp_path / "out"
    base = ["generate", "--model", str(tiny_model), "--limit", "2", "--cache-dir", str(cache), "--no-progress"]
    assert main([*base, "--out", str(out), "--n", "3", "--max-new-tokens", "6", "--temperature", "1.0"]) == 0
    printed = capsys.readouterr().out
    assert "2 examples, 6 samples" in printed and "evaluate: sqlrl eval spider" in printed
    preds = (out / "pred.sql").read_text().splitlines()
    gold = (out / "gold.sql").read_text().splitlines()
    assert len(preds) == len(gold) == 2 and all(p.strip() and "\t" not in p for p in preds)
    assert all(len(line.split("\t")) == 2 for line in gold)
    records = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert [len(r["samples"]) for r in records] == [3, 3] and {r["vote"] for r in records} <= set(VOTE_REASONS)
    assert len(json.loads((out / "predict_dev.json").read_text())) == 2

    toy = build_toy(toy_dir(cache))
    evaluate = ["eval", "spider", "--gold", str(out / "gold.sql"), "--pred", str(out / "pred.sql")]
    evaluate += ["--db", str(toy.database_dir), "--table", str(toy.tables), "--no-progress", "--json"]
    assert main(evaluate) == 0
    assert json.loads(capsys.readouterr().out)["summary"]["all"]["count"] == 2

    greedy = tmp_path / "greedy"
    assert main([*base, "--out", str(greedy), "--max-new-tokens", "4", "--json"]) == 0
    votes = json.loads(capsys.readouterr().out)["summary"]["votes"]  # garbage: no SQL, or the single sample
    assert sum(votes.values()) == 2 and set(votes) <= {"single", "no_sql"}

    # a second run into the same folder: refused before any generation, the earlier files kept; --overwrite replaces
    before = (out / "samples.jsonl").read_text()
    assert main([*base, "--out", str(out), "--max-new-tokens", "4"]) == 2
    err = capsys.readouterr().err
    assert "already holds an earlier run" in err and "--overwrite" in err and "Traceback" not in err
    assert (out / "samples.jsonl").read_text() == before
    assert main([*base, "--out", str(out), "--max-new-tokens", "4", "--overwrite"]) == 0
    assert (out / "samples.jsonl").read_text() != before


def test_cli_errors(tmp_path, cache, capsys):
    # a missing or incomplete model folder: the command failed (1); a bad setting: a usage error (2)
    assert main(["generate", "--model", str(tmp_path / "missing")]) == 1
    assert "no model at" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["generate", "--model", str(tmp_path / "empty")]) == 1
    assert "no config.json" in capsys.readouterr().err
    (tmp_path / "empty" / "config.json").write_text("{}")
    assert main(["generate", "--model", str(tmp_path / "empty"), "--dataset", "spider"]) == 2
    assert "needs a path" in capsys.readouterr().err
    assert main(["generate", "--model", str(tmp_path / "empty"), "--n", "3", "--temperature", "0"]) == 2
    assert "temperature > 0" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(["generate", "--model", str(tmp_path / "empty"), "--dataset", "nope"])
    assert "invalid choice: 'nope'" in capsys.readouterr().err
