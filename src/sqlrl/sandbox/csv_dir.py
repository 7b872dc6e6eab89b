"""Open a directory of CSV files as a database.

Each ``name.csv`` (or ``.tsv``, optionally gzipped) becomes a table ``name``, with the
column types DuckDB's CSV sniffer infers. The files are loaded by a separate, ordinary
DuckDB connection into a database file in the cache directory; the sandbox then opens that
file read-only with external access disabled, exactly like any other DuckDB database. So
queries never read the CSV files themselves (``read_csv`` stays forbidden), and the loaded
tables cannot be changed by a query. For ``engine="sqlite"`` the same tables are copied
into a SQLite file (dates and timestamps as ISO text, decimals as REAL).
"""

from __future__ import annotations

import datetime as _dt
import decimal
import os
import sqlite3
from pathlib import Path

from sqlrl.sandbox import source as _source
from sqlrl.sandbox.importer import quote_ident

CSV_LOADER_VERSION = 1


def table_name(path: Path) -> str:
    """``orders.csv.gz`` -> ``orders``."""
    name = path.name
    for suffix in sorted(_source.CSV_SUFFIXES, key=len, reverse=True):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)]
    return path.stem


def load_csv_dir_to_duckdb(directory: str | os.PathLike[str], duckdb_path: str | os.PathLike[str]) -> list[str]:
    """Load every CSV file of ``directory`` into a new DuckDB file; returns the table names.

    >>> import tempfile, pathlib, duckdb
    >>> d = pathlib.Path(tempfile.mkdtemp()); _ = (d / "t.csv").write_text("a,b\\n1,x\\n2,y\\n")
    >>> load_csv_dir_to_duckdb(d, d / "t.duckdb")
    ['t']
    >>> duckdb.connect(str(d / "t.duckdb")).execute("SELECT sum(a) FROM t").fetchall()
    [(3,)]
    """
    import duckdb

    directory, target = Path(directory), Path(duckdb_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _source.temp_sibling(target)
    tmp.unlink(missing_ok=True)
    names = []
    con = duckdb.connect(str(tmp), config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        for f in _source.csv_files(directory):
            name = table_name(f)
            con.execute(f"CREATE TABLE {quote_ident(name)} AS SELECT * FROM read_csv(?, header = true)", [str(f)])
            names.append(name)
        con.execute("CHECKPOINT")
    except BaseException:
        con.close()
        tmp.unlink(missing_ok=True)
        raise
    con.close()
    os.replace(tmp, target)
    return names


_SQLITE_TYPES = (
    ("INT", "INTEGER"),
    ("BOOL", "INTEGER"),
    ("DOUBLE", "REAL"),
    ("FLOAT", "REAL"),
    ("DECIMAL", "REAL"),
    ("REAL", "REAL"),
    ("BLOB", "BLOB"),
)


def _sqlite_type(duck_type: str) -> str:
    t = duck_type.upper()
    for key, affinity in _SQLITE_TYPES:
        if key in t:
            return affinity
    return "TEXT"


def _sqlite_value(v: object) -> object:
    if v is None or isinstance(v, (int, float, str, bytes)):
        return v
    if isinstance(v, decimal.Decimal):
        return float(v)
    if isinstance(v, (_dt.datetime, _dt.date, _dt.time)):
        return v.isoformat(sep=" ") if isinstance(v, _dt.datetime) else v.isoformat()
    return str(v)


def load_csv_dir_to_sqlite(directory: str | os.PathLike[str], sqlite_path: str | os.PathLike[str]) -> list[str]:
    """Load every CSV file of ``directory`` into a new SQLite file (types inferred by DuckDB)."""
    import duckdb

    directory, target = Path(directory), Path(sqlite_path)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = _source.temp_sibling(target)
    tmp.unlink(missing_ok=True)
    names = []
    reader = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    out = sqlite3.connect(tmp)
    try:
        for f in _source.csv_files(directory):
            name = table_name(f)
            reader.execute("SELECT * FROM read_csv(?, header = true)", [str(f)])
            desc = reader.description
            cols = ", ".join(f"{quote_ident(d[0])} {_sqlite_type(str(d[1]))}" for d in desc)
            out.execute(f"CREATE TABLE {quote_ident(name)} ({cols})")
            marks = ", ".join("?" * len(desc))
            while batch := reader.fetchmany(8192):
                out.executemany(
                    f"INSERT INTO {quote_ident(name)} VALUES ({marks})",
                    [tuple(_sqlite_value(v) for v in row) for row in batch],
                )
            names.append(name)
        out.commit()
    except BaseException:
        out.close()
        reader.close()
        tmp.unlink(missing_ok=True)
        raise
    out.close()
    reader.close()
    os.replace(tmp, target)
    return names


def cached_csv_database(
    directory: str | os.PathLike[str], engine: str, cache_dir: str | os.PathLike[str] | None = None
) -> Path:
    """The database file built from a CSV directory for ``engine``, rebuilt when any CSV file changes."""
    suffix = ".duckdb" if engine == "duckdb" else ".sqlite"
    target = _source.cache_path(directory, cache_dir, suffix, CSV_LOADER_VERSION)
    if target.exists():
        return target
    with _source.build_lock(target):
        if not target.exists():
            load = load_csv_dir_to_duckdb if engine == "duckdb" else load_csv_dir_to_sqlite
            load(directory, target)
    return target
