"""SQLite's ``rowid`` read as a value on DuckDB from tokens, for plain SELECTs (:mod:`sqlrl.sql.plain_select`).

:func:`rowid_edits` makes :func:`~sqlrl.sql.sqlite_compat.rewrite_rowid`'s edits without a parse where the
text is plain and its FROM clauses name tables only; otherwise it answers
:data:`~sqlrl.sql.plain_select.UNREAD`, and the caller parses.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping

from sqlrl.sql.plain_select import NAME, UNREAD, Unread, apply_edits, read_from, read_selects, read_tokens

__all__ = ["UNREAD", "rowid_edits"]

_ROWID_NAMES = frozenset({"rowid", "oid", "_rowid_"})


def rowid_edits(sql: str, rowids: Mapping[str, str], schema: Mapping[str, Collection[str]]) -> str | None | object:
    """``sql`` with each rowid name read as :func:`~sqlrl.sql.sqlite_compat.rewrite_rowid` reads it (same
    arguments; its regex test for a rowid word comes first there), None when nothing changes,
    :data:`~sqlrl.sql.plain_select.UNREAD` when the text is not read here.

    >>> rowid_edits("SELECT max(rowid) FROM t WHERE x > 1", {"t": "+1"}, {"t": ["x"]})
    'SELECT max((rowid + 1)) FROM t WHERE x > 1'
    >>> rowid_edits("SELECT T1.rowid FROM t AS T1 JOIN u ON T1.x = u.x", {"t": "id"}, {"t": ["id", "x"]})
    'SELECT T1."id" FROM t AS T1 JOIN u ON T1.x = u.x'
    """
    from sqlrl.sql.sqlite_compat import rowid_replacement

    notes = {str(t).lower(): v for t, v in rowids.items()}
    columns = {str(t).lower(): {str(c).lower() for c in cols} for t, cols in schema.items()}
    edits: list[tuple[int, int, str]] = []
    try:
        for clauses in read_selects(read_tokens(sql)):
            tables, conditions = read_from(clauses.get("from", []))
            by_alias = dict(tables)
            parts = [tokens for part, tokens in clauses.items() if part != "from"] + conditions
            for tokens in parts:
                for j, (w, start, end) in enumerate(tokens):
                    if w not in _ROWID_NAMES:
                        continue
                    before = tokens[j - 1][0] if j else ""
                    after = tokens[j + 1][0] if j + 1 < len(tokens) else ""
                    if after in ("(", ".") or before == "as":
                        continue  # a function, a qualifier, an alias: no column
                    qualifier = None
                    if before == ".":
                        if j < 2 or NAME.fullmatch(tokens[j - 2][0]) is None or (j > 2 and tokens[j - 3][0] == "."):
                            raise Unread
                        qualifier = tokens[j - 2]
                        table = by_alias.get(qualifier[0])
                    else:
                        table = next(iter(by_alias.values())) if len(by_alias) == 1 else None
                    if table is None or w in columns.get(table, ()) or table not in notes:
                        continue
                    first = qualifier[1] if qualifier is not None else start
                    named = sql[first : qualifier[2]] if qualifier is not None else None
                    edits.append((first, end, rowid_replacement(sql[first:end], named, notes[table])))
    except Unread:
        return UNREAD
    return apply_edits(sql, edits) if edits else None
