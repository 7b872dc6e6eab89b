"""Chat generation with a local Hugging Face causal LM (transformers; torch imported on first use).

:class:`LocalChatModel` turns conversations (lists of ``{"role", "content"}`` messages) into
completions with the model's chat template: batched with left padding, greedy or sampled, ``n``
completions per conversation, seeded. :meth:`LocalChatModel.chat` is the
:class:`~sqlrl.models.chat.ChatModel` interface (``sqlrl generate``, ``sqlrl verbal``'s local
backend); :meth:`LocalChatModel.generate` returns the texts alone and raises on failure (the
trainer's validation).

>>> import tempfile
>>> from sqlrl.models.tiny import build_tiny_model
>>> path = build_tiny_model(tempfile.mkdtemp(), ["SELECT 1"], vocab_size=300, hidden_size=32, num_layers=1,
...                         num_heads=2, num_kv_heads=1)
>>> lm = LocalChatModel(path)
>>> outs = lm.generate([[{"role": "user", "content": "hi"}]], n=2, temperature=1.0, max_new_tokens=4, seed=0)
>>> len(outs), len(outs[0]), all(isinstance(s, str) for s in outs[0])
(1, 2, True)
>>> lm.chat([[{"role": "user", "content": "hi"}]], max_tokens=4)[0].ok
True
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlrl.models.chat import GeneratingChatModel, Messages

__all__ = ["LocalChatModel", "check_model_dir", "require_torch"]


def check_model_dir(path: str | os.PathLike[str]) -> Path:
    """``path`` as a Path when it is a local Hugging Face model folder; a clear error otherwise.

    Raises:
        FileNotFoundError: no such folder, or no ``config.json`` in it (sqlrl never downloads models).
    """
    p = Path(path)
    if not p.exists():
        raise FileNotFoundError(f"no model at {str(p)!r}: pass a local model folder (sqlrl never downloads models)")
    if not p.is_dir() or not (p / "config.json").is_file():
        raise FileNotFoundError(f"{str(p)!r} is not a Hugging Face model folder (no config.json in it)")
    return p


def require_torch() -> None:
    """Raise a clear ``ImportError`` when the ``[train]`` extra (torch, transformers) is missing."""
    try:
        import torch  # noqa: F401
        import transformers  # noqa: F401
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(
            f"local models need torch and transformers ({exc.name} is missing): "
            'pip install "sqlrl[train]"  (pins torch==2.13.0)'
        ) from exc


class LocalChatModel(GeneratingChatModel):
    """A local causal LM with a chat template, for batched chat completion.

    Args:
        model: a model directory / hub-style path already on disk, or a loaded ``PreTrainedModel``.
        tokenizer: the tokenizer (default: loaded from ``model``'s path).
        device: ``"cpu"``, ``"cuda"``, ... (default: CUDA when available, else CPU).
        dtype: torch dtype name for loading (``"bfloat16"``, ...; default the checkpoint's).
        batch_size: conversations per forward batch.

    A model folder written by ``sqlrl train`` carries the prompt settings it was trained with
    (:mod:`sqlrl.models.prompt_settings`); they are kept as :attr:`prompt_settings` (None otherwise)
    for callers that build prompts, and decide whether conversations go through the chat template.

    :meth:`chat` runs under a lock (one batch at a time), so several threads can share the model.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any = None,
        *,
        device: str | None = None,
        dtype: str | None = None,
        batch_size: int = 16,
    ) -> None:
        require_torch()
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer

        from sqlrl.models.prompt_settings import PromptSettings

        self.prompt_settings: PromptSettings | None = None
        self.name = f"local:{model if isinstance(model, (str, os.PathLike)) else type(model).__name__}"
        self._lock = threading.Lock()
        if isinstance(model, (str, os.PathLike)):
            path = os.fspath(check_model_dir(model))
            self.prompt_settings = PromptSettings.read(path)
            kwargs: dict[str, Any] = {}
            if dtype:
                kwargs["dtype"] = getattr(torch, dtype)
            self.model = AutoModelForCausalLM.from_pretrained(path, **kwargs)
            self.tokenizer = tokenizer or AutoTokenizer.from_pretrained(path)
        else:
            self.model = model
            if tokenizer is None:
                raise ValueError("pass the tokenizer together with a loaded model")
            self.tokenizer = tokenizer
        if self.tokenizer.pad_token is None:
            self.tokenizer.pad_token = self.tokenizer.eos_token
        self.tokenizer.padding_side = "left"
        self.device = device or ("cuda" if torch.cuda.is_available() else "cpu")
        self.model.to(self.device)
        self.model.eval()
        self.batch_size = max(1, int(batch_size))

    def render(self, messages: Messages) -> str:
        """The text the model reads for ``messages``: its chat template with the generation prompt, or the
        contents joined by blank lines for a model trained without a chat template."""
        if self.prompt_settings is not None and not self.prompt_settings.chat_template:
            return "\n\n".join(m["content"] for m in messages) + "\n\n"
        return self.tokenizer.apply_chat_template(list(messages), tokenize=False, add_generation_prompt=True)

    def generate(
        self,
        messages_list: Sequence[Messages],
        *,
        n: int = 1,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_new_tokens: int = 256,
        seed: int | None = None,
    ) -> list[list[str]]:
        """``n`` completions for each conversation (greedy when ``temperature`` is 0, then ``n`` must be 1
        or the ``n`` completions are identical)."""
        import torch

        if n < 1:
            raise ValueError(f"n must be at least 1, not {n}")
        if seed is not None:
            torch.manual_seed(seed)
        prompts = [self.render(m) for m in messages_list]
        sample = temperature > 0
        out: list[list[str]] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = prompts[start : start + self.batch_size]
            enc = self.tokenizer(chunk, return_tensors="pt", padding=True, add_special_tokens=False).to(self.device)
            gen_kwargs: dict[str, Any] = {
                "max_new_tokens": max_new_tokens,
                "do_sample": sample,
                "num_return_sequences": n,
                "pad_token_id": self.tokenizer.pad_token_id,
                "eos_token_id": self.tokenizer.eos_token_id,
            }
            if sample:
                gen_kwargs.update(temperature=temperature, top_p=top_p, top_k=0)
            with torch.inference_mode():
                ids = self.model.generate(**enc, **gen_kwargs)
            texts = self.tokenizer.batch_decode(ids[:, enc["input_ids"].shape[1] :], skip_special_tokens=True)
            out.extend(texts[i * n : (i + 1) * n] for i in range(len(chunk)))
        return out
