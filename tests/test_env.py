"""Interactive episodes: the tool protocol, truncation, budgets, the shared memo, rewards and safety."""

from __future__ import annotations

import json
import re
import time

import pytest
from test_sandbox_adversarial import CASES, ENGINES, SLACK, _pick

from sqlrl.env import (
    EnvConfig,
    EnvConfigError,
    SqlEnvironment,
    environment_factory,
    episode_metrics,
    episode_rewards,
    format_tool_call,
    parse_tool_calls,
    run_episodes,
)
from sqlrl.env.render import clip, render_cell
from sqlrl.models.chat import FunctionChatModel
from sqlrl.rewards import build_rewards

QUIET = EnvConfig(tool_help=False)


def _env(db, config=QUIET, **reset):
    env = SqlEnvironment(config)
    env.reset(db_path=str(db), **reset)
    return env


# -- the tools ---------------------------------------------------------------------------------------


def test_tools_are_the_public_methods_trl_renders():
    """TRL exposes every public method but reset/get_reward as a tool and renders its docstring as JSON schema."""
    import inspect

    from transformers.utils import get_json_schema

    env = SqlEnvironment(QUIET)
    names = [n for n, _ in inspect.getmembers(type(env), predicate=inspect.isfunction)
             if not n.startswith("_") and n not in ("reset", "get_reward")]  # fmt: skip
    assert sorted(names) == ["answer", "describe_table", "list_tables", "run_query"]
    schemas = {n: get_json_schema(getattr(env, n))["function"] for n in names}
    assert schemas["run_query"]["parameters"]["required"] == ["sql"]
    assert schemas["describe_table"]["parameters"]["properties"]["table"]["type"] == "string"
    assert schemas["list_tables"]["parameters"]["properties"] == {}
    assert all(s["description"] for s in schemas.values())


def test_run_query_shows_columns_types_count_and_first_rows(concert_sqlite):
    env = _env(concert_sqlite, EnvConfig(tool_help=False, max_rows=2))
    out = env.run_query("SELECT Name, Age FROM singer ORDER BY Singer_ID")
    lines = out.splitlines()
    assert lines[0] == "columns: Name TEXT, Age INTEGER"
    assert lines[1] == "rows: 40 (first 2 shown)"
    assert lines[2] == "Name | Age" and len(lines) == 5
    assert env.episode["turns"] == 1 and env.episode["failed_calls"] == 0


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("SELECT nope FROM singer", "(runtime)"),
        ("SELEC 1", "(syntax)"),
        ("DROP TABLE singer", "(not_read_only)"),
        ("SELECT 1; SELECT 2", "(multiple_statements)"),
        ("", "(no_sql)"),
        ("SELECT 1 -- " + "x" * 5000, "(too_long)"),
    ],
)
def test_a_failed_query_shows_its_error_kind_and_counts_as_failed(concert_sqlite, sql, kind):
    env = _env(concert_sqlite)
    out = env.run_query(sql)
    assert out.startswith("error ") and kind in out, out
    assert env.episode["failed_calls"] == 1 and env.trajectory[-1]["ok"] is False


def test_list_and_describe_tables(concert_sqlite):
    env = _env(concert_sqlite)
    tables = env.list_tables()
    assert tables.startswith("tables:\n") and "singer (" in tables and "concert (" in tables
    out = env.describe_table("SINGER")  # case does not matter
    assert out.startswith("table singer: Singer_ID INT")
    assert "Age INT" in out.splitlines()[0]
    assert "sample rows (first 3):" in out and len(out.splitlines()) >= 6
    bad = env.describe_table("singers")
    assert bad.startswith("error (unknown_table)") and "did you mean 'singer'" in bad
    assert env.episode["calls"] == {"run_query": 0, "list_tables": 1, "describe_table": 2, "answer": 0}
    assert env.episode["failed_calls"] == 1


