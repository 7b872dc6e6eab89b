"""Fill the templates from the databases, verify every query, and split train/dev by composition.

**Filling.** Each template's signatures (over the three databases) are shuffled with a seed
derived from the template id, and the first ``cap`` that yield an acceptable draft are kept.
A signature gets its own seeded RNG; up to :data:`ATTEMPTS` drafts are drawn from it and the
first one is kept whose ``check`` holds and whose result is not degenerate (no rows, only
NULLs, or a single 0); if every draft passing the check is degenerate, the first of them is
kept (and counted); if none passes the check the signature is skipped.

**Compositional hold-out.** A signature is a set of *atoms*: the template id and each of its
slots (``table=books``, ``num=books.pages``, ``agg=avg``, ``cat=books.genre``, ``rel=...``).
Per template, a seeded :data:`DEV_FRACTION` of its signatures goes to dev, greedily, and a
signature may only move to dev while every one of its atoms stays in some train signature.
So no dev (template, signature) pair occurs in train -- dev asks for *combinations* never
seen in training (e.g. ``avg`` of ``books.price`` filtered on ``books.genre``) -- but every
building block of a dev question (the template, the aggregate, the column, the condition
column) is seen in train.

**I.i.d. hold-out.** Dev measures composition; ``iid`` measures learning. For a seeded
:data:`IID_FRACTION` of the train compositions, :func:`iid_examples` draws one *new* question of the
same composition: other literal values (and whatever phrasing the draft picks), checked and kept by
the rule of the benchmark. A draft is new when neither its question nor its query occurs in train
or dev; for compositions without literal values (``SELECT count(*) FROM books``) only the phrasing
can change, so a new question with a seen query is accepted there. Training augmentation never
produces an ``iid`` question or query.
"""

from __future__ import annotations

import random
import sqlite3
import zlib
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from sqlrl.data.toy.domains import Domain
from sqlrl.data.toy.templates import TEMPLATES, Draft, Signature, Template
from sqlrl.data.toy.values import Values

__all__ = [
    "ATTEMPTS",
    "DEV_FRACTION",
    "IID_FRACTION",
    "ToyExample",
    "assign_splits",
    "composition",
    "generate_examples",
    "iid_examples",
]

#: Drafts tried per signature before giving up on a non-empty result.
ATTEMPTS = 8
#: Share of each template's signatures held out for dev.
DEV_FRACTION = 0.3
#: Share of the train compositions that get an i.i.d. held-out question.
IID_FRACTION = 1.0


@dataclass(frozen=True)
class ToyExample:
    """One generated question with its gold query and where it came from."""

    db_id: str
    question: str
    query: str
    hardness: str
    template: str
    signature: Signature
    rows: int
    degenerate: bool
    split: str = ""

    @property
    def atoms(self) -> frozenset[str]:
        return frozenset([f"template={self.template}", *(f"{k}={v}" for k, v in self.signature)])


def composition(template: str, signature: Signature) -> str:
    """The composition key written to the JSON files: ``"agg_where|table=books|num=books.pages|..."``."""
    return "|".join([template, *(f"{k}={v}" for k, v in signature)])


def _seed(*parts: object) -> random.Random:
    return random.Random(zlib.crc32("|".join(map(str, parts)).encode()))


def _degenerate(rows: list[tuple]) -> bool:
    if not rows:
        return True
    if all(all(c is None for c in r) for r in rows):
        return True
    return len(rows) == 1 and len(rows[0]) == 1 and rows[0][0] == 0


def _fill(template: Template, domain: Domain, sig: Signature, maker, con: sqlite3.Connection,
          values: Values) -> tuple[Draft, list[tuple]] | None:  # fmt: skip
    rng = _seed("sqlrl-toy", template.id, domain.db_id, sig)
    fallback: tuple[Draft, list[tuple]] | None = None
    for _ in range(ATTEMPTS):
        draft = maker(rng, values)
        if draft.check is not None and not con.execute(draft.check).fetchone()[0]:
            continue
        rows = con.execute(draft.query).fetchall()  # raises if a template is broken: a bug, not data
        if not _degenerate(rows):
            return draft, rows
        if fallback is None:
            fallback = (draft, rows)
    return fallback


