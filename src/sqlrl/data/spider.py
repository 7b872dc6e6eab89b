"""Spider: ``dev.json`` / ``train_spider.json``, ``tables.json``, ``database/<db>/<db>.sqlite``,
and the test-suite database folders (``<db>/*.sqlite``).

>>> ds = load_spider("spider", "dev")  # doctest: +SKIP
>>> ds[0].gold_sql, ds[0].db_path  # doctest: +SKIP
('SELECT count(*) FROM singer', PosixPath('spider/database/concert_singer/concert_singer.sqlite'))
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from sqlrl.data._files import field, read_json_list, require_dir, require_file
from sqlrl.data.errors import MalformedDatasetError, MissingDatasetFileError
from sqlrl.data.example import Example, ExampleSet

__all__ = ["HARDNESS_LEVELS", "load_spider", "load_tables", "suite_databases"]

#: Spider's hardness levels, in order.
HARDNESS_LEVELS = ("easy", "medium", "hard", "extra")

_QUESTION_FILES = {"dev": "dev.json", "train": "train_spider.json", "train_others": "train_others.json",
                   "test": "test.json"}  # fmt: skip
_KNOWN = {"db_id", "question", "query"}

PathLike = str | os.PathLike[str]


def load_tables(path: PathLike, what: str = "tables.json (a list of schema entries)") -> dict[str, Mapping[str, Any]]:
    """Raw ``tables.json`` entries by ``db_id``, each checked for the fields schemas need."""
    path = Path(path)
    out: dict[str, Mapping[str, Any]] = {}
    for i, entry in enumerate(read_json_list(path, what)):
        where = f"{path} entry {i}"
        db_id = field(entry, where, "db_id")
        for name in ("table_names_original", "column_names_original"):
            field(entry, where, name, kind=list)
        out[db_id] = entry
    return out


def suite_databases(test_suite_dir: PathLike, db_id: str) -> list[Path]:
    """The databases of ``db_id`` in a test-suite folder (``<dir>/<db_id>/*.sqlite``), sorted by name.

    Raises:
        MissingDatasetFileError: the folder is missing or holds no ``.sqlite`` file.
    """
    folder = Path(test_suite_dir) / db_id
    require_dir(folder, f"test-suite databases of {db_id!r} (expected {folder}/*.sqlite)")
    dbs = sorted(folder.glob("*.sqlite"))
    if not dbs:
        raise MissingDatasetFileError(f"test-suite databases of {db_id!r}: no *.sqlite file in {folder}")
    return dbs


def spider_db_path(database_dir: Path, db_id: str) -> Path:
    return database_dir / db_id / f"{db_id}.sqlite"


def load_spider(
    root: PathLike | None = None,
    split: str = "dev",
    *,
    questions: PathLike | None = None,
    tables: PathLike | None = None,
    database_dir: PathLike | None = None,
    test_suite_dir: PathLike | None = None,
    check_databases: bool = True,
    name: str = "spider",
) -> ExampleSet:
    """Load a Spider split.

    Args:
        root: the unpacked Spider release; the files below default to paths inside it.
        split: ``dev`` (``dev.json``), ``train`` (``train_spider.json``), ``train_others`` or
            ``test`` (``test.json`` with ``test_tables.json`` and ``test_database/`` when present).
        questions: the examples file (a JSON list of ``{"db_id", "question", "query"}``).
        tables: ``tables.json``.
        database_dir: the folder holding ``<db_id>/<db_id>.sqlite``.
        test_suite_dir: a test-suite-sql-eval database folder; each example then lists the
            databases of its ``db_id`` in ``extra["test_suite_dbs"]``.
        check_databases: fail early when a database file is missing.
        name: the dataset's name (``sqlrl-toy`` uses this loader too).

    Raises:
        MissingDatasetFileError: a file is missing (the message says which and what it holds).
        MalformedDatasetError: bad JSON, or an entry without ``db_id`` / ``question`` / ``query``,
            or a ``db_id`` absent from ``tables.json``.
    """
    if split not in _QUESTION_FILES and questions is None:
        raise ValueError(f"unknown Spider split {split!r}; choose from {sorted(_QUESTION_FILES)} or pass questions=")
    base = Path(root) if root is not None else None
    if base is not None:
        require_dir(base, "Spider release folder (with dev.json, tables.json, database/)")

    def default(given: PathLike | None, *names: str) -> Path:
        if given is not None:
            return Path(given)
        if base is None:
            raise ValueError(f"load_spider needs root= or an explicit path for {names[0]}")
        return next((base / n for n in names if (base / n).exists()), base / names[-1])

    qpath = default(questions, _QUESTION_FILES.get(split, "dev.json"))
    if split == "test":
        tpath = default(tables, "test_tables.json", "tables.json")
        dbdir = default(database_dir, "test_database", "database")
    else:
        tpath, dbdir = default(tables, "tables.json"), default(database_dir, "database")
    schemas = load_tables(tpath)
    if check_databases:
        require_dir(dbdir, "Spider database folder (expected <db_id>/<db_id>.sqlite inside)")
    entries = read_json_list(qpath, f"Spider {split} examples (a JSON list of {{db_id, question, query}})")
    suites: dict[str, list[str]] = {}
    checked: set[str] = set()
    examples = []
    for i, entry in enumerate(entries):
        where = f"{qpath.name} entry {i}"
        db_id = field(entry, where, "db_id")
        question = field(entry, where, "question")
        query = field(entry, where, "query")
        if db_id not in schemas:
            raise MalformedDatasetError(f"{where}: db_id {db_id!r} is not in {tpath}")
        db_path = spider_db_path(dbdir, db_id)
        if check_databases and db_id not in checked:
            require_file(db_path, f"Spider database {db_id!r} used by {where}")
            checked.add(db_id)
        extra = {"index": i, **{k: v for k, v in entry.items() if k not in _KNOWN and k != "hardness"}}
        if test_suite_dir is not None:
            if db_id not in suites:
                suites[db_id] = [str(p) for p in suite_databases(test_suite_dir, db_id)]
            extra["test_suite_dbs"] = suites[db_id]
        hardness = entry.get("hardness")
        examples.append(
            Example(
                id=f"{name}/{split}/{i}",
                db_id=db_id,
                db_path=db_path,
                question=question,
                gold_sql=query,
                hardness=hardness if hardness in HARDNESS_LEVELS else None,
                dialect="sqlite",
                extra=extra,
            )
        )
    return ExampleSet(name, split, examples, schemas)
