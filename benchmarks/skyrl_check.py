"""Opt-in check against the real skyrl-gym: register sqlrl-sql, make it as SkyRL's generator does, run
scripted episodes, and compare the rewards with SkyRL-SQL's own ``text2sql`` environment on the same
database and the same turns.

Not part of the test suite (skyrl-gym is not a dependency). Run it in a separate environment::

    python3.11 -m venv /tmp/skyrlvenv
    /tmp/skyrlvenv/bin/pip install skyrl-gym sqlglot duckdb rich tqdm pyyaml
    PYTHONPATH=src /tmp/skyrlvenv/bin/python benchmarks/skyrl_check.py

Exits non-zero when a check fails. SkyRL-SQL's environment reads ``<db_path>/spider/database/<db_id>/
<db_id>.sqlite``, so the toy databases are copied into such a folder; its reward needs ``<think>`` in the
conversation and a single ``<solution>``, so the scripted turns have both.
"""

from __future__ import annotations

import copy
import shutil
import sys
import tempfile
from pathlib import Path


def agent_loop(make, row, turns, max_turns, env_config):
    """SkyRLGymGenerator.agent_loop's calls with scripted model turns."""
    extras = {k: copy.deepcopy(v) for k, v in row.items() if k not in ("prompt", "env_class")}
    extras["max_turns"] = max_turns
    env = make(row["env_class"], env_config=env_config, extras=extras)
    chat, _ = env.init(copy.deepcopy(row["prompt"]))
    rewards, dones, observations = [], [], []
    for text in turns:
        out = env.step(text)
        chat += [{"role": "assistant", "content": text}, *out["observations"]]
        rewards.append(out["reward"])
        dones.append(out["done"])
        observations.append(out["observations"])
        if out["done"]:
            break
    env.get_metrics()
    env.close()
    return env, rewards, dones, observations


def main() -> int:
    import skyrl_gym
    from omegaconf import OmegaConf
    from skyrl_gym.envs.base_text_env import BaseTextEnv

    from sqlrl.data import load_toy
    from sqlrl.integrations import skyrl

    version = getattr(skyrl_gym, "__version__", "?")
    print(f"skyrl_gym {version} from {Path(skyrl_gym.__file__).parent}")
    skyrl.register()
    assert "sqlrl-sql" in skyrl_gym.registry, "sqlrl-sql is not in skyrl_gym's registry"
    examples, seen = [], {}
    for ex in load_toy("dev"):  # two questions per database
        if ex.gold_sql and seen.get(ex.db_id, 0) < 2:
            seen[ex.db_id] = seen.get(ex.db_id, 0) + 1
            examples.append(ex)
    rows = skyrl.skyrl_records(examples, split="dev")
    root = Path(tempfile.mkdtemp(prefix="skyrl_check_"))
    for ex in examples:
        target = root / "spider" / "database" / ex.db_id / f"{ex.db_id}.sqlite"
        target.parent.mkdir(parents=True, exist_ok=True)
        if not target.exists():
            shutil.copy(ex.db_path, target)
    theirs_config = OmegaConf.create({"db_path": str(root)})
    failures = 0
    for i, (ex, row) in enumerate(zip(examples, rows, strict=True)):
        answer = ex.gold_sql if i % 2 == 0 else "SELECT 1"
        turns = [
            "<think>what is there?</think>\n<sql>SELECT name FROM sqlite_master WHERE type = 'table'</sql>",
            f"<think>try it</think>\n<sql>{ex.gold_sql}</sql>",
            f"<think>final</think>\n<solution>{answer}</solution>",
        ]
        ours, r_ours, d_ours, o_ours = agent_loop(skyrl_gym.make, row, turns, 5, {})
        their_row = {**row, "env_class": "text2sql", "data": "spider"}
        their_row.pop("db_path")
        _, r_theirs, d_theirs, o_theirs = agent_loop(skyrl_gym.make, their_row, turns, 5, theirs_config)
        ok = (
            isinstance(ours, BaseTextEnv)
            and d_ours == d_theirs
            and r_ours == r_theirs
            and all(bool(a) == bool(b) for a, b in zip(o_ours, o_theirs, strict=True))
        )
        failures += not ok
        print(f"{ex.db_id:10s} answer={'gold' if i % 2 == 0 else 'wrong'} sqlrl-sql rewards={r_ours} "
              f"text2sql rewards={r_theirs} dones={d_ours} {'ok' if ok else 'MISMATCH'}")  # fmt: skip
        if i == 0:
            print("  sqlrl-sql first observation:", repr(o_ours[0][0]["content"][:160]))
            print("  text2sql  first observation:", repr(o_theirs[0][0]["content"][:160]))
    # sqlrl's tool calls through the registered environment
    from sqlrl.env import format_tool_call

    ex = examples[0]
    turns = [format_tool_call("list_tables"), format_tool_call("answer", {"sql": ex.gold_sql})]
    _, r_ours, d_ours, o_ours = agent_loop(skyrl_gym.make, rows[0], turns, 5, {})
    ok = r_ours == [0.0, 1.0] and "<tool_response>" in o_ours[0][0]["content"]
    failures += not ok
    print(f"tool calls: rewards={r_ours} dones={d_ours} {'ok' if ok else 'MISMATCH'}")
    # max turns: the episode ends at turn 3 without running its query
    _, r_ours, d_ours, _ = agent_loop(skyrl_gym.make, rows[0], ["<think>a</think><sql>SELECT 1</sql>"] * 5, 3, {})
    print(f"max_turns=3, never answering: dones={d_ours} rewards={r_ours}")
    failures += d_ours != [False, False, True]
    print("all checks passed" if not failures else f"{failures} checks failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
