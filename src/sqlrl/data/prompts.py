"""Prompts for text-to-SQL: the schema as ``CREATE TABLE`` statements with sample values, the
question (and BIRD evidence), and an instruction asking for the SQL in a fenced ```sql block.

>>> import sqlite3, tempfile, os
>>> db = os.path.join(tempfile.mkdtemp(), "t.sqlite")
>>> con = sqlite3.connect(db)
>>> _ = con.execute("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT)")
>>> _ = con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b")])
>>> con.commit(); con.close()
>>> print(schema_ddl(db, sample_values=2))
CREATE TABLE t (
  id INTEGER PRIMARY KEY, -- e.g. 1, 2
  name TEXT -- e.g. 'a', 'b'
);

Everything is deterministic: the same database, example and options give the same prompt.
Database files are opened read-only and their schema and samples are cached per file version.
"""

from __future__ import annotations

import functools
import os
import re
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlrl.data.example import Example
from sqlrl.errors import SqlrlError

__all__ = [
    "PromptOptions",
    "PromptTooLongError",
    "build_messages",
    "build_prompt",
    "dialect_label",
    "fit_schema",
    "schema_ddl",
]

_DIALECT_LABELS = {
    "sqlite": "SQLite", "duckdb": "DuckDB", "postgres": "PostgreSQL", "postgresql": "PostgreSQL",
    "mysql": "MySQL", "bigquery": "BigQuery", "snowflake": "Snowflake", "tsql": "T-SQL", "oracle": "Oracle",
    "spark": "Spark SQL", "trino": "Trino", "presto": "Presto", "clickhouse": "ClickHouse",
}  # fmt: skip
_PLAIN_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_RESERVED = {
    "ADD", "ALL", "ALTER", "AND", "AS", "ASC", "BETWEEN", "BY", "CASE", "CHECK", "COLUMN", "CREATE", "CROSS",
    "DEFAULT", "DELETE", "DESC", "DISTINCT", "DROP", "ELSE", "END", "EXCEPT", "EXISTS", "FOREIGN", "FROM", "FULL",
    "GROUP", "HAVING", "IN", "INDEX", "INNER", "INSERT", "INTERSECT", "INTO", "IS", "JOIN", "KEY", "LEFT", "LIKE",
    "LIMIT", "NOT", "NULL", "ON", "OR", "ORDER", "OUTER", "PRIMARY", "REFERENCES", "RIGHT", "SELECT", "SET",
    "TABLE", "THEN", "TO", "UNION", "UNIQUE", "UPDATE", "USING", "VALUES", "WHEN", "WHERE", "WITH",
}  # fmt: skip
#: SQLite VM steps a sample-value query may take before it is abandoned (huge tables).
_SAMPLE_STEPS = 2_000_000


class PromptTooLongError(SqlrlError, ValueError):
    """Even the shortest form of the prompt (one table, no sample values) exceeds ``max_length``."""


@dataclass(frozen=True)
class PromptOptions:
    """How prompts are built.

    Attributes:
        sample_values: distinct sample values shown per column (as ``-- e.g.`` comments); 0 for none.
        max_value_chars: longer sample values are cut and end in ``...``.
        max_length: upper bound on the prompt's length as ``length_fn`` counts it (None: no bound).
            To fit, sample values are reduced, then the tables least related to the question are
            left out (the prompt says how many); :class:`PromptTooLongError` when nothing fits.
        length_fn: how length is counted (default ``len``, characters; pass a tokenizer's count).
        dialect: the SQL dialect to ask for (default: the example's).
        think: ask for reasoning inside ``<think>...</think>`` before the final SQL.
        foreign_keys: list foreign keys in the ``CREATE TABLE`` statements.
        system_message: chat messages start with a system message holding the instruction; when
            False the instruction opens the user message (for chat templates without a system role).
        instruction: replaces the default instruction text.
        schema_format: ``"ddl"`` (``CREATE TABLE`` statements), ``"compact"`` (one line per table,
            ``name(col1, col2, ...)``, no types, samples or keys) or ``"none"`` (no schema at all: only
            for a model trained on one fixed set of databases, like the offline quickstart's tiny model).
    """

    sample_values: int = 3
    max_value_chars: int = 40
    max_length: int | None = None
    length_fn: Callable[[str], int] | None = field(default=None, compare=False)
    dialect: str | None = None
    think: bool = False
    foreign_keys: bool = True
    system_message: bool = True
    instruction: str | None = None
    schema_format: str = "ddl"

    def __post_init__(self) -> None:
        if self.schema_format not in ("ddl", "compact", "none"):
            raise ValueError(f"schema_format must be 'ddl', 'compact' or 'none', not {self.schema_format!r}")
        if self.sample_values < 0:
            raise ValueError(f"sample_values must be >= 0, got {self.sample_values}")
        if self.max_value_chars < 4:
            raise ValueError(f"max_value_chars must be >= 4, got {self.max_value_chars}")
        if self.max_length is not None and self.max_length <= 0:
            raise ValueError(f"max_length must be positive or None, got {self.max_length}")


