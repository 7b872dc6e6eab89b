"""Errors of test-suite building: every message names the database or gold file at fault."""

from __future__ import annotations

from sqlrl.errors import SqlrlError

__all__ = ["SuiteError"]


class SuiteError(SqlrlError, ValueError):
    """A test suite cannot be built or read: a missing or empty database, an unparsable gold query,
    a gold file in no known format, a suite folder without databases."""
