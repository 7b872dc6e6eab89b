"""The one way sqlrl runs many items on threads: ``workers`` resolved once, one progress bar, in order.

Queries release the GIL in both engines, so threads are what makes a batch of queries parallel.
A caller that runs batches again and again passes its own :class:`~concurrent.futures.ThreadPoolExecutor`
so that the threads, and the connections each thread keeps in a sandbox, live on between batches.
"""

from __future__ import annotations

import itertools
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_EXCEPTION, ThreadPoolExecutor, wait
from typing import Any

__all__ = ["parallel_map", "progress_bar", "resolve_workers"]

#: Items at or above which ``progress=None`` shows a bar (when stderr is a terminal).
PROGRESS_FROM = 200


def resolve_workers(workers: int | None, *, default: int = 1) -> int:
    """The number of threads ``workers`` asks for: ``-1`` all cores, None ``default``.

    >>> resolve_workers(3), resolve_workers(None, default=2)
    (3, 2)
    >>> resolve_workers(0)
    Traceback (most recent call last):
    ...
    ValueError: workers must be >= 1 or -1 (all cores), got 0
    """
    if workers is None:
        return default
    if workers == -1:
        return os.cpu_count() or 1
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"workers must be >= 1 or -1 (all cores), got {workers}")
    return workers


def progress_bar(
    total: int, progress: bool | None, desc: str = "", unit: str = "q", *, least: int = PROGRESS_FROM
) -> Any:
    """A tqdm bar, or None: ``progress=None`` shows one for ``least`` items or more when stderr is a
    terminal; True always (when there is work); False never."""
    if progress is False or total == 0 or (progress is None and (total < least or not sys.stderr.isatty())):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit=unit, leave=False)


def parallel_map(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    workers: int | None = 1,
    progress: bool | None = None,
    desc: str = "",
    executor: ThreadPoolExecutor | None = None,
) -> list[Any]:
    """``[fn(x) for x in items]`` on ``workers`` threads, in order, with an optional progress bar.

    Each thread takes the next item from a shared counter, so a slow item holds up one thread
    only. The first exception is re-raised after the threads stop; after Ctrl-C the running
    items finish and no new one starts. With ``executor`` the work runs on its threads (kept
    between calls), else on threads made for this call.

    >>> parallel_map(lambda x: x * x, range(5), workers=3)
    [0, 1, 4, 9, 16]
    """
    workers = resolve_workers(workers)
    items = list(items)
    bar = progress_bar(len(items), progress, desc)
    out: list[Any] = [None] * len(items)
    try:
        if workers == 1 or len(items) <= 1:
            for i, x in enumerate(items):
                out[i] = fn(x)
                if bar is not None:
                    bar.update(1)
            return out
        counter = itertools.count()
        errors: list[BaseException] = []
        finished: list[None] = []  # list.append is atomic: the progress bar reads its length
        n = len(items)

        def work() -> None:
            while not errors:
                i = next(counter)
                if i >= n:
                    return
                try:
                    out[i] = fn(items[i])
                except BaseException as e:  # noqa: BLE001 - re-raised in the caller's thread
                    errors.append(e)
                    return
                finished.append(None)

        own = executor is None
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="sqlrl") if own else executor
        try:
            futures = [pool.submit(work) for _ in range(min(workers, n))]
            shown = 0
            try:
                pending = set(futures)
                while pending:
                    # a short wait keeps Ctrl-C responsive and the bar moving
                    _, pending = wait(pending, timeout=0.1, return_when=FIRST_EXCEPTION)
                    if bar is not None:
                        bar.update(len(finished) - shown)
                        shown = len(finished)
            except BaseException as e:  # Ctrl-C: let running items finish, start no new one
                errors.append(e)
                wait(futures)
                raise
        finally:
            if own:
                pool.shutdown(wait=True)
        if errors:
            raise errors[0]
        return out
    finally:
        if bar is not None:
            bar.close()
