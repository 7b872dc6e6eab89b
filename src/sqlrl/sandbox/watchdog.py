"""One background thread that interrupts queries running past their deadline.

A ``threading.Timer`` per query would start a thread per query (~100 us each); instead all
sandboxes of a process share one daemon thread. It serves two kinds of clients:

- :meth:`Watchdog.arm` / :meth:`Watchdog.disarm`: a heap of one-off deadlines, for callers that
  arm a callback per query (DuckDB). The callback runs under the watchdog's lock and ``disarm``
  takes the same lock, so once ``disarm`` returns the callback can no longer fire for that query.
- :meth:`Watchdog.watch`: a connection registered once, whose own ``deadline`` attribute the query
  sets and clears (:func:`begin_query`, :func:`end_query`; SQLite, where a query can take 50 us
  and arming one costs several). While any watched connection is running a query the thread looks
  every :data:`POLL` seconds (it sleeps while none is), and
  interrupts a connection whose deadline plus its grace passed. It holds the connection's
  ``guard`` lock while it checks and fires, and the query clears its deadline under the same lock
  (:func:`end_query`), so an interrupt never hits the next query on a reused connection.
  A connection whose deadlines are kept in compiled code (SQLite with the core's reader, which runs
  batches of queries without the GIL) answers ``poll(grace)`` instead: it checks and interrupts under
  its own lock and says whether a query runs; it arms its deadline before it calls :func:`wake_if_asleep`.
"""

from __future__ import annotations

import heapq
import itertools
import math
import threading
import time
from collections.abc import Callable
from typing import Any, Protocol

#: Seconds between two looks at the watched connections while one of them runs a query.
POLL = 0.05


class Watched(Protocol):
    """A connection for :meth:`Watchdog.watch`: ``deadline`` (``time.monotonic()`` clock, ``inf``
    between queries), a ``guard`` lock, and ``interrupt()``, called at most once per deadline. One with a
    ``poll(grace)`` method whose answer is not None (0, 1 or 2: see :meth:`Watchdog._look`) keeps its
    deadlines itself."""

    deadline: float
    guard: threading.Lock

    def interrupt(self) -> Any: ...


def begin_query(target: Watched, deadline: float) -> None:
    """Set ``target``'s deadline for the query it starts, and wake the watchdog if it sleeps.

    The deadline is written before ``asleep`` is read, and the thread sets ``asleep`` before it looks
    at the deadlines a last time: either it sees this deadline or this sees it asleep and wakes it.
    """
    target.deadline = deadline
    wake_if_asleep()


def wake_if_asleep() -> None:
    """Wake the watchdog if it sleeps: call it after a query's deadline is armed (see :func:`begin_query`)."""
    if _WATCHDOG.asleep:
        _WATCHDOG.wake()


def end_query(target: Watched) -> None:
    """Clear ``target``'s deadline once its query is over; after this no interrupt is sent for it."""
    with target.guard:
        target.deadline = math.inf


class Watchdog:
    """Calls ``callback()`` at ``deadline`` (``time.monotonic()`` clock) unless disarmed first, and
    interrupts watched connections past their deadline."""

    def __init__(self) -> None:
        self._cv = threading.Condition(threading.Lock())
        self._heap: list[tuple[float, int]] = []
        self._live: dict[int, Callable[[], object]] = {}
        self._ids = itertools.count()
        self._watched: dict[int, tuple[Watched, float]] = {}
        self._fired_for: dict[int, float] = {}  # the deadline each watched connection was interrupted for
        self._thread: threading.Thread | None = None
        self.asleep = False  # set under the lock when no watched query runs and no deadline is near
        self.fired = 0  # how many callbacks and interrupts ran (for tests and stats)

    def arm(self, deadline: float, callback: Callable[[], object]) -> int:
        """Schedule ``callback`` at ``deadline``; returns a token for :meth:`disarm`."""
        with self._cv:
            token = next(self._ids)
            self._live[token] = callback
            heapq.heappush(self._heap, (deadline, token))
            if not self._start():
                if self._heap[0][1] == token:
                    self._cv.notify()
        return token

    def disarm(self, token: int) -> None:
        """Cancel a callback; after this returns it will not run."""
        with self._cv:
            self._live.pop(token, None)

    def watch(self, target: Watched, grace: float) -> None:
        """Interrupt ``target`` once ``grace`` seconds have passed after each deadline it sets."""
        with self._cv:
            self._watched[id(target)] = (target, grace)
            if not self._start():
                self._cv.notify()

    def unwatch(self, target: Watched) -> None:
        """Stop watching ``target`` (its connection is closing)."""
        with self._cv:
            self._watched.pop(id(target), None)
            self._fired_for.pop(id(target), None)

    def _start(self) -> bool:
        """Start the thread if it is not running (under the lock); True when it was started."""
        if self._thread is not None and self._thread.is_alive():
            return False
        self._thread = threading.Thread(target=self._run, name="sqlrl-sandbox-watchdog", daemon=True)
        self._thread.start()
        return True

    def _run(self) -> None:
        with self._cv:
            while True:
                heap = self._heap
                while heap and heap[0][1] not in self._live:
                    heapq.heappop(heap)  # disarmed entries are dropped lazily
                now = time.monotonic()
                wake = heap[0][0] if heap else math.inf
                if wake <= now:
                    _, token = heapq.heappop(heap)
                    self._fire(self._live.pop(token))
                    continue
                if self._watched:
                    look = self._look(now)
                    if look == math.inf:  # no watched query running: sleep until a query starts (begin_query)
                        self.asleep = True
                        look = self._look(time.monotonic())  # one that started before it could see asleep
                        if look != math.inf:
                            self.asleep = False
                    wake = min(wake, look)
                self._cv.wait(None if wake == math.inf else wake - now)
                self.asleep = False

    def wake(self) -> None:
        """Wake the thread from its sleep without running watched queries (see :func:`begin_query`)."""
        with self._cv:
            self.asleep = False
            self._cv.notify()

    def _look(self, now: float) -> float:
        """Interrupt the watched connections past their deadline; returns when to look again."""
        busy = False
        for key, (target, grace) in list(self._watched.items()):
            polled = target.poll(grace) if hasattr(target, "poll") else None
            if polled is not None:  # 0: idle, 1: a query runs, 2: it runs and was interrupted now
                busy = busy or polled > 0
                self.fired += polled == 2
                continue
            deadline = target.deadline
            if deadline == math.inf:
                continue
            busy = True
            if now < deadline + grace or self._fired_for.get(key) == deadline:
                continue
            with target.guard:
                if target.deadline == deadline:  # still the same query
                    self._fired_for[key] = deadline
                    self._fire(target.interrupt)
        return now + POLL if busy else math.inf

    def _fire(self, callback: Callable[[], object]) -> None:
        self.fired += 1
        try:
            callback()
        except Exception:  # noqa: BLE001 - an interrupt on a closed connection is harmless
            pass


_WATCHDOG = Watchdog()


def watchdog() -> Watchdog:
    """The process-wide watchdog."""
    return _WATCHDOG
