"""``sqlrl verbal`` end to end on sqlrl-toy against a chat-completions server on loopback."""

from __future__ import annotations

import json
import re
import shlex

import pytest

pytest.importorskip("openai")

from test_verbal_server import ChatServer  # noqa: E402

from sqlrl.cli import build_parser, main  # noqa: E402
from sqlrl.data import load_toy  # noqa: E402
from sqlrl.verbal import read_trajectories  # noqa: E402
from sqlrl.verbal.command import VerbalCommand  # noqa: E402

_CANDIDATE = re.compile(r"^Candidate (\d+)[^\n]*:\n```sql\n(.*?)\n```", re.M | re.S)


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    return tmp_path_factory.mktemp("cli-cache")


def llm(golds: dict[str, str]):
    """Half of the samples are the gold query, half a wrong one; the judge prefers queries without LIMIT 2."""

    def respond(req):
        messages = req["messages"]
        if messages[0]["content"].startswith("You are a meticulous"):
            cands = dict(_CANDIDATE.findall(messages[1]["content"]))
            return [json.dumps({"scores": {k: 3 if sql.endswith("LIMIT 2") else 7 for k, sql in cands.items()}})]
        gold = golds[messages[-1]["content"].rsplit("Question: ", 1)[-1].strip()]
        wrong = f"SELECT * FROM ({gold}) LIMIT 2"
        return [f"```sql\n{wrong if i % 2 else gold}\n```" for i in range(req["n"])]

    return respond


def test_cli_end_to_end_resume_and_eval(cache, tmp_path, capsys):
    golds = {ex.question: ex.gold_sql for ex in load_toy("dev", cache_dir=cache)}
    out = tmp_path / "run"
    with ChatServer(llm(golds)) as server:
        argv = ["verbal", "--base-url", server.url, "--model", "m", "--limit", "8", "--out", str(out),
                "--cache-dir", str(cache), "--no-progress", "--workers", "2", "--k", "2", "--max-attempts", "2",
                "--judge-rounds", "2"]  # fmt: skip
        assert main(argv) == 0
        text = capsys.readouterr().out
        assert "8 of 8 questions finished (0 from an earlier run, 8 now, 0 errors)" in text
        assert "execution match with gold (spider mode, 8 questions): verbal 1.000" in text
        command = re.search(r"score with: (.*)", text).group(1)
        requests = len(server.requests)
        assert main(argv) == 0  # resumed: nothing left to ask
        assert "(8 from an earlier run, 0 now" in capsys.readouterr().out and len(server.requests) == requests
        assert main([*argv[:6], "12", *argv[7:], "--json"]) == 0  # four more questions
        report = json.loads(capsys.readouterr().out)
        assert (report["skipped_as_finished"], report["ran"], report["finished"]) == (8, 4, 12)
        assert report["eval_command"] == command
    assert len(read_trajectories(out / "trajectories.jsonl")) == 12
    assert len((out / "pred.sql").read_text().splitlines()) == 12
    assert command.startswith("sqlrl eval spider --gold")
    assert main(shlex.split(command)[1:] + ["--etype", "exec", "--workers", "1"]) == 0
    table = capsys.readouterr().out
    assert re.search(r"execution\s+1\.000", table), table


def test_cli_flags_reach_the_settings(tmp_path):
    template = tmp_path / "judge.txt"
    template.write_text("Q: {question}\n{candidates}\n{reply_format}")
    args = build_parser().parse_args(
        ["verbal", "--model", "m", "--no-judge", "--k", "3", "--max-attempts", "9", "--nonempty", "--no-shuffle",
         "--refine-rounds", "2", "--judge-user-file", str(template), "--sample-values", "0", "--think",
         "--engine", "duckdb", "--no-score-gold", "--no-prefer-nonempty"]
    )  # fmt: skip
    cfg = VerbalCommand.config(args)
    assert (cfg.use_judge, cfg.k, cfg.max_attempts, cfg.require_nonempty, cfg.shuffle, cfg.refine_rounds) == (
        False, 3, 9, True, False, 2)  # fmt: skip
    assert cfg.judge_user == template.read_text() and cfg.prompt_options.sample_values == 0 and cfg.prompt_options.think
    assert (cfg.engine, cfg.score_gold, cfg.prefer_nonempty) == ("duckdb", False, False)
    assert cfg.cluster_column_order is True and cfg.cluster_ordered is False
    args = build_parser().parse_args(["verbal", "--model", "m", "--no-cluster-column-order", "--cluster-ordered"])
    cfg = VerbalCommand.config(args)
    assert (cfg.cluster_column_order, cfg.cluster_ordered) == (False, True)
    assert cfg.to_json()["cluster_column_order"] is False  # stored in summary.json, hashed into config_hash
    generator, judge = VerbalCommand.backends(args)
    assert judge is generator
    args = build_parser().parse_args(["verbal", "--model", "m", "--judge-model", "big", "--base-url", "http://x/v1"])
    generator, judge = VerbalCommand.backends(args)
    assert judge is not generator and judge.model == "big"


def test_cli_reports_bad_settings(tmp_path, capsys):
    assert main(["verbal", "--model", "m", "--k", "9", "--max-attempts", "2", "--out", str(tmp_path)]) == 2
    assert "raise max_attempts" in capsys.readouterr().err
    assert main(["verbal", "--model", "m", "--dataset", "spider", "--out", str(tmp_path)]) == 2
    assert "needs a path" in capsys.readouterr().err
