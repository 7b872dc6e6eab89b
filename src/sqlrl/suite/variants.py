"""Candidate databases for a test suite: same schema as a SQLite database, new small contents.

:func:`write_variant` copies every ``CREATE`` statement of the original (tables, indexes, views;
triggers after the rows) into a new file and fills each table with a few rows whose values are
drawn, per column, from the original column's values, boundary values of the column's type
(min, max, 0, -1, one past each end; the empty string; the gold queries' literals, numbers also
one up and one down), values
already drawn (duplicates) and NULL where the column allows it. Keys hold: a foreign key takes
the referenced column's values as inserted in the variant (parents are filled first), primary keys,
UNIQUE and NOT NULL are enforced by SQLite itself (a row that would break one is skipped), so every
variant passes ``PRAGMA foreign_key_check`` and ``PRAGMA integrity_check`` (where SQLite can enforce the
schema's foreign keys at all: see :func:`_keys_enforceable`).

A DuckDB database (:func:`read_duckdb_schema`, :func:`write_duckdb_variant`) gets DuckDB variants the same
way: its ``CREATE`` statements as DuckDB stores them, rows drawn by the same rules per column (a column's
kind comes from its declared type; dates, times, booleans and other types draw the original's values and
its two ends), and DuckDB enforcing the keys, NOT NULL, UNIQUE and CHECK on every insert.

Only :mod:`sqlite3` (or :mod:`duckdb`) and :mod:`random`: a variant is a pure function of the original, the
extra values and the seed.
"""

from __future__ import annotations

import os
import random
import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlrl.suite.errors import SuiteError

__all__ = [
    "Column", "DuckDBSchema", "TableInfo", "read_duckdb_schema", "read_schema", "write_duckdb_variant", "write_variant",
]  # fmt: skip

_MAX_POOL = 64  # original values kept per column


@dataclass
class Column:
    name: str
    declared: str
    not_null: bool
    pk: int  # position in the primary key (1-based), 0 if not in it
    kind: str = "text"  # integer, real, text, blob (from the original values, else the declared type)
    pool: list[Any] = field(default_factory=list)  # original values, sorted


@dataclass
class TableInfo:
    name: str
    columns: list[Column]
    foreign_keys: list[tuple[str, list[str], list[str]]]  # (parent table, child columns, parent columns)


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _affinity(declared: str) -> str:
    d = declared.upper()
    if "INT" in d:
        return "integer"
    if any(s in d for s in ("CHAR", "CLOB", "TEXT")):
        return "text"
    if "BLOB" in d:
        return "blob"
    if any(s in d for s in ("REAL", "FLOA", "DOUB")):
        return "real"
    if any(s in d for s in ("DATE", "TIME")):
        return "text"
    return "real" if any(s in d for s in ("NUM", "DEC")) else "text"


def _sort_key(v: Any) -> tuple[int, Any]:
    if v is None:
        return (0, 0)
    if isinstance(v, (int, float)):
        return (1, v)
    if isinstance(v, str):
        return (2, v)
    return (3, bytes(v))


def _kind_of(values: Sequence[Any], declared: str) -> str:
    counts = {"integer": 0, "real": 0, "text": 0, "blob": 0}
    for v in values:
        counts["integer" if isinstance(v, int) else "real" if isinstance(v, float) else
               "text" if isinstance(v, str) else "blob"] += 1  # fmt: skip
    if not any(counts.values()):
        return _affinity(declared)
    return max(counts, key=lambda k: (counts[k], k))


