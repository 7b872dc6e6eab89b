"""Parse and transpile SQL between dialects with sqlglot, so any gold or prediction runs in DuckDB.

Every dialect sqlglot reads works (``sqlite``, ``duckdb``, ``postgres``, ``mysql``,
``snowflake``, ``bigquery``, ``tsql``, ``oracle``, ...). Failures are typed:
:class:`SqlParseError` (with line and column) and :class:`TranspileError` (the query uses
something the target dialect cannot express), never a crash.

For SQLite-origin data on DuckDB (``sqlite_compat``), the output also gets the rewrites of
:mod:`sqlrl.sandbox.compat` (case-insensitive ``LIKE``, SQLite's ``CAST`` types). The other
SQLite behaviours (integer division, NULL order, division by zero) are DuckDB settings that the
sandbox applies to the connection.
"""

from __future__ import annotations

import difflib
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError

from sqlrl.sql.errors import SqlParseError, TranspileError, UnknownDialectError

__all__ = ["COMMON_DIALECTS", "dialect_names", "parse_one", "resolve_dialect", "transpile"]

#: Dialects tested in sqlrl's suite (sqlglot reads more).
COMMON_DIALECTS = ("sqlite", "duckdb", "postgres", "mysql", "snowflake", "bigquery")

_ALIASES = {"postgresql": "postgres", "sqlite3": "sqlite", "mssql": "tsql", "sqlserver": "tsql", "mariadb": "mysql"}


@lru_cache(maxsize=1)
def dialect_names() -> tuple[str, ...]:
    """Every dialect name sqlglot knows."""
    return tuple(sorted(name for name in Dialect.classes if name))


def resolve_dialect(name: str) -> str:
    """Normalise a dialect name (case, common aliases) or raise with a suggestion.

    >>> resolve_dialect("PostgreSQL")
    'postgres'
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key in dialect_names():
        return key
    close = difflib.get_close_matches(key, dialect_names(), n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise UnknownDialectError(f"unknown SQL dialect {name!r}{hint}")


def parse_one(sql: str, dialect: str = "sqlite") -> exp.Expression:
    """Parse exactly one statement.

    Raises:
        SqlParseError: the text is not one valid statement in ``dialect``.

    >>> parse_one("SELECT a FROM t").sql()
    'SELECT a FROM t'
    """
    dialect = resolve_dialect(dialect)
    if not isinstance(sql, str) or not sql.strip():
        raise SqlParseError("empty SQL", dialect=dialect)
    try:
        trees = [t for t in sqlglot.parse(sql, read=dialect, error_level=ErrorLevel.RAISE) if t is not None]
    except ParseError as e:
        err = e.errors[0] if e.errors else {}
        raise SqlParseError(
            f"cannot parse as {dialect}: {err.get('description') or e}",
            dialect=dialect,
            line=err.get("line"),
            col=err.get("col"),
        ) from None
    except TokenError as e:
        raise SqlParseError(f"cannot tokenize as {dialect}: {e}", dialect=dialect) from None
    except RecursionError:
        raise SqlParseError(f"cannot parse as {dialect}: nested too deeply", dialect=dialect) from None
    if len(trees) != 1:
        raise SqlParseError(f"expected one statement, found {len(trees)}", dialect=dialect)
    return trees[0]


def transpile(sql: str, *, read: str, write: str = "duckdb", sqlite_compat: bool | None = None) -> str:
    """Rewrite a query from one dialect into another.

    Args:
        sql: one statement.
        read: its dialect.
        write: the target dialect (default ``duckdb``, the sandbox engine).
        sqlite_compat: add SQLite-compat rewrites for DuckDB output; default: on when reading
            ``sqlite`` and writing ``duckdb``.

    Raises:
        SqlParseError: the query does not parse in ``read``.
        TranspileError: ``write`` cannot express part of the query.

    >>> transpile("SELECT TOP 3 name FROM t", read="tsql")
    'SELECT name FROM t LIMIT 3'
    >>> transpile("SELECT name FROM t WHERE name LIKE 'a%'", read="sqlite")
    "SELECT name FROM t WHERE name ILIKE 'a%'"
    """
    read = resolve_dialect(read)
    write = resolve_dialect(write)
    tree = parse_one(sql, read)
    try:
        out = tree.sql(dialect=write, unsupported_level=ErrorLevel.RAISE)
    except UnsupportedError as e:
        raise TranspileError(f"cannot write this {read} query as {write}: {e}") from None
    except RecursionError:
        raise TranspileError(f"cannot write this {read} query as {write}: nested too deeply") from None
    if sqlite_compat is None:
        sqlite_compat = read == "sqlite" and write == "duckdb"
    if sqlite_compat and write == "duckdb":
        from sqlrl.sandbox.compat import rewrite_tokens

        out = rewrite_tokens(out, dialect="duckdb")
    return out
