"""Small semantic mutations of a query, and the literals it holds (for test-suite distillation).

:func:`mutations` lists near-misses of a gold query, the kind of wrong query a model writes: a
condition dropped or its operator changed, MAX for MIN, SUM for AVG, DISTINCT added or removed,
the ORDER direction flipped, LIMIT changed or dropped, an INNER JOIN made LEFT, a number literal
moved by one, UNION for UNION ALL, INTERSECT for EXCEPT. Each is an ordinary query in the gold's dialect
(``dialect``: SQLite's by default, DuckDB's for a DuckDB suite); many
give the gold's result on a given database by luck, and a test suite is distilled to tell them apart
(:mod:`sqlrl.suite`). The list is deterministic: the same text gives the same mutations, in order.
"""

from __future__ import annotations

from typing import Any

from sqlrl.sql.dialects import parse_one

__all__ = ["MUTATION_KINDS", "literals", "mutations", "order_probe", "scalar_probes", "tie_probes"]

#: The kinds of mutation :func:`mutations` makes, in the order it tries them.
MUTATION_KINDS: tuple[str, ...] = (
    "drop_where", "drop_condition", "change_operator", "change_aggregate", "count_distinct", "distinct",
    "order_direction", "drop_order", "drop_limit", "change_limit", "left_join", "change_literal",
    "drop_having", "set_operation",
)  # fmt: skip


def _ops() -> dict[type, list[type]]:
    from sqlglot import exp

    return {
        exp.EQ: [exp.NEQ], exp.NEQ: [exp.EQ], exp.GT: [exp.GTE, exp.LT], exp.GTE: [exp.GT, exp.LTE],
        exp.LT: [exp.LTE, exp.GT], exp.LTE: [exp.LT, exp.GTE],
    }  # fmt: skip


def _aggs() -> dict[type, list[type]]:
    from sqlglot import exp

    return {exp.Max: [exp.Min], exp.Min: [exp.Max], exp.Sum: [exp.Avg], exp.Avg: [exp.Sum]}


def _sites(tree: Any, kind: str) -> list[int]:
    """Indexes (in ``tree.walk()`` order) of the nodes where ``kind`` applies."""
    from sqlglot import exp

    out = []
    for i, node in enumerate(tree.walk()):
        parent = node.parent
        if kind == "drop_where" and isinstance(node, exp.Where):
            out.append(i)
        elif kind == "drop_condition" and isinstance(parent, (exp.And, exp.Or)) and isinstance(node, exp.Condition):
            out.append(i)
        elif kind == "change_operator" and type(node) in _ops():
            out.append(i)
        elif kind == "change_aggregate" and type(node) in _aggs():
            out.append(i)
        elif kind == "count_distinct" and isinstance(node, exp.Count) and not isinstance(node.this, exp.Star):
            out.append(i)
        elif kind == "distinct" and isinstance(node, exp.Select):
            out.append(i)
        elif kind == "order_direction" and isinstance(node, exp.Ordered):
            out.append(i)
        elif kind == "drop_order" and isinstance(node, exp.Order):
            out.append(i)
        elif kind in ("drop_limit", "change_limit") and isinstance(node, exp.Limit):
            out.append(i)
        elif kind == "left_join" and isinstance(node, exp.Join) and not node.side and node.args.get("on"):
            out.append(i)
        elif kind == "change_literal" and isinstance(node, exp.Literal) and not node.is_string:
            if not isinstance(parent, (exp.Limit, exp.Offset, exp.Ordered, exp.Order, exp.Group)):
                out.append(i)
        elif kind == "drop_having" and isinstance(node, exp.Having):
            out.append(i)
        elif kind == "set_operation" and isinstance(node, (exp.Union, exp.Intersect, exp.Except)):
            out.append(i)
    return out


