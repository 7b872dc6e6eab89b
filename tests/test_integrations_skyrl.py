"""The sqlrl-sql SkyRL-Gym environment, called the way SkyRL calls an environment (SkyRL is not installed).

The call site mirrored (NovaSky-AI/SkyRL commit a9564572e, skyrl/train/generators/skyrl_gym_generator.py,
``SkyRLGymGenerator.agent_loop``): the dataset row minus ``prompt`` and ``env_class`` is ``extras``, with
``extras["max_turns"] = generator.max_turns``; ``env = skyrl_gym.make(env_class, env_config=..., extras=extras)``;
``chat, _ = env.init(prompt)``; then ``out = env.step(text)`` until ``out["done"]``, reading
``out["observations"]`` (messages appended after the assistant turn), ``out["reward"]``, ``out["done"]`` and
``out.get("postprocessed_action")``; then ``env.get_metrics()`` and ``env.close()``.
``skyrl_gym.make`` (skyrl_gym/envs/registration.py) loads a ``module:attr`` entry point, merges the
registered kwargs with its own, and requires an instance of ``skyrl_gym.Env``; the fake module below does
the same.
"""

from __future__ import annotations

import copy
import importlib
import json
import shutil
import subprocess
import sys
import types

import pytest

from sqlrl.integrations import skyrl
from sqlrl.rewards import build_rewards


@pytest.fixture(scope="module")
def toy():
    from sqlrl.data import load_toy

    return list(load_toy("dev"))[:6]


@pytest.fixture(scope="module")
def rows(toy):
    return skyrl.skyrl_records(toy, split="dev")


def extras_of(row, max_turns=5):
    """What SkyRL's dataset and generator hand the environment."""
    extras = {k: copy.deepcopy(v) for k, v in row.items() if k not in ("prompt", "env_class")}
    extras["max_turns"] = max_turns
    return extras


def agent_loop(row, turns, *, max_turns=5, make=None, env_config=None):
    """SkyRL's agent loop with scripted model turns (``turns``: texts, one per step, used in order)."""
    make = make or (lambda **kw: skyrl.make_env(**kw))
    env = make(env_config=env_config if env_config is not None else {}, extras=extras_of(row, max_turns))
    chat, _ = env.init(copy.deepcopy(row["prompt"]))
    outs = []
    for text in turns:
        out = env.step(text)
        assert set(out) >= {"observations", "reward", "done", "metadata"}
        assert out.get("postprocessed_action") is None
        assert all(m["role"] == "user" and isinstance(m["content"], str) for m in out["observations"])
        chat += [{"role": "assistant", "content": text}, *out["observations"]]
        outs.append(out)
        if out["done"]:
            break
    metrics = env.get_metrics()
    env.close()
    return env, chat, outs, metrics


def trl_execution(completion, ex, spec="execution"):
    """What TRL's weighted sum of ``build_rewards(spec)`` gives ``completion`` on ``ex``."""
    funcs, weights = build_rewards(spec)
    cols = {"gold_sql": [ex.gold_sql], "db_path": [str(ex.db_path)], "engine": ["sqlite"], "dialect": ["sqlite"],
            "db_id": [ex.db_id], "question": [ex.question], "evidence": [ex.evidence or ""]}  # fmt: skip
    total = 0.0
    for f, w in zip(funcs, weights, strict=True):
        v = f(prompts=None, completions=[completion], **cols)[0]
        total += 0.0 if v is None else w * v
    return total


# -- episodes ----------------------------------------------------------------------------------------------


def test_explore_then_answer_with_skyrl_sql_tags(toy, rows):
    ex, row = toy[0], rows[0]
    env, chat, outs, metrics = agent_loop(
        row,
        ["<think>which tables?</think><sql>SELECT name FROM sqlite_master WHERE type = 'table'</sql>",
         f"<think>count them</think><sql>{ex.gold_sql}</sql>",
         f"<think>done</think><solution>{ex.gold_sql}</solution>"],
    )  # fmt: skip
    assert [o["done"] for o in outs] == [False, False, True]
    assert [o["reward"] for o in outs] == [0.0, 0.0, 1.0]
    first = outs[0]["observations"][0]["content"]
    assert first.startswith("\n\n<observation>") and "authors" in first
    assert "<reminder>You have 4 turns left to complete the task.</reminder></observation>" in first
    assert "You have 3 turns left" in outs[1]["observations"][0]["content"]
    assert outs[2]["observations"] == [] and outs[2]["metadata"]["final_sql"] == ex.gold_sql
    assert metrics["turns"] == 3 and metrics["answered"] == 1.0 and metrics["tool_calls"] == 3
    assert metrics["reward/execution"] == 1.0
    assert len(chat) == len(row["prompt"]) + 2 + 2 + 1