def dialect_label(dialect: str) -> str:
    """The display name of a dialect (``"duckdb"`` -> ``"DuckDB"``)."""
    return _DIALECT_LABELS.get(dialect.lower(), dialect)


def _ident(name: str) -> str:
    if _PLAIN_IDENT.fullmatch(name) and name.upper() not in _RESERVED:
        return name
    return '"' + name.replace('"', '""') + '"'


# -- reading the database ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[tuple[str, str], ...]  # (name, declared type)
    primary_key: tuple[str, ...]
    foreign_keys: tuple[tuple[tuple[str, ...], str, tuple[str, ...]], ...]  # (cols, ref table, ref cols)
    samples: Mapping[str, tuple[Any, ...]]


def _file_version(path: Path) -> tuple[str, int, int]:
    st = path.stat()
    return (str(path.resolve()), st.st_size, st.st_mtime_ns)


def _read_tables(path: Path, samples: int) -> tuple[_Table, ...]:
    return _read_tables_cached(_file_version(path), samples)


@functools.lru_cache(maxsize=256)
def _read_tables_cached(version: tuple[str, int, int], samples: int) -> tuple[_Table, ...]:
    path = version[0]
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        con.text_factory = lambda b: b.decode("utf-8", "replace")
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' "
                                           "AND name NOT LIKE 'sqlite_%' ORDER BY rowid")]  # fmt: skip
        out = []
        for t in names:
            q = t.replace('"', '""')
            info = con.execute(f'PRAGMA table_info("{q}")').fetchall()
            cols = tuple((r[1], (r[2] or "").strip()) for r in info)
            pk = tuple(r[1] for r in sorted((r for r in info if r[5]), key=lambda r: r[5]))
            fk_rows: dict[int, list] = {}
            for r in con.execute(f'PRAGMA foreign_key_list("{q}")').fetchall():
                fk_rows.setdefault(r[0], []).append(r)
            fks = []
            for rows in fk_rows.values():
                rows.sort(key=lambda r: r[1])
                ref_cols = tuple(r[4] for r in rows if r[4] is not None)
                fks.append((tuple(r[3] for r in rows), rows[0][2], ref_cols))
            position = {c.lower(): i for i, (c, _) in enumerate(cols)}
            fks.sort(key=lambda fk: (position.get(fk[0][0].lower(), len(cols)), fk[1], fk[2]))  # column order
            out.append(_Table(t, cols, pk, tuple(fks), _samples(con, t, [c for c, _ in cols], samples)))
        return tuple(out)
    finally:
        con.close()


def _samples(con: sqlite3.Connection, table: str, columns: list[str], n: int) -> dict[str, tuple[Any, ...]]:
    out: dict[str, tuple[Any, ...]] = {}
    if n <= 0:
        return out
    steps = [0]

    def budget() -> int:
        steps[0] += 1
        return 1 if steps[0] > _SAMPLE_STEPS // 1000 else 0

    t = table.replace('"', '""')
    for c in columns:
        qc = c.replace('"', '""')
        steps[0] = 0
        con.set_progress_handler(budget, 1000)
        try:
            rows = con.execute(f'SELECT DISTINCT "{qc}" FROM "{t}" WHERE "{qc}" IS NOT NULL LIMIT {n}').fetchall()
        except sqlite3.Error:
            rows = []  # interrupted on a huge table, or an unreadable column: no samples
        finally:
            con.set_progress_handler(None, 0)
        out[c] = tuple(r[0] for r in rows)
    return out


# -- rendering ---------------------------------------------------------------------------------------