def test_answer_ends_the_episode(concert_sqlite):
    env = _env(concert_sqlite)
    assert "recorded" in env.answer(" SELECT count(*) FROM singer ")
    assert env.final_sql == "SELECT count(*) FROM singer"
    assert env.run_query("SELECT 1").startswith("error (finished)")
    assert env.answer("SELECT 2").startswith("error (finished)")
    assert env.final_sql == "SELECT count(*) FROM singer"  # the first answer stands
    assert env.episode == {"turns": 0, "tool_calls": 3, "calls": {"run_query": 1, "list_tables": 0,
                           "describe_table": 0, "answer": 2}, "failed_calls": 2, "chars": 0,
                           "answered": True, "out_of_turns": False}  # fmt: skip


def test_reset_starts_a_fresh_episode_and_needs_a_database(concert_sqlite):
    env = _env(concert_sqlite)
    env.run_query("SELECT 1")
    env.answer("SELECT 1")
    assert env.reset(db_path=str(concert_sqlite), gold_sql="SELECT 1", question="q") is None
    assert env.episode["tool_calls"] == 0 and env.final_sql is None and env.trajectory == []
    with pytest.raises(ValueError, match="db_path"):
        env.reset(gold_sql="SELECT 1")
    help_text = SqlEnvironment(EnvConfig(max_turns=4)).reset(db_path=str(concert_sqlite))
    assert "<tool_call>" in help_text and "at most 4 exploration calls" in help_text


def test_a_missing_database_is_a_tool_error_not_a_crash(tmp_path):
    env = _env(tmp_path / "nope.sqlite")
    assert env.run_query("SELECT 1").startswith("error (missing_database)")
    assert env.list_tables().startswith("error (schema)")


# -- truncation --------------------------------------------------------------------------------------


def test_clip_keeps_the_limit_and_says_how_much_was_cut():
    for n in range(8, 120):
        text = "y" * 300
        out = clip(text, n)
        assert len(out) <= n
        m = re.search(r"\n\[truncated: (\d+) more characters\]$", out)
        if n >= 40:  # room for the marker: it says exactly how much was cut
            assert m is not None and int(m.group(1)) == 300 - m.start() and len(out) == n
    assert clip("short", 10) == "short"


def test_cells_rows_and_outputs_are_cut_by_the_documented_rules(concert_sqlite):
    config = EnvConfig(tool_help=False, max_rows=3, max_cell_chars=12, max_output_chars=150)
    env = _env(concert_sqlite, config)
    out = env.run_query("SELECT Name || ' ' || Name || ' ' || Name AS long_name, Song_Name FROM singer")
    assert len(out) <= 150
    body = out.split("\n")[3:6]
    assert all(len(cell) <= 12 for line in body for cell in line.split(" | ")), body
    assert any(cell.endswith("...") for line in body for cell in line.split(" | "))
    assert render_cell(None, 5) == "NULL" and render_cell(b"\x00\x01", 20) == "<2 bytes>"
    assert render_cell("a\nb", 10) == "a b"
    wide = env.run_query("SELECT * FROM singer s, concert c")
    assert len(wide) <= 150 and "[truncated: " in wide


def test_fetch_cap_is_reported(concert_sqlite):
    env = _env(concert_sqlite, EnvConfig(tool_help=False, fetch_rows=10, max_rows=2))
    assert env.run_query("SELECT * FROM singer").splitlines()[1] == "rows: more than 10 (first 2 shown)"


# -- budgets -----------------------------------------------------------------------------------------


def test_turn_budget_refuses_exploration_but_not_the_answer(concert_sqlite):
    env = _env(concert_sqlite, EnvConfig(tool_help=False, max_turns=2))
    env.run_query("SELECT 1")
    env.list_tables()
    refused = env.describe_table("singer")
    assert refused.startswith("error (out_of_turns)") and "answer(sql)" in refused
    assert env.episode["turns"] == 2 and env.episode["out_of_turns"] is True
    assert "recorded" in env.answer("SELECT 1")


