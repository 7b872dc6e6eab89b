"""Syntax check without executing: parse with sqlglot, then bind against the schema.

Binding runs on an empty in-memory copy of the schema (no rows, so nothing can be read or
leaked): SQLite compiles the query with ``EXPLAIN``, DuckDB binds it into a relation without
running it. The engine's message is kept for feedback to a model.
"""

from __future__ import annotations

import sqlite3
import threading
from dataclasses import dataclass

from sqlrl.sql.dialects import parse_one, resolve_dialect, transpile
from sqlrl.sql.errors import SqlError
from sqlrl.sql.schema import DbSchema
from sqlrl.sql.statement import check_text, keyword_gate

__all__ = ["SyntaxCheck", "check_syntax"]


@dataclass(frozen=True)
class SyntaxCheck:
    """Outcome of :func:`check_syntax`.

    Attributes:
        ok: the query parses (and binds, when a schema was given).
        stage: where it failed: ``input``, ``parse``, ``transpile`` or ``bind`` (None when ok).
        error: the message, for feedback.
    """

    ok: bool
    stage: str | None = None
    error: str = ""


_local = threading.local()


def _empty_db(schema: DbSchema, engine: str):
    """A per-thread, per-schema empty database with the schema's tables."""
    cache = getattr(_local, "dbs", None)
    if cache is None:
        cache = _local.dbs = {}
    key = (engine, tuple((t, tuple(c.items())) for t, c in schema.tables.items()))
    con = cache.get(key)
    if con is None:
        if engine == "sqlite":
            con = sqlite3.connect(":memory:")
            for stmt in schema.create_statements("sqlite"):
                con.execute(stmt)
            con.execute("PRAGMA query_only = 1")
        else:
            import duckdb

            con = duckdb.connect(
                ":memory:", config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
            )
            for stmt in schema.create_statements("duckdb"):
                con.execute(stmt)
            con.execute("SET enable_external_access = false")
            con.execute("SET lock_configuration = true")
        if len(cache) > 64:
            cache.clear()
        cache[key] = con
    return con


def check_syntax(
    sql: str, *, dialect: str = "sqlite", schema: DbSchema | None = None, engine: str | None = None
) -> SyntaxCheck:
    """Check that a query parses and, given a schema, binds (tables, columns, functions, types).

    Args:
        sql: one query.
        dialect: its dialect.
        schema: bind against these tables; without it only parsing is checked.
        engine: ``sqlite`` or ``duckdb`` for binding; default ``sqlite`` for SQLite-dialect
            queries, else ``duckdb`` (the query is transpiled to DuckDB first).

    >>> s = DbSchema.from_mapping({"t": ["a"]})
    >>> check_syntax("SELECT a FROM t", schema=s).ok
    True
    >>> check_syntax("SELECT b FROM t", schema=s).stage
    'bind'
    >>> check_syntax("SELEC a FROM t").stage
    'parse'
    """
    if isinstance(sql, str) and not sql.strip():
        return SyntaxCheck(False, "input", "empty SQL")
    refused = check_text(sql)
    if refused is not None:
        return SyntaxCheck(False, "input", refused[1])
    try:
        dialect = resolve_dialect(dialect)
        parse_one(sql, dialect)
    except SqlError as e:
        return SyntaxCheck(False, "parse", str(e))
    if schema is None:
        return SyntaxCheck(True)
    engine = engine or ("sqlite" if dialect == "sqlite" else "duckdb")
    if engine not in ("sqlite", "duckdb"):
        raise ValueError(f"engine must be 'sqlite' or 'duckdb', got {engine!r}")
    text = sql
    if engine == "duckdb" and dialect != "duckdb":
        try:
            text = transpile(sql, read=dialect, write="duckdb")
        except SqlError as e:
            return SyntaxCheck(False, "transpile", str(e))
    gate = keyword_gate(text, engine)
    if gate is not None:
        return SyntaxCheck(False, "input", gate[1])
    con = _empty_db(schema, engine)
    try:
        if engine == "sqlite":
            con.execute("EXPLAIN " + text).fetchall()
        else:
            con.sql(text)
    except Exception as e:  # the engine's own message is the feedback
        return SyntaxCheck(False, "bind", str(e).strip())
    return SyntaxCheck(True)
