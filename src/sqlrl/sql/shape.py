"""The shape of a query: its literal-blind skeleton and its size in syntax-tree nodes.

The empty-gold guard of the rewards compares skeletons (:func:`skeleton`); the verbal loop prefers
smaller queries (:func:`tree_size`). sqlglot is imported inside the functions, so importing this
module costs nothing.
"""

from __future__ import annotations

__all__ = ["skeleton", "tree_size"]


def skeleton(sql: str, dialect: str) -> str:
    """The query with identifiers lower-cased and every literal replaced by ``?``.

    Raises:
        SqlParseError: the text is not one valid statement in ``dialect``.

    >>> skeleton("SELECT Name FROM t WHERE age > 30 AND kind = 'x'", "sqlite")
    'SELECT name FROM t WHERE age > ? AND kind = ?'
    """
    from sqlglot import exp

    from sqlrl.sql.dialects import parse_one

    def blank(node: exp.Expression) -> exp.Expression:
        return exp.Placeholder() if isinstance(node, (exp.Literal, exp.Boolean)) else node

    return parse_one(sql, dialect).transform(blank).sql(dialect=dialect, normalize=True)


def tree_size(sql: str, dialect: str = "sqlite") -> int | None:
    """The number of nodes in the query's syntax tree, or None when it cannot be parsed.

    Any failure counts as "cannot be parsed" (sqlglot raises several kinds, and an unknown
    ``dialect`` is one of them).

    >>> tree_size("SELECT a FROM t") < tree_size("SELECT DISTINCT a FROM t WHERE b = 1")
    True
    >>> tree_size("SELEC nonsense (") is None
    True
    """
    import sqlglot

    from sqlrl.sql.dialects import reader

    try:
        tree = sqlglot.parse_one(sql, read=reader(dialect))
        return sum(1 for _ in tree.walk())
    except Exception:  # noqa: BLE001 - sqlglot raises several kinds; any failure means "no tree"
        return None