def test_explore_then_answer_with_sqlrl_tool_calls(toy, rows):
    from sqlrl.env import format_tool_call

    ex, row = toy[1], rows[1]
    table = ex.gold_sql.split("FROM")[1].split()[0]
    env, chat, outs, metrics = agent_loop(
        row,
        [format_tool_call("list_tables") + format_tool_call("describe_table", {"table": table}),
         format_tool_call("run_query", {"sql": ex.gold_sql}),
         format_tool_call("answer", {"sql": ex.gold_sql})],
    )  # fmt: skip
    obs = outs[0]["observations"][0]["content"]
    assert obs.count("<tool_response>") == 2 and "tables:" in obs and f"table {table}" in obs
    assert outs[1]["observations"][0]["content"].startswith("<tool_response>\ncolumns:")
    assert outs[-1]["done"] and outs[-1]["reward"] == 1.0
    assert env.env.episode["calls"] == {"run_query": 1, "list_tables": 1, "describe_table": 1, "answer": 1}


def test_a_failing_query_returns_the_error_as_observation(rows):
    env, _, outs, metrics = agent_loop(rows[0], ["<sql>SELECT no_such_column FROM authors</sql>"])
    obs = outs[0]["observations"][0]["content"]
    assert not outs[0]["done"] and outs[0]["reward"] == 0.0
    assert "error" in obs and "no_such_column" in obs
    assert metrics["failed_calls"] == 1


def test_a_write_is_refused_and_the_database_is_unchanged(toy, rows, file_hash):
    before = file_hash(toy[0].db_path)
    _, _, outs, metrics = agent_loop(
        rows[0],
        ["<sql>DELETE FROM authors</sql>", "<sql>DROP TABLE authors</sql>",
         '<tool_call>{"name": "run_query", "arguments": {"sql": "SELECT 1; DELETE FROM authors"}}</tool_call>',
         "<sql>SELECT count(*) FROM authors</sql>"],
    )  # fmt: skip
    for out in outs[:3]:
        assert "error" in out["observations"][0]["content"]
    assert "rows: 1" in outs[3]["observations"][0]["content"]
    assert metrics["failed_calls"] == 3
    assert file_hash(toy[0].db_path) == before


def test_max_turns_ends_the_episode_and_the_last_turns_query_is_not_run(toy, rows):
    turns = [f"<sql>SELECT {i}</sql>" for i in range(10)]
    env, _, outs, metrics = agent_loop(rows[0], turns, max_turns=3)
    assert [o["done"] for o in outs] == [False, False, True]
    assert env.env.episode["calls"]["run_query"] == 2  # SkyRL-SQL: the last turn is not executed
    assert metrics["out_of_turns"] == 1.0 and metrics["answered"] == 0.0
    # no answer: the last turn's text is what is scored, as for a TRL episode without answer()
    assert outs[-1]["reward"] == trl_execution("<sql>SELECT 2</sql>", toy[0]) == 0.0
    assert env.step("<solution>SELECT 1</solution>")["done"] is True  # after the end: nothing runs


def test_the_last_turn_may_still_answer(toy, rows):
    _, _, outs, _ = agent_loop(rows[0], ["<sql>SELECT 1</sql>", f"<solution>{toy[0].gold_sql}</solution>"],
                               max_turns=2)  # fmt: skip
    assert outs[-1]["done"] and outs[-1]["reward"] == 1.0