def _apply(node: Any, kind: str) -> list[Any]:
    """The replacements of ``node`` for ``kind`` (None: remove it); an empty list: none."""
    from sqlglot import exp

    if kind in ("drop_where", "drop_order", "drop_limit", "drop_having"):
        return [None]
    if kind == "drop_condition":
        parent = node.parent
        other = parent.expression if node is parent.this else parent.this
        return [("replace_parent", other)]
    if kind == "change_operator":
        return [cls(this=node.this.copy(), expression=node.expression.copy()) for cls in _ops()[type(node)]]
    if kind == "change_aggregate":
        return [cls(this=node.this.copy()) for cls in _aggs()[type(node)]]
    if kind == "count_distinct":
        if isinstance(node.this, exp.Distinct):
            return [exp.Count(this=node.this.expressions[0].copy())] if len(node.this.expressions) == 1 else []
        return [exp.Count(this=exp.Distinct(expressions=[node.this.copy()]))]
    if kind == "distinct":
        new = node.copy()
        new.set("distinct", None if node.args.get("distinct") else exp.Distinct())
        return [new]
    if kind == "order_direction":
        new = node.copy()
        new.set("desc", not node.args.get("desc"))
        new.set("nulls_first", bool(node.args.get("desc")))  # SQLite's default: NULLs are the smallest
        return [new]
    if kind == "change_limit":
        value = node.expression
        if not (isinstance(value, exp.Literal) and value.this.isdigit()):
            return []
        n = int(value.this)
        return [exp.Limit(expression=exp.Literal.number(m)) for m in (n + 1, n - 1) if m >= 1]
    if kind == "left_join":
        new = node.copy()
        new.set("side", "LEFT")
        new.set("kind", None)
        return [new]
    if kind == "change_literal":
        text = node.this
        try:
            value: int | float = int(text)
        except ValueError:
            try:
                value = float(text)
            except ValueError:
                return []
        return [exp.Literal.number(value + 1), exp.Literal.number(value - 1)]
    if kind == "set_operation":
        out = []
        if isinstance(node, exp.Union):
            new = node.copy()
            new.set("distinct", not node.args.get("distinct"))
            out.append(new)
        else:
            other = exp.Except if isinstance(node, exp.Intersect) else exp.Intersect
            new = other(this=node.this.copy(), expression=node.expression.copy(), distinct=True)
            for key in ("order", "limit", "offset"):
                if node.args.get(key) is not None:
                    new.set(key, node.args[key].copy())
            out.append(new)
        return out
    return []


def mutations(sql: str, kinds: tuple[str, ...] | None = None, dialect: str = "sqlite") -> list[tuple[str, str]]:
    """Every mutation of ``sql`` (SQLite, or ``dialect``) as ``(kind, text)``: distinct texts, none equal to the
    query's own.

    Raises:
        SqlParseError: ``sql`` is not one SQLite statement.
        ValueError: an unknown kind.

    >>> [m for _, m in mutations("SELECT max(a) FROM t WHERE b > 1")]  # doctest: +NORMALIZE_WHITESPACE
    ['SELECT MAX(a) FROM t', 'SELECT MAX(a) FROM t WHERE b >= 1', 'SELECT MAX(a) FROM t WHERE b < 1',
     'SELECT MIN(a) FROM t WHERE b > 1', 'SELECT DISTINCT MAX(a) FROM t WHERE b > 1',
     'SELECT MAX(a) FROM t WHERE b > 2', 'SELECT MAX(a) FROM t WHERE b > 0']
    """
    kinds = MUTATION_KINDS if kinds is None else kinds
    for kind in kinds:
        if kind not in MUTATION_KINDS:
            raise ValueError(f"unknown mutation kind {kind!r}; kinds: {', '.join(MUTATION_KINDS)}")
    tree = parse_one(sql, dialect)
    seen = {tree.sql(dialect=dialect)}
    out: list[tuple[str, str]] = []
    for kind in kinds:
        for index in _sites(tree, kind):
            node = next(n for i, n in enumerate(tree.walk()) if i == index)
            for replacement in _apply(node, kind):
                copy = tree.copy()
                target = next(n for i, n in enumerate(copy.walk()) if i == index)
                if isinstance(replacement, tuple):  # drop_condition: the and/or becomes the other side
                    target.parent.replace(next(n for n in target.parent.iter_expressions() if n is not target).copy())
                elif replacement is None:
                    target.pop()
                elif target is copy:
                    copy = replacement
                else:
                    target.replace(replacement)
                try:
                    text = copy.sql(dialect=dialect)
                except Exception:  # noqa: BLE001, S112 - a mutation sqlglot cannot write is skipped
                    continue
                if text not in seen:
                    seen.add(text)
                    out.append((kind, text))
    return out


def literals(sql: str, dialect: str = "sqlite") -> list[str | int | float]:
    """The string and number literals of ``sql`` (SQLite), without repeats, in the order of ``tree.walk()``.

    Raises:
        SqlParseError: ``sql`` is not one SQLite statement.

    >>> sorted(literals("SELECT a FROM t WHERE b = 'x' AND c > 2.5 LIMIT 3"), key=str)
    [2.5, 3, 'x']
    """
    from sqlglot import exp

    out: list[str | int | float] = []
    for node in parse_one(sql, dialect).find_all(exp.Literal):
        value: str | int | float = node.this
        if not node.is_string:
            try:
                value = int(node.this)
            except ValueError:
                try:
                    value = float(node.this)
                except ValueError:
                    continue
        if value not in out:
            out.append(value)
    return out


