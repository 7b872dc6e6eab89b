"""A thread per pooled connection that runs its queries, so that the caller can walk away from one that overruns.

Neither engine can stop a single long step: SQLite checks its progress handler and ``interrupt()``
only between rows, DuckDB between vectors, so one call such as ``printf('%.*c', 2000000000, 'x')``
(SQLite, 30 s), ``md5(repeat('x', 900000000))`` (DuckDB, 15 s) or the conversion of a huge
result into Python objects runs to its end whatever the deadline. The sandbox therefore runs each
query on the connection's own :class:`QueryThread` and waits for it until the deadline plus a
grace period; a query still running then is *abandoned*: the caller gets a ``timeout`` result at
once, the connection is retired from the pool, and the thread closes it and ends as soon as the
engine returns (the watchdog has interrupted it, so that is at its next check).

The hand-off costs two thread switches per query (about 20-40 us); see docs/sandbox.md
for the measured overhead.

At exit the process waits for its abandoned calls to return (:func:`_wait_for_abandoned`, an ``atexit``
handler): a daemon thread still inside DuckDB when the interpreter finalises is killed by a forced unwind that
DuckDB's C++ catches, which aborts the process (``terminate called ...``, exit status 134) after its work is
done. The engine was interrupted when the call was abandoned, so the wait lasts until its long step ends
(at most :data:`EXIT_WAIT` seconds).
"""

from __future__ import annotations

import atexit
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

_STOP = object()

#: Functions a query may call and still run on the caller's thread: linear in their arguments, with a
#: result no larger than them (so no value can grow past the database's own cells), and common in
#: benchmark queries. ``like``, ``instr``, ``replace``, ``trim`` (quadratic), ``printf``, ``zeroblob``,
#: ``group_concat``, ``hex`` and the rest (which can build large values) run on the query thread.
INLINE_FUNCTIONS = frozenset(
    {
        *("count", "sum", "total", "avg", "min", "max", "abs", "round", "sign"),
        *("coalesce", "ifnull", "nullif", "iif", "if", "typeof", "likely", "unlikely", "likelihood"),
        *("length", "octet_length", "lower", "upper", "substr", "substring"),
        *("date", "time", "datetime", "julianday", "strftime", "unixepoch"),
        *("row_number", "rank", "dense_rank", "percent_rank", "cume_dist", "ntile", "lag", "lead"),
        *("first_value", "last_value", "nth_value", "ceil", "ceiling", "floor", "trunc", "mod"),
    }
)
#: Longest query that may run on the caller's thread (longer text could double a value in every nested
#: subquery, ``SELECT s || s FROM (SELECT s || s AS s FROM (...))``, and compare the result many times).
INLINE_MAX_SQL = 500


#: Most seconds the process waits at exit for its abandoned calls (past it, it exits as it would without the wait).
EXIT_WAIT = 120.0
_abandoned: set[QueryThread] = set()  # threads whose call was abandoned and is still running
_abandoned_lock = threading.Lock()


def _wait_for_abandoned() -> None:
    """Wait until every abandoned call has returned (``atexit``), saying so on stderr if it takes a while."""
    with _abandoned_lock:
        threads = list(_abandoned)
    told = False
    start = time.monotonic()
    for t in threads:
        while t.alive and time.monotonic() - start < EXIT_WAIT:
            t.join(0.5)
            if t.alive and not told and time.monotonic() - start > 1.0:
                told = True
                print(f"sqlrl: waiting for {len(threads)} abandoned quer{'y' if len(threads) == 1 else 'ies'} "
                      "to stop before exiting", file=sys.stderr, flush=True)  # fmt: skip


atexit.register(_wait_for_abandoned)  # returns at once when no call was abandoned


class QueryThread:
    """Runs one call at a time on a daemon thread; :meth:`call` waits for it at most ``wait`` seconds."""

    def __init__(self, name: str = "sqlrl-sandbox-query") -> None:
        self._go = threading.Lock()
        self._go.acquire()
        self._done = threading.Lock()
        self._done.acquire()
        self._state = threading.Lock()
        self._job: Any = None
        self._outcome: tuple[bool, Any] = (True, None)
        self._abandoned = False
        self._finished = False  # the loop has ended
        self._cleanup: Callable[[], object] | None = None
        self._thread = threading.Thread(target=self._loop, name=name, daemon=True)
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def call(self, fn: Callable[[], Any], wait: float) -> tuple[bool, Any]:
        """Run ``fn()`` on the thread. Returns ``(True, value)``, or ``(False, None)`` when it did not finish
        within ``wait`` seconds: the call is then abandoned and this thread takes no more calls.

        An exception raised by ``fn`` is raised here, in the caller.
        """
        self._job = fn
        self._go.release()
        if not self._done.acquire(timeout=max(wait, 0.0)):
            with self._state:
                if not self._done.acquire(blocking=False):  # still running: leave it behind
                    self._abandoned = True
                    with _abandoned_lock:
                        _abandoned.add(self)
                    return False, None
        ok, value = self._outcome
        self._outcome = (True, None)
        if not ok:
            raise value
        return True, value

    def close(self, cleanup: Callable[[], object]) -> bool:
        """End the thread after running ``cleanup()`` on it (after the abandoned call, if one is running).

        Returns False when an abandoned call is still running (the thread ends when it returns).
        """
        with self._state:
            if not self._finished:
                self._cleanup = cleanup
                if self._abandoned:
                    return False  # the loop runs the cleanup when the abandoned call returns
                self._job = _STOP
                self._go.release()
                return True
        _quietly(cleanup)  # the abandoned call has returned and the thread has ended: nothing runs on it
        return True

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    def _loop(self) -> None:
        while True:
            self._go.acquire()
            job = self._job
            self._job = None
            if job is _STOP:
                break
            try:
                outcome = (True, job())
            except BaseException as e:  # noqa: BLE001 - handed to the caller
                outcome = (False, e)
            with self._state:
                if self._abandoned:
                    break
                self._outcome = outcome
                self._done.release()
        with self._state:
            self._finished = True
            cleanup = self._cleanup
        if cleanup is not None:
            _quietly(cleanup)
        with _abandoned_lock:
            _abandoned.discard(self)


def _quietly(cleanup: Callable[[], object]) -> None:
    try:
        cleanup()
    except Exception:  # noqa: BLE001 - closing a broken connection must not kill the process
        pass


class Slot:
    """A pooled connection and, unless the engine guards itself (process isolation), its query thread."""

    __slots__ = ("conn", "thread", "_close_conn")

    def __init__(self, conn: Any, close_conn: Callable[[Any], object], *, threaded: bool) -> None:
        self.conn = conn
        self._close_conn = close_conn
        self.thread = QueryThread() if threaded else None

    def close(self) -> None:
        """Close the connection on its thread and end the thread (later, if a query was abandoned on it)."""
        if self.thread is None:
            self._close_conn(self.conn)
            return
        if self.thread.close(lambda: self._close_conn(self.conn)):
            self.thread.join(CLOSE_WAIT)


#: Seconds :meth:`Slot.close` waits for the thread to close its connection and end.
CLOSE_WAIT = 2.0
