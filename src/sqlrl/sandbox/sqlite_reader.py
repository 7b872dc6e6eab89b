"""Results of SQLite queries read straight into the scoring core's table, without Python rows.

A reward needs only the core's :class:`~sqlrl.scoring.Table` of a result. Fetching Python rows and then
converting every cell costs more than a small query itself, so for callers that keep no rows
(``Sandbox.execute(sql, rows=False)``, what the reward executor asks for) the compiled core runs the query on
the sandbox's own guarded connection through SQLite's C API and reads the cells itself
(``csrc/sqlite_reader.cpp``): the same cells ``Table.from_rows`` makes of the values Python's ``sqlite3``
returns, the same row cap, result budget estimate (``sys.getsizeof`` of those values) and fetch deadline.
The reader also takes over the connection's guard: the sandbox's read-only authorizer and the progress handler
that stops a query at its deadline become C callbacks (the same rule, given by the engine), so that SQLite
calls no Python while it prepares and runs a statement and queries on two threads do not take turns for the
GIL. They guard every statement on the connection, the ones ``sqlite3`` runs too; the connection's limits and
the watchdog's ``interrupt()`` work as before.

Errors come back as the exception ``sqlite3`` would raise for the same SQLite error code and message,
so the engine classifies them as before. Whatever this reader does not handle itself goes the usual
way: text that is not valid UTF-8 (the lenient decoder decides), more than one statement or none,
a statement without result columns. Where SQLite's functions cannot be found in the library Python's
``sqlite3`` loaded (a build that links SQLite statically without exporting it, a platform without
``dlopen``), :func:`reader` returns None and every query fetches Python rows.
"""

from __future__ import annotations

import sqlite3
import sys
import threading
from collections.abc import Callable
from typing import Any

__all__ = ["reader", "sqlite_error", "unavailable_reason"]

_lock = threading.Lock()
_state: dict[str, Any] = {}

# SQLite's primary result codes and the sqlite3 exception CPython raises for each (Modules/_sqlite/util.c).
_ERRORS: dict[int, type[BaseException]] = {
    2: sqlite3.InternalError,  # SQLITE_INTERNAL
    12: sqlite3.InternalError,  # SQLITE_NOTFOUND
    **dict.fromkeys((1, 3, 4, 5, 6, 8, 9, 10, 13, 14, 15, 16, 17), sqlite3.OperationalError),
    11: sqlite3.DatabaseError,  # SQLITE_CORRUPT
    18: sqlite3.DataError,  # SQLITE_TOOBIG
    19: sqlite3.IntegrityError,  # SQLITE_CONSTRAINT
    20: sqlite3.IntegrityError,  # SQLITE_MISMATCH
    21: sqlite3.InterfaceError,  # SQLITE_MISUSE
    25: sqlite3.InterfaceError,  # SQLITE_RANGE
}
_NOMEM = 7


def _sizes() -> dict[str, int]:
    """``sys.getsizeof`` of the values sqlite3 builds, as the Python fetch estimates a result's size."""
    size = sys.getsizeof
    return {
        "tuple": size(()),
        "pointer": 8,
        "none": size(None),
        "float": size(0.5),
        "int0": size(0),
        "int30": size(1),
        "int60": size(1 << 30),
        "int_big": size(1 << 60),
        "ascii": size(""),
        "compact": size("\xe9") - 2,  # the header of a non-ASCII string (one 1-byte character plus its NUL)
        "bytes": size(b""),
    }


#: Python versions whose sqlite3.Connection starts with its ``sqlite3 *`` handle (checked in their sources).
_LAYOUT_KNOWN = ((3, 10), (3, 14))


def _bind(guard_rule: dict[str, Any]) -> Callable[..., Any] | str:
    if not _LAYOUT_KNOWN[0] <= sys.version_info[:2] <= _LAYOUT_KNOWN[1]:
        return f"Python {sys.version_info[0]}.{sys.version_info[1]}: sqlite3.Connection's layout is not checked"
    try:
        import _sqlite3

        from sqlrl import _core
    except ImportError as e:
        return f"cannot import {e.name}"
    library = getattr(_sqlite3, "__file__", None)
    if not library or not hasattr(_core, "sqlite_guard_rule"):
        return "the sqlite3 module is built into the interpreter" if not library else "an older compiled core"
    why = _core.sqlite_bind(library, sqlite3.sqlite_version, _sizes())
    if why:
        return why
    _core.sqlite_guard_rule(**guard_rule)
    return _core.SqliteReader


def reader(guard_rule: dict[str, Any]) -> Callable[..., Any] | None:
    """The core's ``SqliteReader`` class once it is bound to Python's SQLite, or None where it cannot be.

    ``SqliteReader(connection, path)`` reads one connection's queries (``.query(sql, max_rows, max_bytes,
    seconds, inline_query)``) and must be closed (``.close()``) before the connection is. It guards its
    connection with ``guard_rule`` (the keyword arguments of ``_core.sqlite_guard_rule``, given once, at the
    first call): the read-only authorizer and the deadline's progress handler as C callbacks in place of
    the connection's Python ones; ``.arm(seconds, inline_query)`` arms them for a statement run through
    ``sqlite3``, ``.refused()`` says what the last one refused."""
    if "reader" not in _state:
        with _lock:
            if "reader" not in _state:
                bound = _bind(guard_rule)
                _state["why"] = bound if isinstance(bound, str) else ""
                _state["reader"] = None if isinstance(bound, str) else bound
    return _state["reader"]


def background() -> Callable[..., Any] | None:
    """The core's ``SqliteBackground`` once the reader is bound (see :func:`reader`), else None.

    ``SqliteBackground([(reader, sqls, max_rows, max_bytes, seconds, inline_query), ...])`` runs each
    reader's ``query_many`` in turn on a thread of its own that starts at once; ``.wait()`` gives their
    ``(outcomes, seconds)``. Nothing arms the readers from outside: each query is armed as it starts."""
    if not _state.get("reader"):
        return None
    from sqlrl import _core

    return getattr(_core, "SqliteBackground", None)


def unavailable_reason() -> str:
    """Why :func:`reader` is None (``""`` when it is available; "" before any SQLite sandbox opened)."""
    return _state.get("why", "")


def sqlite_error(code: int, message: str) -> BaseException:
    """The exception Python's ``sqlite3`` raises for SQLite's result ``code`` and ``message``.

    >>> type(sqlite_error(1, "no such table: t")).__name__
    'OperationalError'
    """
    if code & 0xFF == _NOMEM:
        return MemoryError()
    return _ERRORS.get(code & 0xFF, sqlite3.DatabaseError)(message)
