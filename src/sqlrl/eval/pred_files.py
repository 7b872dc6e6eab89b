"""Writers of the prediction files the evaluators read, shared by ``sqlrl generate`` and ``sqlrl verbal``.

One function per official format; each takes plain values (SQL text, database, id) in dataset order:

- :func:`write_spider_predictions`: one query per line (``pred.sql``), read by ``sqlrl eval spider
  --pred`` (:func:`sqlrl.eval.spider.load_spider_predictions`) and test-suite-sql-eval.
- :func:`write_gold_lines`: ``SQL<TAB>db_id`` lines (``gold.sql``, ``dev_gold.sql``), the ``--gold``
  of ``sqlrl eval spider`` and ``sqlrl eval bird`` (:func:`sqlrl.eval.bird.load_bird_gold`).
- :func:`write_bird_predictions`: BIRD's JSON object ``{"0": "SQL\\t----- bird -----\\tdb_id", ...}``
  (``predict_<split>.json``), read by ``sqlrl eval bird --pred`` and BIRD's scripts.
- :func:`write_bird_difficulties`: JSON Lines with ``question_id``, ``db_id``, ``difficulty``, the
  ``--diff`` of ``sqlrl eval bird``.
- :func:`write_spider2_folder`: a Spider 2.0-lite submission folder of ``<instance_id>.sql`` files,
  read by ``sqlrl eval spider2 --mode sql``.

The line formats hold one query per line, so :func:`one_line` turns tabs, carriage returns and
line feeds into spaces and leaves every other character alone: a string literal keeps runs of
spaces (``'New  York'`` stays as it is), but a line break or tab inside a string literal cannot be
kept in these formats and becomes one space. A query that is empty gets a placeholder that fails
on every database (:data:`NO_SQL` unless the caller passes its own), never an empty line, which
the Spider readers take as the end of an interaction.

>>> one_line("SELECT a\\nFROM t\\tWHERE b = 'New  York'")
"SELECT a FROM t WHERE b = 'New  York'"
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

__all__ = [
    "BIRD_SEPARATOR",
    "NO_SQL",
    "one_line",
    "write_bird_difficulties",
    "write_bird_predictions",
    "write_gold_lines",
    "write_spider2_folder",
    "write_spider_predictions",
]

PathLike = str | os.PathLike[str]
#: Default placeholder for an example without SQL: fails to parse and to run, so it is never right by accident.
NO_SQL = "SELECT"
#: Separator between SQL and database in BIRD prediction strings.
BIRD_SEPARATOR = "\t----- bird -----\t"
_LINE_BREAKS = re.compile(r"[\t\r\n]")


def one_line(sql: str | None, *, no_sql: str = NO_SQL) -> str:
    """``sql`` on one line (tabs and line breaks become spaces, ends stripped); ``no_sql`` when empty.

    Spaces inside string literals are kept; a line break or tab inside one becomes a space.

    >>> one_line("SELECT a\\nFROM t;"), one_line(None), one_line("  ", no_sql="SELECT no_sql_found")
    ('SELECT a FROM t;', 'SELECT', 'SELECT no_sql_found')
    """
    text = _LINE_BREAKS.sub(" ", sql or "").strip()
    return text or no_sql


def _write(path: PathLike, text: str) -> Path:
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


def write_spider_predictions(path: PathLike, sqls: Iterable[str | None], *, no_sql: str = NO_SQL) -> Path:
    """One query per line (:func:`one_line`), in the given order; returns the path."""
    return _write(path, "".join(one_line(sql, no_sql=no_sql) + "\n" for sql in sqls))


def write_gold_lines(path: PathLike, gold: Iterable[tuple[str | None, str]], *, no_sql: str = NO_SQL) -> Path:
    """``SQL<TAB>db_id`` lines from ``(sql, db_id)`` pairs; returns the path."""
    return _write(path, "".join(f"{one_line(sql, no_sql=no_sql)}\t{db_id}\n" for sql, db_id in gold))


def write_bird_predictions(path: PathLike, preds: Iterable[tuple[str | None, str]], *, no_sql: str = NO_SQL) -> Path:
    """BIRD's ``{"0": "SQL\\t----- bird -----\\tdb_id", ...}`` from ``(sql, db_id)`` pairs, keys in order."""
    payload = {str(i): f"{one_line(sql, no_sql=no_sql)}{BIRD_SEPARATOR}{db_id}" for i, (sql, db_id) in enumerate(preds)}
    return _write(path, json.dumps(payload, indent=4, ensure_ascii=False) + "\n")


def write_bird_difficulties(path: PathLike, entries: Iterable[tuple[Any, str, str | None]]) -> Path:
    """JSON Lines ``{"question_id", "db_id", "difficulty"}`` from ``(question_id, db_id, difficulty)``."""
    keys = ("question_id", "db_id", "difficulty")
    return _write(path, "".join(json.dumps(dict(zip(keys, e, strict=True))) + "\n" for e in entries))


def write_spider2_folder(folder: PathLike, preds: Iterable[tuple[str, str | None]], *, no_sql: str = NO_SQL) -> Path:
    """A submission folder with ``<instance_id>.sql`` per ``(instance_id, sql)`` pair; returns the folder.

    Each file holds the query as given (line breaks kept), stripped; ``/`` in an id becomes ``_``.
    """
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for instance_id, sql in preds:
        text = (sql or "").strip() or no_sql
        (out / f"{str(instance_id).replace('/', '_')}.sql").write_text(text + "\n", encoding="utf-8")
    return out
