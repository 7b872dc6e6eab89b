"""sqlrl-toy: a small text-to-SQL benchmark generated from code, in Spider's file layout.

Three databases of different domains (``library``, ``university``, ``flights``), question/SQL
pairs filled from templates of all four Spider hardness levels, and a train/dev split that
holds out template x slot *compositions* (see :mod:`sqlrl.data.toy.generate`), plus an ``iid``
split of new questions from the compositions train has.

>>> import tempfile
>>> from sqlrl.data.toy import build_toy
>>> paths = build_toy(tempfile.mkdtemp())
>>> paths.db_path("library").name
'library.sqlite'
"""

from sqlrl.data.toy.build import (
    HARDNESS_LEVELS,
    SPLITS,
    TOY_VERSION,
    ToyPaths,
    build_toy,
    sql_tokens,
    tables_json_entry,
)
from sqlrl.data.toy.generate import DEV_FRACTION, IID_FRACTION, ToyExample, composition

__all__ = [
    "DEV_FRACTION",
    "HARDNESS_LEVELS",
    "IID_FRACTION",
    "SPLITS",
    "TOY_VERSION",
    "ToyExample",
    "ToyPaths",
    "build_toy",
    "composition",
    "sql_tokens",
    "tables_json_entry",
]
