"""Any OpenAI-compatible chat-completions endpoint as a :class:`~sqlrl.models.chat.ChatModel`:
:class:`OpenAIChatModel`, through the ``openai`` client (imported when a model is built).

It has a base URL, the key from an environment variable, a timeout per request, bounded retries
with exponential backoff, and a concurrency limit shared by all threads using the model; it never
raises for a failed request.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any

from sqlrl.models.chat import ChatResult, Messages, short_text
from sqlrl.sandbox.parallel import parallel_map

__all__ = ["OpenAIChatModel"]


def _import_openai() -> Any:
    try:
        import openai
    except ImportError as e:
        raise ImportError('the OpenAI-compatible backend needs the openai client: pip install "sqlrl[verbal]"') from e
    return openai


class OpenAIChatModel:
    """Any OpenAI-compatible chat-completions endpoint (vLLM ``vllm serve``, hosted APIs).

    Args:
        model: the model name the server expects.
        base_url: the API root, e.g. ``http://localhost:8000/v1`` (None: the client's default,
            ``$OPENAI_BASE_URL`` or api.openai.com).
        api_key_env: environment variable holding the key. When it is unset the key ``"EMPTY"``
            is sent, which vLLM's server accepts when started without ``--api-key``.
        api_key: the key itself (overrides ``api_key_env``; prefer the environment).
        timeout: seconds per request (connect, read and write).
        max_retries: retries of a request that timed out, could not connect, got 408, 409, 429
            or 5xx, or got a reply that is not a chat completion. Other errors (400, 401, 404, ...)
            fail at once.
        backoff: seconds before the first retry; doubled at each retry, with up to 10% jitter.
        max_backoff: longest wait between two tries (a ``Retry-After`` header is honoured up to it).
        concurrency: requests in flight at most, over all threads using this backend.
        n_per_request: most completions asked in one request (servers without ``n`` support:
            1; None: all at once).
        extra_body: extra JSON fields for every request (e.g. vLLM's ``{"top_k": 20}``).

    So one request takes at most ``(max_retries + 1) * timeout + max_retries * max_backoff``
    seconds, and :meth:`chat` never raises for a failed request. The retries are this class's
    own, not the ``openai`` client's (built with ``max_retries=0``): each try is counted in
    :attr:`ChatResult.tries <sqlrl.models.chat.ChatResult.tries>`, a reply that is not a chat
    completion is retried too, the backoff is set here, and a backoff wait holds no concurrency slot.

    ``top_p=None`` in :meth:`chat` leaves ``top_p`` out of the request (the server's default).
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
        top_p: float | None = 1.0,
        max_tokens: int = 512,
        seed: int | None = None,
    ) -> list[ChatResult]:
        opts = dict(temperature=temperature, top_p=top_p, max_tokens=max_tokens, seed=seed)
        if len(conversations) <= 1:
            return [self._complete(list(m), n, opts) for m in conversations]
        return parallel_map(lambda m: self._complete(list(m), n, opts), conversations, workers=self.concurrency)

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
        )
        if opts["top_p"] is not None:
            kwargs["top_p"] = opts["top_p"]
        kwargs["max_tokens"] = opts["max_tokens"]
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
                error = f"HTTP {e.status_code}: {short_text(e.message)}"
                if e.status_code < 500 and e.status_code not in self.RETRY_STATUS:
                    return ChatResult(error=error, tries=attempt + 1)
                wait = min(self.max_backoff, _retry_after(e) or wait)
            except (openai.OpenAIError, ValueError, TypeError, AttributeError) as e:
                # a reply that is not a chat completion (bad JSON, missing fields)
                error = f"bad response: {type(e).__name__}: {short_text(str(e))}"
            if attempt < self.max_retries:
                time.sleep(wait)
        return ChatResult(error=f"{error} ({self.max_retries + 1} tries)", tries=self.max_retries + 1)


def _retry_after(e: Any) -> float | None:
    try:
        value = e.response.headers.get("retry-after")
        return float(value) if value is not None else None
    except (AttributeError, TypeError, ValueError):
        return None