def read_schema(con: sqlite3.Connection) -> list[TableInfo]:
    """The tables of ``con`` (not SQLite's own), parents before children where the foreign keys allow,
    each column with its original values (at most 64, chosen evenly over the sorted distinct values)."""
    rows = con.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
    ).fetchall()
    # virtual tables (FTS, R*Tree) and their shadow tables stay empty: their contents are the module's
    virtual = [n for n, sql in rows if (sql or "").lstrip().upper().startswith("CREATE VIRTUAL")]
    names = [n for n, _ in rows if not any(n == v or n.startswith(f"{v}_") for v in virtual)]
    tables: dict[str, TableInfo] = {}
    for name in names:
        cols = []
        for _, cname, ctype, notnull, _, pk in con.execute(f"PRAGMA table_info({_quote(name)})"):
            values = [r[0] for r in con.execute(f"SELECT DISTINCT {_quote(cname)} FROM {_quote(name)}")]
            values = sorted((v for v in values if v is not None), key=_sort_key)
            if len(values) > _MAX_POOL:
                step = len(values) / _MAX_POOL
                values = [values[int(i * step)] for i in range(_MAX_POOL - 1)] + [values[-1]]
            col = Column(cname, ctype or "", bool(notnull), int(pk), pool=values)
            col.kind = _kind_of(values, col.declared)
            cols.append(col)
        fks: dict[int, tuple[str, list[str], list[str]]] = {}
        for fid, _, parent, child_col, parent_col, *_ in con.execute(f"PRAGMA foreign_key_list({_quote(name)})"):
            entry = fks.setdefault(fid, (parent, [], []))
            entry[1].append(child_col)
            entry[2].append(parent_col)
        for parent, _, parent_cols in fks.values():
            if not all(parent_cols):  # REFERENCES parent without columns: the parent's primary key
                pk = sorted((r[5], r[1]) for r in con.execute(f"PRAGMA table_info({_quote(parent)})") if r[5])
                parent_cols[:] = [c for _, c in pk] if len(pk) == len(parent_cols) else []
        tables[name] = TableInfo(name, cols, [fk for fk in fks.values() if fk[2]])
    return _parents_first(tables, names)  # a cycle or a missing parent keeps the original order


def _boundaries(col: Column, extra: Sequence[Any]) -> list[Any]:
    pool = col.pool
    out: list[Any] = []
    if col.kind in ("integer", "real"):
        nums = [v for v in pool if isinstance(v, (int, float))]
        lo, hi = (min(nums), max(nums)) if nums else (0, 0)
        step = 1 if col.kind == "integer" else 0.5
        near = [v + d for v in extra if isinstance(v, (int, float)) and not isinstance(v, bool) for d in (0, -1, 1)]
        out = [lo, hi, 0, -1, lo - step, hi + step, *near]
        if col.kind == "integer":
            out = [int(v) if isinstance(v, float) and v.is_integer() else v for v in out]
        else:
            out = [float(v) for v in out]
    elif col.kind == "text":
        texts = [v for v in pool if isinstance(v, str)]
        out = [""] + ([min(texts), max(texts)] if texts else []) + [v for v in extra if isinstance(v, str)]
    elif col.kind == "other" and pool:  # DuckDB's dates, times, booleans, ...: the ends of the original's values
        out = [pool[0], pool[-1]]
    return out


def _draw(rng: random.Random, col: Column, bounds: list[Any], drawn: list[Any]) -> Any:
    r = rng.random()
    if not col.not_null and not col.pk and r < 0.1:
        return None
    if drawn and r < 0.3:
        return rng.choice(drawn)  # a duplicate
    if bounds and (r < 0.55 or not col.pool):
        return rng.choice(bounds)
    if col.pool:
        return rng.choice(col.pool)
    return None if not col.not_null else (rng.randint(-5, 5) if col.kind in ("integer", "real") else "")