def test_a_turn_without_an_action_gets_skyrls_invalid_action_observation(rows):
    env, _, outs, metrics = agent_loop(rows[0], ["I think I know.", "<solution>SELECT 1</solution>"])
    assert not outs[0]["done"] and "Your previous action is invalid" in outs[0]["observations"][0]["content"]
    assert metrics["failed_calls"] == 1 and metrics["turns"] == 2
    _, _, outs, _ = agent_loop(rows[0], ["Hmm."], env_config={"observation_format": "tool_call"})
    assert outs[0]["observations"][0]["content"].startswith("<tool_response>\nYour previous turn called no tool")


def test_a_missing_database_is_an_error_observation_and_a_zero_reward(rows, tmp_path):
    row = {**rows[0], "db_path": str(tmp_path / "gone.sqlite")}
    _, _, outs, metrics = agent_loop(row, ["<sql>SELECT 1</sql>", "<solution>SELECT 1</solution>"])
    assert "error" in outs[0]["observations"][0]["content"]
    assert outs[-1]["done"] and outs[-1]["reward"] == 0.0 and metrics["reward/input_error"] == 1.0


ANSWERS = [
    lambda ex: ex.gold_sql,  # right
    lambda ex: "SELECT 1",  # wrong
    lambda ex: "SELECT FROM WHERE",  # not SQL
    lambda ex: f"```sql\n{ex.gold_sql}\n```",  # fenced inside the solution
    lambda ex: ex.gold_sql.replace("SELECT", "SELECT DISTINCT", 1),
]


@pytest.mark.parametrize("spec", ["execution", "stage1"])
@pytest.mark.parametrize("answer", range(len(ANSWERS)))
def test_the_reward_is_sqlrls_reward_of_the_final_sql(toy, rows, spec, answer):
    for ex, row in list(zip(toy, rows, strict=True))[:3]:
        sql = ANSWERS[answer](ex)
        env, _, outs, _ = agent_loop(row, [f"<solution>{sql}</solution>"], env_config={"spec": spec})
        final = env.final_sql
        assert final == (ex.gold_sql if answer == 3 else sql)
        expected = trl_execution(f"```sql\n{final}\n```", ex, spec)
        assert outs[-1]["reward"] == pytest.approx(expected)
        if spec == "execution":
            assert outs[-1]["reward"] == (1.0 if answer in (0, 3) else trl_execution(f"```sql\n{sql}\n```", ex))


def test_penalties_of_the_episode_config_are_added(toy, rows):
    env_config = {"env": {"tool_call_penalty": 0.1, "failed_call_penalty": 0.25}}
    _, _, outs, metrics = agent_loop(
        rows[0], ["<sql>SELECT nope</sql>", f"<solution>{toy[0].gold_sql}</solution>"], env_config=env_config
    )
    assert outs[-1]["reward"] == pytest.approx(1.0 - 0.1 * 2 - 0.25)
    assert outs[-1]["metadata"]["rewards"]["episode"] == pytest.approx(-0.45)
    _, _, outs, metrics = agent_loop(rows[0], ["<sql>SELECT 1</sql>"] * 3, max_turns=2,
                                     env_config={"env": {"out_of_turns_penalty": 0.5}})  # fmt: skip
    assert metrics["out_of_turns"] == 1.0 and outs[-1]["reward"] == pytest.approx(-0.5)


def test_a_row_without_gold_scores_zero_with_input_error(rows):
    row = {**rows[0], "reward_spec": {"method": "rule", "ground_truth": None}}
    _, _, outs, metrics = agent_loop(row, ["<solution>SELECT 1</solution>"])
    assert outs[-1]["reward"] == 0.0 and metrics["reward/input_error"] == 1.0


# -- settings and databases --------------------------------------------------------------------------------


def test_skyrl_sql_rows_find_their_database_under_db_path(toy, rows, tmp_path):
    """SkyRL-SQL's rows have db_id and data (spider, bird, synsql) and no db_path."""
    ex = toy[0]
    target = tmp_path / "spider" / "database" / ex.db_id / f"{ex.db_id}.sqlite"
    target.parent.mkdir(parents=True)
    shutil.copy(ex.db_path, target)
    row = {"prompt": rows[0]["prompt"], "env_class": "sqlrl-sql", "db_id": ex.db_id, "data": "spider",
           "reward_spec": {"method": "rule", "ground_truth": ex.gold_sql}}  # fmt: skip
    env, _, outs, _ = agent_loop(row, [f"<solution>{ex.gold_sql}</solution>"], env_config={"db_path": str(tmp_path)})
    assert env.db_path == str(target) and outs[-1]["reward"] == 1.0
    with pytest.raises(ValueError, match="db_path"):
        skyrl.make_env(env_config={}, extras={k: v for k, v in row.items() if k != "prompt"})


