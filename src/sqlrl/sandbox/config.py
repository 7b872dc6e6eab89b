"""Settings of a sandbox, validated once: :class:`SandboxConfig`."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from sqlrl.sql.statement import DEFAULT_MAX_SQL_LENGTH

ENGINES = ("auto", "sqlite", "duckdb")
ISOLATIONS = ("thread", "process")
FETCH_MODES = ("rows", "arrow")
TEXT_ERRORS = ("strict", "surrogateescape", "replace", "ignore", "bytes")

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([KMGT]?i?B?)?\s*$", re.I)
_UNITS = {
    "": 1,
    "B": 1,
    "KB": 10**3,
    "MB": 10**6,
    "GB": 10**9,
    "TB": 10**12,
    "KIB": 2**10,
    "MIB": 2**20,
    "GIB": 2**30,
    "TIB": 2**40,
    "K": 10**3,
    "M": 10**6,
    "G": 10**9,
    "T": 10**12,
}


def parse_size(text: str) -> int:
    """Bytes in a size as DuckDB writes it (``1GB`` = 10^9, ``1GiB`` = 2^30).

    >>> parse_size("1GB"), parse_size("512MiB")
    (1000000000, 536870912)
    """
    m = _SIZE.match(text)
    unit = (m.group(2) or "").upper() if m else None
    if m is None or unit not in _UNITS:
        raise ValueError(f"not a size: {text!r} (use e.g. '512MB' or '2GiB')")
    return int(float(m.group(1)) * _UNITS[unit])


@dataclass(frozen=True)
class SandboxConfig:
    """How every query of a :class:`~sqlrl.sandbox.Sandbox` runs.

    Limits: a query gets ``timeout`` seconds and the memory budget ``memory_limit`` (see the fields'
    help). The default budget, 1 GB, suits a GRPO batch: DuckDB's limit is per database and SQLite's
    per process, so the engines stay within it however many completions of a group run at once, and
    only the fetched rows (a quarter of the budget each) add up with the number of workers.
    """

    engine: str = field(default="auto", metadata={"help": "'sqlite', 'duckdb', or 'auto' (by the file's kind)."})
    timeout: float = field(
        default=5.0,
        metadata={
            "help": "Seconds a query may run, fetching its rows included; one the engine cannot stop in time "
            "is abandoned 0.3 s later (the caller gets 'timeout', the connection is retired)."
        },
    )
    max_rows: int = field(default=100_000, metadata={"help": "Rows kept per result; more sets `truncated`."})
    memory_limit: str = field(
        default="1GB",
        metadata={
            "help": "Memory budget of a query; past it the query fails as 'resource'. DuckDB: the database's "
            "memory limit (shared by the sandbox's concurrent queries; nothing spills to disk). SQLite: the "
            "process-wide heap limit (the smallest budget of the process's SQLite sandboxes) and, a quarter of "
            "it, the longest string or blob. Both: a quarter of it for the Python rows of one result. "
            "isolation='process': also the worker's data memory."
        },
    )
    threads: int = field(default=1, metadata={"help": "DuckDB threads per query; 1 is best for batches."})
    sqlite_compat: bool | None = field(
        default=None,
        metadata={
            "help": "DuckDB only: SQLite semantics for division, NULL order, LIKE. None = on for data "
            "imported from SQLite, off otherwise."
        },
    )
    sqlite_ties: bool = field(
        default=False,
        metadata={
            "help": "DuckDB with sqlite_compat: rows that tie under the ORDER BY of a query reading one table "
            "come in SQLite's row order (rowid appended to the ORDER BY), tied groups in SQLite's order of "
            "groups (the GROUP BY keys appended); one parse per distinct query with an ORDER BY."
        },
    )
    isolation: str = field(
        default="thread",
        metadata={"help": "'thread' or 'process' (a worker process per thread, restarted when it hangs or dies)."},
    )
    fetch: str = field(
        default="rows",
        metadata={
            "help": "DuckDB: 'rows' (fetchmany, fastest for small results) or 'arrow' (Arrow C stream "
            "into the scoring core; needs sqlrl.scoring.as_table with max_rows)."
        },
    )
    sqlglot_check: bool = field(
        default=False,
        metadata={"help": "Also check each query with sqlglot before the engine (0.1-0.6 ms per query)."},
    )
    text_errors: str = field(
        default="surrogateescape",
        metadata={
            "help": "SQLite text that is not valid UTF-8: decode with this error handler, or 'bytes' "
            "to return the raw bytes."
        },
    )
    max_sql_length: int = field(default=DEFAULT_MAX_SQL_LENGTH, metadata={"help": "Longest SQL text accepted."})
    cache_dir: str | None = field(
        default=None,
        metadata={"help": "Where imported databases are cached; default $SQLRL_CACHE_DIR or ~/.cache/sqlrl."},
    )

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"engine must be one of {ENGINES}, got {self.engine!r}")
        if not self.timeout > 0:
            raise ValueError(f"timeout must be > 0 seconds, got {self.timeout!r}")
        if self.max_rows < 0:
            raise ValueError(f"max_rows must be >= 0, got {self.max_rows!r}")
        if self.threads < 1:
            raise ValueError(f"threads must be >= 1, got {self.threads!r}")
        if self.isolation not in ISOLATIONS:
            raise ValueError(f"isolation must be one of {ISOLATIONS}, got {self.isolation!r}")
        if self.fetch not in FETCH_MODES:
            raise ValueError(f"fetch must be one of {FETCH_MODES}, got {self.fetch!r}")
        if self.text_errors not in TEXT_ERRORS:
            raise ValueError(f"text_errors must be one of {TEXT_ERRORS}, got {self.text_errors!r}")
        parse_size(self.memory_limit)

    @property
    def timeout_ms(self) -> int:
        return max(1, int(round(self.timeout * 1000)))

    @cached_property
    def memory_bytes(self) -> int:
        """The memory budget in bytes."""
        return parse_size(self.memory_limit)

    @cached_property
    def max_result_bytes(self) -> int:
        """Most bytes (estimated) of the Python rows of one result: a quarter of the memory budget."""
        return self.memory_bytes // 4
