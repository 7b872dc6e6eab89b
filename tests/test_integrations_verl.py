"""sqlrl's rewards called the way verl calls a custom reward function (verl is not installed).

The call sites mirrored (verl commit b178a3cd56f58b2d502255daba591e92833930a7):
- verl/trainer/ppo/reward.py, get_custom_reward_fn: loads ``custom_reward_function.path`` / ``name``
  (``pkg://`` module paths allowed, verl/utils/import_utils.py load_module) and wraps the function so
  that ``custom_reward_function.reward_kwargs`` are merged into every call's keywords (they win).
- verl/workers/reward_manager/naive.py, NaiveRewardManager.__call__: per row, ``extra_info`` gets
  ``num_turns`` and ``rollout_reward_scores`` added, then ``compute_score(data_source=, solution_str=,
  ground_truth=, extra_info=)``; a dict result gives ``score["score"]`` and every key goes to a list.
- verl/workers/reward_manager/batch.py, BatchRewardManager.verify: ``compute_score(data_sources=,
  solution_strs=, ground_truths=, extra_infos=, **reward_kwargs)``, one result per row.
"""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from collections import defaultdict

import pytest

from sqlrl.integrations import verl as sv
from sqlrl.integrations._rows import RowError
from sqlrl.rewards import build_rewards

SPECS = ["execution", "stage1"]


@pytest.fixture(scope="module")
def toy():
    from sqlrl.data import load_toy

    return list(load_toy("dev"))[:12]


def completions_for(examples):
    """Right, wrong, unparsable and foreign answers, cycling."""
    out = []
    for i, ex in enumerate(examples):
        kind = i % 4
        if kind == 0:
            out.append(f"```sql\n{ex.gold_sql}\n```")
        elif kind == 1:
            out.append("SELECT 1")
        elif kind == 2:
            out.append("I do not know.")
        else:
            out.append(f"<answer>{examples[(i + 1) % len(examples)].gold_sql}</answer>")
    return out


def trl_totals(spec, examples, completions, **options):
    """What TRL adds up: each reward function called with the dataset columns, weighted, None = nothing."""
    funcs, weights = build_rewards(spec, **options)
    columns = {
        "gold_sql": [ex.gold_sql for ex in examples],
        "db_path": [str(ex.db_path) for ex in examples],
        "engine": ["sqlite"] * len(examples),
        "dialect": [ex.dialect for ex in examples],
        "db_id": [ex.db_id for ex in examples],
        "question": [ex.question for ex in examples],
        "evidence": [ex.evidence for ex in examples],
    }
    totals = [0.0] * len(examples)
    per = {}
    for func, w in zip(funcs, weights, strict=True):
        values = func(prompts=None, completions=completions, **columns)
        per[func.__name__] = values
        for i, v in enumerate(values):
            if v is not None:
                totals[i] += w * v
    return totals, per


def load_custom_reward_fn(path, name, reward_kwargs):
    """get_custom_reward_fn's behaviour: load ``name`` from ``path``; merge reward_kwargs into each call."""
    assert path.startswith("pkg://")
    raw_fn = getattr(importlib.import_module(path[len("pkg://") :].replace("/", ".")), name)

    def wrapped(*args, **kwargs):
        return raw_fn(*args, **{**kwargs, **reward_kwargs})

    return wrapped


def verl_rows(examples):
    return [sv.verl_records([ex])[0] for ex in examples]


def naive_manager(compute_score, rows, responses):
    """NaiveRewardManager.__call__ without tensors: the per-row call and the reward_extra_info lists."""
    rewards, extra = [], defaultdict(list)
    for row, response in zip(rows, responses, strict=True):
        extra_info = dict(row.get("extra_info", {}))
        extra_info["num_turns"] = None
        extra_info["rollout_reward_scores"] = {}
        score = compute_score(
            data_source=row["data_source"],
            solution_str=response,
            ground_truth=row["reward_model"]["ground_truth"],
            extra_info=extra_info,
        )
        if isinstance(score, dict):
            rewards.append(score["score"])
            for key, value in score.items():
                extra[key].append(value)
        else:
            rewards.append(score)
    return rewards, dict(extra)


def batch_manager(compute_score, rows, responses, **manager_kwargs):
    """BatchRewardManager.verify + __call__ without tensors."""
    extras = [dict(r.get("extra_info", {})) for r in rows]
    for e in extras:
        e["rollout_reward_scores"] = {}
    scores = compute_score(
        data_sources=[r["data_source"] for r in rows],
        solution_strs=responses,
        ground_truths=[r["reward_model"].get("ground_truth", None) for r in rows],
        extra_infos=extras,
        **manager_kwargs,
    )
    assert len(scores) == len(rows)
    rewards, extra = [], defaultdict(list)
    for score in scores:
        if isinstance(score, dict):
            rewards.append(score["score"])
            for key, value in score.items():
                extra[key].append(value)
        else:
            rewards.append(score)
    return rewards, dict(extra)


