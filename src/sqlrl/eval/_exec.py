"""Running many gold and predicted queries for an evaluation: pooled sandboxes and a thread pool.

Shared by the Spider, BIRD, Spider 2.0 and PaVeRL evaluators.
"""

from __future__ import annotations

import itertools
import os
import sys
import threading
from collections.abc import Callable, Sequence
from typing import Any

from sqlrl.sandbox.sandbox_pool import SandboxPool as _SandboxPool

__all__ = ["DEFAULT_MAX_ROWS", "SandboxPool", "parallel_map", "resolve_workers"]

PathLike = str | os.PathLike[str]

#: Rows kept per result. The official scripts fetch everything; a truncated result is flagged.
DEFAULT_MAX_ROWS = 10_000_000
#: Words of query texts whose result may change between two runs; such queries are never shared.
_NONDETERMINISTIC = ("random", "now", "current_", "changes", "last_insert_rowid")


def _nondeterministic(sql: str) -> bool:
    low = sql.lower()
    return any(w in low for w in _NONDETERMINISTIC)


class SandboxPool(_SandboxPool):
    """The evaluators' :class:`sqlrl.sandbox.sandbox_pool.SandboxPool`: their defaults and a batch :meth:`run`.

    ``run`` executes ``(database, sql, is_gold)`` tasks on worker threads (both engines release
    the GIL), each distinct query once (see :meth:`run`); ``execute(..., gold=True)`` goes through
    the sandbox's gold cache. A database that cannot be opened gives ``missing_database`` results
    instead of raising. Other keywords are passed to every :class:`~sqlrl.sandbox.Sandbox`.
    """

    def __init__(
        self,
        *,
        engine: str = "sqlite",
        timeout: float = 30.0,
        max_rows: int = DEFAULT_MAX_ROWS,
        text_errors: str = "strict",
        cache_dir: PathLike | None = None,
        memory_limit: str = "2GB",
        **sandbox_options: Any,
    ) -> None:
        super().__init__(
            engine=engine,
            timeout=timeout,
            max_rows=max_rows,
            text_errors=text_errors,
            cache_dir=cache_dir,
            memory_limit=memory_limit,
            **sandbox_options,
        )

    def run(
        self,
        tasks: Sequence[tuple[PathLike, Any, bool]],
        *,
        workers: int = 1,
        progress: bool | None = None,
        desc: str = "sql",
        share: bool = True,
    ) -> list[Any]:
        """Execute every ``(database, sql, is_gold)`` task; results in task order.

        With ``share``, a query text that occurs several times on one database (a gold shared by
        many predictions, a prediction equal to its gold) runs once and its result is shared,
        unless the text looks non-deterministic (``random()``, ``now``, ``current_*``).
        """
        if not share:
            return parallel_map(lambda t: self.execute(*t), tasks, workers=workers, progress=progress, desc=desc)
        unique: dict[tuple[str, Any], int] = {}
        todo: list[tuple[str, Any, bool]] = []
        shareable: list[bool] = []
        where: list[int] = []
        for db, sql, gold in tasks:
            key = (str(db), sql if isinstance(sql, str) else repr(sql))
            k = unique.get(key, -1)
            if k < 0 or not shareable[k]:
                k = len(todo)
                todo.append((str(db), sql, gold))
                shareable.append(isinstance(sql, str) and not _nondeterministic(sql))
                unique[key] = k
            where.append(k)
        done = parallel_map(lambda t: self.execute(t[0], t[1]), todo, workers=workers, progress=progress, desc=desc)
        return [done[k] for k in where]


def resolve_workers(workers: int) -> int:
    if workers == -1:
        return os.cpu_count() or 1
    if workers < 1:
        raise ValueError(f"workers must be >= 1 or -1 (all cores), got {workers}")
    return workers


def parallel_map(
    fn: Callable[[Any], Any],
    items: Sequence[Any],
    *,
    workers: int = 1,
    progress: bool | None = None,
    desc: str = "",
) -> list[Any]:
    """``[fn(x) for x in items]`` on ``workers`` threads, in order, with an optional progress bar.

    Each thread takes the next item from a shared counter, so a slow item holds up one thread
    only. The first exception is re-raised after the threads stop. ``progress=None`` shows a bar
    for 200 items or more when stderr is a terminal.
    """
    workers = resolve_workers(workers)
    items = list(items)
    bar = _progress_bar(len(items), progress, desc)
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

        def work() -> None:
            n = len(items)
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

        threads = [threading.Thread(target=work, name=f"sqlrl-eval-{k}", daemon=True) for k in range(workers)]
        for t in threads:
            t.start()
        try:
            shown = 0
            for t in threads:
                while t.is_alive():
                    t.join(0.1)  # a short wait keeps Ctrl-C responsive and the bar moving
                    if bar is not None:
                        bar.update(len(finished) - shown)
                        shown = len(finished)
        except BaseException as e:  # Ctrl-C: let running items finish, start no new one
            errors.append(e)
            for t in threads:
                t.join()
            raise
        if errors:
            raise errors[0]
        return out
    finally:
        if bar is not None:
            bar.close()


def _progress_bar(total: int, progress: bool | None, desc: str) -> Any:
    if progress is False or total == 0 or (progress is None and (total < 200 or not sys.stderr.isatty())):
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="q", leave=False)