def test_character_budget_cuts_then_refuses(concert_sqlite):
    env = _env(concert_sqlite, EnvConfig(tool_help=False, max_chars=300, max_output_chars=200))
    first = env.run_query("SELECT * FROM singer")
    second = env.run_query("SELECT * FROM concert")
    assert len(first) == 200 and len(second) <= 100 and len(first) + len(second) <= 300
    assert env.run_query("SELECT 1").startswith("error (out_of_chars)")
    assert env.episode["chars"] <= 300


def test_bad_settings_fail_with_the_field_named():
    with pytest.raises(EnvConfigError, match="env.max_turns"):
        EnvConfig(max_turns=-1)
    with pytest.raises(EnvConfigError, match="env.timeout"):
        EnvConfig(timeout=0)
    with pytest.raises(EnvConfigError, match="subtracted"):
        EnvConfig(tool_call_penalty=-0.1)
    with pytest.raises(EnvConfigError, match="did you mean 'max_turns'"):
        EnvConfig.from_dict({"max_turn": 3})


# -- sharing -----------------------------------------------------------------------------------------


def test_episodes_share_sandboxes_and_a_repeated_query_runs_once(concert_sqlite):
    make = environment_factory(QUIET)
    envs = [make() for _ in range(4)]
    for env in envs:
        env.reset(db_path=str(concert_sqlite))
        env.run_query("SELECT count(*) FROM singer")
        env.run_query("SELECT count(*) FROM singer")  # within the episode too
    service = make.service
    assert len(service) == 1  # one sandbox for the database
    assert service.stats["executed"] == 1 and service.stats["memo_hits"] == 7
    assert len({id(e._service) for e in envs}) == 1


# -- safety: the adversarial suite through the tool ---------------------------------------------------


@pytest.fixture(scope="module", params=ENGINES)
def hostile_env(request, tmp_path_factory):
    from sqlrl.data.demo import build_demo_sqlite

    root = tmp_path_factory.mktemp("env-adversarial")
    db = build_demo_sqlite(root / "concert_singer.sqlite", "concert_singer")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("top secret\n")
    config = EnvConfig(tool_help=False, timeout=1.0, max_turns=10**6, max_chars=10**9)
    env = SqlEnvironment(config)
    env.reset(db_path=str(db), engine=request.param)
    assert "40" in env.run_query("SELECT count(*) FROM singer")
    return env, request.param, db, outside


@pytest.mark.parametrize(("name", "sql", "kinds"), CASES, ids=[c[0] for c in CASES])
def test_hostile_query_through_the_tool_is_refused_in_time(hostile_env, file_hash, name, sql, kinds):
    env, engine, db, outside = hostile_env
    sql = _pick(sql, engine)
    if not isinstance(sql, str):  # bytes, a number: refused before the sandbox
        assert env.run_query(sql).startswith("error (no_sql)")
        return
    sql = sql.replace("{outside}", str(outside))
    before = file_hash(db), sorted(p.name for p in outside.iterdir())
    t0 = time.perf_counter()
    out = env.run_query(sql)
    assert time.perf_counter() - t0 < env.config.timeout + SLACK, (name, out)
    allowed = {k.value for k in _pick(kinds, engine)}
    if len(sql) > env.config.max_sql_chars:
        allowed = {"too_long"}  # refused before it reaches the sandbox
    elif not sql.strip():
        allowed = {"no_sql"}
    assert out.startswith("error (") and out.split(")")[0][len("error (") :] in allowed, (name, out)
    assert (file_hash(db), sorted(p.name for p in outside.iterdir())) == before
    assert "40" in env.run_query("SELECT count(*) FROM singer")  # still healthy


def test_non_text_arguments_are_refused(concert_sqlite):
    env = _env(concert_sqlite)
    assert env.run_query(123).startswith("error (no_sql)")  # type: ignore[arg-type]
    assert env.describe_table(None).startswith("error (unknown_table)")  # type: ignore[arg-type]


