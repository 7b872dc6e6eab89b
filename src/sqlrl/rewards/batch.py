"""One call of a reward function, read once: completion texts, extracted SQL, dataset columns, groups.

TRL calls a reward function with ``prompts``, ``completions``, ``completion_ids`` and every other
dataset column as a keyword argument holding one value per completion. :func:`read_batch` turns
that into a :class:`Batch`, filling the optional columns with defaults:

================  ========================================================================
column            meaning (default when the column is absent)
================  ========================================================================
``gold_sql``      the gold query (required by the rewards that compare with it)
``db_path``       a ``.sqlite`` / ``.duckdb`` file or a directory of CSV files (required likewise)
``engine``        ``"sqlite"`` or ``"duckdb"`` (the executor's ``engine`` option, else DuckDB for a
                  row whose ``dialect`` is not SQLite's, else from the file: DuckDB files and CSV
                  directories run on DuckDB, everything else on SQLite)
``dialect``       the dialect the model was asked to write (the executor's ``dialect`` option,
                  else the dialect the sandbox runs)
``gold_dialect``  the gold query's dialect (the ``dialect`` column, else the sandbox's; never the
                  executor's ``dialect`` option, which is the predictions')
``db_id``         the database's name (informational; not read)
``question``      the question (``""``)
``evidence``      BIRD-style evidence (``""``)
``suite_dir``     the folder of test suites (``sqlrl suite build --out``) for rewards built with
                  ``suite=True`` (the ``suite`` preset); read only by them
================  ========================================================================

The sandbox runs SQLite's dialect on SQLite files, also on DuckDB (``sqlite_compat``), and
DuckDB's on DuckDB files and CSV directories. A prediction or gold query written in another
dialect is translated by sqlglot before it runs: into DuckDB's dialect on DuckDB (which a row in
another dialect than SQLite's runs on unless its engine is set; on a SQLite file, over the imported
data), into SQLite's on SQLite (a prediction that cannot be translated scores as failed, error
kind ``transpile``).

Completions are plain strings or conversational (``[{"role": "assistant", "content": ...}]``);
completions of one prompt form a group (GRPO's unit), found by comparing the prompts.
"""

from __future__ import annotations

import json
from collections.abc import Hashable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from sqlrl.errors import SqlrlError
from sqlrl.sandbox.service import engine_for_dialect
from sqlrl.sql.extract import Extraction, extract_sql

_extract = lru_cache(maxsize=4096)(extract_sql)  # every reward of a step reads the same completions

__all__ = ["Batch", "RewardInputError", "completion_text", "read_batch"]

#: Keyword arguments TRL passes that are not dataset columns.
TRL_HOOKS = ("trainer_state", "log_extra", "log_metric", "environments")
_DUCKDB_SUFFIXES = (".duckdb", ".ddb")


class RewardInputError(SqlrlError, ValueError):
    """The batch lacks a column a reward needs, a column has the wrong length, or a database it names
    cannot be opened (a setup error, not a completion's)."""


def completion_text(completion: Any) -> str:
    """The text of one completion: a string, or the assistant messages of a conversational completion.

    >>> completion_text([{"role": "assistant", "content": "SELECT 1"}])
    'SELECT 1'
    >>> completion_text([{"role": "assistant", "content": [{"type": "text", "text": "SELECT 2"}]}])
    'SELECT 2'
    """
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        completion = [completion]
    if isinstance(completion, Sequence):
        parts = []
        for message in completion:
            if not isinstance(message, Mapping):
                parts.append(str(message))
                continue
            if message.get("role", "assistant") != "assistant":
                continue
            content = message.get("content")
            if isinstance(content, str):
                parts.append(content)
            elif isinstance(content, Sequence):
                parts.extend(str(p.get("text", "")) for p in content if isinstance(p, Mapping))
        return "\n".join(parts)
    return "" if completion is None else str(completion)


def default_engine(db_path: str | None, fallback: str | None = None) -> str:
    """``duckdb`` for DuckDB files and CSV directories, else ``fallback`` or ``sqlite``."""
    if fallback:
        return fallback
    if db_path is None:
        return "sqlite"
    p = Path(db_path)
    if p.suffix.lower() in _DUCKDB_SUFFIXES or p.is_dir():
        return "duckdb"
    return "sqlite"