def write_variant(
    original: str | os.PathLike[str],
    path: str | os.PathLike[str],
    *,
    seed: int | str,
    max_rows: int = 6,
    extra_values: Sequence[Any] = (),
    schema: list[TableInfo] | None = None,
) -> Path:
    """A new SQLite file at ``path`` with ``original``'s schema and 0..``max_rows`` generated rows per
    table (1..``max_rows`` for most), deterministic for ``seed``.

    Raises:
        SuiteError: ``original`` has no tables, or ``path`` exists.
    """
    path = Path(path)
    if path.exists():
        raise SuiteError(f"{path} exists; a variant is written to a new file")
    src = sqlite3.connect(f"file:{Path(original).as_posix()}?mode=ro", uri=True)
    try:
        statements = [
            (kind, sql)
            for kind, sql in src.execute(
                "SELECT type, sql FROM sqlite_master WHERE sql IS NOT NULL AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
            )
        ]
        tables = schema if schema is not None else read_schema(src)
        encoding = src.execute("PRAGMA encoding").fetchone()[0]
    finally:
        src.close()
    if not tables:
        raise SuiteError(f"{original} has no tables to make variants of")
    rng = random.Random(f"sqlrl-suite:{seed}")
    con = sqlite3.connect(path, isolation_level=None)
    try:
        con.execute(f"PRAGMA encoding = '{encoding}'")
        con.execute("BEGIN")
        for kind, sql in statements:
            if kind != "trigger":
                try:
                    con.execute(sql)
                except sqlite3.OperationalError as e:  # a virtual table's shadow tables exist already
                    if "already exists" not in str(e):
                        raise
        con.execute("COMMIT")
        con.execute("PRAGMA foreign_keys = ON")
        if not _keys_enforceable(con):
            con.execute("PRAGMA foreign_keys = OFF")
        con.execute("BEGIN")
        for table in tables:
            _fill(con, table, rng, max_rows, extra_values)
        for kind, sql in statements:
            if kind == "trigger":
                con.execute(sql)
        con.execute("COMMIT")
    except BaseException:
        con.close()
        path.unlink(missing_ok=True)
        raise
    con.close()
    return path


def _keys_enforceable(con: sqlite3.Connection) -> bool:
    """Whether SQLite can enforce the schema's foreign keys: one that names a missing parent column, or a
    parent key without a PRIMARY KEY or UNIQUE index, is a "foreign key mismatch" on every write while
    they are on (the original was filled with them off). Then the variant is filled with them off too;
    a key's values still come from its parent where the parent's columns exist."""
    try:
        con.execute("PRAGMA foreign_key_check").fetchall()
    except sqlite3.OperationalError as e:
        if "foreign key mismatch" in str(e):
            return False
        raise
    return True


def _fill(
    con: Any, table: TableInfo, rng: random.Random, max_rows: int, extra: Sequence[Any], *,
    verb: str = "INSERT OR IGNORE", errors: tuple[type[BaseException], ...] = (sqlite3.IntegrityError,),
    read_errors: tuple[type[BaseException], ...] = (sqlite3.Error,),
) -> None:  # fmt: skip
    """Up to ``max_rows`` rows of ``table`` into ``con`` (a sqlite3 or DuckDB connection): ``verb`` inserts a
    row, and a row that raises one of ``errors`` (a key, NOT NULL or CHECK it breaks) is skipped."""
    r = rng.random()
    n = 0 if r < 0.05 else 1 if r < 0.2 else rng.randint(2, max(2, max_rows))
    # values of each foreign key: the parent's rows as they are in this variant
    parents: list[tuple[list[str], list[tuple[Any, ...]]]] = []
    for parent, child_cols, parent_cols in table.foreign_keys:
        if parent == table.name:
            continue  # a self-reference: filled below from the rows already drawn
        try:
            cols = ", ".join(_quote(c) for c in parent_cols)
            rows = con.execute(f"SELECT DISTINCT {cols} FROM {_quote(parent)} ORDER BY {cols}").fetchall()
        except read_errors:
            continue
        parents.append((child_cols, rows))
    bounds = {c.name: _boundaries(c, extra) for c in table.columns}
    drawn: dict[str, list[Any]] = {c.name: [] for c in table.columns}
    names = [c.name for c in table.columns]
    insert = (
        f"{verb} INTO {_quote(table.name)} ({', '.join(_quote(c) for c in names)}) "
        f"VALUES ({', '.join('?' * len(names))})"
    )
    for _ in range(n):
        row = {c.name: _draw(rng, c, bounds[c.name], drawn[c.name]) for c in table.columns}
        for child_cols, rows in parents:
            allowed_null = all(not c.not_null for c in table.columns if c.name in child_cols)
            if not rows or (allowed_null and rng.random() < 0.1):
                for c in child_cols:
                    row[c] = None
                if not allowed_null:
                    break
            else:
                for c, v in zip(child_cols, rng.choice(rows), strict=False):
                    row[c] = v
        for parent, child_cols, parent_cols in table.foreign_keys:
            if parent != table.name or not all(parent_cols):
                continue
            allowed_null = all(not c.not_null for c in table.columns if c.name in child_cols)
            earlier = [tuple(drawn[p][j] for p in parent_cols) for j in range(len(drawn[parent_cols[0]]))]
            if allowed_null and (not earlier or rng.random() < 0.3):
                values: tuple[Any, ...] = (None,) * len(child_cols)
            elif earlier and rng.random() < 0.8:
                values = rng.choice(earlier)
            else:
                values = tuple(row[p] for p in parent_cols)  # the row refers to itself
            row.update(zip(child_cols, values, strict=False))
        try:
            con.execute(insert, [row[c] for c in names])
        except errors:
            continue  # a foreign key or CHECK the row breaks: skipped
        for c in names:
            drawn[c].append(row[c])


