"""What a database path holds (SQLite file, DuckDB file, CSV directory) and where converted copies live."""

from __future__ import annotations

import hashlib
import os
import threading
from pathlib import Path

from sqlrl._cache import default_cache_dir
from sqlrl.sandbox.errors import MissingDatabaseError, NotADatabaseError

SQLITE = "sqlite"
DUCKDB = "duckdb"
CSV_DIR = "csv_dir"

CSV_SUFFIXES = (".csv", ".tsv", ".csv.gz", ".tsv.gz")
_SQLITE_MAGIC = b"SQLite format 3\x00"


def database_kind(path: str | os.PathLike[str]) -> str:
    """``"sqlite"``, ``"duckdb"`` or ``"csv_dir"``, from the file's header (the suffix only breaks ties).

    Raises:
        MissingDatabaseError: the path does not exist or cannot be read.
        NotADatabaseError: a directory without CSV files, or a file that is neither a SQLite nor a
            DuckDB database (a non-empty SQLite database always starts with its header).
    """
    p = Path(path)
    if p.is_dir():
        try:
            found = csv_files(p)
        except OSError as e:
            raise MissingDatabaseError(f"cannot read directory {p}: {e}") from e
        if not found:
            raise NotADatabaseError(f"{p} is a directory without CSV files ({', '.join(CSV_SUFFIXES)})")
        return CSV_DIR
    if not p.is_file():
        raise MissingDatabaseError(f"database not found: {p}")
    try:
        with open(p, "rb") as f:
            head = f.read(16)
    except OSError as e:
        raise MissingDatabaseError(f"cannot read database {p}: {e}") from e
    if head.startswith(_SQLITE_MAGIC):
        return SQLITE
    if head[8:12] == b"DUCK":
        return DUCKDB
    if head == b"":  # an empty file is an empty database
        return DUCKDB if p.suffix.lower() in (".duckdb", ".ddb") else SQLITE
    raise NotADatabaseError(f"{p} is neither a SQLite nor a DuckDB database (unknown header {head[:16]!r})")


def csv_files(directory: Path) -> list[Path]:
    """The CSV/TSV files directly inside ``directory``, sorted by name."""
    return sorted(f for f in directory.iterdir() if f.is_file() and f.name.lower().endswith(CSV_SUFFIXES))


def identity(path: str | os.PathLike[str]) -> tuple:
    """Changes whenever the database's content may have changed: real path, size and mtime of its file(s)."""
    p = Path(path).resolve()
    if p.is_dir():
        return (str(p), tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in csv_files(p)))
    st = p.stat()
    return (str(p), st.st_size, st.st_mtime_ns)


def cache_path(
    source: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | None, suffix: str, version: int
) -> Path:
    """Where the converted copy of ``source`` lives: keyed by its identity and the converter's version."""
    ident = identity(source)
    key = hashlib.sha256(repr((ident, version, suffix)).encode("utf-8", "surrogateescape")).hexdigest()[:20]
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    stem = Path(ident[0]).name.split(".")[0] or "db"
    return root / "sandbox" / f"{stem}-{key}{suffix}"


_build_locks: dict[str, threading.Lock] = {}
_build_locks_guard = threading.Lock()


def build_lock(target: Path) -> threading.Lock:
    """One lock per cache file, so threads of one process build a copy once (processes race harmlessly:
    each writes a temporary file and renames it into place)."""
    with _build_locks_guard:
        return _build_locks.setdefault(str(target), threading.Lock())


def temp_sibling(target: Path) -> Path:
    """A unique temporary name next to ``target`` for an atomic ``os.replace``."""
    return target.with_name(f".{target.name}.{os.getpid()}.{threading.get_ident()}.tmp")
