"""Rewards read from the SQL text: format, syntax, schema linking, n-gram similarity, Spider components."""

from __future__ import annotations

import re
from typing import Any

from sqlrl.rewards.base import SQLReward
from sqlrl.rewards.batch import Batch
from sqlrl.rewards.executor import RewardExecutor

__all__ = [
    "ComponentsReward",
    "FormatReward",
    "NgramReward",
    "SchemaLinkingReward",
    "SyntaxReward",
    "components_reward",
    "format_reward",
    "ngram_reward",
    "schema_linking_reward",
    "syntax_reward",
]

# ------------------------------------------------------------------------------------------ format

_THINK_BLOCK = re.compile(r"\s*<think>(.*?)</think>", re.S | re.I)
_THINK_TAG = re.compile(r"</?think>", re.I)
_ANSWER_END = re.compile(r"<answer>(.*?)</answer>\s*\Z", re.S | re.I)
_FENCE_END = re.compile(r"```[ \t]*sql[ \t]*\n(.*?)```\s*\Z", re.S | re.I)
THINK_OPTIONS = (True, False, "optional")
ANSWER_OPTIONS = ("either", "fence", "answer")


class FormatReward(SQLReward):
    """Format reward: 1.0 when the completion is ``<think>...</think>`` followed by the final SQL in a
    fenced ``sql`` block or in ``<answer>...</answer>``, and nothing after it; else 0.0.

    Args:
        think: ``True``: the completion must open with one non-empty ``<think>`` block;
            ``"optional"``: such a block may open it; ``False``: no ``<think>`` anywhere.
        answer: the final block: ``either``, ``fence`` (a fenced ``sql`` block) or ``answer``.
        allow_text: allow prose between the ``</think>`` (or the start) and the final block.
        name: the name TRL logs (default ``format``).

    >>> f = format_reward()
    >>> f(completions=["<think>count rows</think>\\n```sql\\nSELECT count(*) FROM t\\n```",
    ...                "<think>x</think><answer>SELECT 1</answer>", "```sql\\nSELECT 1\\n```",
    ...                "<think>x</think>```sql\\nSELECT 1\\n``` more text"])
    [1.0, 1.0, 0.0, 0.0]
    """

    kind = "format"
    uses_database = False

    def __init__(
        self,
        *,
        think: bool | str = True,
        answer: str = "either",
        allow_text: bool = False,
        name: str | None = None,
        executor: RewardExecutor | None = None,
        **sandbox_options: Any,
    ) -> None:
        if think not in THINK_OPTIONS or isinstance(think, int) and not isinstance(think, bool):
            raise ValueError(f"think must be True, False or 'optional', got {think!r}")
        if answer not in ANSWER_OPTIONS:
            raise ValueError(f"answer must be one of {', '.join(ANSWER_OPTIONS)}, got {answer!r}")
        self.think, self.answer, self.allow_text = think, answer, bool(allow_text)
        super().__init__(name=name, executor=executor, **sandbox_options)

    def check(self, text: str) -> bool:
        """Whether one completion has the format."""
        rest = text
        m = _THINK_BLOCK.match(text)
        if m is not None:
            if self.think is False or not m.group(1).strip() or _THINK_TAG.search(m.group(1)):
                return False
            rest = text[m.end() :]
        elif self.think is True:
            return False
        if _THINK_TAG.search(rest):
            return False
        patterns = {"either": (_ANSWER_END, _FENCE_END), "fence": (_FENCE_END,), "answer": (_ANSWER_END,)}
        for pattern in patterns[self.answer]:
            found = pattern.search(rest)
            if found is None or not found.group(1).strip():
                continue
            if self.allow_text or not rest[: found.start()].strip():
                return True
        return False

    def compute(self, batch: Batch) -> list[float | None]:
        return [1.0 if self.check(t) else 0.0 for t in batch.texts]


format_reward = FormatReward.factory()


