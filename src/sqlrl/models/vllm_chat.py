"""A local model in a vLLM engine, as a :class:`~sqlrl.models.chat.ChatModel` (vLLM and a CUDA device).

The vLLM path is deliberately small and is not exercised by the test suite (vLLM is not a
dependency of sqlrl and needs a GPU): :class:`VllmChatModel` calls ``LLM.chat`` with one
``SamplingParams(n=..., seed=...)``; the chat template is the model's own, as with transformers.
Completions of vLLM and transformers differ even with equal seeds.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

from sqlrl.models.chat import ChatResult, Messages

__all__ = ["VllmChatModel"]


class VllmChatModel:  # pragma: no cover - needs vLLM and a GPU
    """A vLLM engine with the :class:`~sqlrl.models.local.LocalChatModel` interface (``chat`` and ``generate``).

    Args:
        path: local model folder.
        dtype: vLLM dtype (default ``"auto"``).
        engine_kwargs: more ``vllm.LLM`` arguments (``gpu_memory_utilization``, ``max_model_len``, ...).
    """

    #: Conversations handed to vLLM per call by ``sqlrl generate`` (vLLM batches them itself).
    chunk_size = 512

    def __init__(self, path: str | os.PathLike[str], *, dtype: str | None = None, **engine_kwargs: Any) -> None:
        try:
            from vllm import LLM
        except ImportError as exc:
            raise ImportError("backend 'vllm' needs vLLM: pip install vllm (CUDA)") from exc
        self.llm = LLM(model=os.fspath(path), dtype=dtype or "auto", **engine_kwargs)
        self.name = f"vllm:{os.fspath(path)}"

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
        """``n`` completions for each conversation; raises on failure."""
        from vllm import SamplingParams

        params = SamplingParams(n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens, seed=seed)
        outputs = self.llm.chat([list(m) for m in messages_list], params, use_tqdm=False)
        return [[o.text for o in out.outputs] for out in outputs]

    def chat(
        self,
        conversations: Sequence[Messages],
        *,
        n: int = 1,
        temperature: float = 0.0,
        top_p: float = 1.0,
        max_tokens: int = 512,
        seed: int | None = None,
    ) -> list[ChatResult]:
        """:meth:`generate` as a :class:`~sqlrl.models.chat.ChatModel` (an exception fails every conversation)."""
        t0 = time.perf_counter()
        try:
            outs = self.generate(conversations, n=n, temperature=temperature, top_p=top_p, max_new_tokens=max_tokens,
                                 seed=seed)  # fmt: skip
        except Exception as e:  # noqa: BLE001 - a failed generation is data, not a crash
            elapsed = time.perf_counter() - t0
            return [ChatResult.failed(e, elapsed=elapsed, short=True) for _ in conversations]
        elapsed = (time.perf_counter() - t0) / max(1, len(conversations))
        return [ChatResult(texts, elapsed=elapsed) for texts in outs]
