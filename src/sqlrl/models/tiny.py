"""A tiny Qwen2 causal LM built locally: a byte-level BPE tokenizer trained with ``tokenizers`` on
the texts it will see, and a small randomly initialised ``Qwen2ForCausalLM``. Never a hub download.

It is the model of the tests and of the offline quickstart: small enough to train with SFT and
GRPO on two CPU cores in minutes, yet a real Hugging Face model directory that
``AutoModelForCausalLM`` / ``AutoTokenizer``, TRL and :class:`sqlrl.models.local.LocalChatModel`
load like any other.

>>> import tempfile
>>> path = build_tiny_model(tempfile.mkdtemp(), ["SELECT name FROM singer", "How many singers?"],
...                         vocab_size=300, hidden_size=32, num_layers=1, num_heads=2, num_kv_heads=1)
>>> sorted(p.name for p in path.iterdir())[:3]
['chat_template.jinja', 'config.json', 'generation_config.json']
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from pathlib import Path

__all__ = ["CHAT_TEMPLATE", "SPECIAL_TOKENS", "TinyModelConfig", "build_tiny_model", "train_tokenizer"]

#: The special tokens of the tokenizer (Qwen's chat markers; ``<|endoftext|>`` doubles as padding).
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]

#: Qwen-style ChatML template; ``{% generation %}`` marks assistant text for assistant-only losses.
CHAT_TEMPLATE = (
    "{% for message in messages %}"
    "{{ '<|im_start|>' + message['role'] + '\n' }}"
    "{% if message['role'] == 'assistant' %}{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}"
    "{% else %}{{ message['content'] + '<|im_end|>' }}{% endif %}"
    "{{ '\n' }}"
    "{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}"
)


@dataclass(frozen=True)
class TinyModelConfig:
    """Sizes of the tiny Qwen2 (defaults: about 2.5M parameters, 8k vocabulary).

    Attributes:
        vocab_size: BPE vocabulary size the tokenizer is trained to (special tokens included).
        hidden_size: model width.
        intermediate_size: MLP width (default ``int(2.75 * hidden_size)`` rounded to 8 when 0).
        num_layers: decoder layers.
        num_heads: attention heads; ``num_kv_heads`` grouped key/value heads.
        max_positions: longest sequence (prompt + completion) the model accepts.
        seed: initialisation seed of the weights.
    """

    vocab_size: int = 8000
    hidden_size: int = 192
    intermediate_size: int = 0
    num_layers: int = 4
    num_heads: int = 4
    num_kv_heads: int = 2
    max_positions: int = 2048
    seed: int = 0

    def __post_init__(self) -> None:
        if self.hidden_size % self.num_heads:
            raise ValueError(f"hidden_size {self.hidden_size} must be a multiple of num_heads {self.num_heads}")
        if self.num_heads % self.num_kv_heads:
            raise ValueError(f"num_heads {self.num_heads} must be a multiple of num_kv_heads {self.num_kv_heads}")
        if self.vocab_size < 260 + len(SPECIAL_TOKENS):
            raise ValueError(f"vocab_size {self.vocab_size} is below the 256 byte symbols plus special tokens")


def train_tokenizer(texts: Iterable[str], vocab_size: int = 8000):
    """A byte-level BPE ``PreTrainedTokenizerFast`` trained on ``texts``, with the chat template set.

    Byte-level means every string is encodable: unseen words fall back to bytes, never to ``<unk>``.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL_TOKENS,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(list(texts), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|endoftext|>",
        bos_token=None,
        unk_token=None,
        additional_special_tokens=["<|im_start|>"],
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.padding_side = "left"
    return fast


def build_tiny_model(
    out_dir: str | os.PathLike[str],
    texts: Iterable[str],
    config: TinyModelConfig | None = None,
    **overrides,
) -> Path:
    """Train a tokenizer on ``texts``, initialise a tiny Qwen2 and save both into ``out_dir``.

    Args:
        out_dir: folder to write (created); afterwards ``AutoModelForCausalLM.from_pretrained(out_dir)``
            and ``AutoTokenizer.from_pretrained(out_dir)`` load it.
        texts: what the tokenizer is trained on (questions, schemas, SQL, the chat markers).
        config: sizes; keyword ``overrides`` replace single fields (``hidden_size=64``).

    Returns:
        ``Path(out_dir)``.
    """
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    cfg = config or TinyModelConfig()
    if overrides:
        cfg = TinyModelConfig(**{**asdict(cfg), **overrides})
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    # The chat markers appear in every training text, so the tokenizer sees them as whole words.
    texts = list(texts)
    tokenizer = train_tokenizer(texts + ["<|im_start|>user\n<|im_end|>\n<|im_start|>assistant\n"], cfg.vocab_size)
    intermediate = cfg.intermediate_size or int(round(cfg.hidden_size * 2.75 / 8)) * 8
    model_cfg = Qwen2Config(
        vocab_size=len(tokenizer),
        hidden_size=cfg.hidden_size,
        intermediate_size=intermediate,
        num_hidden_layers=cfg.num_layers,
        num_attention_heads=cfg.num_heads,
        num_key_value_heads=cfg.num_kv_heads,
        max_position_embeddings=cfg.max_positions,
        tie_word_embeddings=True,
        bos_token_id=None,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    torch.manual_seed(cfg.seed)
    model = Qwen2ForCausalLM(model_cfg)
    model.generation_config = GenerationConfig(
        eos_token_id=tokenizer.eos_token_id, pad_token_id=tokenizer.pad_token_id, do_sample=False
    )
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    (out / "sqlrl_tiny.json").write_text(json.dumps(asdict(cfg), indent=2) + "\n")
    return out