# ------------------------------------------------------------------------------------------ syntax

SYNTAX_MODES = ("execute", "bind")
_BIND_AFTER = ("timeout", "resource")  # errors raised while running: the query bound, check it without data


class SyntaxReward(SQLReward):
    """Syntax-validity reward: 1.0 for a valid query, 0.0 otherwise (no SQL, parse or binding error,
    unknown table or column, a non-read statement).

    Args:
        mode: ``execute`` (default): the query runs without error on the database (shares the
            execution with the other rewards; a query stopped by the timeout or the memory limit is
            then checked by binding it); ``bind``: the query parses and binds against an empty copy
            of the schema (sqlglot, then ``EXPLAIN`` / DuckDB's binder) without reading data;
            ``db_path`` is then optional (without it only parsing is checked).
        name: the name TRL logs (default ``syntax``).

    >>> import sqlite3, tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "t.sqlite")
    >>> con = sqlite3.connect(db); _ = con.execute("CREATE TABLE t(x INT)"); con.close()
    >>> syntax_reward("bind")(completions=["SELECT x FROM t", "SELECT y FROM t", "SELEC x"], db_path=db)
    [1.0, 0.0, 0.0]
    """

    kind = "syntax"

    def __init__(
        self,
        mode: str = "execute",
        *,
        name: str | None = None,
        executor: RewardExecutor | None = None,
        **sandbox_options: Any,
    ) -> None:
        if mode not in SYNTAX_MODES:
            raise ValueError(f"mode must be one of {', '.join(SYNTAX_MODES)}, got {mode!r}")
        self.mode = mode
        self.required_columns = ("db_path",) if mode == "execute" else ()  # type: ignore[misc]
        super().__init__(name=name, executor=executor, **sandbox_options)

    def _binds(self, batch: Batch, i: int, sql: str) -> bool:
        from sqlrl.sql.syntax import check_syntax

        dialect = self.dialect_of(batch, i)
        db = batch.db(i)
        schema = self.executor.schema(db, batch.engine(i)) if db else None
        key = ("binds", sql, dialect, db, batch.engine(i))
        return bool(self.executor.derived(key, lambda: check_syntax(sql, dialect=dialect, schema=schema).ok))

    def compute(self, batch: Batch) -> list[float | None]:
        out: list[float | None] = [0.0] * len(batch)
        if self.mode == "execute":
            executed = self.execute(batch)
            for i, pred in enumerate(executed.preds):
                if pred.ok:
                    out[i] = 1.0
                elif pred.error_kind in _BIND_AFTER:
                    out[i] = 1.0 if self._binds(batch, i, batch.extractions[i].sql or "") else 0.0
            return out
        for i, sql in enumerate(batch.sqls):
            if sql is not None:
                out[i] = 1.0 if self._binds(batch, i, sql) else 0.0
        return out


syntax_reward = SyntaxReward.factory()


# ---------------------------------------------------------------------------------- schema linking

LINKING_METRICS = ("jaccard", "table_jaccard", "column_jaccard", "table_recall", "column_recall")


def _jaccard(a: frozenset[str], b: frozenset[str]) -> float:
    return 1.0 if not a and not b else len(a & b) / len(a | b)


def _recall(gold: frozenset[str], pred: frozenset[str]) -> float:
    return 1.0 if not gold else len(gold & pred) / len(gold)


def _linking_score(metric: str, gold: Any, pred: Any) -> float:
    if metric == "jaccard":
        return _jaccard(gold.all, pred.all)
    part = "tables" if metric.startswith("table") else "columns"
    a, b = getattr(gold, part), getattr(pred, part)
    return _jaccard(a, b) if metric.endswith("jaccard") else _recall(a, b)


