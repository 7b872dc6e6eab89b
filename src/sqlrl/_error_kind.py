"""Why a query produced no result table: :class:`ErrorKind`, shared by the SQL checks and the sandbox.

A leaf (it imports nothing from sqlrl), so that :mod:`sqlrl.sql.statement` can name the kinds it
refuses without importing :mod:`sqlrl.sandbox`. Import it from :mod:`sqlrl.sandbox` as before.
"""

from __future__ import annotations

import enum

__all__ = ["ErrorKind"]


class ErrorKind(str, enum.Enum):
    """Why a query produced no result table.

    The values are short strings so that they can be logged and counted as they are
    (``result.error_kind == "timeout"`` works too). A truncated result is *not* an error:
    it is ``ok`` with ``truncated=True``.
    """

    EMPTY = "empty"
    """The text holds no statement (empty, only whitespace, comments or semicolons)."""
    INVALID_INPUT = "invalid_input"
    """The text cannot be SQL: not a string, a NUL byte, unpaired surrogates, too long."""
    SYNTAX = "syntax"
    """The engine's parser rejects the text."""
    MULTIPLE_STATEMENTS = "multiple_statements"
    """More than one statement; the sandbox runs exactly one."""
    NOT_READ_ONLY = "not_read_only"
    """A statement other than a query: DDL, DML, ATTACH, COPY, INSTALL/LOAD, SET, PRAGMA, EXPLAIN, ..."""
    PERMISSION = "permission"
    """A query that reaches outside the database (files, extensions), refused by the lockdown."""
    RUNTIME = "runtime"
    """Any other engine error while binding or running: unknown table or column, bad cast, ..."""
    TIMEOUT = "timeout"
    """The query ran past the timeout and was stopped."""
    RESOURCE = "resource"
    """The query went over its memory budget (``memory_limit``): the engine's memory limit, SQLite's
    string/blob length limit, or a result too large to fetch."""
    MEMORY = "resource"  # former name (value "memory"), kept as an alias of RESOURCE
    MISSING_DATABASE = "missing_database"
    """The database file disappeared or cannot be opened."""
    CRASHED = "crashed"
    """The isolated worker process died while running the query (``isolation="process"`` only)."""
    INTERNAL = "internal"
    """An unexpected error inside sqlrl; please report it."""
    NO_SQL = "no_sql"
    """Nothing to run: no SQL was found in a model's output (rewards)."""
    TRANSPILE = "transpile"
    """The query could not be translated from its dialect into the sandbox's (rewards)."""
    BAD_ENGINE = "bad_engine"
    """An engine name that is neither ``sqlite`` nor ``duckdb`` (rewards)."""

    def __str__(self) -> str:
        return self.value
