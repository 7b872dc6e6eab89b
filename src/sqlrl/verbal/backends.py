"""Chat backends behind one small interface, :class:`ChatBackend`.

- :class:`OpenAIChatBackend`: any OpenAI-compatible chat-completions endpoint (vLLM's server,
  hosted APIs) through the ``openai`` client, with a base URL, the key from an environment
  variable, a timeout per request, retries with exponential backoff, and a concurrency limit
  shared by all threads using the backend.
- :class:`LocalChatBackend`: a local Hugging Face causal LM (:class:`sqlrl.models.local.LocalChatModel`;
  torch is imported only when it is built).
- :class:`FunctionBackend`: a Python function, for scripted runs and simulations.

A backend never raises for a failed request: :meth:`ChatBackend.chat` returns one
:class:`ChatResult` per conversation, with ``error`` set when it failed after its retries.

>>> echo = FunctionBackend(lambda messages, n, **kw: [messages[-1]["content"].upper()] * n)
>>> echo.chat([[{"role": "user", "content": "select 1"}]], n=2)[0].texts
['SELECT 1', 'SELECT 1']
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

__all__ = ["ChatBackend", "ChatResult", "FunctionBackend", "LocalChatBackend", "OpenAIChatBackend"]

Messages = Sequence[Mapping[str, str]]


@dataclass
class ChatResult:
    """The completions of one conversation.

    Attributes:
        texts: the completions (fewer than asked when the server returned fewer; none on error).
        error: why the request failed after its retries (None when it succeeded).
        elapsed: seconds spent, retries and backoff included.
        tries: requests sent (1 + retries used).
        usage: token counts reported by the server (``prompt_tokens``, ``completion_tokens``).
    """

    texts: list[str] = field(default_factory=list)
    error: str | None = None
    elapsed: float = 0.0
    tries: int = 1
    usage: dict[str, int] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None


@runtime_checkable
class ChatBackend(Protocol):
    """What the verbal loop needs from a model: ``n`` completions for each conversation."""

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


class FunctionBackend:
    """A backend calling ``fn(messages, n=..., temperature=..., top_p=..., max_tokens=..., seed=...)``,
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
                out.append(ChatResult(error=f"{type(e).__name__}: {e}", elapsed=time.perf_counter() - t0))
        return out


def _import_openai() -> Any:
    try:
        import openai
    except ImportError as e:
        raise ImportError('the OpenAI-compatible backend needs the openai client: pip install "sqlrl[verbal]"') from e
    return openai


