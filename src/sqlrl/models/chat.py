"""One interface for every chat model: :class:`ChatModel`, whose :meth:`~ChatModel.chat` gives ``n``
completions for each conversation as a :class:`ChatResult`.

Models that have it (torch, transformers, vLLM and openai are imported only when one is built):

- :class:`sqlrl.models.local.LocalChatModel`: a local Hugging Face causal LM (transformers);
- :class:`sqlrl.models.vllm_chat.VllmChatModel`: a local model in a vLLM engine (CUDA);
- :class:`sqlrl.models.openai_chat.OpenAIChatModel`: any OpenAI-compatible chat-completions endpoint
  (``vllm serve``, hosted APIs) through the ``openai`` client;
- :class:`FunctionChatModel`: a Python function, for scripted runs and simulations.

``sqlrl generate``, ``sqlrl verbal`` and the judge reward (:mod:`sqlrl.rewards.judge`) ask their
models through it. A model never raises for a failed request: its :class:`ChatResult` then has
``error`` set (and ``exception``, when one was caught), and callers that must stop on a failure
(``sqlrl generate``) re-raise it with :func:`raise_failed`.

>>> echo = FunctionChatModel(lambda messages, n, **kw: [messages[-1]["content"].upper()] * n)
>>> echo.chat([[{"role": "user", "content": "select 1"}]], n=2)[0].texts
['SELECT 1', 'SELECT 1']
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = [
    "BACKENDS",
    "ChatModel",
    "ChatResult",
    "FunctionChatModel",
    "GenerateChatModel",
    "Messages",
    "as_chat_model",
    "load_chat_model",
    "raise_failed",
    "vllm_available",
]

#: One conversation: ``{"role": ..., "content": ...}`` messages.
Messages = Sequence[Mapping[str, str]]

#: The local backends :func:`load_chat_model` knows (``auto``: vLLM when it can run, else transformers).
BACKENDS = ("auto", "transformers", "vllm")


@dataclass
class ChatResult:
    """The completions of one conversation.

    Attributes:
        texts: the completions (fewer than asked when the server returned fewer; none on error).
        error: why the request failed after its retries (None when it succeeded).
        elapsed: seconds spent, retries and backoff included.
        tries: requests sent (1 + retries used).
        usage: token counts reported by the server (``prompt_tokens``, ``completion_tokens``).
        exception: the exception behind ``error`` when one was caught in this process (not compared,
            not shown); :func:`raise_failed` re-raises it.
    """

    texts: list[str] = field(default_factory=list)
    error: str | None = None
    elapsed: float = 0.0
    tries: int = 1
    usage: dict[str, int] = field(default_factory=dict)
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @property
    def ok(self) -> bool:
        return self.error is None

    @classmethod
    def failed(cls, exc: BaseException, *, elapsed: float = 0.0, short: bool = False) -> ChatResult:
        """A failed result for ``exc``: ``error`` is ``"Type: message"`` (on one line of at most 300
        characters with ``short``)."""
        text = short_text(str(exc)) if short else str(exc)
        return cls(error=f"{type(exc).__name__}: {text}", elapsed=elapsed, exception=exc)


def short_text(text: str, limit: int = 300) -> str:
    """``text`` on one line (whitespace runs collapsed), cut to ``limit`` characters with ``...``."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


@runtime_checkable
class ChatModel(Protocol):
    """What ``sqlrl generate``, ``sqlrl verbal`` and the judge reward need from a model: ``n``
    completions for each conversation."""

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
        """One :class:`ChatResult` per conversation, in order; never raises for a failed request."""
        ...


def raise_failed(results: Sequence[ChatResult]) -> None:
    """Raise the first failure of ``results``: its exception, else a ``RuntimeError`` with its error."""
    for r in results:
        if not r.ok:
            if r.exception is not None:
                raise r.exception
            raise RuntimeError(r.error)


