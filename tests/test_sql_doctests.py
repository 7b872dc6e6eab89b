"""The >>> examples in the docstrings of sqlrl.sql and sqlrl.sql.spider run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

#: Modules whose examples run, and whether each must hold at least one (sqlrl.sql.spider's package module
#: and a few of its modules may have none).
MODULES = [
    *((f"sqlrl.sql.{name}", True) for name in (
        "affinity_rewrite", "bare_columns", "bare_rewrite", "dialects", "extract", "linking", "ngrams", "rowid_rewrite",
        "schema", "shape", "sqlite_compat", "statement", "syntax", "tokens",
    )),
    *((f"sqlrl.sql.spider{name}", False) for name in (
        "", ".schema", ".normalize", ".exact", ".components", ".hardness", ".build", ".names", ".structure",
        ".dialect",
    )),
]  # fmt: skip


@pytest.mark.parametrize(("name", "must_attempt"), MODULES, ids=[m for m, _ in MODULES])
def test_doctests(name, must_attempt):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
    assert result.attempted > 0 or not must_attempt
