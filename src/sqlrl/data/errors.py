"""Errors of the dataset loaders: every message names the file, and for a bad entry its index and field."""

from __future__ import annotations

from sqlrl.errors import SqlrlError

__all__ = ["DatasetError", "MalformedDatasetError", "MissingDatasetFileError"]


class DatasetError(SqlrlError):
    """Base class of the loaders' errors."""


class MissingDatasetFileError(DatasetError, FileNotFoundError):
    """A file or directory the dataset needs is not there (the message says what it should hold)."""


class MalformedDatasetError(DatasetError, ValueError):
    """A file is not what the format says: bad JSON, not a list, or an entry lacking a field."""