@pytest.mark.parametrize("spec", SPECS)
def test_naive_manager_scores_equal_the_trl_rewards(toy, spec):
    fn = load_custom_reward_fn("pkg://sqlrl.integrations.verl", "compute_score", {"spec": spec, "timeout": 5.0})
    completions = completions_for(toy)
    rewards, extra = naive_manager(fn, verl_rows(toy), completions)
    expected, per = trl_totals(spec, toy, completions, timeout=5.0)
    assert rewards == pytest.approx(expected)
    assert rewards[0] > rewards[1]
    for name, values in per.items():
        assert extra[name] == pytest.approx([0.0 if v is None else v for v in values]), name
    assert extra["input_error"] == [0.0] * len(toy)
    assert all(len(v) == len(toy) for v in extra.values())  # same keys every row: the lists stay aligned


@pytest.mark.parametrize("spec", SPECS)
def test_batch_manager_scores_equal_the_trl_rewards(toy, spec):
    fn = load_custom_reward_fn("pkg://sqlrl.integrations.verl", "compute_score_batch", {"spec": spec})
    completions = completions_for(toy)
    rewards, extra = batch_manager(fn, verl_rows(toy), completions)
    expected, _ = trl_totals(spec, toy, completions)
    assert rewards == pytest.approx(expected)
    assert rewards[::4] == pytest.approx([max(expected)] * len(rewards[::4]))


def test_details_false_returns_floats(toy):
    fn = load_custom_reward_fn("pkg://sqlrl.integrations.verl", "compute_score", {"details": False})
    rewards, extra = naive_manager(fn, verl_rows(toy[:4]), completions_for(toy[:4]))
    assert rewards == [1.0, 0.0, 0.0, 0.0] and extra == {}


def test_gold_as_mapping_and_path_objects(toy):
    ex = toy[0]
    gold = {"gold_sql": ex.gold_sql, "db_path": ex.db_path}
    assert sv.compute_score("sqlrl-toy", ex.gold_sql, gold, None, details=False) == 1.0


def test_bad_rows_score_zero_with_input_error_and_the_rest_is_scored(toy, tmp_path):
    rows = verl_rows(toy[:8])
    completions = [f"```sql\n{ex.gold_sql}\n```" for ex in toy[:8]]
    del rows[1]["extra_info"]["db_path"]
    rows[2]["reward_model"]["ground_truth"] = None
    rows[3]["reward_model"]["ground_truth"] = 42
    rows[4]["extra_info"]["db_path"] = str(tmp_path / "missing.sqlite")
    rows[5]["reward_model"]["ground_truth"] = "   "
    rows[6]["extra_info"]["db_path"] = 7
    fn = load_custom_reward_fn("pkg://sqlrl.integrations.verl", "compute_score_batch", {"spec": "stage1"})
    rewards, extra = batch_manager(fn, rows, completions)
    good = trl_totals("stage1", [toy[0], toy[7]], [completions[0], completions[7]])[0]
    assert rewards == pytest.approx([good[0], 0, 0, 0, 0, 0, 0, good[1]])
    assert extra["input_error"] == [0.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 0.0]
    assert sv.compute_score("s", completions[0], toy[0].gold_sql, None) == {
        "score": 0.0,
        "execution": 0.0,
        "input_error": 1.0,
    }
    # the naive manager's extra_info is {} when the row has none: a documented 0.0, not a crash
    assert naive_manager(sv.compute_score, [{**rows[0], "extra_info": {}}], completions[:1])[0] == [0.0]


def test_strict_raises_a_clear_error_before_scoring(toy):
    row = verl_rows(toy[:1])[0]
    with pytest.raises(RowError, match="no 'db_path'"):
        sv.compute_score("sqlrl-toy", "SELECT 1", row["reward_model"]["ground_truth"], {}, strict=True)
    with pytest.raises(RowError, match="gold SQL must be a non-empty string"):
        sv.compute_score_batch(["s"], ["SELECT 1"], [None], [row["extra_info"]], strict=True)


def test_unequal_lengths_are_an_error():
    with pytest.raises(ValueError, match="2 solutions but 1 ground truths"):
        sv.compute_score_batch(["a", "b"], ["x", "y"], ["SELECT 1"], None)


def test_rewards_are_built_once_per_process(toy):
    from sqlrl.integrations import _rows

    rows = verl_rows(toy[:2])
    fn = load_custom_reward_fn("pkg://sqlrl.integrations.verl", "compute_score", {"spec": "stage2", "timeout": 4.0})
    naive_manager(fn, rows, ["SELECT 1", "SELECT 2"])
    first = _rows.reward_set("stage2", timeout=4.0)
    naive_manager(fn, rows, ["SELECT 1", "SELECT 2"])
    assert _rows.reward_set("stage2", timeout=4.0) is first


