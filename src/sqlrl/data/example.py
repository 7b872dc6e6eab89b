"""One text-to-SQL example, whatever benchmark it comes from, and a dataset of them with schemas."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    from sqlrl.sql.schema import DbSchema

__all__ = ["Dataset", "Example", "ExampleSet"]


@dataclass(frozen=True)
class Example:
    """A question over one database with its gold answer.

    Attributes:
        id: unique within its dataset (``"spider/dev/12"``, a BIRD ``question_id``, a Spider 2.0
            ``instance_id``).
        db_id: the database's name.
        db_path: the database file (SQLite for all loaders here), or None when unknown.
        question: the natural-language question.
        gold_sql: the gold query; None when the benchmark gives only gold results (Spider 2.0).
        evidence: BIRD's evidence or Spider 2.0's external knowledge ("" when none).
        difficulty: BIRD's ``simple`` / ``moderate`` / ``challenging`` when given.
        hardness: Spider's ``easy`` / ``medium`` / ``hard`` / ``extra`` when given.
        dialect: the SQL dialect of the gold query and of the database.
        extra: everything else the source had (Spider's ``query_toks``, Spider 2.0's
            ``gold_csvs`` / ``condition_cols`` / ``ignore_order``, test-suite databases, ...).
    """

    id: str
    db_id: str
    db_path: Path | None
    question: str
    gold_sql: str | None
    evidence: str = ""
    difficulty: str | None = None
    hardness: str | None = None
    dialect: str = "sqlite"
    extra: Mapping[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (paths as strings), e.g. for ``datasets.Dataset.from_list``."""
        return {
            "id": self.id,
            "db_id": self.db_id,
            "db_path": None if self.db_path is None else str(self.db_path),
            "question": self.question,
            "gold_sql": self.gold_sql,
            "evidence": self.evidence,
            "difficulty": self.difficulty,
            "hardness": self.hardness,
            "dialect": self.dialect,
            "extra": dict(self.extra),
        }


@dataclass
class ExampleSet(Sequence[Example]):
    """Examples plus the schemas of their databases (sqlrl's own type, not Hugging Face's ``datasets.Dataset``;
    former name ``Dataset``, still importable).

    ``tables`` holds the raw ``tables.json`` entries by ``db_id`` when the benchmark ships one;
    :meth:`schema` builds a :class:`~sqlrl.sql.schema.DbSchema` from that entry, or else by
    reading the database file.
    """

    name: str
    split: str
    examples: list[Example]
    tables: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    _schemas: dict[str, DbSchema] = field(default_factory=dict, repr=False, compare=False)

    def __len__(self) -> int:
        return len(self.examples)

    @overload
    def __getitem__(self, i: int) -> Example: ...
    @overload
    def __getitem__(self, i: slice) -> ExampleSet: ...
    def __getitem__(self, i: int | slice) -> Example | ExampleSet:
        if isinstance(i, slice):
            return ExampleSet(self.name, self.split, self.examples[i], self.tables)
        return self.examples[i]

    def __iter__(self) -> Iterator[Example]:
        return iter(self.examples)

    def __repr__(self) -> str:
        shape = f"examples={len(self.examples)}, dbs={len(self.db_ids)}"
        return f"ExampleSet(name={self.name!r}, split={self.split!r}, {shape})"

    @property
    def db_ids(self) -> list[str]:
        """The databases the examples use, sorted."""
        return sorted({ex.db_id for ex in self.examples})

    def db_path(self, db_id: str) -> Path | None:
        """The file of database ``db_id`` (from the first example using it)."""
        return next((ex.db_path for ex in self.examples if ex.db_id == db_id), None)

    def schema(self, db_id: str) -> DbSchema:
        """The schema of ``db_id``: its tables.json entry if there is one, else read from the database file.

        Raises:
            KeyError: no example uses ``db_id`` and there is no tables.json entry for it.
        """
        if db_id not in self._schemas:
            from sqlrl.sql.schema import DbSchema

            if db_id in self.tables:
                self._schemas[db_id] = DbSchema.from_tables_json(self.tables[db_id])
            else:
                path = self.db_path(db_id)
                if path is None:
                    raise KeyError(f"no schema for database {db_id!r} in dataset {self.name}/{self.split}")
                self._schemas[db_id] = DbSchema.from_database(path)
        return self._schemas[db_id]

    def filter(self, keep: Callable[[Example], bool]) -> ExampleSet:
        """A dataset with the examples for which ``keep`` is true (same tables)."""
        return ExampleSet(self.name, self.split, [ex for ex in self.examples if keep(ex)], self.tables)

    def to_records(self) -> list[dict[str, Any]]:
        """:meth:`Example.to_dict` of every example."""
        return [ex.to_dict() for ex in self.examples]


#: Former name of :class:`ExampleSet`.
Dataset = ExampleSet
