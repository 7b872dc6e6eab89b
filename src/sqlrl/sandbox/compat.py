"""Deprecated alias: the SQLite-compat rewrites moved to :mod:`sqlrl.sql.sqlite_compat`.

Kept so that ``from sqlrl.sandbox.compat import ...`` still works; new code imports from
:mod:`sqlrl.sql.sqlite_compat` (the sandbox depends on the SQL layer, not the reverse).
"""

from sqlrl.sql.sqlite_compat import (
    BARE_COLUMN_ERROR,
    CAST_TYPES,
    rewrite_bare_columns,
    rewrite_double_quoted,
    rewrite_tokens,
    unrecognized_token,
)

__all__ = [
    "BARE_COLUMN_ERROR",
    "CAST_TYPES",
    "rewrite_bare_columns",
    "rewrite_double_quoted",
    "rewrite_tokens",
    "unrecognized_token",
]
