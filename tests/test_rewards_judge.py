"""The LLM-judge reward against a loopback OpenAI-compatible server answering scripted replies."""

from __future__ import annotations

import json
import pickle
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from sqlrl.rewards import build_rewards, judge_reward, parse_judge_score

pytest.importorskip("openai")


class ScriptedServer:
    """``POST /v1/chat/completions`` answered by ``script(prompt, call_number)``: a reply text, an int
    HTTP status, ``("raw", body)`` or ``("sleep", seconds, text)``."""

    def __init__(self) -> None:
        self.script: Callable[[str, int], object] = lambda prompt, n: "SCORE: 1"
        self.prompts: list[str] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                prompt = body["messages"][-1]["content"]
                server.prompts.append(prompt)
                action = server.script(prompt, len(server.prompts))
                if isinstance(action, tuple) and action[0] == "sleep":
                    time.sleep(action[1])
                    action = action[2]
                if isinstance(action, int):
                    self._send(action, json.dumps({"error": {"message": "scripted failure"}}).encode())
                elif isinstance(action, tuple) and action[0] == "raw":
                    self._send(200, action[1])
                else:
                    reply = {
                        "id": "chatcmpl-1",
                        "object": "chat.completion",
                        "created": 0,
                        "model": body["model"],
                        "choices": [
                            {"index": 0, "message": {"role": "assistant", "content": action}, "finish_reason": "stop"}
                        ],
                        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
                    }
                    self._send(200, json.dumps(reply).encode())

            def _send(self, status: int, data: bytes) -> None:
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client gave up (timeout test)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = ScriptedServer()
    yield s
    s.close()


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("judge") / "j.sqlite"
    con = sqlite3.connect(path)
    con.executescript("CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, 'y');")
    con.commit()
    con.close()
    return str(path)


GOLD = "SELECT a FROM t"
COMPLETIONS = ["```sql\nSELECT a FROM t\n```", "```sql\nSELECT a FROM t WHERE a > 1\n```", "```sql\nSELECT c FROM t\n```",
               "no sql"]  # fmt: skip


def judge_call(reward, completions=COMPLETIONS, **extra):
    n = len(completions)
    return reward(
        prompts=["q"] * n,
        completions=completions,
        gold_sql=[GOLD] * n,
        db_path=[extra.pop("db")] * n,
        question=["Which a?"] * n,
        **extra,
    )


def test_judge_only_where_execution_fails(server, db):
    server.script = lambda prompt, n: "The candidate uses a missing column.\nSCORE: 0.25"
    metrics: dict[str, float] = {}
    reward = judge_reward(model="judge-model", base_url=server.url, timeout=5.0, max_retries=0)
    assert judge_call(reward, db=db, log_metric=metrics.__setitem__) == [None, None, 0.25, 0.0]
    assert len(server.prompts) == 1
    prompt = server.prompts[0]
    assert "Which a?" in prompt and "SELECT a FROM t" in prompt and "SELECT c FROM t" in prompt
    assert "no such column" in prompt and 'CREATE TABLE "t"' in prompt
    assert metrics["judge/calls"] == 1 and metrics["judge/failed"] == 0.0 and metrics["judge/consulted"] == 0.5
    judge_call(reward, db=db)  # memoised by prompt: no second request
    assert len(server.prompts) == 1


def test_judge_on_mismatch_and_always(server, db):
    server.script = lambda prompt, n: '{"score": 0.5}'
    mismatch = judge_reward(model="m", base_url=server.url, when="mismatch", max_retries=0)
    assert judge_call(mismatch, db=db) == [None, 0.5, 0.5, 0.0]
    always = judge_reward(model="m", base_url=server.url, when="always", max_retries=0)
    assert judge_call(always, db=db) == [0.5, 0.5, 0.5, 0.0]


@pytest.mark.parametrize(
    "reply",
    ["I think it is fine.", "SCORE: 7", "", ("raw", b"this is not json"), ("raw", b'{"choices": []}'), 500, 404],
)
def test_malformed_replies_and_server_errors_give_none(server, db, reply):
    server.script = lambda prompt, n: reply
    metrics: dict[str, float] = {}
    reward = judge_reward(model="m", base_url=server.url, timeout=5.0, max_retries=0)
    out = judge_call(reward, [COMPLETIONS[2]], db=db, log_metric=metrics.__setitem__)
    assert out == [None]
    assert metrics["judge/failed"] == 1.0
    assert judge_call(reward, [COMPLETIONS[2]], db=db) == [None]
    assert len(server.prompts) == 2  # failures are not memoised


def test_retry_after_a_server_error(server, db):
    server.script = lambda prompt, n: 503 if n == 1 else "SCORE: 0.9"
    reward = judge_reward(model="m", base_url=server.url, timeout=5.0, max_retries=1)
    assert judge_call(reward, [COMPLETIONS[2]], db=db) == [0.9]
    assert len(server.prompts) == 2


def test_every_call_is_bounded_by_the_timeout(server, db):
    server.script = lambda prompt, n: ("sleep", 3.0, "SCORE: 1")
    reward = judge_reward(model="m", base_url=server.url, timeout=0.3, max_retries=0)
    t0 = time.perf_counter()
    assert judge_call(reward, [COMPLETIONS[2]], db=db) == [None]
    assert time.perf_counter() - t0 < 2.0


def test_judge_in_a_spec_and_pickled(server, db):
    server.script = lambda prompt, n: "SCORE: 0.75"
    funcs, weights = build_rewards(
        [
            {"name": "execution"},
            {"name": "judge", "weight": 0.2, "model": "m", "base_url": server.url, "max_retries": 0},
        ]
    )
    assert [f.__name__ for f in funcs] == ["execution", "judge"] and weights == [1.0, 0.2]
    copy = pickle.loads(pickle.dumps(funcs[1]))
    assert judge_call(copy, [COMPLETIONS[2]], db=db) == [0.75]


def test_construction_errors(monkeypatch):
    with pytest.raises(ValueError, match="fields"):
        judge_reward(model="m", prompt="Grade {sql}")
    with pytest.raises(ValueError, match="when"):
        judge_reward(model="m", when="sometimes")
    monkeypatch.setitem(sys.modules, "openai", None)  # import openai now raises ImportError
    with pytest.raises(ImportError, match="pip install"):
        judge_reward(model="m")


@pytest.mark.parametrize(
    "reply, expected",
    [("SCORE: 0.3", 0.3), ("score = 1", 1.0), ("Score: 0.2 ... final SCORE: 0.6", 0.6), ("0.4", 0.4),
     ('{"score": 0}', 0.0), ("SCORE: -0.1", None), ("SCORE: high", None), (None, None)],
)  # fmt: skip
def test_parse_judge_score(reply, expected):
    assert parse_judge_score(reply) == expected