def _value(v: Any, max_chars: int) -> str:
    if isinstance(v, bytes):
        return "<blob>"
    if isinstance(v, str):
        s = " ".join(v.split())  # no newlines or tabs inside a comment
        if len(s) > max_chars:
            s = s[: max_chars - 3] + "..."
        return "'" + s.replace("'", "''") + "'"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _render_table(t: _Table, samples: int, max_chars: int, foreign_keys: bool, extra_fks: Sequence = ()) -> str:
    lines: list[tuple[str, str]] = []  # (definition, comment)
    for name, ty in t.columns:
        d = f"{_ident(name)} {ty}".rstrip()
        if len(t.primary_key) == 1 and t.primary_key[0] == name:
            d += " PRIMARY KEY"
        vals = t.samples.get(name, ())[:samples]
        lines.append((d, " -- e.g. " + ", ".join(_value(v, max_chars) for v in vals) if vals else ""))
    if len(t.primary_key) > 1:
        lines.append((f"PRIMARY KEY ({', '.join(_ident(c) for c in t.primary_key)})", ""))
    if foreign_keys:
        seen = set()
        for cols, ref, ref_cols in [*t.foreign_keys, *extra_fks]:
            key = (tuple(c.lower() for c in cols), ref.lower(), tuple(c.lower() for c in ref_cols))
            if key in seen:
                continue
            seen.add(key)
            target = f"{_ident(ref)}({', '.join(_ident(c) for c in ref_cols)})" if ref_cols else _ident(ref)
            lines.append((f"FOREIGN KEY ({', '.join(_ident(c) for c in cols)}) REFERENCES {target}", ""))
    rendered = []  # each comment after its line's comma
    for i, (d, comment) in enumerate(lines):
        rendered.append(f"  {d}{',' if i < len(lines) - 1 else ''}{comment}")
    body = "\n".join(rendered)
    return f"CREATE TABLE {_ident(t.name)} (\n{body}\n);"


def _tables_json_fks(entry: Mapping[str, Any] | None) -> dict[str, list]:
    """Foreign keys of a tables.json entry by (lower-cased) table name."""
    if not entry:
        return {}
    try:
        tables = entry["table_names_original"]
        cols = entry["column_names_original"]
        out: dict[str, list] = {}
        for a, b in entry.get("foreign_keys", []):
            (ta, ca), (tb, cb) = cols[a], cols[b]
            out.setdefault(tables[ta].lower(), []).append(((ca,), tables[tb], (cb,)))
        return out
    except (KeyError, IndexError, TypeError, ValueError):
        return {}


def schema_ddl(
    db_path: str | os.PathLike[str],
    *,
    sample_values: int = 3,
    max_value_chars: int = 40,
    foreign_keys: bool = True,
    tables_entry: Mapping[str, Any] | None = None,
    only_tables: Sequence[str] | None = None,
) -> str:
    """The database's tables as ``CREATE TABLE`` statements with sample values as comments.

    Args:
        db_path: a SQLite file (opened read-only).
        sample_values: distinct non-NULL values shown per column.
        max_value_chars: longer values are cut.
        foreign_keys: add ``FOREIGN KEY`` clauses (from the file, plus ``tables_entry``'s).
        tables_entry: the database's ``tables.json`` entry, whose foreign keys are merged in.
        only_tables: keep these tables (case-insensitive), in the file's order.
    """
    tables = _read_tables(Path(db_path), sample_values)
    return _render(tables, sample_values, max_value_chars, foreign_keys, tables_entry, only_tables)


def _render(tables: Sequence[_Table], samples: int, max_chars: int, foreign_keys: bool,
            entry: Mapping[str, Any] | None, only: Sequence[str] | None, compact: bool = False) -> str:  # fmt: skip
    keep = None if only is None else {t.lower() for t in only}
    if compact:
        return "\n".join(
            f"{_ident(t.name)}({', '.join(_ident(c) for c, _ in t.columns)})"
            for t in tables
            if keep is None or t.name.lower() in keep
        )
    fks = _tables_json_fks(entry)
    parts = [
        _render_table(t, samples, max_chars, foreign_keys, fks.get(t.name.lower(), ()))
        for t in tables
        if keep is None or t.name.lower() in keep
    ]
    return "\n\n".join(parts)


# -- prompts -----------------------------------------------------------------------------------------


def _instruction(opts: PromptOptions, dialect: str, schema_dialect: str) -> str:
    if opts.instruction is not None:
        return opts.instruction
    label = dialect_label(dialect)
    text = (f"You are an expert in {label}. Given a database schema and a question, write one {label} query "
            "that answers the question, using only the tables and columns of the schema.")  # fmt: skip
    if dialect.lower() != schema_dialect:
        text += f" The schema is shown as {dialect_label(schema_dialect)} DDL; write the query for {label}."
    if opts.think:
        text += " First think step by step inside <think> and </think>; then give the final SQL query"
    else:
        text += " Give the final SQL query"
    return text + " in a ```sql fenced code block."


