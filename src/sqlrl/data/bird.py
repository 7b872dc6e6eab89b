"""BIRD: ``dev.json`` (question, evidence, SQL, difficulty), ``dev_tables.json`` and
``dev_databases/<db>/<db>.sqlite`` (``train.json``, ``train_tables.json``, ``train_databases/`` for
train; the mini-dev files through ``questions=``).

>>> ds = load_bird("bird/dev", "dev")  # doctest: +SKIP
>>> ds[0].evidence, ds[0].difficulty  # doctest: +SKIP
('Eligible free rate for K-12 = `Free Meal Count (K-12)` / `Enrollment (K-12)`', 'simple')
"""

from __future__ import annotations

import os
from pathlib import Path

from sqlrl.data._files import field, read_json_list, require_dir, require_file
from sqlrl.data.errors import MalformedDatasetError
from sqlrl.data.example import Example, ExampleSet
from sqlrl.data.spider import load_tables, spider_db_path

__all__ = ["BIRD_DIFFICULTIES", "load_bird"]

#: BIRD's difficulty levels, in order.
BIRD_DIFFICULTIES = ("simple", "moderate", "challenging")

_KNOWN = {"question_id", "db_id", "question", "evidence", "SQL", "difficulty"}

PathLike = str | os.PathLike[str]


def load_bird(
    root: PathLike | None = None,
    split: str = "dev",
    *,
    questions: PathLike | None = None,
    tables: PathLike | None = None,
    database_dir: PathLike | None = None,
    check_databases: bool = True,
) -> ExampleSet:
    """Load a BIRD split.

    Args:
        root: the folder holding ``<split>.json``, ``<split>_tables.json`` and ``<split>_databases/``.
        split: ``dev`` or ``train`` (any name works with explicit paths).
        questions: the examples file: a JSON list of ``{"question_id"?, "db_id", "question",
            "evidence"?, "SQL", "difficulty"?}``.
        tables: the schemas file.
        database_dir: the folder holding ``<db_id>/<db_id>.sqlite``.
        check_databases: fail early when a database file is missing.

    Raises:
        MissingDatasetFileError: a file is missing (the message says which and what it holds).
        MalformedDatasetError: bad JSON, an entry without ``db_id`` / ``question`` / ``SQL``, or a
            ``db_id`` absent from the tables file.
    """
    base = Path(root) if root is not None else None
    if base is not None:
        require_dir(base, f"BIRD {split} folder (with {split}.json, {split}_tables.json, {split}_databases/)")

    def default(given: PathLike | None, name: str) -> Path:
        if given is not None:
            return Path(given)
        if base is None:
            raise ValueError(f"load_bird needs root= or an explicit path for {name}")
        return base / name

    qpath = default(questions, f"{split}.json")
    tpath = default(tables, f"{split}_tables.json")
    dbdir = default(database_dir, f"{split}_databases")
    schemas = load_tables(tpath, f"BIRD {split} schemas (a list of tables.json entries)")
    if check_databases:
        require_dir(dbdir, f"BIRD database folder (expected <db_id>/<db_id>.sqlite inside {dbdir})")
    entries = read_json_list(qpath, f"BIRD {split} examples (a JSON list of {{db_id, question, evidence, SQL}})")
    checked: set[str] = set()
    examples = []
    for i, entry in enumerate(entries):
        where = f"{qpath.name} entry {i}"
        db_id = field(entry, where, "db_id")
        if db_id not in schemas:
            raise MalformedDatasetError(f"{where}: db_id {db_id!r} is not in {tpath}")
        qid = field(entry, where, "question_id", kind=(int, str), default=i)
        difficulty = field(entry, where, "difficulty", default=None)
        db_path = spider_db_path(dbdir, db_id)
        if check_databases and db_id not in checked:
            require_file(db_path, f"BIRD database {db_id!r} used by {where}")
            checked.add(db_id)
        examples.append(
            Example(
                id=str(qid),
                db_id=db_id,
                db_path=db_path,
                question=field(entry, where, "question"),
                gold_sql=field(entry, where, ("SQL", "query")),
                evidence=field(entry, where, "evidence", default=""),
                difficulty=difficulty,
                dialect="sqlite",
                extra={"index": i, **{k: v for k, v in entry.items() if k not in _KNOWN}},
            )
        )
    return ExampleSet("bird", split, examples, schemas)