# -- rewards -----------------------------------------------------------------------------------------


def test_rewards_score_the_final_answer_and_add_the_episode_terms(concert_sqlite):
    config = EnvConfig(tool_help=False, tool_call_penalty=0.1, failed_call_penalty=0.5, out_of_turns_penalty=1.0,
                       max_turns=1)  # fmt: skip
    funcs, weights = build_rewards([{"name": "execution", "weight": 1.0}], timeout=2.0)
    wrapped, wweights = episode_rewards(funcs, weights, config)
    assert [f.__name__ for f in wrapped] == ["execution", "episode"] and wweights == [1.0, 1.0]
    gold = "SELECT count(*) FROM singer"
    envs = [SqlEnvironment(config) for _ in range(3)]
    for e in envs:
        e.reset(db_path=str(concert_sqlite))
    envs[0].answer(gold)  # answered right: 1 call
    envs[1].run_query("SELECT nope")  # failed call, then past the budget, then a wrong answer in text
    envs[1].list_tables()
    completions = [
        [{"role": "assistant", "content": "", "tool_calls": [{}]}, {"role": "tool", "content": "SELECT x"}],
        [{"role": "assistant", "content": "```sql\nSELECT 1\n```"}],
        [{"role": "assistant", "content": "```sql\nSELECT count(*) FROM singer\n```"}],  # right, in its last turn
    ]
    logged = {}
    columns = {"gold_sql": [gold] * 3, "db_path": [str(concert_sqlite)] * 3}
    scores = [f(prompts=["q"] * 3, completions=completions, environments=envs, log_metric=logged.__setitem__,
                **columns) for f in wrapped]  # fmt: skip
    assert scores[0] == [1.0, 0.0, 1.0]
    assert scores[1] == pytest.approx([-0.1, -(0.2 + 1.0 + 1.0), 0.0])
    assert logged["episode/tool_calls"] == pytest.approx(1.0) and logged["episode/answered"] == pytest.approx(1 / 3)
    assert logged["episode/tool_error_rate"] == pytest.approx(2 / 3)
    # without environments the wrapped function is the single-turn reward
    assert wrapped[0](completions=["SELECT count(*) FROM singer"], **{k: v[:1] for k, v in columns.items()}) == [1.0]


def test_episode_metrics_count_calls_by_kind(concert_sqlite):
    envs = [_env(concert_sqlite), _env(concert_sqlite)]
    envs[0].run_query("SELECT 1")
    envs[0].run_query("SELECT nope")
    envs[1].list_tables()
    m = episode_metrics(envs)
    assert m["episode/calls/run_query"] == 1.0 and m["episode/calls/list_tables"] == 0.5
    assert m["episode/turns"] == 1.5 and m["episode/tool_error_rate"] == pytest.approx(1 / 3)


# -- the text protocol and episodes with any chat model ----------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("no call", []),
        ('<tool_call>{"name": "answer", "arguments": {"sql": "SELECT 1"}}</tool_call>',
         [{"name": "answer", "arguments": {"sql": "SELECT 1"}}]),
        ('<tool_call>\n{"name": "run_query", "arguments": "{\\"sql\\": \\"SELECT 2\\"}"}\n</tool_call>',
         [{"name": "run_query", "arguments": {"sql": "SELECT 2"}}]),
        ('<tool_call>{"name": "list_tables"}</tool_call> then <tool_call>{"name": "x", "arguments": [1]}</tool_call>',
         [{"name": "list_tables", "arguments": {}}, {"name": "x", "error": "the arguments of a tool call must be a JSON object"}]),
    ],
)  # fmt: skip
def test_parse_tool_calls(text, expected):
    assert parse_tool_calls(text) == expected


