"""Parse and transpile SQL between dialects with sqlglot, so any gold or prediction runs in DuckDB.

Every dialect sqlglot reads works (``sqlite``, ``duckdb``, ``postgres``, ``mysql``,
``snowflake``, ``bigquery``, ``tsql``, ``oracle``, ...). Failures are typed:
:class:`SqlParseError` (with line and column) and :class:`TranspileError` (the query uses
something the target dialect cannot express), never a crash.

For SQLite-origin data on DuckDB (``sqlite_compat``), the output also gets the rewrites of
:mod:`sqlrl.sql.sqlite_compat` (case-insensitive ``LIKE``, SQLite's ``CAST`` types). The other
SQLite behaviours (integer division, NULL order, division by zero) are DuckDB settings that the
sandbox applies to the connection.

SQLite text is read with :class:`SqliteReader`, which reads a name that starts with a digit
(``18_49_Rating_Share``, a Spider column) as one identifier, as Spider's evaluator does, whatever
the installed sqlglot reads there (older releases read ``18 AS _49_Rating_Share``, newer ones
``1849 AS _Rating_Share``). Output is always written by sqlglot's own dialects, which quote such
names.
"""

from __future__ import annotations

import difflib
from functools import lru_cache

import sqlglot
from sqlglot import exp
from sqlglot.dialects.dialect import Dialect, Dialects
from sqlglot.dialects.sqlite import SQLite
from sqlglot.errors import ErrorLevel, ParseError, TokenError, UnsupportedError

from sqlrl.sql.errors import SqlParseError, TranspileError, UnknownDialectError
from sqlrl.sql.sqlite_compat import rewrite_tokens

__all__ = [
    "COMMON_DIALECTS",
    "SqliteReader",
    "dialect_names",
    "parse_one",
    "reader",
    "resolve_dialect",
    "transpile",
    "transpile_plain",
]

#: Dialects tested in sqlrl's suite (sqlglot reads more).
COMMON_DIALECTS = ("sqlite", "duckdb", "postgres", "mysql", "snowflake", "bigquery")

_ALIASES = {"postgresql": "postgres", "sqlite3": "sqlite", "mssql": "tsql", "sqlserver": "tsql", "mariadb": "mysql"}


class SqliteReader(SQLite):
    """sqlglot's SQLite for reading only: a word that starts with a digit and goes on with letters,
    digits or ``_`` (``18_49_Rating_Share``, ``12abc``) is one identifier, as in Spider's
    tokenizer (SQLite itself refuses such a word as one "unrecognized token"), and ``1_000`` is
    the number 1000 (SQLite 3.46+). Both settings are pinned here because sqlglot changed its
    SQLite defaults within a major version. Never write SQL with it: it would leave such names
    unquoted.
    """

    IDENTIFIERS_CAN_START_WITH_DIGIT = True
    NUMBERS_CAN_BE_UNDERSCORE_SEPARATED = True


@lru_cache(maxsize=64)
def reader(dialect: str | None) -> Dialect:
    """The sqlglot dialect sqlrl reads ``dialect`` with: :class:`SqliteReader` for ``sqlite``,
    sqlglot's own dialect for the others (``None``: sqlglot's default dialect)."""
    if dialect is None:
        return Dialect.get_or_raise(None)
    name = resolve_dialect(dialect)
    return SqliteReader() if name == "sqlite" else Dialect.get_or_raise(name)


#: The dialect names of sqlglot's ``Dialects`` enum (reading it imports no dialect module, unlike
#: :func:`dialect_names`, which loads them all to find the ones registered later).
_BUILTIN = frozenset(d.value for d in Dialects)


@lru_cache(maxsize=1)
def dialect_names() -> tuple[str, ...]:
    """Every dialect name sqlglot knows (sqlrl's reading variants left out)."""
    classes = Dialect.classes.items()
    return tuple(sorted(name for name, cls in classes if name and not cls.__module__.startswith("sqlrl.")))


def resolve_dialect(name: str) -> str:
    """Normalise a dialect name (case, common aliases) or raise with a suggestion.

    >>> resolve_dialect("PostgreSQL")
    'postgres'
    """
    key = name.strip().lower()
    key = _ALIASES.get(key, key)
    if key and key in _BUILTIN:  # sqlglot's own names, known without importing every dialect module
        return key
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
        trees = [t for t in sqlglot.parse(sql, read=reader(dialect), error_level=ErrorLevel.RAISE) if t is not None]
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
        out = rewrite_tokens(out, dialect="duckdb")
    return out


def transpile_plain(sql: str, *, read: str, write: str) -> str:
    """The first statement of ``sql`` as sqlglot's own ``transpile`` writes it, nothing added.

    Unlike :func:`transpile`: sqlglot's own dialects read the text (SQLite without
    :class:`SqliteReader`'s settings), any statement kind goes (the importer copies ``CREATE VIEW``
    statements), what ``write`` cannot express is only logged, there are no SQLite-compat
    rewrites, and sqlglot's own exceptions are raised.

    >>> transpile_plain("CREATE VIEW v AS SELECT IIF(a > 1, 'x', 'y') AS b FROM t", read="sqlite", write="duckdb")
    "CREATE VIEW v AS SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END AS b FROM t"
    """
    return sqlglot.transpile(sql, read=read, write=write)[0]
