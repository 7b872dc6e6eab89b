"""Any OpenAI-compatible chat-completions endpoint as a :class:`~sqlrl.models.chat.ChatModel`:
:class:`OpenAIChatModel`, through the ``openai`` client (imported when a model is built).

It has a base URL, the key from an environment variable, a timeout per request, the client's own
bounded retries, and a concurrency limit shared by all threads using the model; it never raises for
a failed request.
"""

from __future__ import annotations

import os
import threading
import time
import warnings
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
        max_retries: retries of a request, left to the ``openai`` client: it retries a timeout, a
            refused connection, 408, 409, 429 and 5xx with exponential backoff (0.5 s doubling to
            8 s, or the server's ``Retry-After``); other errors (400, 401, 404, ...) fail at once.
        backoff, max_backoff: deprecated and ignored (the client sets the backoff).
        concurrency: requests in flight at most, over all threads using this backend.
        n_per_request: most completions asked in one request (servers without ``n`` support:
            1; None: all at once).
        extra_body: extra JSON fields for every request (e.g. vLLM's ``{"top_k": 20}``).

    :meth:`chat` never raises for a failed request: the result carries the error, and
    :attr:`ChatResult.tries <sqlrl.models.chat.ChatResult.tries>` counts the HTTP requests the
    client sent for it. A reply that is not a chat completion (not JSON, no choices) fails at once.

    ``top_p=None`` in :meth:`chat` leaves ``top_p`` out of the request (the server's default).
    """

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key_env: str = "OPENAI_API_KEY",
        api_key: str | None = None,
        timeout: float = 60.0,
        max_retries: int = 3,
        backoff: float | None = None,
        max_backoff: float | None = None,
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
        if backoff is not None or max_backoff is not None:
            warnings.warn(
                "OpenAIChatModel: backoff and max_backoff are ignored; the openai client sets the backoff",
                FutureWarning,
                stacklevel=2,
            )
        openai = _import_openai()
        self.model = model
        self.name = f"openai:{model}"
        self.timeout = float(timeout)
        self.max_retries = int(max_retries)
        self.concurrency = int(concurrency)
        self.n_per_request = n_per_request
        self.extra_body = dict(extra_body or {})
        key = api_key or os.environ.get(api_key_env) or "EMPTY"
        # Each HTTP request the client sends (first try or retry) passes this hook in the calling thread.
        self._sent = threading.local()
        http = openai.DefaultHttpxClient(event_hooks={"request": [self._count_request]})
        self._client = openai.OpenAI(
            base_url=base_url, api_key=key, timeout=self.timeout, max_retries=self.max_retries, http_client=http
        )
        self._openai = openai
        self._slots = threading.BoundedSemaphore(self.concurrency)

    def _count_request(self, request: Any) -> None:
        self._sent.count = getattr(self._sent, "count", 0) + 1

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
        self._sent.count = 0
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
            return ChatResult(texts, tries=self._sent.count, usage=usage)
        except openai.APITimeoutError:
            error = f"timeout after {self.timeout:g} s"
        except openai.APIConnectionError as e:
            error = f"connection error: {e}"
        except openai.APIStatusError as e:
            error = f"HTTP {e.status_code}: {short_text(e.message)}"
        except (openai.OpenAIError, ValueError, TypeError, AttributeError) as e:
            # a reply that is not a chat completion (bad JSON, missing fields)
            error = f"bad response: {type(e).__name__}: {short_text(str(e))}"
        tries = self._sent.count
        return ChatResult(error=f"{error} ({tries} tries)" if tries > 1 else error, tries=tries)
