"""Run untrusted SQL safely and fast on DuckDB or SQLite.

>>> from sqlrl.sandbox import Sandbox  # doctest: +SKIP
>>> with Sandbox("concert_singer.sqlite", timeout=5.0) as sb:  # doctest: +SKIP
...     r = sb.execute("SELECT count(*) FROM singer")
...     r.ok, r.rows, r.error_kind
(True, [(6,)], None)

Main pieces: :class:`Sandbox` (one database, pooled connections, ``execute`` /
``execute_many`` / ``execute_gold``), :class:`ExecutionService` (many queries over many databases:
a sandbox per database, each distinct query once, memos, one thread pool), :class:`ExecResult`
and :class:`ErrorKind` (what a query returns), :func:`check_statement` (sqlglot read-only check without executing),
:func:`import_sqlite_to_duckdb` and :func:`load_csv_dir_to_duckdb` (database conversion).
"""

from sqlrl.sandbox.cache import DEFAULT_GOLD_CACHE, LRUCache
from sqlrl.sandbox.config import SandboxConfig
from sqlrl.sandbox.csv_dir import load_csv_dir_to_duckdb, load_csv_dir_to_sqlite
from sqlrl.sandbox.duckdb_engine import SQLITE_COMPAT_SETTINGS
from sqlrl.sandbox.errors import (
    MissingDatabaseError,
    NotADatabaseError,
    SandboxClosedError,
    SandboxError,
    UnsupportedDatabaseError,
)
from sqlrl.sandbox.importer import ImportReport, import_sqlite_to_duckdb
from sqlrl.sandbox.result import ErrorKind, ExecResult
from sqlrl.sandbox.sandbox import Sandbox
from sqlrl.sandbox.service import ExecutionService
from sqlrl.sql.sqlite_compat import rewrite_bare_columns, rewrite_tokens
from sqlrl.sql.statement import StatementCheck, check_statement, normalize_sql

__all__ = [
    "DEFAULT_GOLD_CACHE",
    "SQLITE_COMPAT_SETTINGS",
    "ErrorKind",
    "ExecResult",
    "ExecutionService",
    "ImportReport",
    "LRUCache",
    "MissingDatabaseError",
    "NotADatabaseError",
    "Sandbox",
    "SandboxClosedError",
    "SandboxConfig",
    "SandboxError",
    "StatementCheck",
    "UnsupportedDatabaseError",
    "check_statement",
    "import_sqlite_to_duckdb",
    "load_csv_dir_to_duckdb",
    "load_csv_dir_to_sqlite",
    "normalize_sql",
    "rewrite_bare_columns",
    "rewrite_tokens",
]
