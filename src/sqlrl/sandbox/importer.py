"""Import a SQLite database into a DuckDB file with the stdlib ``sqlite3`` (no DuckDB sqlite extension).

DuckDB's sqlite extension is downloaded at run time, so it is not available offline and not
inside a locked-down sandbox. Instead every table is read with ``sqlite3`` and appended to a
new DuckDB file.

Column types. SQLite stores a storage class per *value*; DuckDB needs one type per column.
The importer looks at the storage classes a column actually holds (one ``typeof`` scan per
table) and picks:

================================  ==================  ======================================
values in the column              DuckDB type         values
================================  ==================  ======================================
only integers                     ``BIGINT``          as they are
integers and reals                ``DOUBLE``          integers widened
only text                         ``VARCHAR``         as they are (dates stay text, as in SQLite)
only blobs                        ``BLOB``            as they are
text mixed with numbers           ``VARCHAR``         numbers rendered by SQLite's own
                                                      ``CAST(x AS TEXT)``
blobs mixed with anything         ``BLOB``            SQLite's ``CAST(x AS BLOB)``
only NULLs                        by declared type    SQLite affinity rules: INT -> BIGINT,
                                                      REAL/FLOA/DOUB -> DOUBLE, NUMERIC ->
                                                      DOUBLE, anything else -> VARCHAR
================================  ==================  ======================================

A mixed column therefore compares as text in DuckDB where SQLite compares per value
(``WHERE col > 3``); these columns are listed in :attr:`ImportReport.mixed_columns`.
Text that is not valid UTF-8 cannot be a DuckDB ``VARCHAR``; it is decoded with
``errors="replace"`` (U+FFFD) and counted in :attr:`ImportReport.replaced_text`.
Views are recreated from their SQL when DuckDB accepts it (else sqlglot transpiles it
from SQLite; views that still fail are listed in :attr:`ImportReport.skipped_views`).
Indexes, triggers and constraints are not imported: the copy is only ever read.
Each column's comment records its SQLite declared type and the storage classes it holds
(:func:`sqlrl.sql.sqlite_compat.column_comment`), from which the sandbox's SQLite-compat rewrite
applies SQLite's type affinity to comparisons and arithmetic (``year >= 2014`` on a TEXT column).
A rowid table's comment records how SQLite's ``rowid`` reads on the copy
(:func:`sqlrl.sql.sqlite_compat.rowid_comment`: its INTEGER PRIMARY KEY column, or DuckDB's
``rowid + 1`` when the rowids run 1..n; none otherwise), for the compat ``rowid`` rewrite.
"""

from __future__ import annotations

import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from sqlrl.sandbox import source as _source
from sqlrl.sandbox.errors import NotADatabaseError
from sqlrl.sql.sqlite_compat import column_comment, rowid_comment, sqlite_affinity

IMPORTER_VERSION = 3  # 2: column comments with the SQLite type (sqlite_compat.column_comment); 3: rowid table comments


@dataclass
class ImportReport:
    """What :func:`import_sqlite_to_duckdb` did."""

    tables: dict[str, int] = field(default_factory=dict)
    """Rows imported per table."""
    column_types: dict[str, list[tuple[str, str, str]]] = field(default_factory=dict)
    """Per table: (column, SQLite declared type, DuckDB type)."""
    mixed_columns: list[tuple[str, str, str]] = field(default_factory=list)
    """(table, column, storage classes seen) of columns holding several storage classes."""
    views: list[str] = field(default_factory=list)
    skipped_views: dict[str, str] = field(default_factory=dict)
    replaced_text: int = 0
    """Text values that were not valid UTF-8 (decoded with U+FFFD)."""


def quote_ident(name: str) -> str:
    """A double-quoted identifier, valid in both SQLite and DuckDB."""
    return '"' + name.replace('"', '""') + '"'


def affinity(declared: str | None) -> str:
    """SQLite's column affinity of a declared type (https://sqlite.org/datatype3.html, 3.1).

    >>> affinity("VARCHAR(20)"), affinity("BIGINT"), affinity("DOUBLE PRECISION")
    ('TEXT', 'INTEGER', 'REAL')
    >>> affinity(""), affinity("DATE")
    ('BLOB', 'NUMERIC')
    """
    return sqlite_affinity(declared)


def duckdb_type(declared: str | None, classes: set[str]) -> str:
    """The DuckDB column type for a SQLite column holding values of these storage classes.

    >>> duckdb_type("INT", {"integer"}), duckdb_type("INT", {"integer", "real"})
    ('BIGINT', 'DOUBLE')
    >>> duckdb_type("INT", {"integer", "text"})
    'VARCHAR'
    >>> duckdb_type("REAL", set()), duckdb_type("", set()), duckdb_type("TEXT", {"blob", "text"})
    ('DOUBLE', 'VARCHAR', 'BLOB')
    """
    classes = classes - {"null"}
    if not classes:
        return {"INTEGER": "BIGINT", "REAL": "DOUBLE", "NUMERIC": "DOUBLE"}.get(affinity(declared), "VARCHAR")
    if "blob" in classes:
        return "BLOB"
    if "text" in classes:
        return "VARCHAR"
    if classes == {"integer"}:
        return "BIGINT"
    return "DOUBLE"


