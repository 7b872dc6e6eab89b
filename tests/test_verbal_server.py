"""A chat-completions server on loopback for the verbal tests, and the HTTP backend's tests against it.

:class:`ChatServer` speaks the OpenAI chat-completions protocol over real HTTP (stdlib
``http.server`` in a thread). Its ``responder(request)`` returns a list of completion texts, or
``(status, body)`` for an error reply, and may sleep to provoke client timeouts. Other verbal test
modules import it from here.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

pytest.importorskip("openai")

from sqlrl.verbal import OpenAIChatBackend  # noqa: E402

Responder = Callable[[dict[str, Any]], Any]


class ChatServer:
    """``POST /v1/chat/completions`` answered by ``responder``; every request body is kept in ``requests``."""

    def __init__(self, responder: Responder | None = None) -> None:
        self.responder: Responder = responder or (lambda req: ["```sql\nSELECT 1\n```"] * req.get("n", 1))
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # keep the test output clean
                pass

            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                length = int(self.headers.get("content-length") or 0)
                body = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if not self.path.rstrip("/").endswith("/chat/completions"):
                        return self._send(404, {"error": {"message": f"no route {self.path}"}})
                    reply = server.responder(body)
                    if isinstance(reply, tuple):
                        status, payload = reply
                        return self._send(status, payload)
                    return self._send(200, completion(reply, body))
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout): nothing to answer
                finally:
                    with server._lock:
                        server.in_flight -= 1

            def _send(self, status: int, payload: Any) -> None:
                data = payload.encode() if isinstance(payload, str) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                if status >= 400:
                    self.send_header("retry-after-ms", "5")  # the client's retries wait what the server asks
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> ChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def completion(texts: list[str], request: dict[str, Any]) -> dict[str, Any]:
    """A chat.completion object holding ``texts`` as its choices."""
    return {
        "id": "chatcmpl-test",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": request.get("model", "test"),
        "choices": [
            {"index": i, "message": {"role": "assistant", "content": t}, "finish_reason": "stop", "logprobs": None}
            for i, t in enumerate(texts)
        ],
        "usage": {"prompt_tokens": 10, "completion_tokens": 5 * len(texts), "total_tokens": 10 + 5 * len(texts)},
    }


def backend(url: str, **kwargs: Any) -> OpenAIChatBackend:
    """A backend with short timeouts for the tests (the server's errors ask for a 5 ms backoff)."""
    opts: dict[str, Any] = {"timeout": 5.0, "max_retries": 2}
    opts.update(kwargs)
    return OpenAIChatBackend("test-model", base_url=url, **opts)


@pytest.fixture
def server():
    with ChatServer() as s:
        yield s


USER = [{"role": "user", "content": "hi"}]


def test_completions_and_request_fields(server, monkeypatch):
    monkeypatch.setenv("SQLRL_TEST_KEY", "sk-secret")
    server.responder = lambda req: [f"answer {i}" for i in range(req["n"])]
    be = backend(server.url, api_key_env="SQLRL_TEST_KEY", extra_body={"top_k": 20})
    (res,) = be.chat([USER], n=3, temperature=0.5, top_p=0.9, max_tokens=7, seed=11)
    assert res.ok and res.texts == ["answer 0", "answer 1", "answer 2"] and res.tries == 1
    assert res.usage == {"prompt_tokens": 10, "completion_tokens": 15}
    req = server.requests[0]
    assert (req["model"], req["n"], req["temperature"], req["top_p"], req["max_tokens"], req["seed"], req["top_k"]) == (
        "test-model",
        3,
        0.5,
        0.9,
        7,
        11,
        20,
    )
    assert req["messages"] == USER
    assert server.headers[0]["authorization"] == "Bearer sk-secret"


def test_missing_key_sends_empty(server, monkeypatch):
    monkeypatch.delenv("SQLRL_NO_SUCH_KEY", raising=False)
    backend(server.url, api_key_env="SQLRL_NO_SUCH_KEY").chat([USER])
    assert server.headers[0]["authorization"] == "Bearer EMPTY"


@pytest.mark.parametrize(
    ("failures", "status", "ok", "tries"),
    [
        (2, 500, True, 3),  # two 500s, then an answer
        (1, 429, True, 2),  # rate limited once
        (1, 503, True, 2),
        (9, 500, False, 3),  # 500s beyond the retries: a failed result, no exception
        (9, 400, False, 1),  # client errors are not retried
        (9, 401, False, 1),
        (9, 404, False, 1),
    ],
)
def test_retries_on_server_errors(server, failures, status, ok, tries):
    count = [0]

    def responder(req):
        count[0] += 1
        if count[0] <= failures:
            return status, {"error": {"message": f"boom {status}", "type": "server_error"}}
        return ["SELECT 1"]

    server.responder = responder
    (res,) = backend(server.url).chat([USER])
    assert res.ok is ok and res.tries == tries and len(server.requests) == tries
    if not ok:
        assert f"HTTP {status}" in res.error and res.texts == []


def test_timeout_is_bounded_and_retried(server):
    server.responder = lambda req: time.sleep(3.0) or ["late"]
    t0 = time.perf_counter()
    (res,) = backend(server.url, timeout=0.25, max_retries=1).chat([USER])
    assert not res.ok and "timeout" in res.error and res.tries == 2
    assert time.perf_counter() - t0 < 2.5  # two tries of 0.25 s and the client's backoff (at most 0.5 s)


def test_malformed_200_and_connection_refused(server):
    server.responder = lambda req: (200, "this is not json")
    (res,) = backend(server.url, max_retries=1).chat([USER])
    assert not res.ok and res.tries == 1 and "bad response" in res.error  # a reply, but no completion: not retried
    server.responder = lambda req: (200, {"unexpected": True})
    (res,) = backend(server.url, max_retries=0).chat([USER])
    assert res.texts == [] or not res.ok  # no choices: nothing usable, never an exception
    dead = ChatServer()  # bound, never started, then closed: the port refuses
    url = dead.url
    dead._server.server_close()
    (res,) = backend(url, max_retries=1, timeout=1.0).chat([USER])
    assert not res.ok and "connection" in res.error


def test_concurrency_limit_over_threads(server):
    server.responder = lambda req: time.sleep(0.1) or ["x"]
    be = backend(server.url, concurrency=2)
    results = be.chat([USER] * 6)
    assert [r.texts for r in results] == [["x"]] * 6
    assert server.max_in_flight <= 2 and len(server.requests) == 6


def test_n_per_request_splits(server):
    server.responder = lambda req: [f"s{req.get('seed')}"] * req["n"]
    (res,) = backend(server.url, n_per_request=2).chat([USER], n=5, seed=100)
    assert [r["n"] for r in server.requests] == [2, 2, 1]
    assert res.texts == ["s100", "s100", "s102", "s102", "s104"] and res.tries == 3


def test_backoff_settings_are_deprecated(server):
    with pytest.warns(FutureWarning, match="backoff"):
        be = backend(server.url, backoff=0.01)
    (res,) = be.chat([USER])
    assert res.ok


def test_bad_settings():
    with pytest.raises(ValueError):
        OpenAIChatBackend("m", timeout=0)
    with pytest.raises(ValueError):
        OpenAIChatBackend("m", concurrency=0)
