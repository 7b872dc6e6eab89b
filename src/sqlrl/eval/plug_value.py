"""Spider's ``--plug_value``: execute the prediction with the gold query's values plugged in.

test-suite-sql-eval (``exec_eval.eval_exec_match`` with ``parse.get_all_preds_for_execution``)
scores a prediction as correct when the prediction itself, or *any* way of filling its value slots
with values of the gold query, matches the gold on every database. This module reproduces how it
finds values and slots, quirks included:

- A query is lexed as sqlparse lexes it; whitespace tokens are dropped, the rest joined by single
  spaces (``;`` and tabs are removed from the text first, inside strings too).
- Values are string tokens (``'...'`` and ``"..."``; a double-quoted identifier is a value too), then
  whitespace-separated words that are floats (``[-+]?\\d*\\.\\d+``) or integers (``[^tT]\\d+``
  found anywhere in the text, so ``LIMIT 1`` is a slot and ``T1`` is not). Every occurrence of a
  string value's text is replaced, wherever it occurs.
- The prediction becomes its lower-cased words with slots; the gold's values form a set. The
  candidates are every assignment of gold values to the slots (``len(values) ** slots`` of them;
  none when the gold has no value and the prediction has a slot; one, the reformatted
  prediction, when it has no slot). Execution tries the prediction as written first, then the
  candidates, and stops at the first that passes on every database.

The lexer is a pure-Python emulation of sqlparse 0.6.1's (the official code imports sqlparse,
unpinned), checked against it on 51,927 Spider queries and mutations and 60,000 random strings.
Known gaps: an upper-case ``GO`` keyword, where sqlparse would end the
statement, is not treated specially; an empty prediction has no candidates (the official script
fails with an ``IndexError`` there).

>>> candidates("SELECT name FROM singer WHERE age > 30", "SELECT name FROM singer WHERE age > 1")
(1, ['select name from singer where age > 30'])
>>> extract_values("SELECT * FROM t WHERE a = 'x y' AND T1.b < 2.5 LIMIT 3")
(['select', '*', 'from', 't', 'where', 'a', '=', 'valuerare', 'and', 't1', '.', 'b', '<', 'valuerare', \
'limit', 'valuerare'], ["'x y'", '2.5', '3'])
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

__all__ = ["SLOT", "candidates", "extract_values", "lex"]

#: The slot marker of the official code (``VALUE_NUM_SYMBOL``), lower-cased as it ends up in the words.
SLOT = "valuerare"
_SLOT_UPPER = "VALUERARE"

_F = re.IGNORECASE | re.UNICODE
_L = "A-ZÀ-Ü"  # sqlparse's letter class, case-insensitive
# (pattern, is_string, is_whitespace), tried in order at each position, as sqlparse's SQL_REGEX.
_RULES = [
    (r"(--|# )\+.*?(\r\n|\r|\n|$)", False, False),
    (r"(--|# ).*?(\r\n|\r|\n|$)", False, False),
    (r"(\r\n|\r|\n)", False, False),  # newlines are not whitespace tokens: the official join keeps them
    (r"\s+?", False, True),
    (r":=", False, False),
    (r"::", False, False),
    (r"\*", False, False),
    (r"`(``|[^`])*`", False, False),
    (r"´(´´|[^´])*´", False, False),
    (r"\?", False, False),
    (r"%(\(\w+\))?s", False, False),
    (r"(?<!\w)[$:?]\w+", False, False),
    (r"\\\w+", False, False),
    (r"(CASE|IN|VALUES|USING|FROM|AS)\b", False, False),
    (rf"(@|##|#)[{_L}]\w+", False, False),
    (rf"[{_L}]\w*(?=\s*\.(?!\d))", False, False),
    (rf"(?<=\.)[{_L}]\w*", False, False),
    (rf"[{_L}]\w*(?=\()", False, False),
    (r"-?0x[\dA-F]+", False, False),
    (r"-?\d+(\.\d+)?E-?\d+", False, False),
    (rf"(?![_{_L}])-?(\d+(\.\d*)|\.\d+)(?![_{_L}])", False, False),
    (rf"(?![_{_L}])-?\d+(?![_{_L}])", False, False),
    (r"'(''|\\'|[^'])*'", True, False),
    (r'"(""|\\"|[^"])*"', True, False),
    (r'(""|".*?[^\\]")', True, False),
    (r"(?<![\w\])])(\[[^\]\[]+\])", False, False),
    # multi-word keywords: one token each, so that a following $ or # starts a new token
    (r"((LEFT\s+|RIGHT\s+|FULL\s+)?(INNER\s+|OUTER\s+|STRAIGHT\s+)?|(CROSS\s+|NATURAL\s+)?)?JOIN\b", False, False),
    (r"END(\s+IF|\s+LOOP|\s+WHILE|\s+FOR|\s+CASE)?\b", False, False),
    (r"IF\s+(NOT\s+)?EXISTS\b", False, False),
    (r"NOT\s+NULL\b", False, False),
    (r"(ASC|DESC)(\s+NULLS\s+(FIRST|LAST))?\b", False, False),
    (r"NULLS\s+(FIRST|LAST)\b", False, False),
    (r"(UNION\s+ALL|CREATE(\s+OR\s+REPLACE)?|DOUBLE\s+PRECISION|GROUP\s+BY|ORDER\s+BY|PRIMARY\s+KEY)\b", False, False),
    (r"(HANDLER\s+FOR|GO(\s\d+))\b", False, False),
    (r"LATERAL\s+VIEW\s+(EXPLODE|INLINE|PARSE_URL_TUPLE|POSEXPLODE|STACK)\b", False, False),
    (r"(AT|WITH')\s+TIME\s+ZONE\s+'[^']+'", False, False),  # a keyword token: its string is no value
    (r"(NOT\s+)?(LIKE|ILIKE|RLIKE)\b", False, False),
    (r"(NOT\s+)?(REGEXP)(\s+(BINARY))?\b", False, False),
    (r"\w[$#\w]*", False, False),
    (r"[;:()\[\],\.]", False, False),
    (r"(\->>?|#>>?|@>|<@|\?\|?|\?&|\-|#\-)", False, False),
    (r"[<>=~!]+", False, False),
    (r"[+/@#%^&|^-]+", False, False),
]
_COMPILED = [(re.compile(p, _F).match, s, w) for p, s, w in _RULES]
_DOLLAR = re.compile(rf"\$(?:[{_L}]\w*)?\$", _F)
_DOLLAR_OPENER_OK = re.compile(r'(?<![\w"$])', re.UNICODE)
_FLOAT = re.compile(r"[-+]?\d*\.\d+")
_INT = re.compile(r"[^tT]\d+")
_T_DOT_SPACE = re.compile(r"(T\d+\.)\s")
_T_DOT = re.compile(r"[Tt]\d+\.")


def _delimited(text: str, pos: int) -> int:
    """End of a ``/* */`` comment or ``$tag$`` literal opening at ``pos`` (closed), else -1."""
    if text.startswith("/*", pos):
        end = text.find("*/", pos + (3 if text.startswith("/*+", pos) else 2))
        return -1 if end < 0 else end + 2
    if text.startswith("$", pos):
        m = _DOLLAR.match(text, pos)
        if m and _DOLLAR_OPENER_OK.match(text, pos):
            end = text.find(m.group(), m.end())
            return -1 if end < 0 else end + len(m.group())
    return -1


def lex(text: str) -> list[tuple[str, str]]:
    """``(kind, text)`` tokens as sqlparse lexes ``text``; kind is ``string``, ``space`` or ``other``.

    >>> lex("a>=-1 AND b = 'x'")
    [('other', 'a'), ('other', '>='), ('other', '-1'), ('space', ' '), ('other', 'AND'), ('space', ' '), \
('other', 'b'), ('space', ' '), ('other', '='), ('space', ' '), ('string', "'x'")]
    """
    out: list[tuple[str, str]] = []
    pos, n = 0, len(text)
    while pos < n:
        end = _delimited(text, pos) if text[pos] in "/$" else -1
        if end >= 0:
            out.append(("other", text[pos:end]))
            pos = end
            continue
        for match, is_string, is_space in _COMPILED:
            m = match(text, pos)
            if m:
                out.append(("string" if is_string else "space" if is_space else "other", m.group()))
                pos = m.end()
                break
        else:
            out.append(("other", text[pos]))
            pos += 1
    return out


def _reformat(query: str) -> str:
    """``parse.reformat_query``: no ``;`` or tabs, tokens joined by one space, ``t1.*`` → ``*``."""
    query = query.strip().replace(";", "").replace("\t", "")
    query = " ".join(tok for kind, tok in lex(query) if kind != "space")
    for star in ("t1.*", "t2.*", "t3.*", "T1.*", "T2.*", "T3.*"):
        query = query.replace(star, "*")
    return query


def extract_values(query: str) -> tuple[list[str], list[str]]:
    """The lower-cased words of ``query`` with :data:`SLOT` for each value, and the values in order.

    This is ``parse.extract_query_values`` (whose second result is the *set* of these values).
    """
    sql = _T_DOT_SPACE.sub(r"\1", _reformat(query))
    if not sql:
        raise ValueError(f"no tokens in {query!r}")  # sqlparse.parse(...)[0] raises IndexError
    values: list[str] = []
    for kind, tok in lex(sql):
        if kind == "string":
            values.append(tok)
            sql = sql.replace(tok.strip(), _SLOT_UPPER)
    words = sql.split()
    floats = _FLOAT.findall(sql)
    values += [w for w in words if w in floats]
    words = [_SLOT_UPPER if w in floats else w for w in words]
    ints = [m.strip() for m in _INT.findall(" ".join(words))]
    values += [w for w in words if w in ints]
    words = [_SLOT_UPPER if w in ints else w for w in words]
    out: list[str] = []
    for w in words:
        if "." in w and _T_DOT.findall(w):
            out.extend(t.lower() for t in w.replace(".", " . ").split())
        else:
            out.append(w.lower())
    return out, values


def candidates(gold: str, pred: str) -> tuple[int, Iterator[str] | list[str]]:
    """``(count, candidates)``: the ways of plugging gold values into ``pred``'s slots.

    Gold values are deduplicated in order of appearance (the official code uses a set, whose order
    varies between runs; only the order of trying, never the verdict, depends on it). Returns an
    iterator for more than 64 candidates, else a list.
    """
    try:
        gold_values = list(dict.fromkeys(extract_values(gold)[1]))
        words, _ = extract_values(pred)
    except ValueError:
        return 0, []
    slots = [i for i, w in enumerate(words) if w == SLOT]
    count = len(gold_values) ** len(slots)

    def plug() -> Iterator[str]:
        for chosen in itertools.product(gold_values, repeat=len(slots)):
            filled = list(words)
            for i, v in zip(slots, chosen, strict=True):
                filled[i] = v
            yield " ".join(filled)

    return count, (list(plug()) if count <= 64 else plug())