class FunctionChatModel:
    """A model calling ``fn(messages, n=..., temperature=..., top_p=..., max_tokens=..., seed=...)``,
    which returns ``n`` strings. An exception becomes a failed :class:`ChatResult`."""

    def __init__(self, fn: Callable[..., Sequence[str]], name: str = "function") -> None:
        self.fn = fn
        self.name = name

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
        out = []
        for messages in conversations:
            t0 = time.perf_counter()
            try:
                texts = self.fn(messages, n=n, temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed)
                out.append(ChatResult([str(t) for t in texts][:n], elapsed=time.perf_counter() - t0))
            except Exception as e:  # noqa: BLE001 - a failed call is data, not a crash
                out.append(ChatResult.failed(e, elapsed=time.perf_counter() - t0))
        return out


class GeneratingChatModel:
    """A :class:`ChatModel` whose :meth:`chat` runs its ``generate(messages_list, *, n, temperature, top_p,
    max_new_tokens, seed) -> list[list[str]]`` (under ``self._lock`` when it has one): one result per
    conversation; an exception fails every conversation of the call instead of propagating."""

    #: failed results carry the exception's short text (True) or its full ``repr``-style text (False)
    short_errors = True

    def generate(self, messages_list: Sequence[Messages], **options: Any) -> list[list[str]]:
        raise NotImplementedError

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
        t0 = time.perf_counter()
        try:
            with getattr(self, "_lock", None) or contextlib.nullcontext():
                outs = self.generate(
                    [[dict(m) for m in conv] for conv in conversations],
                    n=n, temperature=temperature, top_p=top_p, max_new_tokens=max_tokens, seed=seed,
                )  # fmt: skip
        except Exception as e:  # noqa: BLE001 - a failed generation is data, not a crash
            elapsed = time.perf_counter() - t0
            return [ChatResult.failed(e, elapsed=elapsed, short=self.short_errors) for _ in conversations]
        elapsed = (time.perf_counter() - t0) / max(1, len(conversations))
        return [ChatResult(list(texts), elapsed=elapsed) for texts in outs]


class GenerateChatModel(GeneratingChatModel):
    """A :class:`ChatModel` over an object with only ``generate(messages_list, *, n, temperature, top_p,
    max_new_tokens, seed) -> list[list[str]]`` (the interface of sqlrl's local models before
    :meth:`ChatModel.chat`, which ``sqlrl generate`` still accepts)."""

    short_errors = False

    def __init__(self, model: Any) -> None:
        self.model = model
        self.name = type(model).__name__
        self._lock = getattr(model, "_lock", None)

    def generate(self, messages_list: Sequence[Messages], **options: Any) -> list[list[str]]:
        return self.model.generate(messages_list, **options)


def as_chat_model(model: Any) -> ChatModel:
    """``model`` itself when it has ``chat``; a :class:`GenerateChatModel` when it has only ``generate``.

    Raises:
        TypeError: it has neither.
    """
    if callable(getattr(model, "chat", None)):
        return model
    if callable(getattr(model, "generate", None)):
        return GenerateChatModel(model)
    raise TypeError(f"{type(model).__name__} is not a chat model: it has no chat() (nor generate()) method")


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
    """A local chat model for the folder ``path``: :class:`~sqlrl.models.local.LocalChatModel`
    (transformers) or :class:`~sqlrl.models.vllm_chat.VllmChatModel`; ``backend="auto"`` takes vLLM
    when it is installed and a CUDA device is present.

    Raises:
        FileNotFoundError: see :func:`sqlrl.models.local.check_model_dir`.
        ValueError: unknown ``backend``.
        ImportError: ``backend="vllm"`` without vLLM, or transformers/torch missing.
    """
    from sqlrl.models.local import LocalChatModel, check_model_dir

    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {', '.join(BACKENDS)}, got {backend!r}")
    path = check_model_dir(path)
    if backend == "vllm" or (backend == "auto" and vllm_available()):
        from sqlrl.models.vllm_chat import VllmChatModel

        return VllmChatModel(path, dtype=dtype)
    return LocalChatModel(path, device=device, dtype=dtype, batch_size=batch_size)
