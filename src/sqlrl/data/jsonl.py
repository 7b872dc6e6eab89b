"""Plain JSON Lines datasets: one ``{"question", "query" | "sql", "db_id" | "db_path"}`` per line.

Optional fields: ``id``, ``evidence``, ``difficulty``, ``hardness``, ``dialect``; any other field
lands in ``Example.extra``. A file holding one JSON list of such objects works too.

A ``db_path`` is taken relative to ``database_dir`` (default: the file's folder) unless
absolute. A bare ``db_id`` is looked up as ``<database_dir>/<db_id>/<db_id>.sqlite``, then
``<database_dir>/<db_id>.sqlite``, ``.db``, ``.duckdb``.

>>> ds = load_jsonl("my_eval.jsonl", database_dir="dbs")  # doctest: +SKIP
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlrl.data._files import field, iter_jsonl, read_json_list, require_file
from sqlrl.data.errors import MissingDatasetFileError
from sqlrl.data.example import Example, ExampleSet

__all__ = ["load_jsonl"]

PathLike = str | os.PathLike[str]
_KNOWN = {"id", "question", "query", "sql", "SQL", "gold_sql", "db_id", "db_path", "evidence", "difficulty",
          "hardness", "dialect"}  # fmt: skip
_SUFFIXES = (".sqlite", ".db", ".duckdb")


def _entries(path: Path) -> Iterator[tuple[str, Mapping[str, Any]]]:
    what = "JSON Lines of {question, query, db_id or db_path}"
    require_file(path, what)
    with open(path, "rb") as f:  # bytes: text that is not UTF-8 is reported by the readers, naming the file
        head = f.read(64).lstrip()
    if head.startswith(b"["):
        for i, obj in enumerate(read_json_list(path, what)):
            yield f"{path.name} entry {i}", obj
    else:
        for i, (lineno, obj) in enumerate(iter_jsonl(path, what)):
            yield f"{path.name} entry {i} (line {lineno})", obj


def _find_db(database_dir: Path, db_id: str) -> tuple[Path | None, list[Path]]:
    tried = [database_dir / db_id / f"{db_id}.sqlite", *(database_dir / f"{db_id}{s}" for s in _SUFFIXES)]
    return next((p for p in tried if p.is_file()), None), tried


def load_jsonl(
    path: PathLike,
    *,
    database_dir: PathLike | None = None,
    name: str = "jsonl",
    split: str = "",
    dialect: str = "sqlite",
    check_databases: bool = True,
) -> ExampleSet:
    """Load a JSON Lines file of examples (see the module docs for the fields).

    Args:
        path: the file.
        database_dir: where ``db_path`` / ``db_id`` are resolved (default: the file's folder).
        name: the dataset's name.
        split: the split's name (default: the file's stem).
        dialect: the dialect of examples without a ``dialect`` field.
        check_databases: fail when a database file is missing (else ``db_path`` may point nowhere,
            or be None for a ``db_id`` that was not found).

    Raises:
        MissingDatasetFileError: the file or a database is missing.
        MalformedDatasetError: a line is not a JSON object or lacks a required field.
    """
    path = Path(path)
    dbdir = Path(database_dir) if database_dir is not None else path.parent
    examples = []
    for i, (where, entry) in enumerate(_entries(path)):
        question = field(entry, where, "question")
        gold = field(entry, where, ("query", "sql", "SQL", "gold_sql"))
        raw_path = field(entry, where, "db_path", default=None)
        db_id = field(entry, where, "db_id", default=None)
        if raw_path is None and db_id is None:
            field(entry, where, ("db_id", "db_path"))  # raises: one of them is required
        if raw_path is not None:
            db_path: Path | None = Path(raw_path) if Path(raw_path).is_absolute() else dbdir / raw_path
            if check_databases and not db_path.exists():
                raise MissingDatasetFileError(f"{where}: database {db_path} (from db_path {raw_path!r}) not found")
            db_id = db_id or Path(raw_path).name.split(".")[0]
        else:
            db_path, tried = _find_db(dbdir, db_id)
            if db_path is None and check_databases:
                raise MissingDatasetFileError(
                    f"{where}: no database for db_id {db_id!r}; tried " + ", ".join(str(p) for p in tried)
                )
        examples.append(
            Example(
                id=str(field(entry, where, "id", kind=(str, int), default=i)),
                db_id=db_id,
                db_path=db_path,
                question=question,
                gold_sql=gold,
                evidence=field(entry, where, "evidence", default=""),
                difficulty=field(entry, where, "difficulty", default=None),
                hardness=field(entry, where, "hardness", default=None),
                dialect=field(entry, where, "dialect", default=dialect),
                extra={k: v for k, v in entry.items() if k not in _KNOWN},
            )
        )
    return ExampleSet(name, split or path.stem, examples)
