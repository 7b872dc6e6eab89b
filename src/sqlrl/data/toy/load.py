"""Load sqlrl-toy, building it into the cache on first use."""

from __future__ import annotations

import os
from pathlib import Path

from sqlrl._cache import default_cache_dir
from sqlrl.data.example import ExampleSet
from sqlrl.data.spider import load_spider
from sqlrl.data.toy.build import SPLITS, TOY_VERSION, build_toy

__all__ = ["load_toy", "toy_dir"]


def toy_dir(cache_dir: str | os.PathLike[str] | None = None) -> Path:
    """Where :func:`load_toy` builds sqlrl-toy: ``<cache_dir>/toy-<TOY_VERSION>``."""
    root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
    return root / f"toy-{TOY_VERSION}"


def load_toy(split: str = "dev", *, cache_dir: str | os.PathLike[str] | None = None, force: bool = False) -> ExampleSet:
    """A split of sqlrl-toy, built into the cache when needed.

    Args:
        split: ``train``, ``dev`` (compositional hold-out: combinations never seen in training) or ``iid``
            (i.i.d. hold-out: new questions of compositions that train has).
        cache_dir: cache root (default ``$SQLRL_CACHE_DIR``, else ``~/.cache/sqlrl``); the benchmark
            lives in ``toy-<version>`` inside it.
        force: rebuild even when a complete build is there.

    >>> import tempfile
    >>> ds = load_toy("dev", cache_dir=tempfile.mkdtemp())
    >>> ds.name, ds.split, ds[0].hardness in ("easy", "medium", "hard", "extra")
    ('sqlrl-toy', 'dev', True)
    """
    if split not in SPLITS:
        raise ValueError(f"sqlrl-toy has the splits {', '.join(map(repr, SPLITS))}, not {split!r}")
    paths = build_toy(toy_dir(cache_dir), force=force)
    return load_spider(
        split=split,
        questions=paths.split(split),
        tables=paths.tables,
        database_dir=paths.database_dir,
        name="sqlrl-toy",
    )
