"""GRPO signal options: the prompt curriculum's choice and the zero-variance handling's tensors."""

from collections import defaultdict
from types import SimpleNamespace

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("trl", reason="the [train] extra is part of [dev]; CI installs it")

from sqlrl.train.curriculum import pool_indices, select_prompts  # noqa: E402
from sqlrl.train.grpo_trainer import _merge, grpo_trainer_class, informative_completions  # noqa: E402


def test_curriculum_keeps_prompts_solved_sometimes_and_tops_up_by_closeness_to_half():
    rows = list(range(6))
    kept, stats = select_prompts(rows, [1.0, 0.5, 0.0, 0.125, 1.0, 0.875], min_keep=2)
    assert kept == [1, 3, 5] and (stats.always, stats.never, stats.kept) == (2, 1, 3)
    kept, _ = select_prompts(rows, [1.0, 0.0, 0.0, 1.0, 0.0, 1.0], min_keep=2)
    assert len(kept) == 2  # nothing mixed: the first two by distance to 0.5, all equally far
    with pytest.raises(ValueError, match="pass rates"):
        select_prompts(rows, [0.5])


def test_curriculum_pool_is_seeded_and_all_when_zero():
    assert pool_indices(10, 0, 1) == list(range(10)) and pool_indices(10, 20, 1) == list(range(10))
    assert pool_indices(100, 10, 1) == pool_indices(100, 10, 1) != pool_indices(100, 10, 2)
    assert len(set(pool_indices(100, 10, 1))) == 10


def _fake_trainer(advantages, mask):
    return SimpleNamespace(
        accelerator=SimpleNamespace(gather=lambda t: t.reshape(1), num_processes=1),
        _metrics={"train": defaultdict(list)},
    ), {"advantages": torch.tensor(advantages), "completion_mask": torch.tensor(mask),
        "num_items_in_batch": torch.tensor(float(sum(map(sum, mask))))}  # fmt: skip


def test_skip_leaves_zero_advantage_completions_out_of_the_loss_and_its_normaliser():
    cls = grpo_trainer_class("skip")
    fake, out = _fake_trainer([0.0, 0.0, 1.2, -1.2], [[1, 1, 0], [1, 1, 1], [1, 0, 0], [1, 1, 0]])
    informative = out["advantages"].abs() > 1e-6
    res = cls._skip(fake, out, informative)
    assert res["completion_mask"].tolist() == [[0, 0, 0], [0, 0, 0], [1, 0, 0], [1, 1, 0]]
    assert res["num_items_in_batch"].item() == 3
    assert fake._metrics["train"]["zero_variance/skipped"] == [0.5]


def test_informative_means_the_group_varies_not_the_completion():
    adv = torch.tensor([0.5, 0.0, -0.5, 0.0, 0.0, 0.0])  # groups of 3: varied (one at its mean), all equal
    assert informative_completions(adv, 3).tolist() == [True, True, True, False, False, False]
    assert informative_completions(adv, 4).tolist() == [True, False, True, False, False, False]  # no whole groups


def test_skip_changes_nothing_when_no_completion_carries_signal():
    cls = grpo_trainer_class("skip")
    fake, out = _fake_trainer([0.0, 0.0], [[1, 1], [1, 0]])
    res = cls._skip(fake, out, out["advantages"].abs() > 1e-6)
    assert res["completion_mask"].tolist() == [[1, 1], [1, 0]] and res["num_items_in_batch"].item() == 3


def test_merge_pads_prompts_left_and_completions_right():
    a = {
        "prompt_ids": torch.tensor([[5, 6]]),
        "prompt_mask": torch.tensor([[1, 1]]),
        "completion_ids": torch.tensor([[7]]),
        "completion_mask": torch.tensor([[1]]),
        "advantages": torch.tensor([1.0]),
        "old_per_token_logps": None,
        "num_items_in_batch": torch.tensor(1.0),
    }
    b = {"prompt_ids": torch.tensor([[4, 5, 6]]), "prompt_mask": torch.tensor([[1, 1, 1]]),
         "completion_ids": torch.tensor([[8, 9]]), "completion_mask": torch.tensor([[1, 1]]),
         "advantages": torch.tensor([-1.0]), "old_per_token_logps": None, "num_items_in_batch": torch.tensor(2.0)}  # fmt: skip
    m = _merge([a, b], pad_id=0)
    assert m["prompt_ids"].tolist() == [[0, 5, 6], [4, 5, 6]] and m["prompt_mask"].tolist() == [[0, 1, 1], [1, 1, 1]]
    assert m["completion_ids"].tolist() == [[7, 0], [8, 9]] and m["completion_mask"].tolist() == [[1, 0], [1, 1]]
    assert m["advantages"].tolist() == [1.0, -1.0] and m["old_per_token_logps"] is None
    assert _merge([{**a, "pixel_values": torch.zeros(1)}, b], pad_id=0) is None  # unknown keys: no merge


def test_keep_is_trls_own_trainer_and_bad_choices_fail():
    from trl import GRPOTrainer

    assert grpo_trainer_class("keep") is GRPOTrainer
    with pytest.raises(ValueError, match="zero_variance must be one of"):
        grpo_trainer_class("drop")


def test_negative_weight_scales_only_the_negative_advantages():
    from sqlrl.train.grpo_trainer import weigh_negatives

    out = weigh_negatives(torch.tensor([1.5, -0.5, 0.0, -1.0]), 0.1)
    assert out.tolist() == pytest.approx([1.5, -0.05, 0.0, -0.1])
    assert grpo_trainer_class("keep", negative_weight=0.5) is not grpo_trainer_class("keep")
    with pytest.raises(ValueError, match="negative_weight must be in"):
        grpo_trainer_class("keep", negative_weight=1.5)