def _prompt_key(prompt: Any) -> Hashable:
    """What makes two prompts the same prompt: the text, or a conversation's (key, content) pairs.

    Conversations are keyed by their messages' items, without serialising them: only a content that
    is not a string (multimodal parts) is written out as JSON.
    """
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, (list, tuple)) and all(isinstance(m, Mapping) for m in prompt):
        return tuple(
            tuple(sorted((str(k), v if isinstance(v, str) else _json(v)) for k, v in m.items())) for m in prompt
        )
    return _json(prompt)


def _json(value: Any) -> str:
    try:
        return json.dumps(value, sort_keys=True, default=str)
    except (TypeError, ValueError):
        return repr(value)


@dataclass
class Batch:
    """The completions of one reward call with their dataset columns, one entry per completion.

    Attributes:
        texts: completion texts.
        extractions: what :func:`~sqlrl.sql.extract.extract_sql` found in each text.
        columns: dataset columns as lists (only those present in the call).
        groups: group index per completion (completions of one prompt share it).
        lengths: completion lengths in tokens (from ``completion_ids``), or None.
        default_engine: the engine for rows without an ``engine`` column (None: by the row's dialect
            and the file).
        default_dialect: the predictions' dialect for rows without a ``dialect`` column (None: the
            sandbox's own).
    """

    texts: list[str]
    columns: dict[str, list[Any]]
    groups: list[int]
    lengths: list[int] | None = None
    default_engine: str | None = None
    default_dialect: str | None = None
    _signature: int | None = field(default=None, repr=False)
    _rows: dict[str, list[Any]] = field(default_factory=dict, repr=False)
    _extractions: list[Extraction] | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.texts)

    @property
    def extractions(self) -> list[Extraction]:
        """What :func:`~sqlrl.sql.extract.extract_sql` found in each text, found on first use (see
        :meth:`iter_extractions`)."""
        if self._extractions is None:
            self._extractions = [_extract(t) for t in self.texts]
        return self._extractions

    def iter_extractions(self) -> Iterator[Extraction]:
        """:attr:`extractions` one by one, each found as it is reached (kept once all are): the executor starts
        the queries of the first completions while it reads the next."""
        if self._extractions is not None:
            yield from self._extractions
            return
        found = []
        for text in self.texts:
            found.append(_extract(text))
            yield found[-1]
        self._extractions = found

    @property
    def sqls(self) -> list[str | None]:
        return [e.sql for e in self.extractions]

    def has(self, column: str) -> bool:
        return column in self.columns

    def require(self, *columns: str, reward: str = "this reward") -> None:
        """Raise :class:`RewardInputError` naming every missing column."""
        missing = [c for c in columns if c not in self.columns]
        if missing:
            present = ", ".join(sorted(self.columns)) or "none"
            raise RewardInputError(
                f"{reward} needs the dataset column(s) {', '.join(missing)} (columns passed: {present})"
            )

    def column(self, name: str, default: Any = None) -> list[Any]:
        values = self.columns.get(name)
        return list(values) if values is not None else [default] * len(self)

    def _row_values(self, name: str, convert: Any) -> list[Any]:
        cache = self._rows
        if name not in cache:
            values = self.columns.get(name)
            cache[name] = [None] * len(self) if values is None else [convert(v) for v in values]
        return cache[name]

    def gold(self, i: int) -> str | None:
        """The gold query of row ``i`` (None when absent or blank)."""
        return self.golds()[i]

    def golds(self) -> list[str | None]:
        """:meth:`gold` of every row (one list, made once)."""
        return self._row_values("gold_sql", lambda v: v if isinstance(v, str) and v.strip() else None)

    def db(self, i: int) -> str | None:
        """The database path of row ``i``."""
        return self.dbs()[i]

    def dbs(self) -> list[str | None]:
        """:meth:`db` of every row (one list, made once)."""
        return self._row_values("db_path", lambda v: None if v is None else str(v))

    def engine(self, i: int) -> str:
        """The engine of row ``i``: its ``engine`` column, else chosen from the database file."""
        return self.engines()[i]

    def engines(self) -> list[str]:
        """:meth:`engine` of every row (one list, made once)."""
        if "engine" not in self._rows:
            given = self.columns.get("engine") or [None] * len(self)
            chosen: dict[tuple[str | None, str | None], str] = {}
            out = []
            for v, key in zip(given, zip(self.dbs(), self.dialects(), strict=True), strict=True):
                if v:
                    out.append(str(v).lower())
                    continue
                if key not in chosen:
                    chosen[key] = default_engine(key[0], engine_for_dialect(self.default_engine, key[1]))
                out.append(chosen[key])
            self._rows["engine"] = out
        return self._rows["engine"]

    def dialect(self, i: int) -> str | None:
        """The dialect the model was asked to write: the ``dialect`` column, else ``default_dialect``;
        None = the sandbox's own."""
        return self.dialects()[i]

    def dialects(self) -> list[str | None]:
        """:meth:`dialect` of every row (one list, made once)."""
        if "dialects" not in self._rows:
            own = self._row_values("dialect", lambda v: str(v) if v else None)
            self._rows["dialects"] = [d or self.default_dialect for d in own]
        return self._rows["dialects"]

    def gold_dialect(self, i: int) -> str | None:
        """The gold query's dialect: the ``gold_dialect`` column, else the ``dialect`` column; None = the
        sandbox's own (``default_dialect`` is the predictions' only)."""
        return self.gold_dialects()[i]

    def gold_dialects(self) -> list[str | None]:
        """:meth:`gold_dialect` of every row (one list, made once)."""
        if "gold_dialects" not in self._rows:
            own = self._row_values("gold_dialect", lambda v: str(v) if v else None)
            of_rows = self._row_values("dialect", lambda v: str(v) if v else None)
            self._rows["gold_dialects"] = [g or d for g, d in zip(own, of_rows, strict=True)]
        return self._rows["gold_dialects"]

    def text_column(self, name: str, i: int) -> str:
        """A text column of row ``i`` (``""`` when absent)."""
        return self._row_values(name, lambda v: "" if v is None else str(v))[i] or ""

    def group_members(self) -> list[list[int]]:
        """Completion indices of every group, in order of first appearance."""
        out: dict[int, list[int]] = {}
        for i, g in enumerate(self.groups):
            out.setdefault(g, []).append(i)
        return list(out.values())

    @property
    def signature(self) -> int:
        """A hash of everything that decides executions: texts, gold, database, engine, dialect."""
        if self._signature is None:
            keys = ("gold_sql", "db_path", "engine", "dialect", "gold_dialect")
            cols = tuple(tuple(map(str, self.columns[k])) if k in self.columns else None for k in keys)
            self._signature = hash((tuple(self.texts), cols, self.default_engine, self.default_dialect))
        return self._signature


