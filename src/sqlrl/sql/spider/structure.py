"""The Spider structure of a query: what exact match compares.

The shapes follow the data model documented at the top of the official ``process_sql.py``
(select items, table units, condition units joined by ``and``/``or``, column units with an
aggregate and a DISTINCT flag, value units with one arithmetic operator), as immutable,
hashable dataclasses. Columns are ``"table.column"`` in lower case, or ``"*"``.

A condition value is ``None`` (values disabled), a ``float`` (numbers), a ``str`` (string
literals, without quotes), a :class:`ColUnit` (a column on the right-hand side) or a nested
:class:`SpiderSQL`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import zip_longest
from typing import Union

AGGREGATES = ("max", "min", "count", "sum", "avg")
"""Aggregates the Spider grammar knows; ``""`` means none."""

UNIT_OPS = ("-", "+", "*", "/")
"""Arithmetic between two column units; ``""`` means a single column unit."""

COND_OPS = ("between", "=", ">", "<", ">=", "<=", "!=", "in", "like")
"""Condition operators the official parser can read (it also lists ``is`` and ``exists`` but
cannot parse a query that uses them)."""

SET_OPS = ("intersect", "union", "except")


@dataclass(frozen=True, slots=True)
class ColUnit:
    """A column with an optional aggregate: ``count(DISTINCT T1.name)`` is
    ``ColUnit("count", "singer.name", True)``. ``distinct`` is ``None`` once disabled."""

    agg: str
    column: str
    distinct: bool | None = False

    def __str__(self) -> str:
        inner = ("DISTINCT " if self.distinct else "") + self.column
        return f"{self.agg}({inner})" if self.agg else inner


@dataclass(frozen=True, slots=True)
class ValUnit:
    """One column unit, or two joined by an arithmetic operator (``T1.a - T1.b``)."""

    op: str
    left: ColUnit
    right: ColUnit | None = None

    def __str__(self) -> str:
        return f"{self.left} {self.op} {self.right}" if self.op else str(self.left)


Value = Union[None, float, str, ColUnit, "SpiderSQL"]


@dataclass(frozen=True, slots=True)
class SelectItem:
    """A select expression: an aggregate over a value unit (``max(T1.age)``, ``T1.a - T1.b``)."""

    agg: str
    val_unit: ValUnit

    def __str__(self) -> str:
        return f"{self.agg}({self.val_unit})" if self.agg else str(self.val_unit)


@dataclass(frozen=True, slots=True)
class Cond:
    """A condition unit: ``[NOT] val_unit op value [AND value2]``."""

    negated: bool
    op: str
    val_unit: ValUnit
    value: Value = None
    value2: Value = None

    def __str__(self) -> str:
        def show(v: Value) -> str:
            if isinstance(v, SpiderSQL):
                return "(subquery)"
            return "value" if v is None else repr(v) if isinstance(v, str | float) else str(v)

        text = f"{self.val_unit} {'NOT ' if self.negated else ''}{self.op.upper()} {show(self.value)}"
        return text + (f" AND {show(self.value2)}" if self.op == "between" else "")


@dataclass(frozen=True, slots=True)
class Condition:
    """Condition units in text order and the ``"and"``/``"or"`` between them (no precedence,
    no parentheses: the official grammar has neither). A text that ends in ``AND``/``OR`` leaves
    one connector after the last unit, as the official parser keeps it."""

    conds: tuple[Cond, ...] = ()
    connectors: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.conds)

    def __str__(self) -> str:
        parts = [str(self.conds[0])] if self.conds else []
        for conn, cond in zip_longest(self.connectors, self.conds[1:]):
            parts += [conn.upper()] if cond is None else [conn.upper(), str(cond)]
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class OrderBy:
    """ORDER BY items with one direction for the whole clause: the last explicit ``ASC``/``DESC``
    (``"asc"`` when none is written), as the official parser reads it. A text that ends in
    ``ORDER BY`` has no items."""

    direction: str
    items: tuple[ValUnit, ...]


TableUnit = Union[str, "SpiderSQL"]
"""A table name (lower case) or a subquery in FROM."""


@dataclass(frozen=True, slots=True)
class SpiderSQL:
    """One SELECT with its clauses; a set operation hangs off its left operand.

    ``A UNION B EXCEPT C`` is ``A`` with ``union = B`` and ``B.except_ = C`` (right-nested, as
    the official parser builds it); an ORDER BY/LIMIT after the last operand belongs to that
    operand.
    """

    select: tuple[SelectItem, ...] = ()
    distinct: bool | None = False
    tables: tuple[TableUnit, ...] = ()
    join_conds: Condition = field(default_factory=Condition)
    where: Condition = field(default_factory=Condition)
    group_by: tuple[ColUnit, ...] = ()
    having: Condition = field(default_factory=Condition)
    order_by: OrderBy | None = None
    limit: bool = False
    intersect: SpiderSQL | None = None
    union: SpiderSQL | None = None
    except_: SpiderSQL | None = None

    def set_op(self, name: str) -> SpiderSQL | None:
        """The ``"intersect"``, ``"union"`` or ``"except"`` operand."""
        return self.except_ if name == "except" else getattr(self, name)

    def __str__(self) -> str:
        out = "SELECT " + ("DISTINCT " if self.distinct else "") + ", ".join(map(str, self.select))
        out += " FROM " + ", ".join(t if isinstance(t, str) else f"({t})" for t in self.tables)
        if self.join_conds:
            out += f" ON {self.join_conds}"
        if self.where:
            out += f" WHERE {self.where}"
        if self.group_by:
            out += " GROUP BY " + ", ".join(map(str, self.group_by))
        if self.having:
            out += f" HAVING {self.having}"
        if self.order_by:
            items = ", ".join(map(str, self.order_by.items))
            out += f" ORDER BY {items + ' ' if items else ''}{self.order_by.direction.upper()}"
        if self.limit:
            out += " LIMIT value"
        for op in SET_OPS:
            sub = self.set_op(op)
            if sub is not None:
                out += f" {op.upper()} {sub}"
        return out


EMPTY = SpiderSQL()
"""The structure the official evaluator scores a prediction as when it cannot parse it."""
