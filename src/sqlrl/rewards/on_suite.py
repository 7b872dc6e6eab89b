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
    suites: dict[Path, tuple[list[Path], dict[str, set[str]]]] = {}
    plan: list[tuple[int, Path]] = []  # (row, variant)
    for i in rows:
        db = Path(str(db_paths[i]))
        folder = suite / db.stem
        if folder not in suites:
            if not folder.is_dir():
                raise RewardInputError(f"no test suite for {db} in {suite} (expected {folder}/)")
            paths = [p for p in suite_databases(folder) if p.name != f"{db.stem}.sqlite"]  # the variants
            suites[folder] = (paths, tied_golds(folder))
        paths, tied = suites[folder]
        gold = executed.golds[i].sql.strip()
        plan += [(i, p) for p in paths if gold not in tied.get(p.name, ())]
    queries = []
    for i, variant in plan:
        gold, pred = executed.golds[i], executed.preds[i]
        queries += [(str(variant), gold.sql, gold.engine or None), (str(variant), pred.sql, pred.engine or None)]
    results = executed.executor.service.run(queries)
    out: dict[int, float] = {}
    both = [(k, results[2 * k], results[2 * k + 1]) for k in range(len(plan))]
    for k, g, p in both:
        if not (g.ok and p.ok):
            out[plan[k][0]] = 0.0
    ran = [(k, g, p) for k, g, p in both if g.ok and p.ok]
    if ran:
        order = [kind == "mode" and name == "spider" and gold_has_order_by(executed.golds[plan[k][0]].sql)
                 for k, _, _ in ran]  # fmt: skip
        scores = score_batch(
            [g.table for _, g, _ in ran], [p.table for _, _, p in ran], modes=[name] if kind == "mode" else [],
            metrics=[name] if kind == "metric" else [], order_matters=order, workers=executed.workers,
        )[name]  # fmt: skip
        for (k, _, _), score in zip(ran, scores, strict=True):
            i = plan[k][0]
            out[i] = min(out.get(i, 1.0), float(score))
    return out