def read_batch(
    prompts: Sequence[Any] | None,
    completions: Sequence[Any],
    completion_ids: Sequence[Sequence[int]] | None = None,
    columns: Mapping[str, Any] | None = None,
    *,
    default_engine: str | None = None,
    default_dialect: str | None = None,
) -> Batch:
    """Read one reward call into a :class:`Batch`.

    ``columns`` holds the dataset columns (lists with one value per completion; a single string is
    repeated for every completion). TRL's hooks (``log_metric``, ...) are ignored here.

    Raises:
        RewardInputError: a column's length differs from the number of completions.

    >>> b = read_batch(["q", "q"], ["```sql\\nSELECT 1\\n```", "no sql"], columns={"gold_sql": "SELECT 1"})
    >>> b.sqls, b.groups, b.column("gold_sql")
    (['SELECT 1', None], [0, 0], ['SELECT 1', 'SELECT 1'])
    """
    texts = [completion_text(c) for c in completions]
    n = len(texts)
    cols: dict[str, list[Any]] = {}
    for name, values in (columns or {}).items():
        if name in TRL_HOOKS or values is None:
            continue
        if isinstance(values, (str, bytes, Path, Mapping)) or not hasattr(values, "__len__"):
            cols[name] = [values] * n  # one value for every completion
            continue
        values = list(values)  # lists, tuples, numpy arrays, pandas Series, ...
        if len(values) != n:
            raise RewardInputError(f"column {name!r} has {len(values)} values for {n} completions")
        cols[name] = values
    if prompts is not None and len(prompts) == n:
        keys: list[Hashable] = [_prompt_key(p) for p in prompts]
    else:
        gold = cols.get("gold_sql", [None] * n)
        db = cols.get("db_path", [None] * n)
        keys = [repr((g, str(d))) for g, d in zip(gold, db, strict=True)]
    index: dict[Hashable, int] = {}
    groups = [index.setdefault(k, len(index)) for k in keys]
    lengths = None
    if completion_ids is not None and len(completion_ids) == n:
        lengths = [len(ids) for ids in completion_ids]
    return Batch(texts, cols, groups, lengths, default_engine, default_dialect)
