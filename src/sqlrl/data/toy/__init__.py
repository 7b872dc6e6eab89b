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

from __future__ import annotations

from sqlrl._lazy import lazy_exports

# Names are imported from their modules on first use.
_HOMES = {
    "HARDNESS_LEVELS": "build", "SPLITS": "build", "TOY_VERSION": "build", "ToyPaths": "build",
    "build_toy": "build", "sql_tokens": "build", "tables_json_entry": "build",
    "DEV_FRACTION": "generate", "IID_FRACTION": "generate", "ToyExample": "generate", "composition": "generate",
}  # fmt: skip
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

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
