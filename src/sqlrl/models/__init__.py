"""Local language models: a tiny Qwen2 built offline (:mod:`sqlrl.models.tiny`) and batched chat
generation with any local Hugging Face causal LM (:mod:`sqlrl.models.local`). Both need the
``[train]`` extra (torch, transformers, tokenizers); importing this package does not import torch."""

from sqlrl.models.local import LocalChatModel, require_torch
from sqlrl.models.tiny import TinyModelConfig, build_tiny_model, train_tokenizer

__all__ = ["LocalChatModel", "TinyModelConfig", "build_tiny_model", "require_torch", "train_tokenizer"]