def _decode_replace(counter: list[int]):
    def decode(b: bytes) -> str:
        try:
            return b.decode("utf-8")
        except UnicodeDecodeError:
            counter[0] += 1
            return b.decode("utf-8", "replace")

    return decode


def import_sqlite_to_duckdb(
    sqlite_path: str | os.PathLike[str], duckdb_path: str | os.PathLike[str], *, overwrite: bool = False
) -> ImportReport:
    """Copy every table (and view) of a SQLite database into a new DuckDB file.

    The DuckDB file is written under a temporary name and renamed into place, so readers
    never see half an import.

    Args:
        sqlite_path: the SQLite database (opened read-only).
        duckdb_path: the DuckDB file to create.
        overwrite: replace ``duckdb_path`` if it exists (else ``FileExistsError``).

    >>> import sqlite3, tempfile, os, duckdb
    >>> d = tempfile.mkdtemp(); src = os.path.join(d, "a.sqlite")
    >>> con = sqlite3.connect(src); _ = con.execute("CREATE TABLE t(a INT, b TEXT)")
    >>> _ = con.execute("INSERT INTO t VALUES (1, 'x'), (2, NULL)"); con.commit(); con.close()
    >>> report = import_sqlite_to_duckdb(src, os.path.join(d, "a.duckdb"))
    >>> report.tables, report.column_types["t"]
    ({'t': 2}, [('a', 'INT', 'BIGINT'), ('b', 'TEXT', 'VARCHAR')])
    """
    import duckdb

    sqlite_path, target = Path(sqlite_path), Path(duckdb_path)
    if target.exists() and not overwrite:
        raise FileExistsError(f"{target} exists (pass overwrite=True to replace it)")
    if _source.database_kind(sqlite_path) != _source.SQLITE:
        raise ValueError(f"{sqlite_path} is not a SQLite database")
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _source.temp_sibling(target)
    tmp.unlink(missing_ok=True)

    report = ImportReport()
    replaced = [0]
    src = sqlite3.connect(f"file:{_uri_path(sqlite_path)}?mode=ro", uri=True)
    src.text_factory = _decode_replace(replaced)
    dst = duckdb.connect(str(tmp), config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        tables = src.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' "
            "ORDER BY rowid"
        ).fetchall()
        for (name,) in tables:
            _copy_table(src, dst, name, report)
        views = src.execute("SELECT name, sql FROM sqlite_master WHERE type = 'view' ORDER BY rowid").fetchall()
        for name, sql in views:
            _copy_view(dst, name, sql, report)
        dst.execute("CHECKPOINT")
    except BaseException as e:
        dst.close()
        src.close()
        tmp.unlink(missing_ok=True)
        if isinstance(e, sqlite3.DatabaseError) and not isinstance(e, sqlite3.OperationalError):
            raise NotADatabaseError(f"cannot read SQLite database {sqlite_path}: {e}") from e
        raise
    dst.close()
    src.close()
    report.replaced_text = replaced[0]
    os.replace(tmp, target)
    return report


def _uri_path(path: Path) -> str:
    from urllib.parse import quote

    return quote(str(path.resolve()))


