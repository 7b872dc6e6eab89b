"""sqlrl's rewards called the way OpenRLHF calls a Python-file reward function (OpenRLHF is not installed).

The call sites mirrored (OpenRLHF commit 3c3be6234e0cb353e76bb8019947db9dfe99fca7):
- openrlhf/utils/agent.py, SingleTurnAgentExecutor.__init__: a ``--reward.remote_url`` ending in ``.py``
  is loaded with ``importlib.util.spec_from_file_location("reward_func", path)`` and its ``reward_func``
  taken; ``_fetch_rewards_via_func`` calls it positionally, ``reward_func(queries, prompts, labels)``, in
  chunks of one; ``execute`` builds the query by decoding prompt + response tokens with
  ``skip_special_tokens=False`` and reads ``rewards``, ``scores`` (else ``rewards``) and ``extra_logs``.
- openrlhf/trainer/ppo_utils/samples_generator.py, _process_response_into_experience:
  ``torch.tensor([reward])``, and each extra log value, a tensor, through ``value.flatten()[0].item()``.
- openrlhf/datasets/prompts_dataset.py, preprocess_data: the label is the row's ``--data.label_key`` value.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json

import pytest

from sqlrl.integrations import openrlhf as so
from sqlrl.integrations._rows import RowError

torch = pytest.importorskip("torch")

from test_integrations_verl import completions_for, trl_totals  # noqa: E402

TEMPLATE = "<|im_start|>user\n{q}<|im_end|>\n<|im_start|>assistant\n"


@pytest.fixture(scope="module")
def toy():
    from sqlrl.data import load_toy

    return list(load_toy("dev"))[:12]


def load_reward_file(monkeypatch, spec, **options):
    """SingleTurnAgentExecutor.__init__: the module loaded from its file under the name ``reward_func``."""
    monkeypatch.setenv("SQLRL_REWARD_SPEC", spec)
    monkeypatch.setenv("SQLRL_REWARD_OPTIONS", json.dumps(options))
    path = so.__file__
    assert path.endswith(".py")
    spec_ = importlib.util.spec_from_file_location("reward_func", path)
    module = importlib.util.module_from_spec(spec_)
    spec_.loader.exec_module(module)
    return module.reward_func


def call_in_chunks_of_one(reward_func, queries, prompts, labels):
    """_fetch_rewards_via_func: positional calls on slices of one, in threads, gathered."""

    async def run():
        tasks = [asyncio.to_thread(reward_func, queries[i : i + 1], prompts[i : i + 1], labels[i : i + 1])
                 for i in range(len(queries))]  # fmt: skip
        return await asyncio.gather(*tasks)

    infos = asyncio.run(run())
    rewards, logs = [], {}
    for info in infos:
        score = info.get("scores")
        if score is None:
            score = info.get("rewards")
        rewards.append(torch.tensor([info.get("rewards")]).flatten()[0].item())
        assert torch.tensor([score]).shape == (1,)
        for key, value in (info.get("extra_logs") or {}).items():
            logs.setdefault(key, []).append(value.flatten()[0].item())
    return rewards, logs


def openrlhf_batch(toy, completions):
    records = so.openrlhf_records(toy)
    prompts = [TEMPLATE.format(q=r["input"][-1]["content"]) for r in records]
    queries = [p + c + "<|im_end|>" for p, c in zip(prompts, completions, strict=True)]
    return queries, prompts, [r["label"] for r in records]


@pytest.mark.parametrize("spec", ["execution", "stage1"])
def test_file_reward_func_scores_equal_the_trl_rewards(toy, monkeypatch, spec):
    reward_func = load_reward_file(monkeypatch, spec, timeout=5.0)
    completions = completions_for(toy)
    queries, prompts, labels = openrlhf_batch(toy, completions)
    expected, per = trl_totals(spec, toy, completions, timeout=5.0)
    rewards, logs = call_in_chunks_of_one(reward_func, queries, prompts, labels)
    assert rewards == pytest.approx(expected)
    for name, values in per.items():
        assert logs[name] == pytest.approx([0.0 if v is None else v for v in values])
    # one call on the whole batch gives the same tensors
    out = reward_func(queries, prompts, labels)
    assert isinstance(out["rewards"], torch.Tensor) and out["rewards"].dtype == torch.float32
    assert out["rewards"].tolist() == pytest.approx(expected) and out["scores"] is out["rewards"]


def test_make_reward_func_and_dict_labels(toy):
    reward_func = so.make_reward_func("execution")
    labels = [json.loads(so.label(ex.gold_sql, ex.db_path)) for ex in toy[:2]]
    queries = [f"Q?```sql\n{ex.gold_sql}\n```</s>" for ex in toy[:2]]
    assert reward_func(queries, ["Q?", "Q?"], labels)["rewards"].tolist() == [1.0, 1.0]


def test_response_text_removes_the_prompt_and_trailing_special_tokens():
    assert so.response_text("P: SELECT 1<|im_end|><|endoftext|>", "P: ") == "SELECT 1"
    assert so.response_text("SELECT 1</s>", "another prompt") == "SELECT 1"


def test_bad_labels_score_zero_with_input_error(toy, tmp_path):
    ex = toy[0]
    good = so.label(ex.gold_sql, ex.db_path)
    labels = [good, ex.gold_sql, "{not json", "", so.label(ex.gold_sql, tmp_path / "nope.sqlite"), None, good]
    queries = [f"```sql\n{ex.gold_sql}\n```"] * len(labels)
    out = so.make_reward_func("execution")(queries, [""] * len(labels), labels)
    assert out["rewards"].tolist() == [1.0, 0, 0, 0, 0, 0, 1.0]
    assert out["extra_logs"]["input_error"].tolist() == [0.0, 1, 1, 1, 1, 1, 0.0]
    with pytest.raises(RowError, match="no 'db_path'"):
        so.make_reward_func("execution", strict=True)(queries[:2], ["", ""], labels[:2])


def test_without_torch_lists_come_back(toy, monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_torch(name, *args, **kwargs):
        if name == "torch":
            raise ImportError("no torch")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_torch)
    ex = toy[0]
    out = so.make_reward_func()([ex.gold_sql], [""], [so.label(ex.gold_sql, ex.db_path)])
    assert out["rewards"] == [1.0]
