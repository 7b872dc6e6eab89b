"""Spider's hardness levels (easy / medium / hard / extra), computed on the raw structure.

The counts are those of ``evaluation.py``'s ``eval_hardness``, which the Spider README describes
only approximately:

* **component 1**: WHERE, GROUP BY, ORDER BY and LIMIT present (1 each), one per table unit
  beyond the first, one per ``OR`` and one per ``LIKE`` in ON/WHERE/HAVING (HAVING itself does
  not count);
* **component 2**: one per subquery used as a value in ON/WHERE/HAVING, and one per
  INTERSECT/UNION/EXCEPT operand of the top query (subqueries in FROM do not count);
* **others**: one each for more than one aggregate, more than one SELECT item, more than one
  WHERE condition and more than one GROUP BY column. The aggregate count follows the official
  code, which also counts every ``NOT`` condition in WHERE and every ``NOT`` condition and
  every ``AND``/``OR`` connector in HAVING as an aggregate; "more than one WHERE condition"
  counts conditions and connectors, so a text ending in ``WHERE a = 1 AND`` has two.

Then: easy if c1 <= 1, others == 0 and c2 == 0; medium if (others <= 2, c1 <= 1, c2 == 0) or
(c1 <= 2, others < 2, c2 == 0); hard if (others > 2, c1 <= 2, c2 == 0) or (2 < c1 <= 3,
others <= 2, c2 == 0) or (c1 <= 1, others == 0, c2 <= 1); extra otherwise.
"""

from __future__ import annotations

from .structure import SET_OPS, SpiderSQL

LEVELS = ("easy", "medium", "hard", "extra")


def counts(q: SpiderSQL) -> tuple[int, int, int]:
    """``(component1, component2, others)`` of a raw (not normalised) structure."""
    conds = q.join_conds.conds + q.where.conds + q.having.conds
    connectors = q.join_conds.connectors + q.where.connectors + q.having.connectors

    c1 = bool(q.where) + bool(q.group_by) + (q.order_by is not None) + q.limit
    c1 += max(len(q.tables) - 1, 0)
    c1 += connectors.count("or")
    c1 += sum(c.op == "like" for c in conds)

    c2 = sum(isinstance(c.value, SpiderSQL) + isinstance(c.value2, SpiderSQL) for c in conds)
    c2 += sum(q.set_op(op) is not None for op in SET_OPS)

    aggs = sum(bool(s.agg) for s in q.select)
    aggs += sum(c.negated for c in q.where.conds)
    aggs += sum(bool(c.agg) for c in q.group_by)
    if q.order_by is not None:
        aggs += sum(bool(v.left.agg) + (v.right is not None and bool(v.right.agg)) for v in q.order_by.items)
    aggs += len(q.having.connectors) + sum(c.negated for c in q.having.conds)
    where_items = len(q.where.conds) + len(q.where.connectors)
    others = (aggs > 1) + (len(q.select) > 1) + (where_items > 1) + (len(q.group_by) > 1)
    return c1, c2, others


def level(q: SpiderSQL) -> str:
    """The hardness level of a raw structure."""
    c1, c2, others = counts(q)
    if c1 <= 1 and others == 0 and c2 == 0:
        return "easy"
    if (others <= 2 and c1 <= 1 and c2 == 0) or (c1 <= 2 and others < 2 and c2 == 0):
        return "medium"
    if (
        (others > 2 and c1 <= 2 and c2 == 0)
        or (2 < c1 <= 3 and others <= 2 and c2 == 0)
        or (c1 <= 1 and others == 0 and c2 <= 1)
    ):
        return "hard"
    return "extra"