class SchemaLinkingReward(SQLReward):
    """Schema-linking reward (Reasoning-SQL): overlap of the tables and columns the prediction uses
    with those the gold uses, resolved against the database schema by sqlglot.

    Args:
        metric: ``jaccard`` (tables and columns together, default), ``table_jaccard``,
            ``column_jaccard``, ``table_recall`` or ``column_recall``. A misspelt column counts as
            a wrong item.
        name: the name TRL logs (default ``schema_linking``).

    0.0 when no SQL was found or it does not parse; None when the gold does not parse.

    >>> import sqlite3, tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "t.sqlite")
    >>> con = sqlite3.connect(db); _ = con.execute("CREATE TABLE t(a INT, b INT)"); con.close()
    >>> schema_linking_reward()(completions=["SELECT a FROM t", "SELECT a, b FROM t"],
    ...                         gold_sql="SELECT a, b FROM t", db_path=db)
    [0.6666666666666666, 1.0]
    """

    kind = "schema_linking"
    required_columns = ("gold_sql", "db_path")

    def __init__(
        self,
        metric: str = "jaccard",
        *,
        name: str | None = None,
        executor: RewardExecutor | None = None,
        **sandbox_options: Any,
    ) -> None:
        if metric not in LINKING_METRICS:
            raise ValueError(f"metric must be one of {', '.join(LINKING_METRICS)}, got {metric!r}")
        self.metric_name = metric
        super().__init__(name=name, executor=executor, **sandbox_options)

    def default_name(self) -> str:
        return "schema_linking" if self.metric_name == "jaccard" else f"schema_linking_{self.metric_name}"

    def _items(self, sql: str, db: str, engine: str, dialect: str) -> Any:
        from sqlrl.sql.linking import schema_items

        def compute() -> Any:
            schema = self.executor.schema(db, engine)
            if schema is None:
                return None
            try:
                return schema_items(sql, schema, dialect)
            except Exception:  # noqa: BLE001 - unparseable
                return None

        return self.executor.derived(("items", sql, db, engine, dialect), compute)

    def compute(self, batch: Batch) -> list[float | None]:
        out: list[float | None] = []
        for i, sql in enumerate(batch.sqls):
            gold_sql, db, engine = batch.gold(i), batch.db(i), batch.engine(i)
            if gold_sql is None or db is None:
                out.append(None)
                continue
            gold_dialect = batch.gold_dialect(i) or self.executor.sandbox_dialect(db, engine)
            gold = self._items(gold_sql, db, engine, gold_dialect)
            if gold is None:
                out.append(None)
                continue
            pred = None if sql is None else self._items(sql, db, engine, self.dialect_of(batch, i))
            if pred is None:
                out.append(0.0)
                continue
            out.append(_linking_score(self.metric_name, gold, pred))
        return out


schema_linking_reward = SchemaLinkingReward.factory()


# ------------------------------------------------------------------------------------------ n-gram


class NgramReward(SQLReward):
    """N-gram reward (Reasoning-SQL): multiset Jaccard of the token ``n``-grams of prediction and gold.

    Tokens come from sqlglot (case and whitespace do not matter, string literals do). 0.0 when no
    SQL was found; None for rows without a gold query.

    Args:
        n: the n-gram length (default 2).
        name: the name TRL logs (default ``ngram``).

    >>> ngram_reward()(completions=["select a from t", "SELECT b FROM t"], gold_sql="SELECT a FROM t")
    [1.0, 0.2]
    """

    kind = "ngram"
    required_columns = ("gold_sql",)
    uses_database = False

    def __init__(
        self, n: int = 2, *, name: str | None = None, executor: RewardExecutor | None = None, **sandbox_options: Any
    ) -> None:
        if not isinstance(n, int) or isinstance(n, bool) or n < 1:
            raise ValueError(f"n must be a positive integer, got {n!r}")
        self.n = n
        super().__init__(name=name, executor=executor, **sandbox_options)

    def compute(self, batch: Batch) -> list[float | None]:
        from sqlrl.sql.ngrams import ngram_similarity_many

        out: list[float | None] = [None] * len(batch)
        groups: dict[tuple[str, str], list[int]] = {}
        for i, sql in enumerate(batch.sqls):
            gold = batch.gold(i)
            if gold is None:
                continue
            if sql is None:
                out[i] = 0.0
                continue
            groups.setdefault((gold, self.dialect_of(batch, i)), []).append(i)
        for (gold, dialect), idx in groups.items():
            preds = [batch.sqls[i] or "" for i in idx]
            values = ngram_similarity_many(gold, preds, n=self.n, dialect=dialect, workers=self.executor.workers)
            for i, v in zip(idx, values, strict=True):
                out[i] = v
        return out