def _user(ex: Example, ddl: str) -> str:
    parts = [f"Database schema (SQLite):\n{ddl}"] if ddl else [f"Database: {ex.db_id}"]
    if ex.evidence:
        parts.append(f"Evidence: {ex.evidence.strip()}")
    parts.append(f"Question: {ex.question.strip()}")
    return "\n\n".join(parts)


def _relevance(tables: Sequence[_Table], question: str) -> list[_Table]:
    """Tables ordered by how many of their words (name, columns) the question mentions; ties by file order."""
    words = set(re.findall(r"[a-z0-9]+", question.lower()))

    def score(t: _Table) -> int:
        names = [t.name, *(c for c, _ in t.columns)]
        toks = {w for n in names for w in re.findall(r"[a-z0-9]+", n.lower()) if len(w) > 2}
        return len(toks & words) + (3 if t.name.lower() in question.lower() else 0)

    return sorted(tables, key=lambda t: -score(t))


def _fit(
    ex: Example, opts: PromptOptions, assemble: Callable[[str], list[str]], entry: Mapping[str, Any] | None
) -> list[str]:
    """The prompt parts with the richest schema whose total length fits ``opts.max_length``."""
    if ex.db_path is None:
        raise ValueError(f"example {ex.id!r} has no db_path, so its schema cannot be shown")
    tables = _read_tables(Path(ex.db_path), opts.sample_values)
    measure = opts.length_fn or len

    def make(samples: int, only: Sequence[str] | None = None, omitted: int = 0) -> tuple[list[str], bool]:
        compact = opts.schema_format == "compact"
        ddl = _render(tables, samples, opts.max_value_chars, opts.foreign_keys, entry, only, compact)
        if opts.schema_format == "none":
            ddl = ""
        if omitted:
            ddl += f"\n\n-- ({omitted} more table{'s' if omitted > 1 else ''} not shown)"
        parts = assemble(ddl)
        return parts, opts.max_length is None or sum(measure(p) for p in parts) <= opts.max_length

    n = opts.sample_values
    while True:
        parts, fits = make(n)
        if fits:
            return parts
        if n == 0:
            break
        n //= 2
    best = None
    ranked = _relevance(tables, ex.question)
    for k in range(1, len(ranked)):
        parts, fits = make(0, [t.name for t in ranked[:k]], len(ranked) - k)
        if not fits:
            break
        best = parts
    if best is None:
        raise PromptTooLongError(
            f"example {ex.id!r}: no prompt fits max_length={opts.max_length} (even one table without samples)"
        )
    return best


def fit_schema(
    example: Example,
    options: PromptOptions,
    assemble: Callable[[str], list[str]],
    tables_entry: Mapping[str, Any] | None = None,
) -> list[str]:
    """The texts ``assemble(schema)`` makes with the richest schema that keeps their summed length
    within ``options.max_length`` (fewer sample values first, then the tables the question mentions
    most); how :func:`build_messages` fits a prompt, for other prompts that show the schema.

    Raises:
        PromptTooLongError: nothing fits ``options.max_length``.
    """
    return _fit(example, options, assemble, tables_entry)


def build_messages(
    example: Example, *, options: PromptOptions | None = None, tables_entry: Mapping[str, Any] | None = None
) -> list[dict[str, str]]:
    """Chat messages (``[{"role": "system", ...}, {"role": "user", ...}]``) for a chat template.

    Args:
        example: the example (its ``db_path`` supplies the schema and sample values).
        options: see :class:`PromptOptions`; ``max_length`` bounds the summed length of the contents.
        tables_entry: the database's ``tables.json`` entry (``dataset.tables.get(example.db_id)``),
            whose foreign keys are added to those declared in the file.

    Raises:
        PromptTooLongError: nothing fits ``options.max_length``.
    """
    opts = options or PromptOptions()
    instruction = _instruction(opts, opts.dialect or example.dialect, "sqlite")
    system, user = _fit(example, opts, lambda ddl: [instruction, _user(example, ddl)], tables_entry)
    if opts.system_message:
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]
    return [{"role": "user", "content": f"{system}\n\n{user}"}]


def build_prompt(
    example: Example, *, options: PromptOptions | None = None, tables_entry: Mapping[str, Any] | None = None
) -> str:
    """The same prompt as plain text (instruction, schema, evidence, question), for base models."""
    opts = options or PromptOptions()
    instruction = _instruction(opts, opts.dialect or example.dialect, "sqlite")
    (text,) = _fit(example, opts, lambda ddl: [f"{instruction}\n\n{_user(example, ddl)}\n"], tables_entry)
    return text
