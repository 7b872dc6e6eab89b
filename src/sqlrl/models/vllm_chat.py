"""A local model in a vLLM engine, as a :class:`~sqlrl.models.chat.ChatModel` (vLLM and a CUDA device).

The vLLM path is deliberately small and is not exercised by the test suite (vLLM is not a
dependency of sqlrl and needs a GPU): :class:`VllmChatModel` calls ``LLM.chat`` with one
``SamplingParams(n=..., seed=...)``; the chat template is the model's own, as with transformers.
Completions of vLLM and transformers differ even with equal seeds.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from sqlrl.models.chat import GeneratingChatModel, Messages

__all__ = ["VllmChatModel"]


class VllmChatModel(GeneratingChatModel):  # pragma: no cover - needs vLLM and a GPU
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