ngram_reward = NgramReward.factory()


# -------------------------------------------------------------------------------------- components


class ComponentsReward(SQLReward):
    """Spider component reward: the fraction of Spider's ten clause components (select, where, group,
    order, and/or, IUEN, keywords, ...) the prediction gets right, as ``evaluation.py`` scores them
    (values ignored unless ``keep_values``, foreign-key columns unified); ``exact=True`` gives Spider
    exact-set match (0/1) instead.

    0.0 when no SQL was found or the Spider parser cannot read it; None when it cannot read the gold.
    Queries in another dialect are translated to SQLite first.

    Args:
        exact: Spider exact-set match (0/1) instead of the fraction of components.
        keep_values: compare literal values too (Spider's ``evaluation.py`` ignores them).
        name: the name TRL logs (default ``components``, or ``exact_match`` with ``exact``).

    >>> import sqlite3, tempfile, os
    >>> db = os.path.join(tempfile.mkdtemp(), "t.sqlite")
    >>> con = sqlite3.connect(db); _ = con.execute("CREATE TABLE t(a INT, b INT)"); con.close()
    >>> components_reward()(completions=["SELECT a FROM t", "SELECT a FROM t ORDER BY b"],
    ...                     gold_sql="SELECT a FROM t ORDER BY b", db_path=db)
    [0.8, 1.0]
    """

    kind = "components"
    required_columns = ("gold_sql", "db_path")

    def __init__(
        self,
        *,
        exact: bool = False,
        keep_values: bool = False,
        name: str | None = None,
        executor: RewardExecutor | None = None,
        **sandbox_options: Any,
    ) -> None:
        self.exact, self.keep_values = bool(exact), bool(keep_values)
        super().__init__(name=name, executor=executor, **sandbox_options)

    def default_name(self) -> str:
        return "exact_match" if self.exact else "components"

    def compute(self, batch: Batch) -> list[float | None]:
        from sqlrl.sql.spider import evaluate

        out: list[float | None] = []
        for i, sql in enumerate(batch.sqls):
            gold_sql, db, engine = batch.gold(i), batch.db(i), batch.engine(i)
            schema = None if db is None else self._spider_schema(db, engine)
            if gold_sql is None or schema is None:
                out.append(None)
                continue
            native = self.executor.sandbox_dialect(db, engine)
            gold_text, _ = self.executor.translate(gold_sql, batch.gold_dialect(i) or native, "sqlite")
            if gold_text is None:
                out.append(None)
                continue
            pred_text = None if sql is None else self.executor.translate(sql, self.dialect_of(batch, i), "sqlite")[0]
            m = evaluate(gold_text, pred_text or "", schema, keep_values=self.keep_values)
            if m.gold_error is not None:
                out.append(None)
            elif pred_text is None or m.pred_error is not None:
                out.append(0.0)
            else:
                out.append(float(m.exact) if self.exact else m.match_fraction)
        return out

    def _spider_schema(self, db: str, engine: str) -> Any:
        def compute() -> Any:
            schema = self.executor.schema(db, engine)
            return None if schema is None else schema.to_spider()

        return self.executor.derived(("spider_schema", db, engine), compute)


components_reward = ComponentsReward.factory()
