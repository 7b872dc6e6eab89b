"""Interactive GRPO through TRL's environment_factory: tool results are masked out of the loss, the rewards
score the episode's final answer, and an interactive stage of ``sqlrl train`` runs end to end.

The tiny model does not call tools on its own, so the policy's turns are scripted at TRL's generation
call (``_generate_single_turn``): everything else (the tool loop, the tokenizer's template and parser,
the environments, rewards, loss and optimizer) is the real thing.
"""

from __future__ import annotations

import json

import pytest

pytest.importorskip("trl")

from sqlrl.env import EnvConfig, environment_factory, episode_rewards, format_tool_call  # noqa: E402
from sqlrl.env.template import prepare_tool_tokenizer  # noqa: E402
from sqlrl.rewards import build_rewards  # noqa: E402

GOLD = "SELECT count(*) FROM singer"
FIRST = format_tool_call("run_query", {"sql": "SELECT count(*) AS n FROM singer"})
SECOND = format_tool_call("answer", {"sql": GOLD})


def scripted_generation(tokenizer):
    """A stand-in for TRL's ``_generate_single_turn``: a query first, the answer after a tool response."""

    def generate(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        out = []
        for ids in prompt_ids:
            seen = tokenizer.decode(ids)
            text = "Done." if "The episode is over" in seen else SECOND if "<tool_response>" in seen else FIRST
            out.append(tokenizer(text + "<|im_end|>", add_special_tokens=False)["input_ids"])
        return out, None

    return generate


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    from sqlrl.env.vocabulary import tool_texts
    from sqlrl.models.tiny import build_tiny_model

    path = build_tiny_model(tmp_path_factory.mktemp("tiny-env"), ["How many singers?", GOLD, *tool_texts()],
                            vocab_size=600, hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=1)  # fmt: skip
    return str(path)


def _trainer(tiny, concert_sqlite, tmp_path, config):
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from trl import GRPOConfig, GRPOTrainer

    tok = prepare_tool_tokenizer(AutoTokenizer.from_pretrained(tiny))
    funcs, weights = build_rewards([{"name": "execution", "weight": 1.0}], timeout=2.0)
    funcs, weights = episode_rewards(funcs, weights, config)
    rows = [{"prompt": [{"role": "user", "content": "How many singers?"}], "gold_sql": GOLD,
             "db_path": str(concert_sqlite), "db_id": "concert_singer"}] * 2  # fmt: skip
    args = GRPOConfig(
        output_dir=str(tmp_path), max_steps=1, per_device_train_batch_size=2, num_generations=2,
        max_completion_length=400, max_tool_calling_iterations=config.max_turns + 1, report_to="none",
        logging_steps=1, save_strategy="no", learning_rate=1e-3, reward_weights=weights, use_cpu=True,
    )  # fmt: skip
    trainer = GRPOTrainer(
        model=AutoModelForCausalLM.from_pretrained(tiny), reward_funcs=funcs, args=args,
        train_dataset=Dataset.from_list(rows), processing_class=tok, environment_factory=environment_factory(config),
    )  # fmt: skip
    trainer._generate_single_turn = scripted_generation(tok).__get__(trainer)
    return trainer, tok, rows


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_tool_results_are_masked_out_of_the_loss_and_the_answer_is_scored(tiny, concert_sqlite, tmp_path):
    config = EnvConfig(tool_call_penalty=0.01)
    trainer, tok, rows = _trainer(tiny, concert_sqlite, tmp_path, config)
    trainer.model.train()
    out = trainer._generate_and_score_completions(rows)
    mask = out["tool_mask"]
    ids = out["completion_ids"]
    assert mask.shape == ids.shape
    for row_ids, row_mask, completion_mask in zip(ids, mask, out["completion_mask"], strict=True):
        kept = [int(t) for t, m, c in zip(row_ids, row_mask, completion_mask, strict=True) if m == 1 and c == 1]
        dropped = [int(t) for t, m, c in zip(row_ids, row_mask, completion_mask, strict=True) if m == 0 and c == 1]
        model_text, tool_text = tok.decode(kept), tok.decode(dropped)
        # the model's own turns are in the loss, every token of the tool result is out of it
        assert FIRST in model_text and SECOND in model_text and "<tool_response>" not in model_text
        assert model_text.endswith("Done.<|im_end|>")
        assert "<tool_response>\ncolumns: n INTEGER\nrows: 1\nn\n40\n</tool_response>" in tool_text
        assert "The episode is over" in tool_text and tool_text.count("<tool_response>") == 2
        assert "SELECT" not in tool_text.split("<tool_response>")[0]
        first_zero = next(i for i, m in enumerate(row_mask) if m == 0)
        assert tok.decode([int(t) for t in row_ids[:first_zero]]).startswith(FIRST)
    env = trainer.environments[0]
    assert env.final_sql == GOLD and env.episode["calls"]["run_query"] == 1
    # execution reward 1 for the answer, minus 2 tool calls x 0.01: the advantages are 0 in a uniform group
    rewards = trainer._metrics["train"]
    assert rewards["rewards/execution/mean"][-1] == pytest.approx(1.0)
    assert rewards["rewards/episode/mean"][-1] == pytest.approx(-0.02)
    assert rewards["tools/call_frequency"][-1] == pytest.approx(2.0)
    assert rewards["episode/turns"][-1] == pytest.approx(1.0)
    assert rewards["episode/tool_error_rate"][-1] == pytest.approx(0.0)


@pytest.mark.filterwarnings("ignore::UserWarning")
def test_a_grpo_step_on_episodes_trains(tiny, concert_sqlite, tmp_path):
    import torch

    trainer, _, _ = _trainer(tiny, concert_sqlite, tmp_path, EnvConfig())
    before = [p.detach().clone() for p in trainer.model.parameters()]
    trainer.train()
    logs = {k: v for entry in trainer.state.log_history for k, v in entry.items()}
    assert logs["episode/answered"] == 1.0 and logs["episode/calls/answer"] == 1.0
    assert logs["reward"] == pytest.approx(1.0)
    assert all(torch.isfinite(p).all() for p in trainer.model.parameters())
    assert len(before) == len(list(trainer.model.parameters()))


def test_an_interactive_stage_of_sqlrl_train(tmp_path, monkeypatch):
    """``mode: interactive`` through the Runner: the tokenizer gets the tool template, the episodes run, the
    metrics reach the log and the stage saves its model."""
    from trl import GRPOTrainer

    from sqlrl.train import Runner, TrainConfig
    from sqlrl.train.presets import smoke_config

    cfg = smoke_config(str(tmp_path / "run"), steps=1)
    cfg["sft"] = {**cfg["sft"], "tool_demos": 0.5}  # SFT renders episode demonstrations with the tool template
    stage = {**cfg["stages"][0], "name": "explore", "mode": "interactive", "rewards": [{"name": "execution", "weight": 1.0}],
             "max_completion_length": 400, "env": {"max_turns": 2, "failed_call_penalty": 0.1},
             "negative_weight": 1.0, "zero_variance": "keep"}  # fmt: skip
    cfg["stages"] = [stage]
    cfg["eval_after_each_phase"] = False
    calls = []

    def generate(self, prompt_ids, images, multimodal_fields, num_generations, has_tool_images=False):
        tok = self.processing_class
        out = []
        for ids in prompt_ids:
            seen = tok.decode(ids)
            calls.append(seen)
            text = (format_tool_call("describe_table", {"table": "nope"}) if "<tool_response>" not in seen
                    else "```sql\nSELECT 1\n```")  # fmt: skip
            out.append(tok(text + "<|im_end|>", add_special_tokens=False)["input_ids"])
        return out, None

    monkeypatch.setattr(GRPOTrainer, "_generate_single_turn", generate)
    summary = Runner(TrainConfig.from_dict(cfg)).run()
    assert calls and "exploration calls" in calls[0]  # the tool help reached the prompt
    state = json.loads((tmp_path / "run" / "state.json").read_text())
    logs = {k: v for entry in state["phases"]["explore"]["log_history"] for k, v in entry.items()}
    assert logs["episode/calls/describe_table"] == 1.0 and logs["episode/tool_error_rate"] == 1.0
    assert logs["rewards/episode/mean"] == pytest.approx(-0.1)
    assert (tmp_path / "run" / "explore" / "final" / "config.json").exists()
    from transformers import AutoTokenizer

    from sqlrl.env.template import TOOL_CHAT_TEMPLATE

    assert AutoTokenizer.from_pretrained(tmp_path / "run" / "sft" / "final").chat_template == TOOL_CHAT_TEMPLATE
    assert "sft" in state["phases"] and state["phases"]["sft"]["log_history"]
    assert summary["phases"]["explore"]
    val = state["phases"]["explore"]["val"]  # the stage's checkpoints are validated in episodes
    assert val["0"]["mode"] == "interactive" and val["1"]["mode"] == "interactive"


def test_the_interactive_config_parses():
    from pathlib import Path

    from sqlrl.train import TrainConfig

    cfg = TrainConfig.from_yaml(Path(__file__).resolve().parent.parent / "configs" / "interactive.yaml")
    assert [s.mode for s in cfg.stages] == ["interactive"] and cfg.sft.tool_demos > 0
    assert EnvConfig.from_dict(cfg.stages[0].env).max_turns == 2


@pytest.mark.parametrize(
    ("stage", "message"),
    [
        ({"mode": "multi"}, "mode must be 'single' or 'interactive'"),
        ({"env": {"max_turns": 2}}, "needs mode: interactive"),
        ({"mode": "interactive", "env": {"max_turn": 2}}, "did you mean 'max_turns'"),
        ({"mode": "interactive", "curriculum_samples": 4}, "curriculum_samples"),
    ],
)
def test_bad_interactive_stages_fail_early(tmp_path, stage, message):
    from sqlrl.train import TrainConfig
    from sqlrl.train.config import ConfigError
    from sqlrl.train.presets import smoke_config

    cfg = smoke_config(str(tmp_path))
    cfg["stages"] = [{**cfg["stages"][0], **stage}]
    with pytest.raises(ConfigError, match=message):
        TrainConfig.from_dict(cfg)


def test_a_template_without_tools_is_refused_with_a_message():
    from transformers import AutoTokenizer

    from sqlrl.models.tiny import train_tokenizer

    tok = train_tokenizer(["a b c"], vocab_size=300)
    tok.chat_template = "{% for m in messages %}{{ m['content'] }}{% endfor %}"
    with pytest.raises(ValueError, match="cannot render tool calls"):
        prepare_tool_tokenizer(tok)
    assert AutoTokenizer  # imported for the same transformers as TRL's


def test_tool_demos_turn_sft_examples_into_episodes(concert_sqlite):
    from sqlrl.env.demos import with_tool_demos

    grpo = [{"prompt": [{"role": "user", "content": f"q{i}"}], "gold_sql": GOLD, "db_path": str(concert_sqlite)}
            for i in range(6)]  # fmt: skip
    sft = [{"prompt": r["prompt"], "completion": [{"role": "assistant", "content": f"```sql\n{GOLD}\n```"}]}
           for r in grpo]  # fmt: skip
    rows = with_tool_demos(sft, grpo, 0.5, EnvConfig(max_turns=3), seed=1)
    demos = [r for r in rows if len(r["completion"]) == 3]
    assert len(demos) == 3 and len(rows) == 6
    d = demos[0]
    assert "at most 3 exploration calls" in d["prompt"][-1]["content"]
    assert d["completion"][0]["tool_calls"][0]["function"] == {"name": "run_query", "arguments": {"sql": GOLD}}
    assert d["completion"][1] == {"role": "tool", "name": "run_query",
                                  "content": "columns: count(*) INTEGER\nrows: 1\ncount(*)\n40"}  # fmt: skip
    assert d["completion"][2]["content"] == f"```sql\n{GOLD}\n```"
    assert sft[0]["prompt"][-1]["content"] == "q0"  # the single-turn rows are left as they were


def test_tool_demos_need_an_interactive_stage(tmp_path):
    from sqlrl.train import TrainConfig
    from sqlrl.train.config import ConfigError
    from sqlrl.train.presets import smoke_config

    cfg = smoke_config(str(tmp_path))
    cfg["sft"] = {**cfg["sft"], "tool_demos": 0.3}
    with pytest.raises(ConfigError, match="interactive"):
        TrainConfig.from_dict(cfg)
    cfg["stages"][1] = {**cfg["stages"][1], "mode": "interactive"}
    assert TrainConfig.from_dict(cfg).sft.tool_demos == 0.3
    cfg["sft"]["tool_demos"] = 1.5
    with pytest.raises(ConfigError, match="fraction"):
        TrainConfig.from_dict(cfg)


def test_skipping_zero_variance_groups_counts_only_the_models_tokens():
    """``zero_variance: skip`` renormalises the loss; with tool results in the completions the normaliser
    counts the tokens TRL counts (completion mask x tool mask), not the tool results."""
    from collections import defaultdict

    import torch

    from sqlrl.train.grpo_trainer import grpo_trainer_class

    cls = grpo_trainer_class("skip")
    trainer = cls.__new__(cls)
    trainer.accelerator = type("Acc", (), {"gather": staticmethod(lambda x: x.reshape(1))})()
    trainer._metrics = {"train": defaultdict(list)}
    out = {
        "completion_mask": torch.ones(4, 6, dtype=torch.int64),
        "tool_mask": torch.tensor([[1, 1, 0, 0, 1, 1]] * 4),
    }
    informative = torch.tensor([True, True, False, False])
    res = trainer._skip(out, informative)
    assert res["num_items_in_batch"].item() == 8  # 2 completions x 4 model tokens
    assert res["completion_mask"].sum().item() == 12


def test_sft_demonstrations_of_a_given_model_are_rendered_with_tool_calls(tmp_path, monkeypatch):
    """A model folder whose template cannot show tool calls (the quickstart's tiny model) gets the tool template for
    the SFT of episode demonstrations: otherwise every demonstrated tool call would be learnt as an empty turn."""
    from trl import SFTTrainer

    from sqlrl.models.tiny import CHAT_TEMPLATE, build_tiny_model
    from sqlrl.train import Runner, TrainConfig
    from sqlrl.train.presets import smoke_config

    model = build_tiny_model(tmp_path / "given", ["SELECT count(*) FROM t", "how many"], hidden_size=32,
                             num_layers=1, num_heads=2, num_kv_heads=1, vocab_size=400)  # fmt: skip
    from transformers import AutoTokenizer

    assert AutoTokenizer.from_pretrained(model).chat_template == CHAT_TEMPLATE
    cfg = smoke_config(str(tmp_path / "run"), steps=1)
    cfg["model"] = {"path": str(model)}
    cfg["sft"] = {**cfg["sft"], "tool_demos": 1.0}
    cfg["stages"] = [{**cfg["stages"][0], "name": "explore", "mode": "interactive", "env": {"max_turns": 2},
                      "rewards": [{"name": "execution", "weight": 1.0}]}]  # fmt: skip
    seen = {}

    class Stop(Exception):
        pass

    def train(self, *args, **kwargs):
        row = self.train_dataset[0]
        seen["text"] = self.processing_class.apply_chat_template(row["messages"] if "messages" in row else
                                                                 [*row["prompt"], *row["completion"]], tokenize=False)  # fmt: skip
        raise Stop

    monkeypatch.setattr(SFTTrainer, "train", train)
    with pytest.raises(Stop):
        Runner(TrainConfig.from_dict(cfg)).run()
    assert "<tool_call>" in seen["text"] and "run_query" in seen["text"] and "<tool_response>" in seen["text"]


def test_an_interactive_stage_with_vllm_hands_trl_its_tool_loop_settings(tmp_path):
    """With ``use_vllm``, an interactive stage's GRPOConfig asks TRL for vLLM generation and its tool loop's turn
    budget: TRL runs the same loop (the tests above) and generates each turn with vLLM where the transformers
    path calls ``generate`` (``GRPOTrainer._generate_single_turn``). Without vllm installed the run stops first,
    saying so."""
    import importlib.util

    from sqlrl.train import Runner, TrainConfig
    from sqlrl.train.presets import smoke_config
    from sqlrl.train.runner import TrainingError

    cfg = smoke_config(str(tmp_path / "run"), steps=1)
    stage = {**cfg["stages"][0], "name": "explore", "mode": "interactive", "env": {"max_turns": 3}}
    cfg = TrainConfig.from_dict({**cfg, "stages": [stage], "use_vllm": True, "vllm_mode": "server"})
    if importlib.util.find_spec("vllm") is None:
        with pytest.raises(TrainingError, match="vllm is not installed"):
            Runner(cfg)
    runner = object.__new__(Runner)  # the GRPOConfig alone: building the trainer needs vllm and a GPU
    runner.cfg = cfg
    args = runner._grpo_args(cfg.stages[0], tmp_path / "explore", 8, [1.0])
    assert args.use_vllm and args.vllm_mode == "server"
    assert args.max_tool_calling_iterations == 4  # the exploration turns and the answer
