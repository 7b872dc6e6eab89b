"""Former home of ``sqlrl generate``'s chat models, now :mod:`sqlrl.models` (the names stay importable here).

:func:`~sqlrl.models.chat.load_chat_model` gives a :class:`~sqlrl.models.local.LocalChatModel`
(transformers) or a :class:`~sqlrl.models.vllm_chat.VllmChatModel` for a model folder
(``backend="auto"``: vLLM when it is installed and a CUDA device is present).
"""

from __future__ import annotations

from sqlrl.models.chat import BACKENDS, load_chat_model, vllm_available
from sqlrl.models.local import check_model_dir
from sqlrl.models.vllm_chat import VllmChatModel

__all__ = ["BACKENDS", "VllmChatModel", "check_model_dir", "load_chat_model", "vllm_available"]
