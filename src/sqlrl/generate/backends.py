"""Chat models for ``sqlrl generate``: transformers (:class:`~sqlrl.models.local.LocalChatModel`) or vLLM.

Both have ``generate(messages_list, *, n, temperature, top_p, max_new_tokens, seed) ->
list[list[str]]``, ``n`` completions per conversation. ``backend="auto"`` takes vLLM when it is
installed and a CUDA device is present, else transformers.

The vLLM path is deliberately small and is not exercised by the test suite (vLLM is not a
dependency of sqlrl and needs a GPU): :class:`VllmChatModel` calls ``LLM.chat`` with one
``SamplingParams(n=..., seed=...)``; the chat template is the model's own, as with transformers.
Completions of the two backends differ even with equal seeds.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Sequence
from typing import Any

from sqlrl.models.local import check_model_dir

__all__ = ["BACKENDS", "VllmChatModel", "check_model_dir", "load_chat_model", "vllm_available"]

BACKENDS = ("auto", "transformers", "vllm")
Messages = Sequence[dict[str, str]]


def vllm_available() -> bool:
    """vLLM importable and a CUDA device present."""
    if importlib.util.find_spec("vllm") is None:
        return False
    import torch

    return torch.cuda.is_available()


def load_chat_model(
    path: str | os.PathLike[str],
    *,
    backend: str = "auto",
    device: str | None = None,
    dtype: str | None = None,
    batch_size: int = 8,
) -> Any:
    """A chat model for ``path``: :class:`~sqlrl.models.local.LocalChatModel` or :class:`VllmChatModel`.

    Raises:
        FileNotFoundError: see :func:`check_model_dir`.
        ValueError: unknown ``backend``.
        ImportError: ``backend="vllm"`` without vLLM, or transformers/torch missing.
    """
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    path = check_model_dir(path)
    if backend == "vllm" or (backend == "auto" and vllm_available()):
        return VllmChatModel(path, dtype=dtype)
    from sqlrl.models.local import LocalChatModel

    return LocalChatModel(path, device=device, dtype=dtype, batch_size=batch_size)


class VllmChatModel:  # pragma: no cover - needs vLLM and a GPU
    """A vLLM engine with the :class:`~sqlrl.models.local.LocalChatModel` interface.

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
        from vllm import SamplingParams

        params = SamplingParams(n=n, temperature=temperature, top_p=top_p, max_tokens=max_new_tokens, seed=seed)
        outputs = self.llm.chat([list(m) for m in messages_list], params, use_tqdm=False)
        return [[o.text for o in out.outputs] for out in outputs]