class OpenAIChatBackend:
    """Any OpenAI-compatible chat-completions endpoint (vLLM ``vllm serve``, hosted APIs).

    Args:
        model: the model name the server expects.
        base_url: the API root, e.g. ``http://localhost:8000/v1`` (None: the client's default,
            ``$OPENAI_BASE_URL`` or api.openai.com).
        api_key_env: environment variable holding the key. When it is unset the key ``"EMPTY"``
            is sent, which vLLM's server accepts when started without ``--api-key``.
        api_key: the key itself (overrides ``api_key_env``; prefer the environment).
        timeout: seconds per request (connect, read and write).
        max_retries: retries of a request that timed out, could not connect, or got 408, 409,
            429 or 5xx. Other errors (400, 401, 404, ...) fail at once.
        backoff: seconds before the first retry; doubled at each retry, with up to 10% jitter.
        max_backoff: longest wait between two tries (a ``Retry-After`` header is honoured up to it).
        concurrency: requests in flight at most, over all threads using this backend.
        n_per_request: most completions asked in one request (servers without ``n`` support:
            1; None: all at once).
        extra_body: extra JSON fields for every request (e.g. vLLM's ``{"top_k": 20}``).

    So one request takes at most ``(max_retries + 1) * timeout + max_retries * max_backoff``
    seconds, and :meth:`chat` never raises for a failed request.
    """

    RETRY_STATUS = frozenset({408, 409, 429})

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float = 1.0,
        max_backoff: float = 30.0,
        concurrency: int = 8,
        n_per_request: int | None = None,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        if timeout <= 0:
            raise ValueError(f"timeout must be positive, got {timeout}")
        if max_retries < 0 or concurrency < 1:
            raise ValueError("max_retries must be >= 0 and concurrency >= 1")
        if n_per_request is not None and n_per_request < 1:
            raise ValueError(f"n_per_request must be >= 1 or None, got {n_per_request}")
        openai = _import_openai()
        self.model = model
        self.name = f"openai:{model}"
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.concurrency = int(concurrency)
        self.n_per_request = n_per_request
        self.extra_body = dict(extra_body or {})
        key = api_key or os.environ.get(api_key_env) or "EMPTY"
        # The client's own retries are off: ours are bounded, logged and share the concurrency limit.
        self._client = openai.OpenAI(base_url=base_url, api_key=key, timeout=self.timeout, max_retries=0)
        self._openai = openai
        self._slots = threading.BoundedSemaphore(self.concurrency)
        self._rng = random.Random()

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
        opts = dict(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed)
        if len(conversations) <= 1:
            return [self._complete(list(m), n, opts) for m in conversations]
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(conversations))) as pool:
            return list(pool.map(lambda m: self._complete(list(m), n, opts), conversations))

    def _complete(self, messages: list[Mapping[str, str]], n: int, opts: dict[str, Any]) -> ChatResult:
        per = n if self.n_per_request is None else min(n, self.n_per_request)
        total = ChatResult(tries=0)
        t0 = time.perf_counter()
        asked = 0
        while asked < n:
            k = min(per, n - asked)
            seed = opts["seed"] if opts["seed"] is None or asked == 0 else opts["seed"] + asked
            part = self._request(messages, k, {**opts, "seed": seed})
            total.tries += part.tries
            for key, v in part.usage.items():
                total.usage[key] = total.usage.get(key, 0) + v
            if not part.ok:
                total.error = part.error
                break
            total.texts.extend(part.texts[:k])
            asked += k
        total.elapsed = time.perf_counter() - t0
        return total

    def _request(self, messages: list[Mapping[str, str]], n: int, opts: dict[str, Any]) -> ChatResult:
        openai = self._openai
        kwargs: dict[str, Any] = dict(
            model=self.model,
            messages=messages,
            n=n,
            temperature=opts["temperature"],
            top_p=opts["top_p"],
            max_tokens=opts["max_tokens"],
        )
        if opts["seed"] is not None:
            kwargs["seed"] = opts["seed"]
        if self.extra_body:
            kwargs["extra_body"] = self.extra_body
        error = ""
        for attempt in range(self.max_retries + 1):
            wait = min(self.max_backoff, self.backoff * 2**attempt) * (1 + 0.1 * self._rng.random())
            try:
                with self._slots:
                    response = self._client.chat.completions.create(**kwargs)
                texts = [c.message.content or "" for c in sorted(response.choices or [], key=lambda c: c.index)]
                usage = {}
                if response.usage is not None:
                    usage = {
                        "prompt_tokens": int(response.usage.prompt_tokens or 0),
                        "completion_tokens": int(response.usage.completion_tokens or 0),
                    }
                return ChatResult(texts, tries=attempt + 1, usage=usage)
            except openai.APITimeoutError:
                error = f"timeout after {self.timeout:g} s"
            except openai.APIConnectionError as e:
                error = f"connection error: {e}"
            except openai.APIStatusError as e:
                error = f"HTTP {e.status_code}: {_short(e.message)}"
                if e.status_code < 500 and e.status_code not in self.RETRY_STATUS:
                    return ChatResult(error=error, tries=attempt + 1)
                wait = min(self.max_backoff, _retry_after(e) or wait)
            except (openai.OpenAIError, ValueError, TypeError, AttributeError) as e:
                # a reply that is not a chat completion (bad JSON, missing fields)
                error = f"bad response: {type(e).__name__}: {_short(str(e))}"
            if attempt < self.max_retries:
                time.sleep(wait)
        return ChatResult(error=f"{error} ({self.max_retries + 1} tries)", tries=self.max_retries + 1)


def _short(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _retry_after(e: Any) -> float | None:
    try:
        value = e.response.headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


class LocalChatBackend:
    """A local Hugging Face chat model (:class:`sqlrl.models.local.LocalChatModel`).

    Args:
        model: a model folder on disk, a loaded ``PreTrainedModel`` (then pass ``tokenizer``), or a
            ready :class:`~sqlrl.models.local.LocalChatModel`.
        tokenizer: the tokenizer of a loaded model.
        device: ``"cpu"``, ``"cuda"``, ... (default: CUDA when available).
        batch_size: conversations per forward batch.

    Generation runs under a lock (one batch at a time), so several loop threads can share it.
    """

    def __init__(self, model: Any, tokenizer: Any = None, *, device: str | None = None, batch_size: int = 16) -> None:
        from sqlrl.models.local import LocalChatModel

        if isinstance(model, LocalChatModel):
            self.model = model
        else:
            self.model = LocalChatModel(model, tokenizer, device=device, batch_size=batch_size)
        self.name = f"local:{model if isinstance(model, (str, os.PathLike)) else type(model).__name__}"
        self._lock = threading.Lock()

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
            with self._lock:
                outs = self.model.generate(
                    [[dict(m) for m in conv] for conv in conversations],
                    n=n,
                    temperature=temperature,
                    top_p=top_p,
                    max_new_tokens=max_tokens,
                    seed=seed,
                )
        except Exception as e:  # noqa: BLE001 - a failed generation is data, not a crash
            error = f"{type(e).__name__}: {_short(str(e))}"
            return [ChatResult(error=error, elapsed=time.perf_counter() - t0) for _ in conversations]
        elapsed = (time.perf_counter() - t0) / max(1, len(conversations))
        return [ChatResult(list(texts), elapsed=elapsed) for texts in outs]
