"""The tiny local model and batched chat generation (needs the [train] extra)."""

import doctest

import pytest

pytest.importorskip("torch", reason="the [train] extra is part of [dev]; CI installs it")

from sqlrl.models import LocalChatModel, TinyModelConfig, build_tiny_model, local, tiny, train_tokenizer


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    texts = ["SELECT name FROM singer WHERE age > 30", "How many singers are there?"] * 5
    return build_tiny_model(
        tmp_path_factory.mktemp("tiny"),
        texts,
        vocab_size=400,
        hidden_size=32,
        num_layers=1,
        num_heads=2,
        num_kv_heads=1,
    )


def test_doctests():
    assert doctest.testmod(tiny).failed == 0
    assert doctest.testmod(local).failed == 0


def test_tokenizer_round_trips_any_text():
    tok = train_tokenizer(["SELECT count(*) FROM t"], vocab_size=300)
    for text in ["SELECT count(*) FROM t", "Ünïcode 'x' — ≥ 5", "<|im_start|>user\nhi<|im_end|>"]:
        assert tok.decode(tok(text)["input_ids"]) == text
    assert tok.convert_tokens_to_ids("<|im_end|>") == tok.eos_token_id


def test_chat_template_marks_generation_prompt(tiny_dir):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(tiny_dir)
    text = tok.apply_chat_template([{"role": "user", "content": "q"}], tokenize=False, add_generation_prompt=True)
    assert text == "<|im_start|>user\nq<|im_end|>\n<|im_start|>assistant\n"


def test_model_loads_and_generates_n_per_conversation(tiny_dir):
    lm = LocalChatModel(tiny_dir, device="cpu", batch_size=2)
    convs = [[{"role": "user", "content": f"question {i}"}] for i in range(3)]
    outs = lm.generate(convs, n=2, temperature=1.0, max_new_tokens=5, seed=1)
    assert [len(o) for o in outs] == [2, 2, 2]
    again = lm.generate(convs, n=2, temperature=1.0, max_new_tokens=5, seed=1)
    assert outs == again  # seeded sampling is repeatable
    greedy = lm.generate(convs[:1], max_new_tokens=5)
    assert greedy == lm.generate(convs[:1], max_new_tokens=5)


def test_bad_inputs_give_clear_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="never downloads"):
        LocalChatModel(tmp_path / "missing")
    with pytest.raises(ValueError, match="multiple of num_heads"):
        TinyModelConfig(hidden_size=30, num_heads=4)