def test_parquet_round_trips_in_verls_layout(toy, tmp_path):
    pq = pytest.importorskip("pyarrow.parquet")
    pd = pytest.importorskip("pandas")
    path = tmp_path / "verl" / "train.parquet"
    assert sv.write_parquet(toy, path, split="train") == len(toy)
    table = pq.read_table(path)
    assert table.column_names == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
    rows = table.to_pylist()
    first = rows[0]
    assert first["data_source"] == "sqlrl-toy" and first["ability"] == "text2sql"
    assert first["reward_model"] == {"style": "rule", "ground_truth": toy[0].gold_sql}
    assert [m["role"] for m in first["prompt"]][-1] == "user" and toy[0].question in first["prompt"][-1]["content"]
    assert first["extra_info"]["db_path"] == str(toy[0].db_path) and first["extra_info"]["index"] == 0
    assert [r["extra_info"]["index"] for r in rows] == list(range(len(toy)))
    frame = pd.read_parquet(path)
    assert list(frame.columns) == table.column_names and len(frame) == len(toy)
    # rows read back from the file score like the TRL rewards
    completions = completions_for(toy)
    rewards, _ = batch_manager(sv.compute_score_batch, rows, completions)
    assert rewards == pytest.approx(trl_totals("execution", toy, completions)[0])


def test_importing_the_adapter_imports_no_framework():
    code = (
        "import json, sys; import sqlrl.integrations.verl, sqlrl.integrations.openrlhf;"
        "print(json.dumps([m for m in ('verl', 'torch', 'ray', 'openrlhf') if m in sys.modules]))"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert json.loads(proc.stdout.strip().splitlines()[-1]) == []


def test_export_command_writes_both_layouts(tmp_path, capsys):
    pq = pytest.importorskip("pyarrow.parquet")
    from sqlrl.cli import main

    assert (
        main(["export", "verl", "--data", "toy", "--splits", "dev", "--limit", "3", "--out", str(tmp_path / "v")]) == 0
    )
    rows = pq.read_table(tmp_path / "v" / "dev.parquet").to_pylist()
    assert len(rows) == 3 and rows[0]["extra_info"]["split"] == "dev"
    assert main(["export", "openrlhf", "--splits", "dev", "--limit", "2", "--out", str(tmp_path / "o")]) == 0
    lines = (tmp_path / "o" / "dev.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert len(lines) == 2 and first["input"][-1]["role"] == "user" and json.loads(first["label"])["db_path"]
    assert "dev.parquet: 3 rows" in capsys.readouterr().out
    assert main(["export", "verl", "--limit", "0", "--out", str(tmp_path / "v")]) == 2


def test_the_shipped_verl_config_names_these_functions():
    """configs/verl_sqlrl.yaml uses verl 0.9's layout: its trainer reads ``reward.custom_reward_function`` and
    ``reward.reward_manager`` only (the top-level ``custom_reward_function`` keys are still accepted by its
    Hydra config but never read, so sqlrl would not be called; seen with verl 0.9.1 in
    benchmarks/verl_check.py), and its reward loop has no ``batch`` manager."""
    from pathlib import Path

    import yaml

    cfg = yaml.safe_load((Path(__file__).parents[1] / "configs" / "verl_sqlrl.yaml").read_text())
    assert "custom_reward_function" not in cfg and "reward_model" not in cfg and "reward_manager" not in cfg
    fn_cfg = cfg["reward"]["custom_reward_function"]
    assert fn_cfg["name"] == "compute_score" and cfg["reward"]["reward_manager"]["name"] == "naive"
    fn = load_custom_reward_fn(fn_cfg["path"], fn_cfg["name"], fn_cfg["reward_kwargs"])
    out = fn(data_source="s", solution_str="SELECT 1", ground_truth="SELECT 1", extra_info={})
    assert out["input_error"] == 1.0 and out["score"] == 0.0


def test_group_rewards_need_the_batch_manager(toy):
    """stage2's length term is per group (the completions of one gold and database, as TRL groups rows
    without prompts): the batch form sees the group, like TRL; the per-sample form sees groups of one."""
    ex = toy[0]
    completions = [f"```sql\n{ex.gold_sql}\n```", f"```sql\n{ex.gold_sql}   \n```", "SELECT 1", f"{ex.gold_sql}"]
    rows = verl_rows([ex] * 4)
    rewards, extra = batch_manager(sv.compute_score_batch, rows, completions, spec="stage2")
    expected, per = trl_totals("stage2", [ex] * 4, completions)
    assert rewards == pytest.approx(expected)
    assert any(v not in (None, 0.0) for v in per["length"])
    single, _ = naive_manager(lambda **kw: sv.compute_score(**kw, spec="stage2"), rows, completions)
    assert single != pytest.approx(expected)


def test_a_bad_row_is_logged_once_per_kind_of_problem(toy, monkeypatch, caplog):
    from sqlrl.integrations import _rows

    monkeypatch.setattr(_rows, "_WARNED", set())
    rows = verl_rows(toy[:4])
    for r in rows[:3]:
        del r["extra_info"]["db_path"]
    rows[3]["reward_model"]["ground_truth"] = None
    with caplog.at_level("WARNING", logger="sqlrl.integrations"):
        for _ in range(2):
            batch_manager(sv.compute_score_batch, rows, ["SELECT 1"] * 4)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 2 and "no 'db_path'" in messages[0] and "gold SQL" in messages[1], messages
