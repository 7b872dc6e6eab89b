"""Imports between layers, read from the source with ``ast`` (imports inside functions included).

- sqlglot is imported only in ``sqlrl.sql``: every other package asks ``sqlrl.sql`` to parse.
- ``sqlrl.sql`` imports nothing above it (the sandbox, rewards, eval, ...): only itself, the
  scoring core and the leaves.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import sqlrl

ROOT = Path(sqlrl.__file__).parent

#: What ``sqlrl.sql`` may import from sqlrl (floors below it and leaves).
SQL_MAY_IMPORT = {"sql", "scoring", "_core", "_lazy", "_cache", "_error_kind", "errors"}

#: Old module paths kept as aliases of modules that moved into ``sqlrl.sql``.
ALIASES = {
    "sqlrl.sandbox.statement": "sqlrl.sql.statement",
    "sqlrl.sandbox.compat": "sqlrl.sql.sqlite_compat",
}


def module_name(path: Path) -> str:
    parts = ["sqlrl", *path.relative_to(ROOT).with_suffix("").parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """``(line, dotted name)`` of every import in ``source`` (relative ones resolved; ``from a import b``
    gives ``a`` and ``a.b``), plus ``importlib.import_module("...")`` / ``__import__("...")`` with a
    constant name."""
    package = module if is_package else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
            found += [(node.lineno, f"{name}.{alias.name}") for alias in node.names if alias.name != "*"]
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and (
                (isinstance(node.func, ast.Name) and node.func.id == "__import__")
                or (isinstance(node.func, ast.Attribute) and node.func.attr == "import_module")
            )
        ):
            found.append((node.lineno, node.args[0].value))
    return found


def _modules() -> list[tuple[str, Path]]:
    return sorted((module_name(p), p) for p in ROOT.rglob("*.py"))


def _in(name: str, package: str) -> bool:
    return name == package or name.startswith(package + ".")


def _top_level() -> set[str]:
    """The sqlrl subpackages and modules (``sandbox``, ``rewards``, ``cli``, ``_cache``, ...)."""
    return {p.stem for p in ROOT.iterdir() if p.suffix in (".py", ".pyi") or (p / "__init__.py").exists()} - {
        "__init__"
    }


def test_the_scanner_finds_imports_inside_functions_and_relative_ones():
    source = (
        "import os\n"
        "def f():\n"
        "    from sqlglot import exp\n"
        "    from ...sandbox import result\n"
        "    from .. import shape\n"
        "    importlib.import_module('sqlglot.tokens')\n"
    )
    names = {name for _, name in imports(source, "sqlrl.sql.spider.build")}
    assert {"os", "sqlglot", "sqlglot.exp", "sqlrl.sandbox", "sqlrl.sandbox.result", "sqlrl.sql.shape"} <= names
    assert "sqlglot.tokens" in names
    assert imports("from . import x", "sqlrl.sql", is_package=True)[0] == (1, "sqlrl.sql")


def test_the_modules_are_found():
    names = {name for name, _ in _modules()}
    assert {"sqlrl.sql.statement", "sqlrl.sql.sqlite_compat", "sqlrl.sandbox.sandbox", "sqlrl.cli"} <= names
    assert {"sandbox", "rewards", "eval", "cli", "sql", "_core"} <= _top_level()


def test_only_sqlrl_sql_imports_sqlglot():
    bad = []
    for name, path in _modules():
        if _in(name, "sqlrl.sql"):
            continue
        for line, imported in imports(path.read_text(encoding="utf-8"), name, path.name == "__init__.py"):
            if _in(imported, "sqlglot"):
                bad.append(f"{path.relative_to(ROOT.parent)}:{line} imports {imported}")
    assert not bad, "sqlglot outside sqlrl.sql (add a function to sqlrl.sql instead):\n" + "\n".join(bad)


def test_sqlrl_sql_imports_no_layer_above_it():
    above = {f"sqlrl.{top}" for top in _top_level() - SQL_MAY_IMPORT}
    assert {"sqlrl.sandbox", "sqlrl.rewards", "sqlrl.eval", "sqlrl.data", "sqlrl.cli"} <= above
    bad = []
    for name, path in _modules():
        if not _in(name, "sqlrl.sql"):
            continue
        for line, imported in imports(path.read_text(encoding="utf-8"), name, path.name == "__init__.py"):
            if any(_in(imported, pkg) for pkg in above):
                bad.append(f"{path.relative_to(ROOT.parent)}:{line} imports {imported}")
    assert not bad, "sqlrl.sql must not import the layers above it:\n" + "\n".join(bad)


@pytest.mark.parametrize("old,new", sorted(ALIASES.items()))
def test_old_module_paths_are_pure_re_exports(old, new):
    path = ROOT.joinpath(*old.split(".")[1:]).with_suffix(".py")
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in tree.body:
        docstring = isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
        re_export = isinstance(node, ast.ImportFrom) and node.module == new and node.level == 0
        all_list = isinstance(node, ast.Assign) and [t.id for t in node.targets if isinstance(t, ast.Name)] == [
            "__all__"
        ]
        assert docstring or re_export or all_list, f"{old}: line {node.lineno} is not a re-export"
    alias, home = importlib.import_module(old), importlib.import_module(new)
    assert alias.__all__
    for name in alias.__all__:
        assert getattr(alias, name) is getattr(home, name), name