def _scripted(messages, n, **kw):
    """Explores, fixes a failed query, answers: the policy a multi-turn model should learn."""
    turn = sum(m["role"] == "assistant" for m in messages)
    script = [
        format_tool_call("run_query", {"sql": "SELECT count(*) FROM singers"}),
        format_tool_call("list_tables"),
        format_tool_call("run_query", {"sql": "SELECT count(*) FROM singer"}),
        format_tool_call("answer", {"sql": "SELECT count(*) FROM singer"}),
    ]
    return [script[turn]] * n


def test_run_episodes_with_a_scripted_chat_model(concert_sqlite):
    row = {"prompt": [{"role": "user", "content": "How many singers?"}], "db_path": str(concert_sqlite),
           "gold_sql": "SELECT count(*) FROM singer"}  # fmt: skip
    [ep] = run_episodes(FunctionChatModel(_scripted), [row], config=EnvConfig(max_turns=4))
    assert ep.prediction == "SELECT count(*) FROM singer" and ep.error is None
    assert ep.counts["calls"] == {"run_query": 2, "list_tables": 1, "describe_table": 0, "answer": 1}
    assert ep.counts["failed_calls"] == 1
    roles = [m["role"] for m in ep.messages]
    assert roles == ["user"] + ["assistant", "user"] * 4
    assert "<tool_call>" in ep.messages[0]["content"]  # the tool help was appended to the question
    assert ep.messages[2]["content"].startswith("<tool_response>\nerror (runtime)")
    json.dumps(ep.to_json())


def test_run_episodes_stops_at_the_turn_budget_and_on_plain_text(concert_sqlite):
    rows = [{"prompt": [{"role": "user", "content": "q"}], "db_path": str(concert_sqlite)}] * 2

    def loop(messages, n, **kw):  # never answers
        return [format_tool_call("run_query", {"sql": "SELECT 1"})] * n

    eps = run_episodes(FunctionChatModel(loop), rows, config=EnvConfig(max_turns=2))
    assert all(sum(m["role"] == "assistant" for m in e.messages) == 3 for e in eps)
    assert eps[0].counts["out_of_turns"] and eps[0].prediction is None
    plain = run_episodes(FunctionChatModel(lambda m, n, **kw: ["```sql\nSELECT 7\n```"] * n), rows[:1])
    assert plain[0].prediction == "SELECT 7" and plain[0].counts["tool_calls"] == 0
    bad = run_episodes(FunctionChatModel(lambda m, n, **kw: [format_tool_call("drop_db")] * n), rows[:1],
                       config=EnvConfig(max_turns=1))  # fmt: skip
    assert "Tool drop_db not found" in bad[0].messages[2]["content"] and bad[0].counts["failed_calls"] == 2


def test_each_batch_gets_its_own_answers_even_when_lists_are_reused(concert_sqlite):
    """The wrappers share one list of final answers per call; a new batch (new objects, or the same list
    refilled) is read again, never served the previous batch's answers."""
    funcs, weights = build_rewards([{"name": "execution", "weight": 1.0}], timeout=2.0)
    [wrapped], _ = episode_rewards(funcs, weights, QUIET)
    gold = "SELECT count(*) FROM singer"
    columns = {"gold_sql": [gold], "db_path": [str(concert_sqlite)]}
    envs = [_env(concert_sqlite)]
    completions = [[{"role": "assistant", "content": gold}]]
    assert wrapped(completions=completions, environments=envs, **columns) == [1.0]
    completions[0] = [{"role": "assistant", "content": "SELECT 1"}]  # same list object, new batch
    assert wrapped(completions=completions, environments=envs, **columns) == [0.0]
    assert wrapped(completions=[[{"role": "assistant", "content": gold}]], environments=envs, **columns) == [1.0]


@pytest.mark.parametrize("name", [".environment", ".render", ".episodes", ".rewards", ".config"])
def test_doctests(name):
    """The >>> examples in sqlrl.env's docstrings run and hold."""
    import doctest
    import importlib

    module = importlib.import_module("sqlrl.env" + name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and (result.attempted > 0 or name == ".config")