def _copy_table(src: sqlite3.Connection, dst, name: str, report: ImportReport) -> None:
    info = src.execute(f"SELECT name, type FROM pragma_table_info({_sql_string(name)})").fetchall()
    if not info:
        return
    cols = [c for c, _ in info]
    decls = [d for _, d in info]
    q = quote_ident(name)
    # One scan: the distinct storage classes of every column.
    probe = ", ".join(f"group_concat(DISTINCT typeof({quote_ident(c)}))" for c in cols)
    seen_rows = src.execute(f"SELECT {probe} FROM {q}").fetchone()
    classes = [set(s.split(",")) if s else set() for s in seen_rows]
    types = [duckdb_type(d, k) for d, k in zip(decls, classes, strict=False)]
    for c, k in zip(cols, classes, strict=False):
        if len(k - {"null"}) > 1 and (k - {"null"}) != {"integer", "real"}:
            report.mixed_columns.append((name, c, ",".join(sorted(k - {"null"}))))
    report.column_types[name] = list(zip(cols, [d or "" for d in decls], types, strict=False))

    ddl = ", ".join(f"{quote_ident(c)} {t}" for c, t in zip(cols, types, strict=False))
    dst.execute(f"CREATE TABLE {q} ({ddl})")
    for c, d, k in zip(cols, decls, classes, strict=False):  # SQLite's type, for the compat affinity rewrite
        dst.execute(f"COMMENT ON COLUMN {q}.{quote_ident(c)} IS {_sql_string(column_comment(d, k))}")
    has_rowid = _has_rowid(src, name)
    note = _rowid_comment(src, name, cols, classes) if has_rowid else None
    if note is not None:  # how SQLite's rowid reads on the copy, for the compat rowid rewrite
        dst.execute(f"COMMENT ON TABLE {q} IS {_sql_string(note)}")
    select = []
    for c, t, k in zip(cols, types, classes, strict=False):
        pure = len(k - {"null"}) <= 1
        if t == "VARCHAR" and not pure:
            select.append(f"CAST({quote_ident(c)} AS TEXT)")
        elif t == "BLOB" and not pure:
            select.append(f"CAST({quote_ident(c)} AS BLOB)")
        else:
            select.append(quote_ident(c))
    cur = src.execute(
        f"SELECT {', '.join(select)} FROM {q} ORDER BY rowid" if has_rowid else f"SELECT {', '.join(select)} FROM {q}"
    )
    report.tables[name] = append_rows(dst, name, len(cols), iter(lambda: cur.fetchmany(8192), []))


def append_rows(dst, table: str, width: int, batches) -> int:
    """Append batches of row tuples to a DuckDB table; returns the number of rows."""
    n = 0
    if hasattr(dst, "appender"):
        with dst.appender(quote_ident(table)) as ap:
            for batch in batches:
                ap.append_rows(batch)
                ap.flush()
                n += len(batch)
        return n
    # DuckDB releases without an appender: multi-row INSERTs with parameters.
    q = quote_ident(table)
    for batch in batches:
        for i in range(0, len(batch), 256):
            chunk = batch[i : i + 256]
            marks = ", ".join(["(" + ", ".join(["?"] * width) + ")"] * len(chunk))
            dst.execute(f"INSERT INTO {q} VALUES {marks}", [v for row in chunk for v in row])
        n += len(batch)
    return n


def _rowid_comment(src: sqlite3.Connection, name: str, cols: list[str], classes: list[set[str]]) -> str | None:
    """:func:`~sqlrl.sql.sqlite_compat.rowid_comment` for a rowid table: the primary-key column of integers that
    equals SQLite's rowid on every row, else ``+1`` when the rowids run 1..n (the copy keeps rowid order, so
    DuckDB's 0-based ``rowid`` plus one); None otherwise, or when a column is itself called rowid."""
    if {c.lower() for c in cols} & {"rowid", "oid", "_rowid_"}:
        return None
    q = quote_ident(name)
    pks = [r[0] for r in src.execute(f"SELECT name FROM pragma_table_info({_sql_string(name)}) WHERE pk > 0")]
    if len(pks) == 1 and classes[cols.index(pks[0])] <= {"integer"}:
        differ = src.execute(f"SELECT count(*) FROM {q} WHERE rowid IS NOT {quote_ident(pks[0])}").fetchone()[0]
        if differ == 0:
            return rowid_comment(pks[0])
    n, lo, hi = src.execute(f"SELECT count(*), min(rowid), max(rowid) FROM {q}").fetchone()
    return rowid_comment(None) if n == 0 or (lo == 1 and hi == n) else None


def _has_rowid(src: sqlite3.Connection, name: str) -> bool:
    try:
        src.execute(f"SELECT rowid FROM {quote_ident(name)} LIMIT 0")
        return True
    except sqlite3.OperationalError:
        return False  # WITHOUT ROWID table


def _copy_view(dst, name: str, sql: str, report: ImportReport) -> None:
    try:
        dst.execute(sql)
        report.views.append(name)
        return
    except Exception as e:  # noqa: BLE001 - try a transpiled version next
        first_error = str(e).splitlines()[0]
    try:
        from sqlrl.sql.dialects import transpile_plain

        dst.execute(transpile_plain(sql, read="sqlite", write="duckdb"))
        report.views.append(name)
    except Exception:  # noqa: BLE001
        report.skipped_views[name] = first_error


def _sql_string(s: str) -> str:
    return "'" + s.replace("'", "''") + "'"


def cached_duckdb_copy(sqlite_path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """The DuckDB copy of a SQLite database, imported on first use and reused while the source is unchanged.

    The cache key is the SQLite file's real path, size and mtime plus the importer's version.
    """
    target = _source.cache_path(sqlite_path, cache_dir, ".duckdb", IMPORTER_VERSION)
    if target.exists():
        return target
    with _source.build_lock(target):
        if not target.exists():
            import_sqlite_to_duckdb(sqlite_path, target, overwrite=True)
    return target
