"""The >>> examples in sqlrl.rewards' docstrings run and hold."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["", ".batch", ".executor", ".guard", ".execution", ".text", ".length", ".judge", ".spec"]


@pytest.mark.parametrize("name", MODULES)
def test_doctests(name):
    module = importlib.import_module("sqlrl.rewards" + name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
