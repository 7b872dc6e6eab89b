"""One exception root: every exception class sqlrl defines is a ``sqlrl.SqlrlError`` and keeps its built-in base."""

from __future__ import annotations

import ast
import importlib
import inspect
import pkgutil
from pathlib import Path

import pytest

import sqlrl
from sqlrl.errors import SqlrlError


def _package_exception_classes() -> dict[str, type[BaseException]]:
    """Every exception class defined at module level in a module of sqlrl (the compiled core included)."""
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(sqlrl.__path__, "sqlrl."):
        module = importlib.import_module(info.name)
        for name, obj in vars(module).items():
            if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == module.__name__:
                found[f"{module.__name__}.{name}"] = obj
    return found


def test_every_exception_class_of_the_package_is_a_sqlrl_error():
    classes = _package_exception_classes()
    assert {"sqlrl._core.ResultTooLarge", "sqlrl.sql.errors.SqlError", "sqlrl._cliutil.UsageError"} <= set(classes)
    assert len(classes) >= 25  # every module was walked
    outside = sorted(name for name, cls in classes.items() if not issubclass(cls, SqlrlError))
    assert outside == []


@pytest.mark.parametrize(
    "name, builtin",
    [
        ("sqlrl.sql.errors.SqlError", ValueError),
        ("sqlrl.sql.errors.SqlParseError", ValueError),
        ("sqlrl.sql.spider.errors.SpiderParseError", ValueError),
        ("sqlrl.sandbox.errors.MissingDatabaseError", FileNotFoundError),
        ("sqlrl.sandbox.errors.NotADatabaseError", FileNotFoundError),
        ("sqlrl.sandbox.errors.UnsupportedDatabaseError", ValueError),
        ("sqlrl.sandbox.errors.SandboxClosedError", RuntimeError),
        ("sqlrl.data.errors.MissingDatasetFileError", FileNotFoundError),
        ("sqlrl.data.errors.MalformedDatasetError", ValueError),
        ("sqlrl.data.prompts.PromptTooLongError", ValueError),
        ("sqlrl.rewards.spec.RewardSpecError", ValueError),
        ("sqlrl.rewards.batch.RewardInputError", ValueError),
        ("sqlrl.train.config.ConfigError", ValueError),
        ("sqlrl.train.runner.TrainingError", RuntimeError),
        ("sqlrl.models.prompt_settings.PromptSettingsError", ValueError),
        ("sqlrl.eval.spider2.CsvError", ValueError),
        ("sqlrl._core.ResultTooLarge", MemoryError),
    ],
)
def test_the_built_in_bases_are_kept(name, builtin):
    cls = _package_exception_classes()[name]
    assert issubclass(cls, builtin) and issubclass(cls, SqlrlError)
    with pytest.raises(builtin):  # an `except <built-in>` written before the root existed still catches it
        raise cls.__new__(cls, "message")


def test_the_root_is_a_leaf_exported_at_the_top():
    assert sqlrl.SqlrlError is SqlrlError and "SqlrlError" in sqlrl.__all__
    tree = ast.parse(Path(inspect.getfile(importlib.import_module("sqlrl.errors"))).read_text(encoding="utf-8"))
    imported = [
        getattr(node, "module", None) or ",".join(a.name for a in node.names)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Import, ast.ImportFrom))
    ]
    assert all(not (m or "").startswith("sqlrl") for m in imported), imported
