"""What one query execution returns: :class:`ExecResult` and the :class:`ErrorKind` of a failure."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlrl._error_kind import ErrorKind

__all__ = ["ErrorKind", "ExecResult"]


@dataclass(eq=False)
class ExecResult:
    """The outcome of one query. Never raised, always returned.

    Attributes:
        sql: the SQL text as given to :meth:`Sandbox.execute`.
        ok: True when the query ran; ``columns`` and ``rows`` then hold its result.
        columns: result column names (duplicates kept, in order).
        rows: result rows as tuples of Python values, at most ``max_rows`` of them.
        error_kind: why it failed (None when ``ok``).
        error: the engine's message, or sqlrl's own explanation (empty when ``ok``).
        elapsed: wall-clock seconds spent in the sandbox for this query.
        truncated: True when the query had more than ``max_rows`` rows and the rest was dropped.
        engine: ``"sqlite"`` or ``"duckdb"``.

    ``table`` converts the rows into the scoring core's table (``sqlrl.scoring.as_table``)
    on first access and keeps it.

    >>> r = ExecResult(sql="SELECT 1", ok=True, columns=["1"], rows=[(1,)])
    >>> r.ok, r.num_rows, r.error_kind
    (True, 1, None)
    """

    sql: str
    ok: bool
    columns: list[str] = field(default_factory=list)
    rows: list[tuple[Any, ...]] | None = field(default_factory=list)
    error_kind: ErrorKind | None = None
    error: str = ""
    elapsed: float = 0.0
    truncated: bool = False
    engine: str = ""
    _table: Any = field(default=None, repr=False)

    @classmethod
    def failure(cls, sql: str, kind: ErrorKind, message: str, *, elapsed: float = 0.0, engine: str = "") -> ExecResult:
        """A failed result with no rows."""
        return cls(
            sql=sql,
            ok=False,
            columns=[],
            rows=[],
            error_kind=kind,
            error=message,
            elapsed=elapsed,
            engine=engine,
        )

    @property
    def num_rows(self) -> int:
        """Number of rows kept (after the row cap)."""
        if self.rows is not None:
            return len(self.rows)
        return 0 if self._table is None else int(self._table.num_rows)

    @property
    def num_columns(self) -> int:
        """Number of result columns."""
        return len(self.columns)

    @property
    def empty(self) -> bool:
        """The query ran and returned no rows."""
        return self.ok and self.num_rows == 0

    def without_rows(self) -> ExecResult:
        """This result with its table built and its Python rows dropped (what a memo keeps).

        A result whose cells the core cannot read becomes an ``internal`` failure: unscorable,
        not fatal.
        """
        if not self.ok or self.rows is None:
            return self
        try:
            table = self.table
        except Exception as e:  # noqa: BLE001 - a cell the core cannot read
            return ExecResult.failure(
                self.sql, ErrorKind.INTERNAL, f"cannot score the result: {e}", elapsed=self.elapsed, engine=self.engine
            )
        return ExecResult(
            sql=self.sql, ok=True, columns=self.columns, rows=None, elapsed=self.elapsed,
            truncated=self.truncated, engine=self.engine, _table=table,
        )  # fmt: skip

    @property
    def table(self) -> Any:
        """The result as a ``sqlrl._core.Table`` for the scoring core (built once, lazily).

        Raises:
            ValueError: when the result is not ``ok`` (there is no table to score).
            ImportError: when the compiled scoring core is not available.
        """
        if self._table is None:
            if not self.ok:
                raise ValueError(f"query failed ({self.error_kind}): no result table")
            from sqlrl.scoring import as_table

            self._table = as_table(self.rows, columns=self.columns)
        return self._table

    def __getstate__(self) -> dict[str, Any]:
        # The core table is rebuilt on the other side of a pickle (process isolation, multiprocessing,
        # Ray): from the rows, or, for a result that kept only its table, from the table's rows.
        state = dict(self.__dict__)
        if self.rows is not None:
            state["_table"] = None
        elif self._table is not None:
            state["_table"] = ("rows", self._table.rows())
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        table = state.get("_table")
        if isinstance(table, tuple):
            from sqlrl.scoring import as_table

            state = {**state, "_table": as_table(table[1], columns=state["columns"])}
        self.__dict__.update(state)
