"""Exceptions the sandbox raises for *programming* errors (bad arguments, missing files at open time).

Bad SQL never raises: it comes back as an :class:`~sqlrl.sandbox.result.ExecResult` with an error kind.
"""

from __future__ import annotations

from sqlrl.errors import SqlrlError


class SandboxError(SqlrlError):
    """Base class of the sandbox's exceptions."""


class MissingDatabaseError(SandboxError, FileNotFoundError):
    """The database path given to :class:`~sqlrl.sandbox.Sandbox` does not exist or is not a database."""


class NotADatabaseError(MissingDatabaseError):
    """The path exists but holds no database the sandbox can open: a text file, a corrupt database,
    a directory without CSV files."""


class UnsupportedDatabaseError(SandboxError, ValueError):
    """The database cannot be opened with the requested engine (a DuckDB file with ``engine="sqlite"``)."""


class SandboxClosedError(SandboxError, RuntimeError):
    """The sandbox was used after :meth:`~sqlrl.sandbox.Sandbox.close`."""