def test_settings_merge_registration_then_skyrls_section(rows):
    env = skyrl.make_env(env_config={"spec": "stage1"}, extras=extras_of(rows[0]), settings={"spec": "stage2",
                         "env": {"max_rows": 3}})  # fmt: skip
    assert env.settings.spec == "stage1" and env.config.max_rows == 3 and env.config.max_turns == 4
    with pytest.raises(ValueError, match="unknown sqlrl SkyRL setting 'sepc'"):
        skyrl.make_env(env_config={"sepc": "x"}, extras=extras_of(rows[0]))
    omegaconf = pytest.importorskip("omegaconf")
    env = skyrl.make_env(env_config=omegaconf.OmegaConf.create({"spec": "stage1"}), extras=extras_of(rows[0]))
    assert env.settings.spec == "stage1"


def test_init_appends_the_requested_help(rows):
    prompt = [{"role": "user", "content": "How many?"}]
    env = skyrl.make_env(env_config={"tool_help": "tool_call"}, extras=extras_of(rows[0]))
    chat, meta = env.init(prompt)
    assert chat[-1]["content"].startswith("How many?") and "<tool_call>" in chat[-1]["content"]
    assert prompt[0]["content"] == "How many?" and meta["max_turns"] == 5
    plain = skyrl.make_env(env_config={}, extras=extras_of(rows[0]))
    assert plain.init(prompt)[0] == prompt


# -- registration ----------------------------------------------------------------------------------------


@pytest.fixture
def fake_skyrl_gym(monkeypatch):
    """A minimal skyrl_gym: Env, BaseTextEnv, and register/deregister/make with the real module's checks."""
    root = types.ModuleType("skyrl_gym")
    envs = types.ModuleType("skyrl_gym.envs")
    registration = types.ModuleType("skyrl_gym.envs.registration")
    base = types.ModuleType("skyrl_gym.envs.base_text_env")

    class Env:
        def __init__(self):
            self.spec = None

    class BaseTextEnv(Env):
        def __init__(self):
            super().__init__()
            self.turns, self.max_turns = 0, 1

        def step(self, action):
            raise AssertionError("BaseTextEnv.step must be overridden")

    registry = {}

    def register(id, entry_point=None, kwargs=None):
        if id in registry:
            raise RuntimeError(f"An environment with name `{id}` is already registered")
        registry[id] = {"entry_point": entry_point, "kwargs": dict(kwargs or {})}

    def deregister(id):
        del registry[id]

    def make(id, **kwargs):
        spec = registry[id]
        merged = {**copy.deepcopy(spec["kwargs"]), **kwargs}
        mod, attr = spec["entry_point"].split(":")
        env = getattr(importlib.import_module(mod), attr)(**merged)
        if not isinstance(env, Env):
            raise TypeError(f"The environment must inherit from the skyrl_gym.Env class, actual class: {type(env)}")
        return env

    root.Env, base.BaseTextEnv = Env, BaseTextEnv
    registration.registry, registration.register, registration.deregister = registry, register, deregister
    root.make = registration.make = make
    root.envs = envs
    for name, mod in [("skyrl_gym", root), ("skyrl_gym.envs", envs), ("skyrl_gym.envs.registration", registration),
                      ("skyrl_gym.envs.base_text_env", base)]:  # fmt: skip
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setattr(skyrl, "_SKYRL_CLASS", [])
    return root


