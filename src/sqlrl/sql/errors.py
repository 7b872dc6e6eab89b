"""Errors of the SQL layer: one base class, specific subclasses, messages with position."""

from __future__ import annotations

from sqlrl.errors import SqlrlError


class SqlError(SqlrlError, ValueError):
    """Base class of every error raised by :mod:`sqlrl.sql`."""


class SqlParseError(SqlError):
    """The SQL text could not be parsed in the given dialect.

    Attributes:
        dialect: the dialect the text was read in.
        line, col: 1-based position of the first problem, when sqlglot reports one.
    """

    def __init__(self, message: str, *, dialect: str, line: int | None = None, col: int | None = None):
        super().__init__(message)
        self.dialect = dialect
        self.line = line
        self.col = col


class TranspileError(SqlError):
    """The query parsed but cannot be expressed in the target dialect."""


class UnknownDialectError(SqlError):
    """A dialect name sqlglot does not know; the message suggests the closest one."""
