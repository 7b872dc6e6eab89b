"""Database schemas for the SQL layer: tables, typed columns, keys.

Built from a Spider/BIRD ``tables.json`` entry, from a SQLite or DuckDB file, or from a plain
``{table: {column: type}}`` mapping. Names keep their original spelling; look-ups ignore case.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["DbSchema", "load_tables_json"]

# tables.json column types -> SQL types
_SPIDER_TYPES = {"number": "DOUBLE", "text": "TEXT", "time": "TEXT", "boolean": "BOOLEAN", "others": "TEXT"}


@dataclass
class DbSchema:
    """Tables with their columns (in order) and column types, plus keys.

    Attributes:
        tables: ``{table: {column: type}}`` with original spellings.
        primary_keys: ``(table, column)`` pairs.
        foreign_keys: ``((table, column), (ref_table, ref_column))`` pairs.
        db_id: the database name when known.
    """

    tables: dict[str, dict[str, str]]
    primary_keys: list[tuple[str, str]] = field(default_factory=list)
    foreign_keys: list[tuple[tuple[str, str], tuple[str, str]]] = field(default_factory=list)
    db_id: str = ""

    @classmethod
    def from_mapping(cls, tables: Mapping[str, Mapping[str, str] | list[str]], db_id: str = "") -> DbSchema:
        """``{table: {column: type}}`` or ``{table: [column, ...]}`` (types then default to TEXT).

        >>> DbSchema.from_mapping({"t": ["a", "b"]}).tables
        {'t': {'a': 'TEXT', 'b': 'TEXT'}}
        """
        out: dict[str, dict[str, str]] = {}
        for t, cols in tables.items():
            out[str(t)] = (
                {str(c): "TEXT" for c in cols}
                if isinstance(cols, list)
                else {str(c): str(ty or "TEXT") for c, ty in cols.items()}
            )
        return cls(out, db_id=db_id)

    @classmethod
    def from_tables_json(cls, entry: Mapping) -> DbSchema:
        """One entry of Spider/BIRD ``tables.json`` (original table and column names).

        Raises:
            ValueError: the entry lacks the fields tables.json entries have.
        """
        try:
            tables = list(entry["table_names_original"])
            cols = entry["column_names_original"]
            types = entry.get("column_types") or ["text"] * len(cols)
        except (KeyError, TypeError) as e:
            raise ValueError(f"not a tables.json entry (missing {e}); expected table_names_original etc.") from None
        out: dict[str, dict[str, str]] = {t: {} for t in tables}
        names: list[tuple[str, str] | None] = []
        for (ti, cname), ctype in zip(cols, types, strict=False):
            if ti < 0:
                names.append(None)  # the '*' column
                continue
            out[tables[ti]][cname] = _SPIDER_TYPES.get(str(ctype).lower(), str(ctype).upper())
            names.append((tables[ti], cname))

        def col(i: int) -> tuple[str, str] | None:
            return names[i] if 0 <= i < len(names) else None

        pks = []
        for pk in entry.get("primary_keys", []):
            for i in pk if isinstance(pk, list) else [pk]:
                if col(i):
                    pks.append(col(i))
        fks = [(col(a), col(b)) for a, b in entry.get("foreign_keys", []) if col(a) and col(b)]
        return cls(out, pks, fks, db_id=str(entry.get("db_id", "")))  # type: ignore[arg-type]

    @classmethod
    def from_sqlite(cls, path: str | Path) -> DbSchema:
        """Introspect a SQLite file (opened read-only)."""
        con = sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True)
        try:
            names = [
                r[0]
                for r in con.execute(
                    "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid"
                )
            ]
            tables: dict[str, dict[str, str]] = {}
            pks: list[tuple[str, str]] = []
            fks: list[tuple[tuple[str, str], tuple[str, str]]] = []
            for t in names:
                q = t.replace('"', '""')
                info = con.execute(f'PRAGMA table_info("{q}")').fetchall()
                tables[t] = {r[1]: (r[2] or "TEXT").upper() for r in info}
                pks += [(t, r[1]) for r in info if r[5]]
                for r in con.execute(f'PRAGMA foreign_key_list("{q}")').fetchall():
                    if r[4] is not None:
                        fks.append(((t, r[3]), (r[2], r[4])))
        finally:
            con.close()
        return cls(tables, pks, fks, db_id=Path(path).stem)

    @classmethod
    def from_duckdb(cls, path: str | Path) -> DbSchema:
        """Introspect a DuckDB file (opened read-only)."""
        import duckdb

        con = duckdb.connect(str(path), read_only=True)
        try:
            rows = con.execute(
                "SELECT table_name, column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'main' ORDER BY table_name, ordinal_position"
            ).fetchall()
        finally:
            con.close()
        tables: dict[str, dict[str, str]] = {}
        for t, c, ty in rows:
            tables.setdefault(t, {})[c] = ty
        return cls(tables, db_id=Path(path).stem)

    @classmethod
    def from_database(cls, path: str | Path) -> DbSchema:
        """A SQLite or DuckDB file, told apart by its header."""
        with open(path, "rb") as f:
            head = f.read(16)
        return cls.from_sqlite(path) if head.startswith(b"SQLite format 3") else cls.from_duckdb(path)

    def to_spider(self):
        """The same tables and foreign keys as a :class:`sqlrl.sql.spider.Schema` (for exact match)."""
        from sqlrl.sql.spider import Schema

        fks = [(f"{a[0]}.{a[1]}", f"{b[0]}.{b[1]}") for a, b in self.foreign_keys]
        return Schema.from_dict({t: list(c) for t, c in self.tables.items()}, foreign_keys=fks, db_id=self.db_id)

    def sqlglot_mapping(self) -> dict[str, dict[str, str]]:
        """The ``{table: {column: type}}`` mapping sqlglot's optimizer takes."""
        return {t: dict(cols) for t, cols in self.tables.items()}

    def create_statements(self, dialect: str = "sqlite") -> list[str]:
        """``CREATE TABLE`` statements for an empty copy of the schema."""
        from sqlglot import exp

        out = []
        for t, cols in self.tables.items():
            defs = [
                exp.ColumnDef(this=exp.to_identifier(c, quoted=True), kind=_datatype(ty, dialect))
                for c, ty in cols.items()
            ]
            stmt = exp.Create(this=exp.Schema(this=exp.to_table(f'"{t}"'), expressions=defs), kind="TABLE")
            out.append(stmt.sql(dialect=dialect))
        return out


def _datatype(ty: str, dialect: str):
    from sqlglot import exp
    from sqlglot.errors import ParseError

    try:
        return exp.DataType.build(ty or "TEXT", dialect=dialect)
    except (ParseError, ValueError):
        return exp.DataType.build("TEXT")


def load_tables_json(path: str | Path) -> dict[str, DbSchema]:
    """All schemas of a Spider/BIRD ``tables.json`` keyed by ``db_id``.

    Raises:
        FileNotFoundError: the file does not exist.
        ValueError: the file is not a JSON list of tables.json entries.
    """
    path = Path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None
    except UnicodeDecodeError as e:
        raise ValueError(f"{path} is not UTF-8 text: {e}") from None
    if not isinstance(data, list):
        raise ValueError(f"{path} must hold a JSON list of schema entries")
    out = {}
    for i, entry in enumerate(data):
        try:
            out[entry["db_id"]] = DbSchema.from_tables_json(entry)
        except (KeyError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: entry {i} is malformed: {e}") from None
    return out
