"""Rewards on distilled test suites (``suite=`` of the execution and partial rewards).

A row's suite is ``<suite>/<db_id>/`` (``db_id``: the stem of the row's database file; ``sqlrl suite
build --out``). The gold and prediction texts that ran on the row's database run again on every variant
of its suite, through the reward's execution service (each distinct query once per variant); a variant
where ties decide the gold's result (``suite.json``'s ``tied``) is skipped for that gold. A row's score
on the suite is the lowest of its scores on the variants: a verdict is 1 only if it is 1 on every
variant, a partial score is its worst case. A query that fails on a variant scores 0 there.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["suite_minimum"]


def suite_minimum(
    executed: Any, rows: list[int], suite: Path, *, kind: str, name: str
) -> dict[int, float]:  # fmt: skip
    """The lowest score over the variants of its suite of each row in ``rows`` of an executed batch
    (``kind`` ``mode``: the verdict of mode ``name``; ``metric``: the partial metric ``name``); a row
    whose suite has no variant left for its gold is absent.

    Raises:
        RewardInputError: a row's database has no suite folder.
    """
    from sqlrl.rewards.batch import RewardInputError
    from sqlrl.scoring import gold_has_order_by, score_batch
    from sqlrl.suite.verdict import suite_databases, tied_golds

    db_paths = executed.batch.column("db_path")
    suites: dict[str, tuple[list[Path], dict[str, set[str]]]] = {}
    pairs: dict[tuple[Any, ...], list[int]] = {}  # each distinct (database, gold, prediction) once
    for i in rows:
        db = str(db_paths[i])
        if db not in suites:
            stem = Path(db).stem
            folder = suite / stem
            if not folder.is_dir():
                raise RewardInputError(f"no test suite for {db} in {suite} (expected {folder}/)")
            paths = [p for p in suite_databases(folder) if p.name != f"{stem}.sqlite"]  # the variants
            suites[db] = (paths, tied_golds(folder))
        gold, pred = executed.golds[i], executed.preds[i]
        key = (db, gold.sql, gold.engine or None, pred.sql, pred.engine or None)
        pairs.setdefault(key, []).append(i)
    plan: list[tuple[tuple[Any, ...], str]] = []  # (pair, variant)
    queries = []
    for key in pairs:
        db, gold_sql, gold_engine, pred_sql, pred_engine = key
        paths, tied = suites[db]
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
        order = {key: kind == "mode" and name == "spider" and gold_has_order_by(key[1]) for key in pairs}
        scores = score_batch(
            [g for _, g, _ in ran], [p for _, _, p in ran], modes=[name] if kind == "mode" else [],
            metrics=[name] if kind == "metric" else [], order_matters=[order[key] for key, _, _ in ran],
            workers=executed.workers,
        )[name]  # fmt: skip
        for (key, _, _), score in zip(ran, scores, strict=True):
            lowest[key] = min(lowest.get(key, 1.0), float(score))
    return {i: lowest[key] for key, ids in pairs.items() if key in lowest for i in ids}
