"""Sandboxes opened on first use, one per ``(database, engine)``, with shared settings; closed together.

Used by the evaluators (:class:`sqlrl.eval._exec.SandboxPool` adds their defaults and a batch
``run``) and by :class:`sqlrl.rewards.executor.RewardExecutor`.
"""

from __future__ import annotations

import os
import threading
from typing import Any, TypeVar

from sqlrl.sandbox.errors import SandboxError
from sqlrl.sandbox.result import ErrorKind, ExecResult
from sqlrl.sandbox.sandbox import Sandbox

__all__ = ["SandboxPool"]

PathLike = str | os.PathLike[str]
_Pool = TypeVar("_Pool", bound="SandboxPool")


class SandboxPool:
    """Sandboxes opened on first use and kept, keyed by ``(database, engine)``; safe to share between threads.

    A database that cannot be opened gives an error message instead of raising, and the failure
    is remembered until :meth:`close`.

    Args:
        engine: the engine of :meth:`get` calls that name none (None: :class:`~sqlrl.sandbox.Sandbox`'s default).
        **sandbox_options: passed to every :class:`~sqlrl.sandbox.Sandbox` (``timeout``, ``max_rows``,
            ``memory_limit``, ``text_errors``, ``cache_dir``, ...); unset ones keep the Sandbox defaults.

    >>> with SandboxPool(timeout=2.0) as pool:
    ...     pool.get("no_such.sqlite", engine="sqlite")
    'cannot open database no_such.sqlite with sqlite: ...'
    """

    def __init__(self, *, engine: str | None = None, **sandbox_options: Any) -> None:
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
