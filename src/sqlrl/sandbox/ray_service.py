"""The execution service on Ray actors, for reward or evaluation loads larger than one machine.

:class:`RayExecutionService` is an :class:`~sqlrl.sandbox.service.ExecutionService` whose queries run
on ``actors`` Ray actors, each holding an ordinary ``ExecutionService`` (its own sandboxes, thread
pool and connections). What stays on the calling process (the driver) and what moves:

- **Routing.** Every database goes to one actor for the service's lifetime (``placement``, else
  the actor a stable hash of its path names unless that one already holds more databases than
  another, see :meth:`RayExecutionService.owner`), so a database is opened (and a SQLite file
  imported into DuckDB) on exactly one actor, whatever the batch.
- **Batching.** A call's queries to run are sent as one list per actor (one remote call per actor
  per batch, not one per query); the actors run their shares at the same time.
- **Memo on the driver.** Grouping (each distinct query once per call), the memos across calls
  (``memo_size`` / ``gold_memo_size``; a prediction equal to its gold reuses the gold's result),
  the never-shared non-deterministic texts and dialect translation (sqlglot) all stay in the
  driver's ``ExecutionService.run``: a hit costs no round trip, and the memo behaves exactly as
  in-process. The actors keep no memo of their own.
- **Results.** Actors send :class:`~sqlrl.sandbox.ExecResult` objects with their Python rows (a
  result read as an Arrow table travels as the table's rows); the driver builds the scoring core's
  table as the in-process service does, so scores are the same.

``ray`` is imported only when such a service is made; without it the error says
``pip install 'sqlrl[ray]'``. The database paths must name the same files on the actors' machines.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlrl.sandbox.errors import SandboxError
from sqlrl.sandbox.parallel import progress_bar
from sqlrl.sandbox.result import ExecResult
from sqlrl.sandbox.service import ExecutionService, _Unshared

__all__ = [
    "BACKENDS",
    "RayExecutionService",
    "RayNotInstalledError",
    "RemoteSandbox",
    "import_ray",
    "make_service",
    "route",
]

PathLike = str | os.PathLike[str]
#: Where an execution service runs its queries: ``local`` (threads of this process) or ``ray`` (Ray actors).
BACKENDS = ("local", "ray")
RAY_MISSING = "the ray backend needs Ray: pip install 'sqlrl[ray]' (or pip install ray)"


class RayNotInstalledError(SandboxError, ImportError):
    """The ray backend was chosen and Ray is not installed."""


def import_ray() -> Any:
    """The ``ray`` module, or :class:`RayNotInstalledError` (an ImportError) saying how to install it."""
    try:
        import ray
    except ImportError as e:
        raise RayNotInstalledError(RAY_MISSING) from e
    return ray


def route(database: PathLike, actors: int) -> int:
    """The actor (``0 .. actors-1``) that owns ``database``: a stable hash of its path, the same in every
    process and run (Python's ``hash`` of a str is not).

    >>> route("dbs/a.sqlite", 4) == route("dbs/a.sqlite", 4)
    True
    """
    digest = hashlib.blake2b(str(database).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little") % actors


@dataclass(frozen=True)
class RemoteSandbox:
    """What the driver knows of a sandbox opened on an actor: its database, engine and dialect."""

    database: str
    engine: str
    dialect: str
    database_path: Path
    actor: int


class _ServiceActor:
    """The body of one Ray actor: an ordinary ExecutionService (no memo: the driver keeps it)."""

    def __init__(self, options: Mapping[str, Any]) -> None:
        self.service = ExecutionService(**options)

    def describe(self, database: str, engine: str | None) -> tuple[str, str, str] | str:
        sb = self.service.get(database, engine)
        return sb if isinstance(sb, str) else (sb.engine, sb.dialect, str(sb.database_path))

    def describe_many(self, keys: list[tuple[str, str | None]]) -> list[tuple[str, str, str] | str]:
        return self.service.map(lambda key: self.describe(*key), keys, progress=False)

    def run(self, queries: list[tuple[str, Any, str | None]], workers: int | None) -> list[ExecResult]:
        return self.service.run(queries, workers=workers, progress=False)

    def execute(self, database: str, sql: Any, gold: bool, engine: str | None, dialect: str | None) -> ExecResult:
        return self.service.execute(database, sql, gold, engine=engine, dialect=dialect)

    def stats(self) -> dict[str, int]:
        return {**self.service.stats, "sandboxes": len(self.service), "pid": os.getpid()}

    def close(self) -> None:
        self.service.close()


class RayExecutionService(ExecutionService):
    """An :class:`~sqlrl.sandbox.service.ExecutionService` whose queries run on Ray actors (see the module docs).

    Args:
        actors: Ray actors, each with its own sandboxes and thread pool (default 2).
        address: the Ray cluster to join when Ray is not started yet (``ray.init(address=...)``;
            None: ``$RAY_ADDRESS``, else a local cluster). An already started Ray is used as it is.
        actor_cpus: CPUs Ray reserves per actor (default 1).
        placement: ``{database path: actor index}`` for databases that should not go by the hash.
        engine, workers, memo_size, gold_memo_size, keep_rows, **sandbox_options: as for
            ``ExecutionService``; ``workers`` are each actor's threads; the memos live on the driver.

    Raises:
        ImportError: Ray is not installed (``pip install 'sqlrl[ray]'``).
        TypeError, ValueError: an unknown option or a bad value.
    """

    def __init__(
        self,
        *,
        actors: int = 2,
        address: str | None = None,
        actor_cpus: float = 1,
        placement: Mapping[str, int] | None = None,
        engine: str | None = None,
        workers: int | None = None,
        memo_size: int = 0,
        gold_memo_size: int = 0,
        keep_rows: bool = True,
        **sandbox_options: Any,
    ) -> None:
        if isinstance(actors, bool) or not isinstance(actors, int) or actors < 1:
            raise ValueError(f"actors must be a whole number >= 1, got {actors!r}")
        if not isinstance(actor_cpus, (int, float)) or actor_cpus < 0:
            raise ValueError(f"actor_cpus must be a number >= 0, got {actor_cpus!r}")
        placement = {str(k): v for k, v in (placement or {}).items()}
        for db, index in placement.items():
            if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < actors:
                raise ValueError(f"placement of {db!r} must be an actor index in 0..{actors - 1}, got {index!r}")
        super().__init__(
            engine=engine, workers=workers, memo_size=memo_size, gold_memo_size=gold_memo_size,
            keep_rows=keep_rows, **sandbox_options,
        )  # fmt: skip
        self.ray = import_ray()
        self.actors = actors
        self.address = address
        self.actor_cpus = actor_cpus
        self.placement = placement
        self._handles: list[Any] | None = None
        self._owners: dict[str, int] = {}
        self.stats["remote_calls"] = 0

    # -- actors ------------------------------------------------------------------------------------

    def _actor_options(self) -> dict[str, Any]:
        return dict(engine=self.engine, workers=self.workers, keep_rows=True, **self.options)

    def handles(self) -> list[Any]:
        """The actors, started on first use (Ray too, when it is not running yet)."""
        with self._lock:
            if self._handles is None:
                ray = self.ray
                if not ray.is_initialized():
                    ray.init(address=self.address or os.environ.get("RAY_ADDRESS"), ignore_reinit_error=True)
                cls = ray.remote(num_cpus=self.actor_cpus)(_ServiceActor)
                options = self._actor_options()
                self._handles = [cls.remote(options) for _ in range(self.actors)]
            return self._handles

    def owner(self, database: PathLike) -> int:
        """The index of the actor that runs the queries of ``database``, fixed for the service's lifetime:
        its ``placement``, else, when first seen, the actor :func:`route` names if it holds no more
        databases than any other, else the first of those holding the fewest (a few databases would
        otherwise often hash onto one actor)."""
        key = str(database)
        index = self.placement.get(key, self._owners.get(key))
        if index is not None:
            return index
        with self._lock:
            index = self._owners.get(key)
            if index is None:
                counts = [0] * self.actors
                for a in [*self._owners.values(), *self.placement.values()]:
                    counts[a] += 1
                index = route(key, self.actors)
                if counts[index] > min(counts):
                    index = counts.index(min(counts))
                self._owners[key] = index
            return index

    def _get(self, futures: Any) -> Any:
        self.stats["remote_calls"] += len(futures) if isinstance(futures, list) else 1
        return self.ray.get(futures)

    # -- the service's surface ------------------------------------------------------------------------

    def get(self, database: PathLike, engine: str | None = None) -> RemoteSandbox | str:  # type: ignore[override]
        """What the owning actor opened for ``database`` on ``engine``, or why it cannot be opened (a str)."""
        engine = engine or self.engine
        key = (str(database), engine)
        sb = self._opened.get(key)
        if sb is not None:
            return sb  # type: ignore[return-value]
        index = self.owner(key[0])
        info = self._get(self.handles()[index].describe.remote(key[0], engine))
        if not isinstance(info, str):
            info = RemoteSandbox(key[0], info[0], info[1], Path(info[2]), index)
        with self._lock:
            return self._opened.setdefault(key, info)  # type: ignore[arg-type,return-value]

    def open(self, databases: Iterable[tuple[PathLike, str | None]]) -> None:
        """Open the sandboxes of these ``(database, engine)`` pairs on their actors: one call per actor, the
        actors (and each actor's threads) opening theirs at the same time."""
        todo: dict[int, list[tuple[str, str | None]]] = {}
        for database, engine in databases:
            key = (str(database), engine or self.engine)
            if key not in self._opened and key not in todo.get(self.owner(key[0]), []):
                todo.setdefault(self.owner(key[0]), []).append(key)
        if not todo:
            return
        handles = self.handles()
        futures = [handles[index].describe_many.remote(keys) for index, keys in todo.items()]
        for (index, keys), infos in zip(todo.items(), self._get(futures), strict=True):
            with self._lock:
                for key, info in zip(keys, infos, strict=True):
                    if not isinstance(info, str):
                        info = RemoteSandbox(key[0], info[0], info[1], Path(info[2]), index)
                    self._opened.setdefault(key, info)  # type: ignore[arg-type]

    def execute(
        self,
        database: PathLike,
        sql: Any,
        gold: bool = False,
        *,
        engine: str | None = None,
        dialect: str | None = None,
        rows: bool = True,
    ) -> ExecResult:
        """Run one query on the actor that owns ``database`` (one round trip; the rows come back pickled
        whatever ``rows`` says)."""
        handle = self.handles()[self.owner(database)]
        return self._get(handle.execute.remote(str(database), sql, gold, engine or self.engine, dialect))

    def _run_all(
        self, keys: list[tuple[str, str | None, Any]], workers: int | None, progress: bool | None, desc: str
    ) -> list[ExecResult]:
        handles = self.handles()
        shares: dict[int, list[int]] = {}
        for i, (db, _, _) in enumerate(keys):
            shares.setdefault(self.owner(db), []).append(i)
        threads = workers if workers is not None else self.workers
        futures = []
        for index, where in shares.items():
            queries = [(keys[i][0], _text(keys[i][2]), keys[i][1]) for i in where]
            futures.append(handles[index].run.remote(queries, threads))
        out: list[ExecResult | None] = [None] * len(keys)
        bar = progress_bar(len(keys), progress, f"{desc} (ray)")
        try:
            for where, future in zip(shares.values(), futures, strict=True):  # all actors run meanwhile
                for i, result in zip(where, self._get(future), strict=True):
                    out[i] = result if self.keep_rows else result.without_rows()
                if bar is not None:
                    bar.update(len(where))
        finally:
            if bar is not None:
                bar.close()
        return out  # type: ignore[return-value]

    def map(
        self, fn: Callable[[Any], Any], items: Sequence[Any], *, workers: int | None = None,
        progress: bool | None = None, desc: str = "",
    ) -> list[Any]:  # fmt: skip
        """``[fn(x) for x in items]`` on the driver's threads (queries ``fn`` runs through :meth:`execute`
        go to the actors)."""
        return super().map(fn, items, workers=workers, progress=progress, desc=desc)

    def actor_stats(self) -> list[dict[str, int]]:
        """Each actor's counters: queries executed, sandboxes open, its process id."""
        return self._get([h.stats.remote() for h in self.handles()])

    def __len__(self) -> int:
        """The number of sandboxes open on the actors (as far as the driver asked)."""
        return sum(1 for sb in list(self._opened.values()) if not isinstance(sb, str))

    def close(self) -> None:
        """Close every actor's sandboxes and end the actors; new ones start when the service is used again
        (remembered results are kept). Ray itself keeps running."""
        with self._lock:
            handles, self._handles = self._handles, None
            self._opened = {}
        if handles:
            try:
                self.ray.get([h.close.remote() for h in handles])
            finally:
                for h in handles:
                    self.ray.kill(h)
        super().close()

    def __repr__(self) -> str:
        return f"RayExecutionService(actors={self.actors}, started={self._handles is not None})"


def _text(sql: Any) -> Any:
    return sql.sql if isinstance(sql, _Unshared) else sql


def make_service(
    backend: str = "local", *, ray_actors: int | None = None, ray_address: str | None = None, **options: Any
) -> ExecutionService:
    """An execution service on ``backend``: ``local`` (:class:`~sqlrl.sandbox.service.ExecutionService`) or
    ``ray`` (:class:`RayExecutionService` with ``ray_actors`` actors, joining ``ray_address``).

    >>> make_service("local", timeout=2.0).options["timeout"]
    2.0
    >>> make_service("spark")
    Traceback (most recent call last):
    ...
    ValueError: unknown execution backend 'spark'; expected one of local, ray
    """
    if backend == "local":
        if ray_actors is not None or ray_address is not None:
            raise ValueError("ray_actors and ray_address need backend='ray'")
        return ExecutionService(**options)
    if backend == "ray":
        return RayExecutionService(actors=2 if ray_actors is None else ray_actors, address=ray_address, **options)
    raise ValueError(f"unknown execution backend {backend!r}; expected one of {', '.join(BACKENDS)}")