def generate_examples(domains: Sequence[Domain], db_paths: dict[str, Path]) -> list[ToyExample]:
    """Fill every template (see module docs); splits are not assigned yet."""
    cons = {d.db_id: sqlite3.connect(f"file:{db_paths[d.db_id]}?mode=ro", uri=True) for d in domains}
    try:
        values = {db: Values(con) for db, con in cons.items()}
        out: list[ToyExample] = []
        for t in TEMPLATES:
            candidates = [(d, sig, maker) for d in domains for sig, maker in t.expand(d)]
            _seed("sqlrl-toy-order", t.id).shuffle(candidates)
            seen: set[str] = set()
            kept = 0
            for d, sig, maker in candidates:
                if kept >= t.cap:
                    break
                filled = _fill(t, d, sig, maker, cons[d.db_id], values[d.db_id])
                if filled is None or filled[0].query in seen:
                    continue
                draft, rows = filled
                seen.add(draft.query)
                kept += 1
                out.append(ToyExample(d.db_id, draft.question, draft.query, t.hardness, t.id, sig, len(rows),
                                      _degenerate(rows)))  # fmt: skip
        return out
    finally:
        for con in cons.values():
            con.close()


def assign_splits(examples: Sequence[ToyExample], dev_fraction: float = DEV_FRACTION) -> list[ToyExample]:
    """Mark each example ``train`` or ``dev`` by the compositional hold-out of the module docs."""
    train_atoms: Counter[str] = Counter()
    for ex in examples:
        train_atoms.update(ex.atoms)
    dev: set[int] = set()
    by_template: dict[str, list[int]] = {}
    for i, ex in enumerate(examples):
        by_template.setdefault(ex.template, []).append(i)
    for tid, idxs in by_template.items():
        order = list(idxs)
        _seed("sqlrl-toy-holdout", tid).shuffle(order)
        quota = round(len(idxs) * dev_fraction)
        for i in order:
            if quota <= 0:
                break
            atoms = examples[i].atoms
            if all(train_atoms[a] > 1 for a in atoms):
                train_atoms.subtract(atoms)
                dev.add(i)
                quota -= 1
    return [replace(ex, split="dev" if i in dev else "train") for i, ex in enumerate(examples)]


def iid_examples(
    examples: Sequence[ToyExample], domains: Sequence[Domain], db_paths: dict[str, Path],
    fraction: float = IID_FRACTION,
) -> list[ToyExample]:  # fmt: skip
    """New questions for a seeded ``fraction`` of the train compositions (see the module docs), split ``iid``."""
    makers = {(t.id, d.db_id, sig): (t, maker) for t in TEMPLATES for d in domains for sig, maker in t.expand(d)}
    questions = {ex.question for ex in examples}
    queries = {ex.query for ex in examples}
    cons = {d.db_id: sqlite3.connect(f"file:{db_paths[d.db_id]}?mode=ro", uri=True) for d in domains}
    try:
        values = {db: Values(con) for db, con in cons.items()}
        out: list[ToyExample] = []
        for ex in examples:
            pick = _seed("sqlrl-toy-iid-pick", ex.template, ex.db_id, ex.signature).random()
            if ex.split != "train" or pick >= fraction:
                continue
            template, maker = makers[(ex.template, ex.db_id, ex.signature)]
            rng = _seed("sqlrl-toy-iid", ex.template, ex.db_id, ex.signature)
            con = cons[ex.db_id]
            paraphrase: tuple[Draft, list[tuple]] | None = None
            for _ in range(ATTEMPTS * 2):
                draft = maker(rng, values[ex.db_id])
                if draft.question in questions:
                    continue
                if draft.check is not None and not con.execute(draft.check).fetchone()[0]:
                    continue
                rows = con.execute(draft.query).fetchall()
                if _degenerate(rows):
                    continue
                if draft.query not in queries:
                    break
                paraphrase = paraphrase or (draft, rows)
            else:
                if paraphrase is None or _has_literal(paraphrase[0].query):
                    continue
                draft, rows = paraphrase
            questions.add(draft.question)
            queries.add(draft.query)
            out.append(replace(ex, question=draft.question, query=draft.query, rows=len(rows),
                               degenerate=_degenerate(rows), split="iid"))  # fmt: skip
        return out
    finally:
        for con in cons.values():
            con.close()


def _has_literal(query: str) -> bool:
    """Whether a query holds a string or number literal (so new values, not only new words, are possible)."""
    return "'" in query or any(tok.replace(".", "", 1).isdigit() for tok in query.replace("(", " ").split())
