"""The prompt a model was trained with, in a small file beside its weights (``sqlrl_prompt.json``).

A model trained by ``sqlrl train`` only answers well when it is asked the way it was trained: with
the same schema format, instruction, sample values and dialect, through its chat template, and with
room for as many tokens as its completions had. Every model folder and checkpoint that ``sqlrl
train`` writes carries :data:`PROMPT_FILE`; ``sqlrl generate``, ``sqlrl verbal`` (local backend) and
the trainer's evaluation read it by default, and their flags override single fields. A folder
without the file keeps each reader's own defaults.

>>> import tempfile
>>> folder = tempfile.mkdtemp()
>>> PromptSettings(schema_format="none", instruction="Answer in SQL.", max_new_tokens=64).write(folder).name
'sqlrl_prompt.json'
>>> s = PromptSettings.read(folder)
>>> s.schema_format, s.options().instruction, s.max_new_tokens
('none', 'Answer in SQL.', 64)
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlrl.data.prompts import PromptOptions
from sqlrl.errors import SqlrlError

__all__ = ["PROMPT_FILE", "PromptSettings", "PromptSettingsError"]

#: The file name, in the model folder.
PROMPT_FILE = "sqlrl_prompt.json"
_FORMAT_VERSION = 1


class PromptSettingsError(SqlrlError, ValueError):
    """A prompt settings file that cannot be read (names the file and the field)."""


@dataclass(frozen=True)
class PromptSettings:
    """How a model's prompts were built, and how long its answers were.

    Attributes:
        schema_format, sample_values, think, instruction, max_length, system_message: the
            :class:`~sqlrl.data.prompts.PromptOptions` fields of the training prompts.
        dialect: the SQL dialect the prompts asked for; None when the data mixed several dialects
            (each prompt then named its example's).
        chat_template: the prompts went through the tokenizer's chat template (always, for TRL's
            conversational data); False means plain text (the messages' contents joined).
        max_new_tokens: tokens per completion in training (the GRPO stages' ``max_completion_length``);
            readers generate at most this many by default. None: not recorded.
    """

    schema_format: str = "ddl"
    sample_values: int = 3
    think: bool = False
    instruction: str | None = None
    max_length: int | None = None
    system_message: bool = True
    dialect: str | None = None
    chat_template: bool = True
    max_new_tokens: int | None = None

    def options(self, **overrides: Any) -> PromptOptions:
        """The :class:`~sqlrl.data.prompts.PromptOptions` these settings describe, with ``overrides``."""
        fields = dataclasses.asdict(self)
        del fields["chat_template"], fields["max_new_tokens"]  # how to ask, not what the prompt says
        return PromptOptions(**{**fields, **overrides})

    def to_dict(self) -> dict[str, Any]:
        return {"format_version": _FORMAT_VERSION, **dataclasses.asdict(self)}

    def write(self, folder: str | os.PathLike[str]) -> Path:
        """Write :data:`PROMPT_FILE` into ``folder`` (created if needed); returns its path."""
        path = Path(folder) / PROMPT_FILE
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{PROMPT_FILE}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2) + "\n", encoding="utf-8")
        os.replace(tmp, path)
        return path

    @classmethod
    def read(cls, folder: str | os.PathLike[str]) -> PromptSettings | None:
        """The settings stored in ``folder``, or None when it has no :data:`PROMPT_FILE`.

        Raises:
            PromptSettingsError: the file exists but is not valid (names the file and the problem).
        """
        path = Path(folder) / PROMPT_FILE
        if not path.is_file():
            return None
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            raise PromptSettingsError(f"{path}: not a readable JSON file ({exc})") from None
        if not isinstance(data, dict):
            raise PromptSettingsError(f"{path}: expected a JSON object, got {type(data).__name__}")
        data.pop("format_version", None)
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise PromptSettingsError(
                f"{path}: unknown field(s) {', '.join(unknown)}; known: {', '.join(sorted(known))}"
            )
        try:
            settings = cls(**data)
            settings.options()  # validates schema_format, sample_values, max_length
        except (TypeError, ValueError) as exc:
            raise PromptSettingsError(f"{path}: {exc}") from None
        if settings.max_new_tokens is not None and (not isinstance(settings.max_new_tokens, int)
                                                    or settings.max_new_tokens < 1):  # fmt: skip
            raise PromptSettingsError(f"{path}: max_new_tokens must be a positive integer or null")
        return settings
