"""Reading dataset files with errors that say which file, which entry and which field."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from sqlrl.data.errors import MalformedDatasetError, MissingDatasetFileError

_MISSING = object()


def require_file(path: Path, what: str) -> Path:
    """``path`` if it is a file, else :class:`MissingDatasetFileError` saying what it should hold."""
    if not path.is_file():
        where = "is a directory" if path.is_dir() else "not found"
        raise MissingDatasetFileError(f"{what}: {path} {where}")
    return path


def require_dir(path: Path, what: str) -> Path:
    """``path`` if it is a directory, else :class:`MissingDatasetFileError` saying what it should hold."""
    if not path.is_dir():
        where = "is a file, not a directory" if path.exists() else "not found"
        raise MissingDatasetFileError(f"{what}: directory {path} {where}")
    return path


def read_text(path: Path, what: str) -> str:
    """The UTF-8 text of a file; a missing file, a directory or other bytes raise naming the file."""
    require_file(path, what)
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as e:
        raise MalformedDatasetError(f"{path} is not UTF-8 text ({what}): {e}") from None


def read_json(path: Path, what: str) -> Any:
    text = read_text(path, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise MalformedDatasetError(f"{path} is not valid JSON ({what}): {e}") from None


def read_json_list(path: Path, what: str) -> list[Mapping[str, Any]]:
    """A JSON file holding a list of objects."""
    data = read_json(path, what)
    if not isinstance(data, list):
        raise MalformedDatasetError(f"{path} must hold a JSON list ({what}), found {type(data).__name__}")
    for i, entry in enumerate(data):
        if not isinstance(entry, dict):
            raise MalformedDatasetError(f"{path}: entry {i} must be a JSON object, found {type(entry).__name__}")
    return data


def iter_jsonl(path: Path, what: str) -> Iterator[tuple[int, Mapping[str, Any]]]:
    """``(line number, object)`` for each non-blank line of a JSON Lines file."""
    require_file(path, what)
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, start=1):
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as e:
                raise MalformedDatasetError(f"{path} line {lineno} is not UTF-8 text ({what}): {e}") from None
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise MalformedDatasetError(f"{path} line {lineno} is not valid JSON ({what}): {e}") from None
            if not isinstance(obj, dict):
                raise MalformedDatasetError(f"{path} line {lineno} must be a JSON object, found {type(obj).__name__}")
            yield lineno, obj


def field(
    entry: Mapping[str, Any],
    where: str,
    names: str | tuple[str, ...],
    *,
    kind: type | tuple[type, ...] = str,
    default: Any = _MISSING,
) -> Any:
    """The value of the first of ``names`` present in ``entry``, checked against ``kind``.

    ``where`` locates the entry in messages ("dev.json entry 12"). Without ``default`` the
    field is required; ``None`` values count as absent.
    """
    names = (names,) if isinstance(names, str) else names
    for name in names:
        value = entry.get(name)
        if value is None:
            continue
        kinds = _kinds(kind)
        if not isinstance(value, kinds) or (isinstance(value, bool) and bool not in kinds):
            expected = " or ".join(k.__name__ for k in kinds)
            raise MalformedDatasetError(f"{where}: field {name!r} must be {expected}, found {type(value).__name__}")
        return value
    if default is _MISSING:
        shown = " or ".join(repr(n) for n in names)
        expected = " or ".join(k.__name__ for k in _kinds(kind))
        raise MalformedDatasetError(f"{where}: missing field {shown} (expected {expected})")
    return default


def _kinds(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)