def order_probe(sql: str, dialect: str = "sqlite") -> tuple[str, int] | None:
    """A query that shows whether ``sql``'s ORDER BY is ambiguous on a database: ``(probe, n)`` where the
    probe selects ``sql``'s ``n`` columns, then its sort keys, in its order, with LIMIT one higher. Two
    adjacent probe rows with equal keys and different columns mean the result depends on how the
    engine breaks ties. None when ``sql`` is no plain SELECT with ORDER BY (or has DISTINCT).

    Raises:
        SqlParseError: ``sql`` is not one SQLite statement.

    >>> order_probe("SELECT name AS n FROM t ORDER BY n DESC LIMIT 1")
    ('SELECT name AS n, name AS sqlrl_k0 FROM t ORDER BY n DESC LIMIT 2', 1)
    """
    from sqlglot import exp

    tree = parse_one(sql, dialect)
    order = tree.args.get("order") if isinstance(tree, exp.Select) else None
    if order is None or tree.args.get("distinct") or any(isinstance(e, exp.Star) for e in tree.expressions):
        return None
    aliases = {e.alias: e.this for e in tree.expressions if isinstance(e, exp.Alias)}
    keys = []
    for ordered in order.expressions:
        key = ordered.this
        if isinstance(key, exp.Column) and not key.table and key.name in aliases:
            key = aliases[key.name]
        elif isinstance(key, exp.Literal) and not key.is_string and key.this.isdigit():
            position = int(key.this)
            if not 1 <= position <= len(tree.expressions):
                return None
            key = tree.expressions[position - 1]
            key = key.this if isinstance(key, exp.Alias) else key
        keys.append(key.copy())
    probe = tree.copy()
    n = len(probe.expressions)
    probe.set("expressions", [*probe.expressions, *(exp.alias_(k, f"sqlrl_k{i}") for i, k in enumerate(keys))])
    limit = probe.args.get("limit")
    if limit is not None:
        value = limit.expression
        if not (isinstance(value, exp.Literal) and value.this.isdigit()):
            return None
        probe.set("limit", exp.Limit(expression=exp.Literal.number(int(value.this) + 1)))
    return probe.sql(dialect=dialect), n


def scalar_probes(sql: str, dialect: str = "sqlite") -> list[str]:
    """Queries that show whether a scalar subquery of ``sql`` is ambiguous on a database: one per uncorrelated
    subquery compared with ``=``, ``<`` ... or selected as a value, ``SELECT DISTINCT * FROM (<subquery>)
    LIMIT 2``. SQLite takes the first row of a scalar subquery that returns several, so where a probe
    returns two rows the engine's row order decides ``sql``'s result (``x = (SELECT name ... WHERE
    population = (SELECT max(population) ...))`` when two states tie for the largest). A correlated
    subquery's probe fails to run, and shows nothing.

    Raises:
        SqlParseError: ``sql`` is not one SQLite statement.

    >>> scalar_probes("SELECT a FROM t WHERE b = (SELECT b FROM u WHERE c = (SELECT max(c) FROM u))")
    ['SELECT DISTINCT * FROM (SELECT b FROM u WHERE c = (SELECT MAX(c) FROM u)) LIMIT 2', \
'SELECT DISTINCT * FROM (SELECT MAX(c) FROM u) LIMIT 2']
    """
    from sqlglot import exp

    comparisons = (exp.EQ, exp.NEQ, exp.GT, exp.GTE, exp.LT, exp.LTE)
    probes = []
    for sub in parse_one(sql, dialect).find_all(exp.Subquery):
        parent = sub.parent
        if isinstance(parent, exp.Paren):
            parent = parent.parent
        if not (isinstance(parent, comparisons) or (isinstance(parent, exp.Select) and sub in parent.expressions)):
            continue
        body = sub.this.copy()
        probe = exp.select("*").distinct().from_(exp.Subquery(this=body)).limit(2)
        text = probe.sql(dialect=dialect)
        if text not in probes:
            probes.append(text)
    return probes


def tie_probes(sql: str, dialect: str = "sqlite") -> list[tuple[str, int | None]]:
    """Every probe of ``sql`` whose result shows that the engine breaks a tie it depends on:
    :func:`order_probe`'s ``(probe, n)`` (ties under ORDER BY) and :func:`scalar_probes`' ``(probe, None)``
    (a scalar subquery with several rows: tied when the probe returns two)."""
    found: list[tuple[str, int | None]] = []
    ordered = order_probe(sql, dialect)
    if ordered is not None:
        found.append(ordered)
    found += [(probe, None) for probe in scalar_probes(sql, dialect)]
    return found
