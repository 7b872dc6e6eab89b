"""More training pairs for sqlrl-toy without touching the dev hold-out.

The benchmark keeps at most ``cap`` signatures per template, one draft each. For training a small
model that is little data: :func:`augmented_train` adds, for *every* signature of every template
whose composition is not a dev composition, up to ``variants`` drafts with fresh values (other
constants, other thresholds), never a question or query of the ``iid`` split. Every drafted query is
executed and kept only when its check holds and its result is not degenerate, exactly as in the
benchmark itself. Dev compositions never occur, so the dev split stays a compositional hold-out; the
added pairs are deterministic for a seed.
"""

from __future__ import annotations

import os
import sqlite3

from sqlrl.data.example import Example, ExampleSet
from sqlrl.data.toy.build import build_toy
from sqlrl.data.toy.domains import domains
from sqlrl.data.toy.generate import ATTEMPTS, _degenerate, _seed, composition
from sqlrl.data.toy.load import load_toy, toy_dir
from sqlrl.data.toy.templates import TEMPLATES
from sqlrl.data.toy.values import Values

__all__ = ["augmented_train"]


def augmented_train(variants: int = 4, *, seed: int = 0, cache_dir: str | os.PathLike[str] | None = None) -> ExampleSet:
    """sqlrl-toy's train split plus up to ``variants`` extra pairs per non-dev signature (see module docs).

    Args:
        variants: extra drafts tried to keep per signature (distinct queries); 0 returns the train split.
        seed: seeds the values drawn; the same seed gives the same pairs.
        cache_dir: as for :func:`~sqlrl.data.toy.load_toy`.

    >>> ds = augmented_train(1)
    >>> len(ds) > len(load_toy("train")), ds.split
    (True, 'train+aug1')
    """
    if variants < 0:
        raise ValueError(f"variants must be >= 0, not {variants}")
    train, dev = load_toy("train", cache_dir=cache_dir), load_toy("dev", cache_dir=cache_dir)
    if variants == 0:
        return train
    iid = load_toy("iid", cache_dir=cache_dir)
    held_out = {ex.extra.get("composition") for ex in dev}
    seen = {ex.gold_sql for ds in (train, dev, iid) for ex in ds}
    iid_questions = {ex.question for ex in iid}
    paths = build_toy(toy_dir(cache_dir))
    extra: list[Example] = []
    for d in domains():
        db_path = paths.db_path(d.db_id)
        con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            values = Values(con)
            for t in TEMPLATES:
                for sig, maker in t.expand(d):
                    comp = composition(t.id, sig)
                    if comp in held_out:
                        continue
                    rng = _seed("sqlrl-toy-aug", seed, t.id, d.db_id, sig)
                    kept = 0
                    for _ in range(variants * ATTEMPTS):
                        if kept >= variants:
                            break
                        draft = maker(rng, values)
                        if draft.query in seen or draft.question in iid_questions:
                            continue
                        if draft.check is not None and not con.execute(draft.check).fetchone()[0]:
                            continue
                        if _degenerate(con.execute(draft.query).fetchall()):
                            continue
                        seen.add(draft.query)
                        kept += 1
                        extra.append(
                            Example(
                                id=f"sqlrl-toy/train-aug/{len(extra)}",
                                db_id=d.db_id,
                                db_path=db_path,
                                question=draft.question,
                                gold_sql=draft.query,
                                hardness=t.hardness,
                                extra={"template": t.id, "composition": comp, "augmented": True},
                            )
                        )
        finally:
            con.close()
    return ExampleSet(train.name, f"train+aug{variants}", [*train.examples, *extra], train.tables)
