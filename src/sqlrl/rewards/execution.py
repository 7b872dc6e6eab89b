"""Execution-based rewards: execution match (0/1) and partial match (dense, in [0, 1])."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlrl.rewards.base import SQLReward
from sqlrl.rewards.batch import Batch
from sqlrl.rewards.executor import RewardExecutor
from sqlrl.rewards.guard import apply_empty_gold, check_policy
from sqlrl.rewards.on_suite import suite_minimum
from sqlrl.scoring import METRICS, MODES

__all__ = ["ExecutionReward", "PartialReward", "execution_reward", "partial_reward"]

#: PaVeRL-SQL's reward code treats an extracted query shorter than this as no query.
PAVERL_MIN_SQL_LENGTH = 16


def _suite_folder(suite: str | os.PathLike[str] | bool | None) -> Path | bool | None:
    """None or False (off), True (each row's ``suite_dir`` column) or the folder of suites, which must exist."""
    if suite is None or isinstance(suite, bool):
        return suite or None
    if not isinstance(suite, (str, os.PathLike)) or not str(suite).strip():
        raise ValueError(f"suite must be a folder of test suites (sqlrl suite build --out) or true, got {suite!r}")
    if not Path(suite).is_dir():
        raise ValueError(
            f"suite must be a folder of test suites (sqlrl suite build --out), got {suite}, which "
            f"{'is no folder' if Path(suite).exists() else 'does not exist'}"
        )
    return Path(suite)


class ExecutionReward(SQLReward):
    """Execution-match reward: ``correct`` when the prediction's result matches the gold's, else
    ``wrong``; ``error`` when no SQL was found or it did not run (syntax error, unknown column,
    non-read statement, timeout).

    Args:
        mode: ``spider`` (bag of rows, free column order, row order checked when the gold has
            ``ORDER BY``), ``bird`` (set of rows), ``spider2`` (every gold column among the pred
            columns; optional dataset columns ``condition_cols`` and ``ignore_order``) or ``strict``.
        empty_gold: policy when the gold result is empty: ``structure``, ``allow`` or ``skip``
            (see :mod:`sqlrl.rewards.guard`).
        correct, wrong, error: the three reward values.
        name: the name TRL logs (default ``execution``, or ``execution_<mode>``).
        executor: a shared :class:`~sqlrl.rewards.executor.RewardExecutor`; else one is made from
            ``sandbox_options`` (``timeout``, ``max_rows``, ``engine``, ``workers``, ...).
        suite: a folder of distilled test suites (``sqlrl suite build --out``; see docs/suites.md), or True for
            each row's ``suite_dir`` column (the ``suite`` preset; a training config's ``data.suite``): a
            prediction that matches on a row's database is ``correct`` only if it also matches on every
            variant in ``<suite>/<db_id>/`` (``db_id``: the stem of the database file or CSV folder); each
            distinct query runs once per variant. A row whose database has no suite folder raises
            ``RewardInputError`` (no fall back to the plain database); a suite that kept no variant scores
            as its database.

    Returns None ("not applicable") for rows without a gold query or whose gold query fails.

    >>> import sqlite3, tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "t.sqlite")
    >>> con = sqlite3.connect(db); _ = con.execute("CREATE TABLE t(x INT)")
    >>> _ = con.execute("INSERT INTO t VALUES (1), (2)"); con.commit(); con.close()
    >>> reward = execution_reward(timeout=2.0)
    >>> completions = ["```sql\\nSELECT x FROM t\\n```", "SELECT x FROM t WHERE x = 1", "DROP TABLE t"]
    >>> reward(prompts=["q"] * 3, completions=completions, gold_sql=["SELECT x FROM t"] * 3, db_path=[db] * 3)
    [1.0, 0.0, 0.0]
    """

    kind = "execution"
    required_columns = ("gold_sql", "db_path")

    def __init__(
        self,
        mode: str = "spider",
        *,
        empty_gold: str = "structure",
        correct: float = 1.0,
        wrong: float = 0.0,
        error: float = 0.0,
        name: str | None = None,
        executor: RewardExecutor | None = None,
        suite: str | os.PathLike[str] | bool | None = None,
        **sandbox_options: Any,
    ) -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {', '.join(MODES)}, got {mode!r}")
        self.mode = mode
        self.suite = _suite_folder(suite)
        self.empty_gold = check_policy(empty_gold)
        self.correct, self.wrong, self.error = float(correct), float(wrong), float(error)
        super().__init__(name=name, executor=executor, **sandbox_options)

    def default_name(self) -> str:
        return "execution" if self.mode == "spider" else f"execution_{self.mode}"

    def compute(self, batch: Batch) -> list[float | None]:
        executed = self.execute(batch)
        verdicts = apply_empty_gold(executed, executed.scores("mode", self.mode), self.empty_gold)
        if self.suite is not None:
            verdicts = self._on_suite(executed, verdicts, batch)
        out: list[float | None] = []
        for v, pred in zip(verdicts, executed.preds, strict=True):
            if v is None:
                out.append(None)
            elif not pred.ok:
                out.append(self.error)
            else:
                out.append(self.correct if v >= 1.0 else self.wrong)
        return out

    def _on_suite(self, executed: Any, verdicts: list[float | None], batch: Batch) -> list[float | None]:
        """``verdicts`` with a match made 0.0 where the prediction differs from the gold on a variant of
        the row's suite (:mod:`sqlrl.rewards.on_suite`)."""
        assert self.suite is not None
        rows = [i for i, v in enumerate(verdicts) if v is not None and v >= 1.0]
        if not rows:
            return verdicts
        lowest = suite_minimum(executed, rows, self.suite, kind="mode", name=self.mode, batch=batch)
        return [min(v, lowest[i]) if v is not None and i in lowest else v for i, v in enumerate(verdicts)]


execution_reward = ExecutionReward.factory()


class PartialReward(SQLReward):
    """Partial-match reward: a dense score in [0, 1] of the prediction's result against the gold's.

    Args:
        metric: ``table_f1`` (sqlrl's cell-level F1 under the best column alignment; 1 exactly when
            ``spider`` mode matches), ``soft_f1`` (BIRD mini-dev Soft-F1) or ``paverl`` (PaVeRL-SQL's
            column-matching accuracy).
        paper_mapping: ``paverl`` only: PaVeRL-SQL's reward mapping instead of the accuracy: 0 when
            no SQL was found (or it is shorter than 16 characters) or it does not run, 0.5 when it
            runs with accuracy 0, else ``10 * acc`` (so in {0, 0.5} ∪ (0, 10]).
        empty_gold: policy when the gold result is empty (see :mod:`sqlrl.rewards.guard`).
        name: the name TRL logs (default ``partial_<metric>``, ``partial_paverl_paper``).
        executor: a shared executor; else one is made from ``sandbox_options``.
        suite: a folder of distilled test suites, or True for the ``suite_dir`` column (as for
            :class:`ExecutionReward`): the score is the
            lowest over the row's database and every variant of its suite (its worst case; 0 where
            the prediction fails on a variant), before ``paper_mapping``.

    A prediction that did not run scores 0.0; rows without a usable gold result give None.

    >>> import sqlite3, tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "t.sqlite")
    >>> con = sqlite3.connect(db); _ = con.execute("CREATE TABLE t(x INT, y TEXT)")
    >>> _ = con.execute("INSERT INTO t VALUES (1, 'a'), (2, 'b')"); con.commit(); con.close()
    >>> reward = partial_reward("table_f1", timeout=2.0)
    >>> reward(completions=["SELECT x, y FROM t", "SELECT x FROM t", "SELECT nope FROM t"],
    ...        gold_sql="SELECT x, y FROM t", db_path=db)
    [1.0, 0.6666666666666666, 0.0]
    """

    kind = "partial"
    required_columns = ("gold_sql", "db_path")

    def __init__(
        self,
        metric: str = "table_f1",
        *,
        paper_mapping: bool = False,
        empty_gold: str = "structure",
        name: str | None = None,
        executor: RewardExecutor | None = None,
        suite: str | os.PathLike[str] | bool | None = None,
        **sandbox_options: Any,
    ) -> None:
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {', '.join(METRICS)}, got {metric!r}")
        if paper_mapping and metric != "paverl":
            raise ValueError("paper_mapping is PaVeRL-SQL's reward mapping: use it with metric='paverl'")
        self.metric_name = metric
        self.suite = _suite_folder(suite)
        self.paper_mapping = bool(paper_mapping)
        self.empty_gold = check_policy(empty_gold)
        super().__init__(name=name, executor=executor, **sandbox_options)

    def default_name(self) -> str:
        return f"partial_{self.metric_name}" + ("_paper" if self.paper_mapping else "")

    def compute(self, batch: Batch) -> list[float | None]:
        executed = self.execute(batch)
        scores = apply_empty_gold(executed, executed.scores("metric", self.metric_name), self.empty_gold)
        if self.suite is not None:
            rows = [i for i, acc in enumerate(scores) if acc is not None and executed.preds[i].ok]
            lowest = (
                suite_minimum(executed, rows, self.suite, kind="metric", name=self.metric_name, batch=batch)
                if rows else {}
            )  # fmt: skip
            scores = [min(acc, lowest[i]) if acc is not None and i in lowest else acc for i, acc in enumerate(scores)]
        out: list[float | None] = []
        for i, (acc, pred) in enumerate(zip(scores, executed.preds, strict=True)):
            if acc is None:
                out.append(None)
            elif not self.paper_mapping:
                out.append(acc if pred.ok else 0.0)
            else:
                sql = batch.extractions[i].sql or ""
                if not pred.ok or len(sql) < PAVERL_MIN_SQL_LENGTH:
                    out.append(0.0)
                else:
                    out.append(0.5 if acc == 0 else 10.0 * acc)
        return out


partial_reward = PartialReward.factory()
