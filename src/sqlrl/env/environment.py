"""One interactive episode per question: the sandbox as a TRL environment.

:class:`SqlEnvironment` follows TRL's environment protocol (``GRPOTrainer(environment_factory=...)``):
``reset(**row)`` starts an episode on the row's database, and every public method is a tool whose
name, arguments and docstring TRL renders into the prompt. The tools are read-only by construction:
every query goes through an :class:`~sqlrl.sandbox.ExecutionService` (read-only sandboxes, one
statement, a timeout that stops the query), shared by every episode the factory makes, so the
sandboxes and connections are opened once and a query repeated within or across episodes runs once
(the service's memo).

>>> from sqlrl.data.demo import build_demo_sqlite
>>> import tempfile, os
>>> db = build_demo_sqlite(os.path.join(tempfile.mkdtemp(), "concert_singer.sqlite"), "concert_singer")
>>> env = SqlEnvironment(EnvConfig(tool_help=False))
>>> env.reset(db_path=str(db), gold_sql="SELECT count(*) FROM singer")
>>> print(env.run_query("SELECT count(*) AS n FROM singer"))
columns: n INTEGER
rows: 1
n
40
>>> env.answer("SELECT count(*) FROM singer")
'answer recorded: SELECT count(*) FROM singer. The episode is over.'
>>> env.episode["tool_calls"], env.episode["answered"]
(2, True)
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlrl.env.config import EnvConfig
from sqlrl.env.render import clip, render_error, render_result, render_rows
from sqlrl.sandbox import ExecResult
from sqlrl.sandbox.service import ExecutionService, did_you_mean

__all__ = ["EXPLORATION_TOOLS", "TOOLS", "SqlEnvironment", "environment_factory", "tool_help"]

#: Tools that look at the database; each uses one turn of the budget.
EXPLORATION_TOOLS = ("run_query", "list_tables", "describe_table")
#: Every tool, in the order the help text lists them.
TOOLS = (*EXPLORATION_TOOLS, "answer")

_SCHEMAS_LOCK = threading.Lock()
#: Tool results remembered across episodes (each at most ``fetch_rows`` rows, kept with its rows).
_MEMO = 1024


def tool_help(config: EnvConfig) -> str:
    """The text ``reset`` appends to the question: the tools and how to call them."""
    return (
        "\n\nYou may explore the database before answering. Tools: run_query(sql), list_tables(), "
        "describe_table(table), answer(sql). Call one as "
        '<tool_call>{"name": "run_query", "arguments": {"sql": "SELECT ..."}}</tool_call> '
        f"(at most {config.max_turns} exploration calls), then give the final query with answer(sql)."
    )


class SqlEnvironment:
    """A read-only database episode: explore with queries, then answer (TRL's environment protocol).

    Args:
        config: budgets, truncation and reward terms (:class:`~sqlrl.env.EnvConfig`).
        service: the execution service every query runs on; episodes made by one
            :func:`environment_factory` share one. Default: a new one with ``config``'s timeout.
        schemas: a shared ``{(database, engine): DbSchema | str}`` cache (what ``list_tables`` reads).

    ``reset(db_path=..., engine=..., dialect=..., gold_sql=..., ...)`` takes a dataset row (other
    columns are ignored). After the episode, :attr:`episode` holds its counts and
    :attr:`trajectory` every call with its output.
    """

    def __init__(
        self,
        config: EnvConfig | None = None,
        *,
        service: ExecutionService | None = None,
        schemas: dict[tuple[str, str | None], Any] | None = None,
    ) -> None:
        self.config = config or EnvConfig()
        self._service = service if service is not None else _service_for(self.config)
        self._schemas = {} if schemas is None else schemas
        self._db: str | None = None
        self._engine: str | None = None
        self._dialect: str | None = None
        self._start()

    def _start(self) -> None:
        self.trajectory: list[dict[str, Any]] = []
        self.final_sql: str | None = None
        self._turns = 0
        self._chars = 0
        self._failed = 0
        self._out_of_turns = False
        self._calls: dict[str, int] = dict.fromkeys(TOOLS, 0)

    def reset(
        self,
        db_path: str | None = None,
        engine: str | None = None,
        dialect: str | None = None,
        **row: Any,
    ) -> str | None:
        """Start an episode on ``db_path``; returns the tool help to append to the question (or None)."""
        if not db_path:
            raise ValueError("an interactive episode needs the row's db_path (the database to explore)")
        self._db = str(db_path)
        self._engine = engine or None
        self._dialect = None if dialect in (None, "", "sqlite", "sqlite3") else str(dialect)
        self._start()
        return tool_help(self.config) if self.config.tool_help else None

    # -- tools (public methods: TRL exposes each one to the model) --------------------------------------

    def run_query(self, sql: str) -> str:
        """Run one read-only SQL query on the question's database and see its first rows, or the error.

        Args:
            sql: one SELECT statement (writes, several statements and files are refused).

        Returns:
            The column names and types, the row count and the first rows (long cells and outputs are cut), or
            the error.
        """
        refused = self._check_turn("run_query")
        if refused is not None:
            return self._record("run_query", {"sql": sql}, refused, ok=False, count=False)
        if not isinstance(sql, str) or not sql.strip():
            no_sql = self._error("no_sql", "give one SQL query as text")
            return self._record("run_query", {"sql": sql}, no_sql, ok=False)
        if len(sql) > self.config.max_sql_chars:
            why = f"the query has {len(sql)} characters; at most {self.config.max_sql_chars} are run"
            return self._record("run_query", {"sql": sql}, self._error("too_long", why), ok=False)
        result = self._run(sql, self._dialect)
        text = render_result(
            result, max_rows=self.config.max_rows, max_cell_chars=self.config.max_cell_chars,
            limit=self._limit(), fetch_rows=self.config.fetch_rows,
        )  # fmt: skip
        return self._record("run_query", {"sql": sql}, text, ok=result.ok)

    def list_tables(self) -> str:
        """List the tables of the question's database with their column counts.

        Returns:
            One line per table: its name and how many columns it has.
        """
        refused = self._check_turn("list_tables")
        if refused is not None:
            return self._record("list_tables", {}, refused, ok=False, count=False)
        schema = self._schema()
        if isinstance(schema, str):
            return self._record("list_tables", {}, self._error("schema", schema), ok=False)
        lines = [f"{name} ({len(cols)} columns)" for name, cols in schema.tables.items()]
        text = clip("tables:\n" + "\n".join(lines), self._limit())
        return self._record("list_tables", {}, text, ok=True)

    def describe_table(self, table: str) -> str:
        """Describe one table of the question's database: its columns with their types, and sample rows.

        Args:
            table: the table's name, as list_tables shows it (case does not matter).

        Returns:
            The columns with their types, the primary and foreign keys, and the first rows of the table.
        """
        refused = self._check_turn("describe_table")
        if refused is not None:
            return self._record("describe_table", {"table": table}, refused, ok=False, count=False)
        schema = self._schema()
        if isinstance(schema, str):
            return self._record("describe_table", {"table": table}, self._error("schema", schema), ok=False)
        names = {t.lower(): t for t in schema.tables}
        name = names.get(str(table).strip().strip('"`[]').lower()) if isinstance(table, str) else None
        if name is None:
            why = f"no table {table!r}{did_you_mean(str(table), schema.tables)}; tables: {', '.join(schema.tables)}"
            return self._record("describe_table", {"table": table}, self._error("unknown_table", why), ok=False)
        cols = schema.tables[name]
        lines = [f"table {name}: " + ", ".join(f"{c} {t}" for c, t in cols.items())]
        pks = [c for t, c in schema.primary_keys if t == name]
        if pks:
            lines.append("primary key: " + ", ".join(pks))
        for (t, c), (rt, rc) in schema.foreign_keys:
            if t == name:
                lines.append(f"foreign key: {c} -> {rt}.{rc}")
        if self.config.sample_rows:
            quoted = '"' + name.replace('"', '""') + '"'
            result = self._run(f"SELECT * FROM {quoted} LIMIT {self.config.sample_rows}", None)
            if result.ok:
                lines.append(f"sample rows (first {len(result.rows or [])}):")
                lines += render_rows(result.columns, result.rows or [], self.config.max_cell_chars)
            else:
                lines.append(f"sample rows: error ({result.error_kind}): {result.error}")
        return self._record("describe_table", {"table": table}, clip("\n".join(lines), self._limit()), ok=True)

    def answer(self, sql: str) -> str:
        """Give the final SQL query that answers the question; this ends the episode.

        Args:
            sql: the final query (one SELECT statement).

        Returns:
            A confirmation; no more tools can be called after it.
        """
        self._calls["answer"] += 1
        if self.final_sql is not None:
            return self._record("answer", {"sql": sql}, self._error("finished", "the episode is over"), ok=False,
                                count=False)  # fmt: skip
        if not isinstance(sql, str) or not sql.strip():
            return self._record("answer", {"sql": sql}, self._error("no_sql", "give the final query as text"),
                                ok=False, count=False)  # fmt: skip
        self.final_sql = sql.strip()
        done = f"answer recorded: {clip(self.final_sql, 200)}. The episode is over."
        return self._record("answer", {"sql": sql}, done, ok=True, count=False)

    # -- results -----------------------------------------------------------------------------------------

    @property
    def episode(self) -> dict[str, Any]:
        """This episode's counts: exploration turns, tool calls by kind, failed calls, characters shown,
        whether it answered and whether it asked for a tool past ``max_turns``."""
        return {
            "turns": self._turns,
            "tool_calls": sum(self._calls.values()),
            "calls": dict(self._calls),
            "failed_calls": self._failed,
            "chars": self._chars,
            "answered": self.final_sql is not None,
            "out_of_turns": self._out_of_turns,
        }

    @property
    def penalty(self) -> float:
        """The per-episode reward term (<= 0): the penalties of :class:`~sqlrl.env.EnvConfig` applied to the counts."""
        c = self.config
        calls = sum(self._calls.values())
        return -(c.tool_call_penalty * calls + c.failed_call_penalty * self._failed
                 + c.out_of_turns_penalty * self._out_of_turns)  # fmt: skip

    # -- internals ---------------------------------------------------------------------------------------

    def _check_turn(self, tool: str) -> str | None:
        """Count an exploration call; an error text when no episode runs or a budget is spent."""
        self._calls[tool] += 1
        if self._db is None:
            return self._error("no_episode", "reset() was not called")
        if self.final_sql is not None:
            return self._error("finished", "the episode is over: the answer was given")
        if self._turns >= self.config.max_turns:
            self._out_of_turns = True
            why = f"all {self.config.max_turns} exploration calls are used; call answer(sql) now"
            return self._error("out_of_turns", why)
        if self._chars >= self.config.max_chars:
            return self._error("out_of_chars", f"the {self.config.max_chars} characters of tool output are used; "
                               "call answer(sql) now")  # fmt: skip
        self._turns += 1
        return None

    def _limit(self) -> int:
        return max(min(self.config.max_output_chars, self.config.max_chars - self._chars), 0)

    def _error(self, kind: str, message: str) -> str:
        return render_error(kind, message, max(self.config.max_output_chars, 8))

    def _record(self, tool: str, args: dict[str, Any], output: str, *, ok: bool, count: bool = True) -> str:
        if count:
            self._chars += len(output)
        if not ok:
            self._failed += 1
        self.trajectory.append({"tool": tool, "arguments": args, "output": output, "ok": ok})
        return output

    def _run(self, sql: str, dialect: str | None) -> ExecResult:
        return self._service.run([(self._db, sql, self._engine, dialect)])[0]

    def _schema(self) -> Any:
        key = (str(self._db), self._engine)
        with _SCHEMAS_LOCK:
            if key in self._schemas:
                return self._schemas[key]
        from sqlrl.sandbox import Sandbox
        from sqlrl.sql.schema import DbSchema

        sb = self._service.get(key[0], self._engine)
        if isinstance(sb, str):
            schema: Any = sb
        else:
            path = Path(key[0])
            if not path.is_file():
                path = Path(sb.database_path) if isinstance(sb, Sandbox) else path
            try:
                schema = DbSchema.from_database(path)
            except Exception as e:  # noqa: BLE001 - unreadable schema: the tool reports it
                schema = f"cannot read the schema of {key[0]}: {e}"
        with _SCHEMAS_LOCK:
            self._schemas[key] = schema
        return schema


def _service_for(config: EnvConfig) -> ExecutionService:
    return ExecutionService(timeout=config.timeout, max_rows=config.fetch_rows, memo_size=_MEMO, workers=1)


def environment_factory(
    config: EnvConfig | None = None, *, service: ExecutionService | None = None
) -> Callable[[], SqlEnvironment]:
    """A zero-argument callable for ``GRPOTrainer(environment_factory=...)``: every environment it makes
    shares one execution service (sandboxes, connections, the memo) and one schema cache.

    >>> make = environment_factory(EnvConfig(max_turns=3))
    >>> a, b = make(), make()
    >>> a._service is b._service, a.config.max_turns
    (True, 3)
    """
    config = config or EnvConfig()
    shared = service if service is not None else _service_for(config)
    schemas: dict[tuple[str, str | None], Any] = {}

    def make() -> SqlEnvironment:
        return SqlEnvironment(config, service=shared, schemas=schemas)

    make.service = shared  # type: ignore[attr-defined]
    return make
