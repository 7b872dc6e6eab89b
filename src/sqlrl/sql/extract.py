"""Find the SQL in a model's output.

Order of preference, applied to the text after the last ``</think>`` (an unclosed ``<think>``
hides everything after it):

1. the last ``<answer>...</answer>`` block (an unclosed ``<answer>`` runs to the end); inside
   it, a fenced block wins over its bare text;
2. the last fenced block tagged ``sql`` (an unclosed fence runs to the end), else the last
   untagged fenced block that starts like a query;
3. bare SQL: the last statement that starts with ``SELECT`` or ``WITH`` at the start of a line,
   up to a ``;`` or a blank line.

A result with ``sql=None`` says why nothing was found.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["Extraction", "clean_sql", "extract_sql"]

_THINK_CLOSE = re.compile(r"</think\s*>", re.I)
_THINK_OPEN = re.compile(r"<think\s*>", re.I)
_ANSWER = re.compile(r"<answer\s*>(.*?)(?:</answer\s*>|\Z)", re.I | re.S)
_FENCE_OPEN = re.compile(r"```[ \t]*([A-Za-z0-9_+-]*)[^\n]*\n")
_TRAILING = re.compile(r"[\s;]*")
_BARE_START = re.compile(r"(?im)^[ \t]*(?:SELECT|WITH)\b")
_QUERY_START = re.compile(r"\s*(?:\(\s*)*(?:SELECT|WITH|VALUES)\b", re.I)
_BLANK_LINE = re.compile(r"\n[ \t]*\n")


@dataclass(frozen=True)
class Extraction:
    """What :func:`extract_sql` found.

    Attributes:
        sql: the query text without surrounding whitespace or a trailing ``;``, or None.
        source: ``answer``, ``fence``, ``bare`` or ``none``.
        reason: why nothing was found (empty when ``sql`` is set).
    """

    sql: str | None
    source: str
    reason: str = ""

    @property
    def ok(self) -> bool:
        return self.sql is not None


def clean_sql(sql: str) -> str:
    """``sql`` without surrounding whitespace and trailing semicolons: the form :func:`extract_sql` returns, and
    the one gold queries are run in, so that a completion equal to its gold reuses the gold's run.

    >>> clean_sql("  SELECT 1 ;  ")
    'SELECT 1'
    """
    sql = sql.strip()
    return sql[: len(sql) - _TRAILING.match(sql[::-1]).end()]  # reversed: one pass over the trailing run


def _fences(text: str) -> list[tuple[str, str]]:
    """The ``(tag, body)`` of every fenced block, in order, in time linear in ``len(text)``.

    A block opens with three backticks and the rest of their line (its tag is the word right
    after the backticks); its body runs from the next line up to the next three backticks, or to
    the end of the text when the fence is unclosed. Openers are searched only up to the last line
    break: three backticks after it cannot open a block, and a single pattern for the whole block
    would rescan the rest of the text at each of them (quadratic on long one-line fences).
    """
    blocks = []
    end = text.rfind("\n") + 1
    pos = 0
    while True:
        opened = _FENCE_OPEN.search(text, pos, end)
        if opened is None:
            break
        body = opened.end()
        close = text.find("```", body)
        if close < 0:
            blocks.append((opened.group(1), text[body:]))
            break
        blocks.append((opened.group(1), text[body:close]))
        pos = close + 3
    return blocks


def _from_fences(text: str) -> str | None:
    blocks = _fences(text)
    tagged = [body for tag, body in blocks if tag.lower() == "sql"]
    for body in reversed(tagged):
        if body.strip():
            return clean_sql(body)
    for tag, body in reversed(blocks):
        if not tag and _QUERY_START.match(body):
            return clean_sql(body)
    return None


def _bare(text: str) -> str | None:
    starts = list(_BARE_START.finditer(text))
    if not starts:
        return None
    tail = text[starts[-1].start() :]
    end = len(tail)
    semi = tail.find(";")
    if semi >= 0:
        end = semi
    blank = _BLANK_LINE.search(tail, 0, end)
    if blank:
        end = blank.start()
    sql = clean_sql(tail[:end])
    return sql or None


def extract_sql(text: str) -> Extraction:
    """Extract the SQL query from a model completion.

    >>> extract_sql("<think>try t1</think> Final:\\n```sql\\nSELECT name FROM t;\\n```").sql
    'SELECT name FROM t'
    >>> extract_sql("<answer>SELECT 1</answer>").source
    'answer'
    >>> extract_sql("I cannot answer that.").reason
    'no SQL found: no <answer> block, no fenced block and no line starting with SELECT or WITH'
    """
    if not isinstance(text, str):
        return Extraction(None, "none", f"completion is {type(text).__name__}, not text")
    closes = list(_THINK_CLOSE.finditer(text))
    if closes:
        text = text[closes[-1].end() :]
    else:
        opened = _THINK_OPEN.search(text)
        if opened:
            text = text[: opened.start()]
            if not text.strip():
                return Extraction(None, "none", "the completion ends inside an unclosed <think> block")
    answers = _ANSWER.findall(text)
    if answers:
        body = answers[-1]
        sql = _from_fences(body) or clean_sql(body)
        if sql:
            return Extraction(sql, "answer")
    sql = _from_fences(text)
    if sql:
        return Extraction(sql, "fence")
    sql = _bare(text)
    if sql:
        return Extraction(sql, "bare")
    return Extraction(
        None, "none", "no SQL found: no <answer> block, no fenced block and no line starting with SELECT or WITH"
    )