def test_register_then_make_runs_an_episode(fake_skyrl_gym, toy, rows):
    assert skyrl.register(spec="execution", env={"max_rows": 2}) == "sqlrl-sql"
    assert skyrl.register() == "sqlrl-sql"  # again: replaced, not an error
    skyrl.register(spec="stage1", env={"max_rows": 2})
    make = lambda **kw: fake_skyrl_gym.make("sqlrl-sql", **kw)  # noqa: E731
    env, _, outs, _ = agent_loop(rows[0], ["<sql>SELECT * FROM authors</sql>", f"<solution>{toy[0].gold_sql}</solution>"],
                                 make=make)  # fmt: skip
    assert isinstance(env, sys.modules["skyrl_gym.envs.base_text_env"].BaseTextEnv)
    assert isinstance(env, skyrl.SqlrlTextEnv) and env.settings.spec == "stage1" and env.config.max_rows == 2
    assert "more rows" in outs[0]["observations"][0]["content"] or "rows:" in outs[0]["observations"][0]["content"]
    assert outs[-1]["reward"] == pytest.approx(trl_execution(f"```sql\n{toy[0].gold_sql}\n```", toy[0], "stage1"))
    with pytest.raises(ValueError, match="unknown sqlrl SkyRL setting"):
        skyrl.register(spce="stage1")


def test_without_skyrl_gym_the_plain_class_is_used(monkeypatch, rows):
    monkeypatch.setitem(sys.modules, "skyrl_gym", None)
    monkeypatch.setitem(sys.modules, "skyrl_gym.envs", None)
    monkeypatch.setitem(sys.modules, "skyrl_gym.envs.base_text_env", None)
    monkeypatch.setattr(skyrl, "_SKYRL_CLASS", [])
    assert skyrl.env_class() is skyrl.SqlrlTextEnv
    assert type(skyrl.make_env(env_config={}, extras=extras_of(rows[0]))) is skyrl.SqlrlTextEnv
    with pytest.raises(ImportError):
        skyrl.register()


