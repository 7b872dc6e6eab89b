"""Rewards on distilled test suites (``suite=`` of the execution and partial rewards, the ``suite`` preset).

A row's suite is ``<suite>/<db_id>/`` (``db_id``: the stem of the row's database file or CSV folder;
``sqlrl suite build --out``), where ``<suite>`` is the reward's folder, or with ``suite=True`` the row's
``suite_dir`` column (what a training config's ``data.suite`` fills). A row whose database has no suite folder
is an error (:class:`~sqlrl.rewards.batch.RewardInputError`), never a silent fall back to plain execution
match; a suite that kept no variant (the build found no near-miss the original could not tell apart) scores
as the database alone. The gold and prediction texts that ran on the row's database run again on every variant
of its suite, through the reward's execution service (each distinct query once per variant); a variant
where ties decide the gold's result (``suite.json``'s ``tied``) is skipped for that gold. A row's score
on the suite is the lowest of its scores on the variants: a verdict is 1 only if it is 1 on every
variant, a partial score is its worst case. A query that fails on a variant scores 0 there.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["SUITE_COLUMN", "suite_folder", "suite_minimum"]

#: The dataset column naming each row's folder of test suites, read by rewards built with ``suite=True``.
SUITE_COLUMN = "suite_dir"


def suite_folder(root: str | os.PathLike[str], db: str | os.PathLike[str]) -> tuple[Path, list[Path]]:
    """The suite folder of database ``db`` in ``root`` (``<root>/<stem of db>/``) and its variants.

    Raises:
        RewardInputError: ``root`` or the database's folder is missing, or the folder holds no database file.
    """
    from sqlrl.rewards.batch import RewardInputError
    from sqlrl.suite.errors import SuiteError
    from sqlrl.suite.verdict import suite_variants

    root = Path(root)
    if not root.is_dir():
        raise RewardInputError(f"folder of test suites {root} does not exist: build one with `sqlrl suite build "
                               f"--db <database> --gold <gold file> --out {root}`")  # fmt: skip
    folder = root / Path(db).stem
    if not folder.is_dir():
        raise RewardInputError(
            f"no test suite for {db} in {root} (expected {folder}/): build it with `sqlrl suite build --db {db} "
            f"--gold <gold file> --out {root}`"
        )
    try:
        return folder, suite_variants(folder)
    except SuiteError as e:
        raise RewardInputError(f"test suite of {db}: {e}") from None


def suite_minimum(
    executed: Any, rows: list[int], suite: Path | bool, *, kind: str, name: str, batch: Any = None
) -> dict[int, float]:  # fmt: skip
    """The lowest score over the variants of its suite of each row in ``rows`` of an executed batch
    (``kind`` ``mode``: the verdict of mode ``name``; ``metric``: the partial metric ``name``); a row
    whose suite has no variant left for its gold is absent. ``suite``: the folder of suites, or True for
    each row's ``suite_dir`` column of ``batch`` (the reward call's; default the batch that was executed, which
    rewards sharing an executor may have run without that column).

    Raises:
        RewardInputError: a row's database has no suite folder, or ``suite`` is True and the batch has no
            ``suite_dir`` column (or a row's is empty).
    """
    from sqlrl.rewards.batch import RewardInputError
    from sqlrl.scoring import gold_has_order_by, score_batch
    from sqlrl.suite.verdict import tied_golds

    batch = executed.batch if batch is None else batch
    db_paths = batch.column("db_path")
    if suite is True:
        if SUITE_COLUMN not in batch.columns:
            raise RewardInputError(
                f"a reward on test suites (the suite preset, or suite: true) needs the dataset column {SUITE_COLUMN} "
                f"(the folder of suites, `sqlrl suite build --out`): set data.suite in a training config, pass "
                f"{SUITE_COLUMN}=... to sqlrl.rewards.score, or give the reward the folder (suite: DIR)"
            )
        roots = batch.column(SUITE_COLUMN)
    suites: dict[tuple[str, str], tuple[list[Path], dict[str, set[str]]]] = {}
    pairs: dict[tuple[Any, ...], list[int]] = {}  # each distinct (database, gold, prediction) once
    for i in rows:
        db = str(db_paths[i])
        if suite is True:
            if not isinstance(roots[i], (str, os.PathLike)) or not str(roots[i]).strip():
                raise RewardInputError(f"row {i} ({db}) has no {SUITE_COLUMN}: every row needs its folder of suites")
            root = str(roots[i])
        else:
            root = str(suite)
        if (root, db) not in suites:
            folder, paths = suite_folder(root, db)
            suites[(root, db)] = (paths, tied_golds(folder))
        gold, pred = executed.golds[i], executed.preds[i]
        key = (root, db, gold.sql, gold.engine or None, pred.sql, pred.engine or None)
        pairs.setdefault(key, []).append(i)
    plan: list[tuple[tuple[Any, ...], str]] = []  # (pair, variant)
    queries = []
    for key in pairs:
        root, db, gold_sql, gold_engine, pred_sql, pred_engine = key
        paths, tied = suites[(root, db)]
        skip = tied and gold_sql.strip()
        for variant in paths:
            if skip and skip in tied.get(variant.name, ()):
                continue
            plan.append((key, str(variant)))
            queries += [(str(variant), gold_sql, gold_engine), (str(variant), pred_sql, pred_engine)]
    results = executed.executor.service.run(queries)
    lowest: dict[tuple[Any, ...], float] = {}
    ran: list[tuple[tuple[Any, ...], Any, Any]] = []
    for k, (key, _) in enumerate(plan):
        g, p = results[2 * k], results[2 * k + 1]
        if g.ok and p.ok:
            ran.append((key, g.table, p.table))
        else:
            lowest[key] = 0.0
    if ran:
        order = {key: kind == "mode" and name == "spider" and gold_has_order_by(key[2]) for key in pairs}
        scores = score_batch(
            [g for _, g, _ in ran], [p for _, _, p in ran], modes=[name] if kind == "mode" else [],
            metrics=[name] if kind == "metric" else [], order_matters=[order[key] for key, _, _ in ran],
            workers=executed.workers,
        )[name]  # fmt: skip
        for (key, _, _), score in zip(ran, scores, strict=True):
            lowest[key] = min(lowest.get(key, 1.0), float(score))
    return {i: lowest[key] for key, ids in pairs.items() if key in lowest for i in ids}
