"""Sandboxes opened on first use, one per ``(database, engine)``, with shared settings; closed together.

Used by the evaluators (:class:`sqlrl.eval._exec.SandboxPool` adds their defaults and a batch
``run``) and by :class:`sqlrl.rewards.executor.RewardExecutor`.
"""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import os
import threading
from collections.abc import Iterable, Mapping
from typing import Any, TypeVar

from sqlrl.sandbox.config import SandboxConfig
from sqlrl.sandbox.errors import SandboxError
from sqlrl.sandbox.result import ErrorKind, ExecResult
from sqlrl.sandbox.sandbox import Sandbox

__all__ = ["SANDBOX_OPTIONS", "SandboxPool", "check_sandbox_options"]

PathLike = str | os.PathLike[str]
_Pool = TypeVar("_Pool", bound="SandboxPool")

#: The keyword options of :class:`~sqlrl.sandbox.Sandbox` (all but the database).
SANDBOX_OPTIONS: tuple[str, ...] = tuple(
    name for name in inspect.signature(Sandbox.__init__).parameters if name not in ("self", "database")
)
_CONFIG_FIELDS = frozenset(f.name for f in dataclasses.fields(SandboxConfig))


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest of ``choices``, or an empty string."""
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


def check_sandbox_options(options: Mapping[str, Any], valid: Iterable[str] = SANDBOX_OPTIONS) -> None:
    """Fail now on an option no sandbox takes (``TypeError``, naming the valid ones) or a bad value
    (``ValueError`` from :class:`~sqlrl.sandbox.SandboxConfig`), instead of at every query.

    >>> check_sandbox_options({"timout": 2})
    Traceback (most recent call last):
    ...
    TypeError: unknown sandbox option 'timout' (did you mean 'timeout'?); valid options: engine, timeout, \
max_rows, memory_limit, threads, sqlite_compat, isolation, fetch, sqlglot_check, text_errors, max_sql_length, \
cache_dir, gold_cache
    """
    valid = list(valid)
    for name in options:
        if name not in valid:
            raise TypeError(
                f"unknown sandbox option {name!r}{did_you_mean(name, valid)}; valid options: {', '.join(valid)}"
            )
    config = {k: v for k, v in options.items() if k in _CONFIG_FIELDS}
    if config.get("cache_dir") is not None:
        config["cache_dir"] = str(config["cache_dir"])
    SandboxConfig(**config)


class SandboxPool:
    """Sandboxes opened on first use and kept, keyed by ``(database, engine)``; safe to share between threads.

    A database that cannot be opened gives an error message instead of raising, and the failure
    is remembered until :meth:`close`.

    Args:
        engine: the engine of :meth:`get` calls that name none (None: :class:`~sqlrl.sandbox.Sandbox`'s default).
        **sandbox_options: passed to every :class:`~sqlrl.sandbox.Sandbox` (``timeout``, ``max_rows``,
            ``memory_limit``, ``text_errors``, ``cache_dir``, ...); unset ones keep the Sandbox defaults.

    Raises:
        TypeError, ValueError: an unknown option or a bad value (at construction, not at the first query).

    >>> with SandboxPool(timeout=2.0) as pool:
    ...     pool.get("no_such.sqlite", engine="sqlite")
    'cannot open database no_such.sqlite with sqlite: ...'
    """

    def __init__(self, *, engine: str | None = None, **sandbox_options: Any) -> None:
        check_sandbox_options({**sandbox_options, "engine": engine or "auto"})
        self.engine = engine
        self.options = dict(sandbox_options)
        self._opened: dict[tuple[str, str | None], Sandbox | str] = {}
        self._lock = threading.Lock()

    def get(self, database: PathLike, engine: str | None = None) -> Sandbox | str:
        """The sandbox of ``database`` on ``engine`` (default: the pool's), or why it cannot be opened (a str)."""
        engine = engine or self.engine
        key = (str(database), engine)
        sb = self._opened.get(key)
        if sb is not None:
            return sb
        with self._lock:
            sb = self._opened.get(key)
            if sb is not None:
                return sb
            engine_option: dict[str, Any] = {} if engine is None else {"engine": engine}
            try:
                sb = Sandbox(key[0], **engine_option, **self.options)
            except (SandboxError, OSError, ValueError) as e:
                on = "" if engine is None else f" with {engine}"
                sb = f"cannot open database {key[0]}{on}: {e}"
            self._opened[key] = sb
            return sb

    def execute(self, database: PathLike, sql: Any, gold: bool = False, *, engine: str | None = None) -> ExecResult:
        """Run one query (through the sandbox's gold cache with ``gold``); never raises for bad SQL or a
        missing database."""
        sb = self.get(database, engine)
        if isinstance(sb, str):
            return ExecResult.failure(str(sql), ErrorKind.MISSING_DATABASE, sb)
        return sb.execute_gold(sql) if gold else sb.execute(sql)

    def __len__(self) -> int:
        """The number of sandboxes open."""
        return sum(1 for sb in list(self._opened.values()) if isinstance(sb, Sandbox))

    def close(self) -> None:
        """Close every sandbox and forget failures; the pool opens new ones when used again."""
        with self._lock:
            opened, self._opened = list(self._opened.values()), {}
        for sb in opened:
            if isinstance(sb, Sandbox):
                sb.close()

    def __enter__(self: _Pool) -> _Pool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