def test_importing_the_adapter_imports_no_framework():
    code = (
        "import json, sys; import sqlrl.integrations.skyrl;"
        "print(json.dumps([m for m in ('skyrl_gym', 'skyrl', 'torch', 'ray', 'omegaconf') if m in sys.modules]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


# -- data --------------------------------------------------------------------------------------------------


def test_records_follow_skyrls_dataset_layout(toy, rows):
    assert len(rows) == len(toy)
    row = rows[0]
    assert set(row) == {"data_source", "prompt", "env_class", "reward_spec", "db_id", "db_path", "engine", "dialect",
                        "question", "evidence", "extra_info"}  # fmt: skip
    assert row["env_class"] == "sqlrl-sql" and row["reward_spec"] == {"method": "rule", "ground_truth": toy[0].gold_sql}
    assert row["prompt"][-1]["role"] == "user" and "<sql>" in row["prompt"][-1]["content"]
    assert "<solution>" in row["prompt"][-1]["content"] and row["extra_info"]["split"] == "dev"
    tool_rows = skyrl.skyrl_records(toy[:1], action_format="tool_call")
    assert "<tool_call>" in tool_rows[0]["prompt"][-1]["content"]
    bare = skyrl.skyrl_records(toy[:1], action_format=None)
    assert "<sql>" not in bare[0]["prompt"][-1]["content"]
    with pytest.raises(ValueError, match="action_format"):
        skyrl.skyrl_records(toy[:1], action_format="xml")


def test_parquet_rows_drive_the_environment(toy, tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    from sqlrl.cli import main

    assert main(["export", "skyrl", "--splits", "dev", "--limit", "3", "--out", str(tmp_path / "s")]) == 0
    assert "dev.parquet: 3 rows" in capsys.readouterr().out
    read = pq.read_table(tmp_path / "s" / "dev.parquet").to_pylist()
    assert len(read) == 3 and read[0]["env_class"] == "sqlrl-sql"
    for ex, row in zip(toy, read, strict=False):
        _, _, outs, _ = agent_loop(row, [f"<solution>{ex.gold_sql}</solution>"])
        assert outs[-1]["reward"] == 1.0


def test_no_action_answer_scores_the_turn_as_sqlrls_text_protocol_does(toy, rows):
    text = f"The query is\n```sql\n{toy[0].gold_sql}\n```"
    env, _, outs, metrics = agent_loop(rows[0], [text], env_config={"no_action": "answer"})
    assert outs[0]["done"] and outs[0]["reward"] == trl_execution(text, toy[0]) == 1.0
    assert metrics["answered"] == 0.0 and env.final_sql is None
    with pytest.raises(ValueError, match="no_action"):
        skyrl.make_env(env_config={"no_action": "stop"}, extras=extras_of(rows[0]))


def test_episodes_run_concurrently_as_skyrls_env_workers_run_them(toy, rows):
    """SkyRL runs init/step in a thread pool (skyrl_gym.max_env_workers); environments share one service."""
    from concurrent.futures import ThreadPoolExecutor

    def episode(i):
        ex, row = toy[i % len(toy)], rows[i % len(rows)]
        answer = ex.gold_sql if i % 2 == 0 else "SELECT 1"
        _, _, outs, _ = agent_loop(row, [f"<sql>{ex.gold_sql}</sql>", f"<solution>{answer}</solution>"])
        return outs[-1]["reward"], trl_execution(f"```sql\n{answer}\n```", ex)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(episode, range(24)))
    assert [got for got, _ in results] == [want for _, want in results]
    assert sum(got for got, _ in results) >= 12
    first = skyrl.make_env(env_config={}, extras=extras_of(rows[0]))
    second = skyrl.make_env(env_config={}, extras=extras_of(rows[1]))
    assert first.env._service is second.env._service


def test_the_entrypoint_registers_inside_the_ray_task_before_the_experiment(fake_skyrl_gym, monkeypatch, rows):
    """skyrl_entrypoint mirrors main_base.main / main_multiply.py; ray and skyrl are faked, in call order."""
    from sqlrl.integrations import skyrl_entrypoint

    calls = []

    class Config:
        @staticmethod
        def from_cli_overrides(argv):
            calls.append(("parse", list(argv)))
            return {"argv": list(argv)}

    class BasePPOExp:
        def __init__(self, cfg):
            self.cfg = cfg

        def run(self):
            env = fake_skyrl_gym.make("sqlrl-sql", env_config={}, extras=extras_of(rows[0]))
            calls.append(("run", env.settings.spec, env.config.max_rows))

    def remote_fn(**options):
        def wrap(fn):
            return types.SimpleNamespace(remote=lambda *a: (calls.append(("task", options)), fn(*a))[1])

        return wrap

    fakes = {
        "ray": types.SimpleNamespace(remote=remote_fn, get=lambda x: x),
        "skyrl": types.ModuleType("skyrl"),
        "skyrl.train": types.ModuleType("skyrl.train"),
        "skyrl.train.config": types.SimpleNamespace(SkyRLTrainConfig=Config),
        "skyrl.train.utils": types.SimpleNamespace(
            validate_cfg=lambda cfg: calls.append(("validate",)), initialize_ray=lambda cfg: calls.append(("ray",))
        ),
        "skyrl.train.entrypoints": types.ModuleType("skyrl.train.entrypoints"),
        "skyrl.train.entrypoints.main_base": types.SimpleNamespace(BasePPOExp=BasePPOExp),
    }
    for name, mod in fakes.items():
        monkeypatch.setitem(sys.modules, name, mod)
    monkeypatch.setenv("SQLRL_SKYRL_SETTINGS", '{"spec": "stage1", "env": {"max_rows": 4}}')
    skyrl_entrypoint.main(["trainer.override_entrypoint=sqlrl.integrations.skyrl_entrypoint",
                           "environment.env_class=sqlrl-sql"])  # fmt: skip
    assert calls == [("parse", ["environment.env_class=sqlrl-sql"]), ("validate",), ("ray",),
                     ("task", {"num_cpus": 1}), ("run", "stage1", 4)]  # fmt: skip
    monkeypatch.setenv("SQLRL_SKYRL_SETTINGS", '{"spec": "stage1", "max_row": 4}')
    with pytest.raises(ValueError, match="unknown sqlrl SkyRL setting 'max_row'"):
        skyrl_entrypoint.main([])
    monkeypatch.setenv("SQLRL_SKYRL_SETTINGS", "[1]")
    with pytest.raises(ValueError, match="JSON object"):
        skyrl_entrypoint.main([])


def test_the_modules_examples_run():
    import doctest

    result = doctest.testmod(skyrl)
    assert result.attempted >= 2 and result.failed == 0
