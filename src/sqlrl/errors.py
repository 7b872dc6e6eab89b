"""The root of sqlrl's exceptions: ``except sqlrl.SqlrlError`` catches every exception class sqlrl defines.

Each of those classes derives from :class:`SqlrlError` and keeps the built-in base it refines
(``ValueError``, ``FileNotFoundError``, ``RuntimeError``, ``MemoryError``), so ``except ValueError`` and
the like catch them as before. The families, with their own bases:

- :class:`sqlrl.sql.SqlError` (a ``ValueError``): parse, transpile and dialect errors, Spider parsing;
- :class:`sqlrl.sandbox.SandboxError`: databases that are missing, unsupported or closed;
- :class:`sqlrl.data.DatasetError`: dataset files that are missing or malformed;
- one class per concern elsewhere: ``RewardSpecError``, ``RewardInputError``, ``ConfigError``,
  ``TrainingError``, ``PromptSettingsError``, ``PromptTooLongError``, ``CsvError``, the CLI's
  ``UsageError`` and ``CommandError``, the fetch limits ``ResultTooLarge`` and ``FetchDeadline``
  (``sqlrl.sandbox.fetch``) and the compiled core's ``sqlrl._core.ResultTooLarge``.

A leaf module: it imports nothing from sqlrl, so any module (and the compiled core) can use it.
"""

from __future__ import annotations

__all__ = ["SqlrlError"]


class SqlrlError(Exception):
    """Base class of every exception sqlrl defines."""
