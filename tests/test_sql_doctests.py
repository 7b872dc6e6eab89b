"""The >>> examples in sqlrl.sql's docstrings run and hold (sqlrl.sql.spider has its own file)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    ".dialects",
    ".extract",
    ".linking",
    ".ngrams",
    ".schema",
    ".shape",
    ".sqlite_compat",
    ".statement",
    ".syntax",
    ".tokens",
]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module("sqlrl.sql" + name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0
