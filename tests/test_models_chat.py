"""The one chat-model interface of sqlrl.models: results, adapters, failures, and the former names."""

from __future__ import annotations

import pytest

from sqlrl.models.chat import (
    ChatModel,
    ChatResult,
    FunctionChatModel,
    GenerateChatModel,
    as_chat_model,
    raise_failed,
)

USER = [{"role": "user", "content": "hi"}]


class OldStyle:
    """A model with only the former ``generate`` interface."""

    def __init__(self, fail: bool = False) -> None:
        self.fail = fail

    def generate(self, messages_list, *, n, temperature, top_p, max_new_tokens, seed):
        if self.fail:
            raise MemoryError("out of memory")
        return [[f"{m[-1]['content']} {i} {max_new_tokens}" for i in range(n)] for m in messages_list]


def test_function_model_and_failures():
    model = FunctionChatModel(lambda messages, n, **kw: ["SELECT 1"] * (n + 1))
    assert isinstance(model, ChatModel)
    (res,) = model.chat([USER], n=2)
    assert res.ok and res.texts == ["SELECT 1", "SELECT 1"] and res.tries == 1 and res.usage == {}

    def boom(messages, **kw):
        raise ValueError("no\n  way")

    (res,) = FunctionChatModel(boom).chat([USER])
    assert not res.ok and res.error == "ValueError: no\n  way" and isinstance(res.exception, ValueError)
    assert ChatResult.failed(ValueError("a\n b" + "x" * 400), short=True).error.startswith("ValueError: a bx")
    assert len(ChatResult.failed(ValueError("x" * 400), short=True).error) == len("ValueError: ") + 300
    with pytest.raises(ValueError, match="no"):
        raise_failed([ChatResult(["ok"]), res])
    with pytest.raises(RuntimeError, match="HTTP 500"):
        raise_failed([ChatResult(error="HTTP 500: boom")])
    raise_failed([ChatResult(["fine"])])
    assert ChatResult(["a"]) == ChatResult(["a"], exception=KeyError())  # the exception is not compared


def test_generate_only_models_are_adapted():
    old = OldStyle()
    chat = as_chat_model(old)
    assert isinstance(chat, GenerateChatModel) and chat.model is old
    results = chat.chat([USER, [{"role": "user", "content": "yo"}]], n=2, max_tokens=7)
    assert [r.texts for r in results] == [["hi 0 7", "hi 1 7"], ["yo 0 7", "yo 1 7"]]
    failed = as_chat_model(OldStyle(fail=True)).chat([USER, USER])
    assert [r.ok for r in failed] == [False, False] and isinstance(failed[0].exception, MemoryError)
    function = FunctionChatModel(lambda messages, n, **kw: ["x"] * n)
    assert as_chat_model(function) is function
    with pytest.raises(TypeError, match="not a chat model"):
        as_chat_model(object())


def test_former_names_are_the_models():
    from sqlrl.models import OpenAIChatModel
    from sqlrl.verbal import ChatBackend, FunctionBackend, OpenAIChatBackend
    from sqlrl.verbal import ChatResult as VerbalChatResult

    assert (ChatBackend, FunctionBackend, OpenAIChatBackend) == (ChatModel, FunctionChatModel, OpenAIChatModel)
    assert VerbalChatResult is ChatResult
    from sqlrl.generate import backends
    from sqlrl.models import chat

    assert backends.load_chat_model is chat.load_chat_model and backends.BACKENDS == chat.BACKENDS


def test_openai_model_leaves_top_p_out_when_none():
    pytest.importorskip("openai")
    from test_verbal_server import ChatServer, backend

    with ChatServer() as server:
        (res,) = backend(server.url).chat([USER], top_p=None, max_tokens=5)
        assert res.ok and "top_p" not in server.requests[0] and "seed" not in server.requests[0]
        backend(server.url).chat([USER])
        assert server.requests[1]["top_p"] == 1.0 and server.requests[1]["n"] == 1
