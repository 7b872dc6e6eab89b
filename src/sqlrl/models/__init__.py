"""Local language models: a tiny Qwen2 built offline (:mod:`sqlrl.models.tiny`) and batched chat
generation with any local Hugging Face causal LM (:mod:`sqlrl.models.local`). Both need the
``[train]`` extra (torch, transformers, tokenizers); importing this package does not import torch.
:mod:`sqlrl.models.prompt_settings` reads and writes the prompt a trained model expects."""

from sqlrl.models.local import LocalChatModel, require_torch
from sqlrl.models.prompt_settings import PROMPT_FILE, PromptSettings, PromptSettingsError
from sqlrl.models.tiny import TinyModelConfig, build_tiny_model, train_tokenizer

__all__ = [
    "PROMPT_FILE",
    "LocalChatModel",
    "PromptSettings",
    "PromptSettingsError",
    "TinyModelConfig",
    "build_tiny_model",
    "require_torch",
    "train_tokenizer",
]
