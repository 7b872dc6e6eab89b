"""Former home of the verbal loop's chat backends, now :mod:`sqlrl.models` (the names stay importable here).

- ``ChatBackend`` is :class:`sqlrl.models.chat.ChatModel`, ``ChatResult`` is
  :class:`sqlrl.models.chat.ChatResult`;
- ``OpenAIChatBackend`` is :class:`sqlrl.models.openai_chat.OpenAIChatModel`;
- ``FunctionBackend`` is :class:`sqlrl.models.chat.FunctionChatModel`;
- :class:`LocalChatBackend` builds a :class:`sqlrl.models.local.LocalChatModel` (kept as ``.model``)
  and answers through it.

>>> echo = FunctionBackend(lambda messages, n, **kw: [messages[-1]["content"].upper()] * n)
>>> echo.chat([[{"role": "user", "content": "select 1"}]], n=2)[0].texts
['SELECT 1', 'SELECT 1']
"""

from __future__ import annotations

import os
from typing import Any

from sqlrl.models.chat import ChatModel, ChatResult, FunctionChatModel, GenerateChatModel
from sqlrl.models.openai_chat import OpenAIChatModel

__all__ = ["ChatBackend", "ChatResult", "FunctionBackend", "LocalChatBackend", "OpenAIChatBackend"]

ChatBackend = ChatModel
FunctionBackend = FunctionChatModel
OpenAIChatBackend = OpenAIChatModel


class LocalChatBackend(GenerateChatModel):
    """A local Hugging Face chat model: :class:`sqlrl.models.local.LocalChatModel`, kept as :attr:`model`.

    Args:
        model: a model folder on disk, a loaded ``PreTrainedModel`` (then pass ``tokenizer``), or a
            ready :class:`~sqlrl.models.local.LocalChatModel`.
        tokenizer: the tokenizer of a loaded model.
        device: ``"cpu"``, ``"cuda"``, ... (default: CUDA when available).
        batch_size: conversations per forward batch.

    :meth:`chat` runs the model's ``generate`` one batch at a time (its lock), so several loop threads can
    share it.
    """

    short_errors = True  # as the model's own chat()

    def __init__(self, model: Any, tokenizer: Any = None, *, device: str | None = None, batch_size: int = 16) -> None:
        from sqlrl.models.local import LocalChatModel

        if isinstance(model, LocalChatModel):
            self.model = model
        else:
            self.model = LocalChatModel(model, tokenizer, device=device, batch_size=batch_size)
        self.name = f"local:{model if isinstance(model, (str, os.PathLike)) else type(model).__name__}"
        self._lock = self.model._lock
