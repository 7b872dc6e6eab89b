"""Language models behind one interface, :class:`~sqlrl.models.chat.ChatModel` (``chat(conversations, *,
n, temperature, top_p, max_tokens, seed) -> list[ChatResult]``), used by ``sqlrl generate``,
``sqlrl verbal`` and the judge reward:

- :mod:`sqlrl.models.chat`: the interface, :class:`~sqlrl.models.chat.ChatResult`, a model over a
  Python function, :func:`~sqlrl.models.chat.load_chat_model` for a local model folder;
- :mod:`sqlrl.models.local`: any local Hugging Face causal LM (transformers, ``[train]`` extra);
- :mod:`sqlrl.models.vllm_chat`: a local model in vLLM (CUDA);
- :mod:`sqlrl.models.openai_chat`: any OpenAI-compatible endpoint (``openai``, ``[verbal]`` extra).

Also a tiny Qwen2 built offline (:mod:`sqlrl.models.tiny`) and the prompt a trained model expects
(:mod:`sqlrl.models.prompt_settings`). Names are imported on first use: importing this package
imports none of torch, transformers, vLLM or openai.
"""

from __future__ import annotations

from sqlrl._lazy import lazy_exports

_HOMES = {
    "ChatModel": "chat", "ChatResult": "chat", "FunctionChatModel": "chat", "load_chat_model": "chat",
    "LocalChatModel": "local", "require_torch": "local", "OpenAIChatModel": "openai_chat",
    "VllmChatModel": "vllm_chat", "PROMPT_FILE": "prompt_settings", "PromptSettings": "prompt_settings",
    "PromptSettingsError": "prompt_settings", "TinyModelConfig": "tiny", "build_tiny_model": "tiny",
    "train_tokenizer": "tiny",
}  # fmt: skip
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

__all__ = [
    "PROMPT_FILE",
    "ChatModel",
    "ChatResult",
    "FunctionChatModel",
    "LocalChatModel",
    "OpenAIChatModel",
    "PromptSettings",
    "PromptSettingsError",
    "TinyModelConfig",
    "VllmChatModel",
    "build_tiny_model",
    "load_chat_model",
    "require_torch",
    "train_tokenizer",
]