# -- DuckDB ------------------------------------------------------------------------------------------------

_DUCK_INTEGERS = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                  "UBIGINT", "UHUGEINT")  # fmt: skip


def _duck_kind(data_type: str) -> str:
    t = data_type.upper()
    if t in _DUCK_INTEGERS:
        return "integer"
    if t in ("FLOAT", "DOUBLE", "REAL") or t.startswith("DECIMAL"):
        return "real"
    if t == "VARCHAR":
        return "text"
    if t == "BLOB":
        return "blob"
    return "other"  # dates, times, booleans, UUIDs, nested types: the original's values only


@dataclass
class DuckDBSchema:
    """What a DuckDB variant is made of: the ``CREATE`` statements (sequences, then the tables parents first;
    indexes and views after the rows) and the tables with their original values."""

    before: list[str]
    after: list[str]
    tables: list[TableInfo]


def duckdb_connect(path: str | os.PathLike[str], *, read_only: bool) -> Any:
    import duckdb

    config = {"autoinstall_known_extensions": False, "autoload_known_extensions": False}
    return duckdb.connect(str(path), read_only=read_only, config=config)


def read_duckdb_schema(original: str | os.PathLike[str]) -> DuckDBSchema:
    """The tables of the ``main`` schema of a DuckDB file, parents first, each column with up to 64 of its
    distinct values (evenly over their sorted order), its type's kind, NOT NULL, primary key and foreign keys
    as DuckDB declares them.

    Raises:
        SuiteError: tables outside the ``main`` schema, or user-defined types other than ENUM (which a variant
            recreates), or no table at all.
    """
    import decimal

    con = duckdb_connect(original, read_only=True)
    try:
        where = "database_name = current_database() AND NOT internal AND NOT temporary"
        tables = con.execute(
            f"SELECT schema_name, table_name, sql FROM duckdb_tables() WHERE {where} ORDER BY table_oid"
        ).fetchall()
        others = sorted({s for s, _, _ in tables if s != "main"})
        if others:
            raise SuiteError(f"{original}: tables outside the main schema ({', '.join(others)}) are not supported")
        types = con.execute(
            "SELECT type_name, logical_type, labels FROM duckdb_types() WHERE database_name = current_database() "
            "AND NOT internal AND schema_name = 'main' ORDER BY type_oid"
        ).fetchall()  # fmt: skip
        other_types = [name for name, logical, _ in types if logical != "ENUM"]
        if other_types:
            raise SuiteError(
                f"{original}: user-defined types other than ENUM ({', '.join(other_types)}) are not supported"
            )
        enums = [
            f"CREATE TYPE {_quote(name)} AS ENUM ({', '.join(_literal(v) for v in labels)})"
            for name, _, labels in types
        ]  # fmt: skip
        infos: dict[str, TableInfo] = {}
        sql_of: dict[str, str] = {}
        for _, name, sql in tables:
            sql_of[name] = sql
            constraints = con.execute(
                "SELECT constraint_type, constraint_column_names, referenced_table, referenced_column_names "
                "FROM duckdb_constraints() WHERE database_name = current_database() AND schema_name = 'main' "
                "AND table_name = ? ORDER BY constraint_index",
                [name],
            ).fetchall()
            pk = next((list(c) for kind, c, _, _ in constraints if kind == "PRIMARY KEY"), [])
            cols = []
            for cname, dtype, nullable in con.execute(
                "SELECT column_name, data_type, is_nullable FROM duckdb_columns() WHERE database_name = "
                "current_database() AND schema_name = 'main' AND table_name = ? ORDER BY column_index",
                [name],
            ).fetchall():
                q = _quote(cname)
                values = [r[0] for r in con.execute(f"SELECT DISTINCT {q} FROM {_quote(name)} WHERE {q} IS NOT NULL "
                                                    f"ORDER BY {q}").fetchall()]  # fmt: skip
                values = [float(v) if isinstance(v, decimal.Decimal) else v for v in values]
                if len(values) > _MAX_POOL:
                    step = len(values) / _MAX_POOL
                    values = [values[int(i * step)] for i in range(_MAX_POOL - 1)] + [values[-1]]
                position = pk.index(cname) + 1 if cname in pk else 0
                col = Column(cname, dtype, not nullable or bool(position), position, _duck_kind(dtype), values)
                cols.append(col)
            fks = [
                (parent, list(child), list(parent_cols))
                for kind, child, parent, parent_cols in constraints
                if kind == "FOREIGN KEY" and parent
            ]  # fmt: skip
            infos[name] = TableInfo(name, cols, fks)
        here = "database_name = current_database() AND schema_name = 'main'"
        # fmt: off
        indexes = [sql for (sql,) in con.execute(
            f"SELECT sql FROM duckdb_indexes() WHERE {here} AND sql IS NOT NULL ORDER BY index_oid").fetchall()]
        views = [sql for (sql,) in con.execute(
            f"SELECT sql FROM duckdb_views() WHERE {where} ORDER BY view_oid").fetchall()]
        sequences = [sql for (sql,) in con.execute(
            f"SELECT sql FROM duckdb_sequences() WHERE {here} AND NOT temporary ORDER BY sequence_oid").fetchall()]
        # fmt: on
    finally:
        con.close()
    if not infos:
        raise SuiteError(f"{original} has no tables to make variants of")
    ordered = _parents_first(infos, [name for _, name, _ in tables])
    # indexes before the rows, as in SQLite: a row that breaks a UNIQUE index is skipped, not the index
    return DuckDBSchema([*enums, *sequences, *(sql_of[t.name] for t in ordered), *indexes, *views], [], ordered)


