"""A bounded, thread-safe LRU cache for gold results.

A GRPO group scores many predictions against one gold query, and an evaluation run sees
the same gold again at every epoch: the gold is run once per (database, normalised SQL).
Concurrent misses on the same key run the query once; the other callers wait for it.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable, Iterable, Sequence
from typing import Generic, TypeVar

V = TypeVar("V")


class LRUCache(Generic[V]):
    """Least-recently-used cache with single-flight computation of misses.

    >>> c = LRUCache(maxsize=2)
    >>> c.get_or_compute("a", lambda: 1), c.get_or_compute("a", lambda: 2)
    (1, 1)
    >>> c.hits, c.misses
    (1, 1)
    """

    def __init__(self, maxsize: int = 4096) -> None:
        if maxsize < 0:
            raise ValueError(f"maxsize must be >= 0, got {maxsize}")
        self.maxsize = maxsize
        self._data: OrderedDict[Hashable, V] = OrderedDict()
        self._inflight: dict[Hashable, threading.Event] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._data)

    def __contains__(self, key: Hashable) -> bool:
        with self._lock:
            return key in self._data

    def get(self, key: Hashable) -> V | None:
        with self._lock:
            if key in self._data:
                self._data.move_to_end(key)
                return self._data[key]
            return None

    def get_many(self, keys: Sequence[Hashable]) -> list[V | None]:
        """:meth:`get` of every key, under one lock."""
        with self._lock:
            data = self._data
            out: list[V | None] = []
            for key in keys:
                value = data.get(key)
                if value is not None:
                    data.move_to_end(key)
                out.append(value)
            return out

    def put_many(self, items: Iterable[tuple[Hashable, V]]) -> None:
        """:meth:`put` of every ``(key, value)``, under one lock."""
        if self.maxsize == 0:
            return
        with self._lock:
            data = self._data
            for key, value in items:
                data[key] = value
                data.move_to_end(key)
            while len(data) > self.maxsize:
                data.popitem(last=False)

    def put(self, key: Hashable, value: V) -> None:
        self.put_many(((key, value),))

    def clear(self) -> None:
        with self._lock:
            self._data.clear()
            self.hits = self.misses = 0

    def get_or_compute(self, key: Hashable, compute: Callable[[], V], keep: Callable[[V], bool] | None = None) -> V:
        """The cached value, or ``compute()`` stored unless ``keep(value)`` is False."""
        while True:
            with self._lock:
                if key in self._data:
                    self._data.move_to_end(key)
                    self.hits += 1
                    return self._data[key]
                event = self._inflight.get(key)
                if event is None:
                    event = self._inflight[key] = threading.Event()
                    self.misses += 1
                    break
            event.wait()  # another thread computes this key; then look again
        try:
            value = compute()
            if keep is None or keep(value):
                self.put(key, value)
            return value
        finally:
            with self._lock:
                self._inflight.pop(key, None)
            event.set()


#: Gold results shared by all sandboxes that are not given a cache of their own.
DEFAULT_GOLD_CACHE: LRUCache = LRUCache(maxsize=4096)
