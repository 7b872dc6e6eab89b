"""``isolation="process"``: queries run in a persistent worker process, one per calling thread.

The worker (``multiprocessing`` with the ``spawn`` start method, so no state of the parent is
inherited) opens its own thread-isolated sandbox on the already prepared database and answers
one query at a time over a pipe. The worker enforces the timeout itself, exactly as a thread
sandbox does; the parent only steps in when no answer comes within ``timeout + KILL_GRACE``
(the worker hangs) or the pipe breaks (the worker died, e.g. an engine crash): it kills the
worker, answers ``timeout`` or ``crashed``, and starts a fresh worker for the next query.

On Linux the worker also caps its own data memory (``RLIMIT_DATA``) at what it uses once the
database is open plus ``memory_limit`` (plus :data:`RLIMIT_SLACK`): an allocation past that fails
inside the engine, so even values DuckDB does not count against its memory limit (one
``repeat('x', 10^9)``) come back as ``resource`` errors instead of growing the process.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import time
from typing import Any

from sqlrl.sandbox.errors import SandboxError
from sqlrl.sandbox.result import ErrorKind, ExecResult

#: Extra seconds the parent waits for the worker's answer beyond the timeout before killing it.
KILL_GRACE = 1.0
#: Seconds a new worker may take to import sqlrl and open the database.
STARTUP_TIMEOUT = 60.0
#: Bytes a worker may allocate beyond its memory at startup and ``memory_limit``: thread stacks, pickling.
RLIMIT_SLACK = 64 * 2**20

# Test hooks: texts that make a worker die or hang. Both hold a NUL, which the parent refuses
# before a query reaches the worker, so only tests calling ProcessWorker.execute directly send them.
_CRASH = "\x00sqlrl-worker-crash"
_HANG = "\x00sqlrl-worker-hang"


def _worker_main(conn: Any, database: str, options: dict[str, Any]) -> None:
    from sqlrl.sandbox.sandbox import Sandbox

    try:
        sandbox = Sandbox(database, **options)
    except BaseException as e:  # noqa: BLE001 - report any startup failure to the parent
        conn.send(("error", f"{type(e).__name__}: {e}"))
        return
    sandbox.execute("SELECT 1")  # start the query thread and the watchdog before measuring
    _cap_data_memory(sandbox.config.memory_bytes + RLIMIT_SLACK)
    conn.send(("ready", os.getpid()))
    try:
        while True:
            try:
                sql = conn.recv()
            except (EOFError, OSError):
                break
            if sql is None:
                break
            if sql == _CRASH:
                os._exit(3)
            if sql == _HANG:
                time.sleep(3600)
            try:
                result = sandbox.execute(sql)
                conn.send(result)
            except MemoryError:
                result = ExecResult.failure(
                    sql, ErrorKind.RESOURCE, "the result does not fit the worker's memory budget", engine=sandbox.engine
                )
                conn.send(result)
    finally:
        sandbox.close()


def _cap_data_memory(extra: int) -> None:
    """Limit this process's data memory to what it uses now plus ``extra`` bytes (Linux only)."""
    try:
        import resource

        status = open("/proc/self/status").read()
        vm_data = next(int(line.split()[1]) * 1024 for line in status.splitlines() if line.startswith("VmData:"))
        resource.setrlimit(resource.RLIMIT_DATA, (vm_data + extra, resource.RLIM_INFINITY))
    except (ImportError, OSError, StopIteration, ValueError):
        pass


class ProcessWorker:
    """A worker process running one sandbox; restarted after it hangs or dies."""

    def __init__(self, database: str, options: dict[str, Any], timeout: float, engine: str) -> None:
        self.database = database
        self.options = options
        self.timeout = timeout
        self.engine = engine
        self.starts = 0
        self._proc: Any = None
        self._conn: Any = None
        self._start()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    def _start(self) -> None:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe()
        proc = ctx.Process(
            target=_worker_main,
            args=(child, self.database, self.options),
            name="sqlrl-sandbox-worker",
            daemon=True,
        )
        proc.start()
        child.close()
        self._proc, self._conn = proc, parent
        self.starts += 1
        if not parent.poll(STARTUP_TIMEOUT):
            self._kill()
            raise SandboxError(f"sandbox worker did not start within {STARTUP_TIMEOUT:g} s")
        try:
            status, detail = parent.recv()
        except (EOFError, OSError) as e:
            self._kill()
            raise SandboxError(f"sandbox worker died while starting: {e}") from e
        if status != "ready":
            self._kill()
            raise SandboxError(f"sandbox worker could not open the database: {detail}")

    def _kill(self) -> None:
        proc, conn = self._proc, self._conn
        self._proc = self._conn = None
        if conn is not None:
            conn.close()
        if proc is not None:
            if proc.is_alive():
                proc.kill()
            proc.join(5)

    def execute(self, sql: str, t0: float) -> ExecResult:
        if self._proc is None or not self._proc.is_alive():
            self._kill()
            self._start()
        try:
            self._conn.send(sql)
            if self._conn.poll(self.timeout + KILL_GRACE):
                result = self._conn.recv()
                result.elapsed = time.perf_counter() - t0
                return result
            kind, message = (
                ErrorKind.TIMEOUT,
                (f"query stopped after the {self.timeout:g} s timeout (worker process killed)"),
            )
        except (EOFError, OSError) as e:
            kind, message = ErrorKind.CRASHED, f"sandbox worker process died while running the query ({e!r})"
        self._kill()  # the next query starts a fresh worker
        return ExecResult.failure(sql, kind, message, elapsed=time.perf_counter() - t0, engine=self.engine)

    def close(self) -> None:
        conn = self._conn
        if conn is not None:
            try:
                conn.send(None)
            except OSError:
                pass
        if self._proc is not None:
            self._proc.join(2)
        self._kill()


class ProcessEngine:
    """The engine interface (connect/run/close) over worker processes."""

    def __init__(self, database: str, options: dict[str, Any], timeout: float, engine: str) -> None:
        self.name = engine
        self._args = (database, options, timeout, engine)

    def connect(self) -> ProcessWorker:
        return ProcessWorker(*self._args)

    @staticmethod
    def close_conn(worker: ProcessWorker) -> None:
        worker.close()

    def close(self) -> None:
        pass

    def run(self, worker: ProcessWorker, sql: str, run_sql: str, t0: float, *, rows: bool = True) -> ExecResult:
        return worker.execute(sql, t0)  # rows always: they cross the process boundary pickled
