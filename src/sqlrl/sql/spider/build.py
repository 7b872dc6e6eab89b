"""From a sqlglot tree to the Spider structure, resolving names against the schema.

The reading follows the grammar of the official ``process_sql.py``, including where it differs
from SQL, so that verdicts agree with ``evaluation.py`` (names resolve as :mod:`.names` says):

* ``A UNION B INTERSECT C`` chains to the right; ORDER BY/LIMIT after the last operand belong
  to it. ``AND``/``OR`` have no precedence: conditions and connectors are kept in text order.
* ORDER BY has one direction, the last one written. The LIMIT value is not kept.
* A condition whose value is a column (``T1.a = T2.b``) swallows the ``OR``-joined conditions
  that follow it up to the next ``AND``: the official parser reads the value up to an ``AND``,
  a comma, a parenthesis or a clause keyword and keeps only the column.
* A text that ends inside a clause is read as far as it goes (:func:`.dialect._open_end`):
  ``... WHERE`` has no WHERE, ``... ORDER BY`` an ORDER BY without items, and ``... AND`` keeps
  the connector after the last condition of ON, WHERE or HAVING.

Constructs outside that grammar raise :class:`SpiderParseError`; the official parser fails on
them too. Among them: column aliases, functions other than the five aggregates, literals or
subqueries in SELECT, ``IN (value list)``, ``IS [NOT] NULL``, ``EXISTS``, ``NOT`` in front of a
condition, parenthesised conditions, ``CASE``, ``CAST``, ``||``, joins other than plain
``JOIN ... [ON ...]`` (comma, ``INNER``, ``LEFT``, ``CROSS``, ``USING``), subqueries in JOIN or
with an alias, ``UNION ALL``, ``WITH``, ``t.*``, ordinals in ORDER/GROUP BY, tables without FROM.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property

from sqlglot import exp
from sqlglot.tokens import TokenType

from .dialect import Reading, read
from .names import Names
from .schema import STAR, Schema
from .structure import (
    AGGREGATES,
    ColUnit,
    Cond,
    Condition,
    OrderBy,
    SelectItem,
    SpiderSQL,
    TableUnit,
    Value,
    ValUnit,
)

_AGGS: dict[type, str] = {exp.Max: "max", exp.Min: "min", exp.Count: "count", exp.Sum: "sum", exp.Avg: "avg"}
_ARITH: dict[type, str] = {exp.Sub: "-", exp.Add: "+", exp.Mul: "*", exp.Div: "/"}
_COMPARE: dict[type, str] = {exp.EQ: "=", exp.GT: ">", exp.LT: "<", exp.GTE: ">=", exp.LTE: "<=", exp.NEQ: "!="}
_SET_OPS: dict[type, str] = {exp.Union: "union", exp.Intersect: "intersect", exp.Except: "except"}
_SELECT_ARGS = frozenset(
    {
        "expressions",
        "distinct",
        "from_",
        "from",
        "joins",
        "where",
        "group",
        "having",
        "order",
        "limit",
        "offset",
    }
)


def build(sql: str, schema: Schema) -> SpiderSQL:
    """The Spider structure of ``sql`` (raw: values, DISTINCT and columns as written).

    Raises:
        SpiderParseError: sqlglot cannot parse the SQL, a name is not in the schema, or the SQL
            uses a construct outside the Spider grammar.
    """
    reading = read(sql)
    return _Builder(sql, schema, reading).query(reading.tree)


class _Builder:
    def __init__(self, sql: str, schema: Schema, reading: Reading) -> None:
        self.sql = sql
        self.names = Names(sql, schema, reading.tokens)
        self.fail = self.names.fail
        self.depth = 0
        self.open_end = reading.open_end
        self.parsed = reading.parsed

    # -- queries ------------------------------------------------------------------------------

    def query(self, node: exp.Expr) -> SpiderSQL:
        node = self._unwrap(node)
        if isinstance(node, exp.SetOperation):
            return self._set_operation(node)
        if isinstance(node, exp.Select):
            return self._select(node, last=self.depth == 0)
        raise self.fail(f"{type(node).__name__} is not a SELECT")

    def nested(self, node: exp.Expr) -> SpiderSQL:
        self.depth += 1
        try:
            return self.query(node)
        finally:
            self.depth -= 1

    def _unwrap(self, node: exp.Expr) -> exp.Expr:
        while isinstance(node, exp.Subquery):
            if node.args.get("alias"):
                raise self.fail("a subquery with an alias is not read by the official parser")
            extra = [k for k, v in node.args.items() if k != "this" and v]
            if extra:
                raise self.fail(f"parenthesised query followed by {', '.join(extra)}")
            node = node.this
        return node

    def _set_operation(self, node: exp.SetOperation) -> SpiderSQL:
        operands: list[exp.Expr] = []
        ops: list[str] = []

        def flatten(n: exp.Expr, outer: bool) -> None:
            n = self._unwrap(n)
            if not isinstance(n, exp.SetOperation):
                operands.append(n)
                return
            if n.args.get("distinct") is False:
                raise self.fail(f"{_SET_OPS[type(n)].upper()} ALL is not read by the official parser")
            if not outer and (n.args.get("order") or n.args.get("limit") or n.args.get("offset")):
                raise self.fail("ORDER BY/LIMIT inside a set operation")
            flatten(n.left, False)
            ops.append(_SET_OPS[type(n)])
            flatten(n.right, False)

        flatten(node, True)
        tail_order, tail_limit = node.args.get("order"), node.args.get("limit")
        last = operands[-1]
        if (tail_order or tail_limit) and (last.args.get("order") or last.args.get("limit")):
            raise self.fail("ORDER BY/LIMIT both inside and after the last operand of a set operation")
        result = None
        for i in range(len(operands) - 1, -1, -1):
            operand = operands[i]
            if not isinstance(operand, exp.Select):
                raise self.fail(f"{type(operand).__name__} in a set operation")
            last = i == len(operands) - 1
            tail = (tail_order, tail_limit) if last else (None, None)
            built = self._select(operand, tail, last=last and self.depth == 0)
            if result is not None:
                key = "except_" if ops[i] == "except" else ops[i]
                built = _replace_set_op(built, key, result)
            result = built
        assert result is not None
        return result

    def _select(
        self, node: exp.Select, tail: tuple[exp.Expr | None, exp.Expr | None] = (None, None), *, last: bool = False
    ) -> SpiderSQL:
        """One SELECT; ``tail``: the ORDER BY/LIMIT after a set operation; ``last``: the last
        operand of the top-level query, which gets the clause the text leaves open at its end."""
        open_end = self.open_end if last else None
        for key in node.args.keys() - _SELECT_ARGS:
            if node.args[key]:
                raise self.fail(f"{key.rstrip('_').upper()} is not in the Spider grammar")
        distinct = node.args.get("distinct")
        if distinct is not None and distinct.args.get("on"):
            raise self.fail("DISTINCT ON is not in the Spider grammar")

        from_open = open_end.connector if open_end is not None and open_end.clause == "from" else ""
        tables, join_conds, scope = self._from(node, from_open)
        select = tuple(self._select_item(e, scope) for e in node.expressions)
        where = self._condition(node.args.get("where"), scope)
        group = node.args.get("group")
        group_by: tuple[ColUnit, ...] = ()
        if group is not None:
            if any(group.args.get(k) for k in ("grouping_sets", "cube", "rollup", "totals", "all")):
                raise self.fail("GROUP BY extensions are not in the Spider grammar")
            group_by = tuple(self._col_unit(e, scope) for e in group.expressions)
        having = self._condition(node.args.get("having"), scope)
        order_node = tail[0] or node.args.get("order")
        limit_node = tail[1] or node.args.get("limit")
        order_by, stopped = self._order(order_node, scope)
        if open_end is not None:
            if open_end.clause == "order":
                order_by = OrderBy("asc", ())
            elif open_end.clause == "where":
                where = self._open_connector(where, open_end.connector)
            elif open_end.clause == "having":
                having = self._open_connector(having, open_end.connector)
        return SpiderSQL(
            select=select,
            distinct=distinct is not None,
            tables=tables,
            join_conds=join_conds,
            where=where,
            group_by=group_by,
            having=having,
            order_by=order_by,
            limit=limit_node is not None and not stopped,
        )

    def _from(self, node: exp.Select, open_connector: str = "") -> tuple[tuple[TableUnit, ...], Condition, list[str]]:
        """Table units, ON conditions and scope; ``open_connector``: the text ends in it, after the
        FROM clause."""
        from_ = node.args.get("from_") or node.args.get("from")
        if from_ is None:
            raise self.fail("a SELECT without FROM is not read by the official parser")
        units: list[TableUnit] = []
        scope: list[str] = []
        conds: list[Cond] = []
        connectors: list[str] = []

        def add(source: exp.Expr, in_join: bool) -> None:
            if isinstance(source, exp.Table):
                if source.args.get("joins") or source.args.get("laterals"):
                    raise self.fail("nested joins are not in the Spider grammar")
                self.names.check_alias(source)
                name = self.names.table(source)
                units.append(name)
                scope.append(name)
            elif isinstance(source, exp.Subquery) and not in_join:
                units.append(self.nested(source))
            else:
                where = "JOIN" if in_join else "FROM"
                raise self.fail(f"{type(source).__name__} in {where} is not read by the official parser")

        add(from_.this, False)
        ends_in_on = False
        for join in node.args.get("joins") or ():
            bad = [k for k in ("side", "kind", "method", "using", "match_condition") if join.args.get(k)]
            if bad:
                words = " ".join(str(join.args[k]) for k in ("method", "side", "kind") if join.args.get(k))
                what = f"{words} JOIN" if words else "JOIN ... USING"
                if join.args.get("kind") == "CROSS" and self._comma_before(join.this):
                    what = "a comma join (FROM a, b)"
                raise self.fail(f"{what} is not read by the official parser (only plain JOIN ... ON)")
            add(join.this, True)
            on = join.args.get("on")
            if isinstance(on, exp.Boolean) and on.this is True and not self._explicit_on(join.this):
                on = None  # sqlglot's reading of a JOIN without ON
            ends_in_on = on is not None
            if on is not None:
                cond = self._condition(on, list(scope))
                if conds:
                    connectors.append("and")
                conds.extend(cond.conds)
                connectors.extend(cond.connectors)
        join_conds = Condition(tuple(conds), tuple(connectors))
        if open_connector:
            if not ends_in_on:
                raise self.fail(f"{open_connector.upper()} after a table is not read by the official parser")
            join_conds = self._open_connector(join_conds, open_connector)
        return tuple(units), join_conds, scope

    def _explicit_on(self, table: exp.Expr) -> bool:
        """Whether ON follows the table in the parsed text (sqlglot reads ``JOIN t`` as ``ON TRUE``)."""
        alias = table.args.get("alias")
        last = alias.this if isinstance(alias, exp.TableAlias) and alias.this is not None else table.this
        end = last.meta.get("end") if last is not None else None
        return end is None or self._next_token.get(end) is TokenType.ON

    @cached_property
    def _next_token(self) -> dict[int, TokenType]:
        """The type of the parsed token after each parsed token, by the end offset of the first."""
        return {a.end: b.token_type for a, b in zip(self.parsed, self.parsed[1:], strict=False)}

    def _comma_before(self, table: exp.Expr) -> bool:
        start = table.this.meta.get("start") if isinstance(table, exp.Table) else None
        if start is None:
            return False
        return self.sql[:start].rstrip().endswith(",")

    # -- expressions --------------------------------------------------------------------------

    def _select_item(self, e: exp.Expr, scope: list[str]) -> SelectItem:
        if isinstance(e, exp.Alias):
            raise self.fail(f"column alias {e.alias!r} is not read by the official parser")
        agg = _AGGS.get(type(e))
        if agg is not None:
            self._check_agg(e)
            inner = e.this
            if isinstance(inner, exp.Distinct) and len(inner.expressions) == 1 and type(inner.expressions[0]) in _ARITH:
                # avg(DISTINCT a - b): the official parser marks the first column DISTINCT
                unit = self._arith(inner.expressions[0], scope)
                return SelectItem(agg, ValUnit(unit.op, ColUnit(unit.left.agg, unit.left.column, True), unit.right))
            if isinstance(inner, exp.Distinct):
                return SelectItem(agg, ValUnit("", self._distinct_col(inner, scope)))
            if type(inner) in _ARITH:
                return SelectItem(agg, self._arith(inner, scope))
            return SelectItem(agg, ValUnit("", self._col_unit(inner, scope)))
        if type(e) in _ARITH:
            if type(_strip_paren(e.this)) in _AGGS:
                raise self.fail(
                    f"{e.sql()!r}: an aggregate left of an operator in SELECT is not read by the official parser"
                )
            return SelectItem("", self._arith(e, scope))
        if isinstance(e, exp.Paren):
            return SelectItem("", self._val_unit(e.this, scope))
        if isinstance(e, exp.Column | exp.Star):
            return SelectItem("", ValUnit("", self._col_unit(e, scope)))
        raise self.fail(f"{_describe(e)} in SELECT is not in the Spider grammar")

    def _check_agg(self, e: exp.Expr) -> None:
        if e.expressions or e.args.get("count") is not None and not isinstance(e, exp.Count):
            raise self.fail(f"{e.sql()!r}: aggregate with more than one argument")
        if e.this is None:
            raise self.fail(f"{e.sql()!r}: aggregate without argument")

    def _distinct_col(self, d: exp.Distinct, scope: list[str]) -> ColUnit:
        if len(d.expressions) != 1 or not isinstance(d.expressions[0], exp.Column | exp.Star):
            raise self.fail(f"{d.sql()!r}: DISTINCT takes one bare column in the Spider grammar")
        unit = self._col_unit(d.expressions[0], scope, inside_agg=True)
        return ColUnit(unit.agg, unit.column, True)

    def _arith(self, e: exp.Expr, scope: list[str]) -> ValUnit:
        left, right = _strip_paren(e.this), _strip_paren(e.expression)
        if type(left) in _ARITH or type(right) in _ARITH:
            raise self.fail(f"{e.sql()!r}: more than one arithmetic operator is not in the Spider grammar")
        return ValUnit(_ARITH[type(e)], self._col_unit(left, scope), self._col_unit(right, scope))

    def _val_unit(self, e: exp.Expr, scope: list[str]) -> ValUnit:
        e = _strip_paren(e)
        if type(e) in _ARITH:
            return self._arith(e, scope)
        return ValUnit("", self._col_unit(e, scope))

    def _col_unit(self, e: exp.Expr, scope: list[str], *, inside_agg: bool = False) -> ColUnit:
        e = _strip_paren(e)
        if isinstance(e, exp.Star):
            return ColUnit("", STAR)
        if isinstance(e, exp.Column):
            if not inside_agg and not e.table and e.name.lower() in AGGREGATES:
                raise self.fail(
                    f"a column named {e.name!r} must be qualified: the official parser reads it as an aggregate"
                )
            return ColUnit("", self.names.column(e, scope))
        agg = _AGGS.get(type(e))
        if agg is not None:
            self._check_agg(e)
            inner = e.this
            if isinstance(inner, exp.Distinct):
                unit = self._distinct_col(inner, scope)
            elif isinstance(inner, exp.Column | exp.Star):
                unit = self._col_unit(inner, scope, inside_agg=True)
            else:
                raise self.fail(f"{e.sql()!r}: an aggregate over an expression is not read by the official parser here")
            return ColUnit(agg, unit.column, unit.distinct)
        raise self.fail(f"{_describe(e)} where a column is expected is not in the Spider grammar")

    def _order(self, order: exp.Expr | None, scope: list[str]) -> tuple[OrderBy | None, bool]:
        """ORDER BY, and whether the official parser stops reading the query inside it."""
        if order is None:
            return None, False
        direction = "asc"
        items = []
        for ordered in order.expressions:
            if ordered.args.get("with_fill"):
                raise self.fail("WITH FILL is not in the Spider grammar")
            e = ordered.this
            if isinstance(_strip_paren(e), exp.Literal):
                raise self.fail(f"ORDER BY {e.sql()}: ordinals are not read by the official parser")
            if isinstance(e, exp.Predicate | exp.Connector):
                # `ORDER BY count(*) >= 5`: the official parser reads `count(*)` and ignores the
                # rest of the text (inside parentheses it fails).
                if self.depth:
                    raise self.fail(f"ORDER BY {e.sql()!r}: a condition in ORDER BY")
                while isinstance(e, exp.Predicate | exp.Connector) and e.this is not None:
                    e = e.this
                items.append(self._val_unit(e, scope))
                return OrderBy(direction, tuple(items)), True
            items.append(self._val_unit(e, scope))
            desc = ordered.args.get("desc")
            if desc is not None:
                direction = "desc" if desc else "asc"
        return OrderBy(direction, tuple(items)), False

    # -- conditions ---------------------------------------------------------------------------

    def _condition(self, clause: exp.Expr | None, scope: list[str]) -> Condition:
        if clause is None:
            return Condition()
        if isinstance(clause, exp.Where | exp.Having):
            clause = clause.this
        leaves: list[exp.Expr] = []
        connectors: list[str] = []

        def flatten(e: exp.Expr) -> None:
            if isinstance(e, exp.And | exp.Or):
                flatten(e.this)
                connectors.append("and" if isinstance(e, exp.And) else "or")
                flatten(e.expression)
            else:
                leaves.append(e)

        flatten(clause)
        conds = [self._cond(leaf, scope) for leaf in leaves]
        # A column value swallows the OR-joined conditions after it, up to the next AND.
        out_conds: list[Cond] = []
        out_conn: list[str] = []
        i = 0
        while i < len(conds):
            out_conds.append(conds[i])
            last_value = conds[i].value2 if conds[i].op == "between" else conds[i].value
            j = i + 1
            if isinstance(last_value, ColUnit):
                while j < len(conds) and connectors[j - 1] == "or":
                    self._check_swallowed(leaves[j])
                    j += 1
            if j < len(conds):
                out_conn.append(connectors[j - 1])
            i = j
        return Condition(tuple(out_conds), tuple(out_conn))

    def _open_connector(self, condition: Condition, connector: str) -> Condition:
        """The condition of a text that ends in ``connector``: the official parser keeps it after
        the last condition, unless it is an OR after a column value, which swallows it."""
        if not condition.conds:
            raise self.fail(f"{connector.upper()} without a condition before it")
        last = condition.conds[-1]
        if connector == "or" and isinstance(last.value2 if last.op == "between" else last.value, ColUnit):
            return condition
        return Condition(condition.conds, (*condition.connectors, connector))

    def _check_swallowed(self, leaf: exp.Expr) -> None:
        for node in leaf.walk():
            if isinstance(node, exp.Subquery | exp.Select | exp.Paren | exp.Func | exp.Tuple):
                raise self.fail(
                    "a column-valued condition followed by OR and a condition with parentheses: "
                    "the official parser misreads it"
                )

    def _cond(self, e: exp.Expr, scope: list[str]) -> Cond:
        negated = False
        if isinstance(e, exp.Not):
            if not isinstance(e.this, exp.In | exp.Between):
                raise self.fail(f"NOT before a condition ({e.sql()!r}) is not read by the official parser")
            negated = True
            e = e.this
        if isinstance(e, exp.Paren):
            raise self.fail(f"parenthesised condition {e.sql()!r} is not read by the official parser")
        op = _COMPARE.get(type(e))
        if op is not None:
            return Cond(negated, op, self._val_unit(e.this, scope), self._value(e.expression, scope))
        if isinstance(e, exp.Like):
            if e.args.get("escape"):
                raise self.fail("LIKE ... ESCAPE is not in the Spider grammar")
            return Cond(
                bool(e.args.get("negate")), "like", self._val_unit(e.this, scope), self._value(e.expression, scope)
            )
        if isinstance(e, exp.Escape):
            raise self.fail("LIKE ... ESCAPE is not in the Spider grammar")
        if isinstance(e, exp.In):
            query = e.args.get("query")
            if query is None:
                raise self.fail(f"IN with a value list ({e.sql()!r}) is not read by the official parser")
            return Cond(negated, "in", self._val_unit(e.this, scope), self.nested(query))
        if isinstance(e, exp.Between):
            low = self._value(e.args["low"], scope)
            high = self._value(e.args["high"], scope)
            return Cond(negated, "between", self._val_unit(e.this, scope), low, high)
        raise self.fail(f"{_describe(e)} as a condition is not read by the official parser")

    def _value(self, e: exp.Expr, scope: list[str]) -> Value:
        if isinstance(e, exp.Subquery):
            return self.nested(e)
        if isinstance(e, exp.Paren) and isinstance(e.this, exp.Literal | exp.Neg):
            e = e.this
        if isinstance(e, exp.Literal):
            if e.is_string:
                return e.this
            return self._number(e.this)
        if isinstance(e, exp.Neg) and isinstance(e.this, exp.Literal) and not e.this.is_string:
            return -self._number(e.this.this)
        if isinstance(e, exp.Column):
            return ColUnit("", self.names.column(e, scope))
        if type(e) in _ARITH and isinstance(e.this, exp.Column):
            # The official parser reads the value up to the next AND and keeps its first column.
            return ColUnit("", self.names.column(e.this, scope))
        raise self.fail(f"{_describe(e)} as a value is not read by the official parser")

    def _number(self, text: str) -> float:
        try:
            return float(text)
        except ValueError:
            raise self.fail(f"number {text!r} is not read by the official parser") from None


def _strip_paren(e: exp.Expr) -> exp.Expr:
    while isinstance(e, exp.Paren):
        e = e.this
    return e


def _describe(e: exp.Expr) -> str:
    text = e.sql(dialect="sqlite")
    text = text if len(text) <= 60 else text[:57] + "..."
    return f"{type(e).__name__} {text!r}"


def _replace_set_op(query: SpiderSQL, key: str, operand: SpiderSQL) -> SpiderSQL:
    return replace(query, **{key: operand})