def _literal(text: str) -> str:
    return "'" + str(text).replace("'", "''") + "'"


def _parents_first(tables: dict[str, TableInfo], names: list[str]) -> list[TableInfo]:
    ordered: list[str] = []
    todo = list(names)
    while todo:
        ready = [
            n for n in todo
            if all(p == n or p not in tables or p in ordered for p, _, _ in tables[n].foreign_keys)
        ]  # fmt: skip
        nxt = ready[0] if ready else todo[0]
        ordered.append(nxt)
        todo.remove(nxt)
    return [tables[n] for n in ordered]


def write_duckdb_variant(
    schema: DuckDBSchema,
    path: str | os.PathLike[str],
    *,
    seed: int | str,
    max_rows: int = 6,
    extra_values: Sequence[Any] = (),
) -> Path:
    """A new DuckDB file at ``path`` with ``schema``'s statements (:func:`read_duckdb_schema`) and
    0..``max_rows`` generated rows per table, deterministic for ``seed``, drawn as for SQLite
    (:func:`write_variant`). DuckDB enforces the primary keys, UNIQUE, NOT NULL, CHECK and foreign keys on
    every insert: a row that breaks one, or whose value the column's type cannot hold, is skipped.

    Raises:
        SuiteError: ``path`` exists.
    """
    import duckdb

    path = Path(path)
    if path.exists():
        raise SuiteError(f"{path} exists; a variant is written to a new file")
    rng = random.Random(f"sqlrl-suite:{seed}")
    con = duckdb_connect(path, read_only=False)
    try:
        for sql in schema.before:
            con.execute(sql)
        for table in schema.tables:  # autocommit: a failed insert leaves no aborted transaction behind
            _fill(con, table, rng, max_rows, extra_values, verb="INSERT", errors=(duckdb.Error,),
                  read_errors=(duckdb.Error,))  # fmt: skip
        for sql in schema.after:
            con.execute(sql)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        path.unlink(missing_ok=True)
        Path(f"{path}.wal").unlink(missing_ok=True)
        raise
    con.close()
    return path
