"""Extra generated training pairs for sqlrl-toy keep the dev split a compositional hold-out."""

import sqlite3

import pytest

from sqlrl.data import load_toy
from sqlrl.data.toy.augment import augmented_train


def test_augmented_pairs_are_new_valid_and_never_dev_compositions():
    train, dev = load_toy("train"), load_toy("dev")
    aug = augmented_train(2)
    extra = aug.examples[len(train) :]
    assert len(extra) > len(train)
    dev_comps = {ex.extra["composition"] for ex in dev}
    assert not dev_comps & {ex.extra["composition"] for ex in extra}
    queries = [ex.gold_sql for ex in aug]
    assert len(set(queries)) == len(queries)  # no duplicates, none copied from dev
    assert not set(queries) & {ex.gold_sql for ex in dev}
    iid = load_toy("iid")  # the i.i.d. hold-out stays held out: no question, no new-valued query of it
    assert not {ex.question for ex in aug} & {ex.question for ex in iid}
    assert not {ex.gold_sql for ex in extra} & {ex.gold_sql for ex in iid}
    for ex in extra[::25]:  # every added gold runs and returns rows
        con = sqlite3.connect(f"file:{ex.db_path}?mode=ro", uri=True)
        assert con.execute(ex.gold_sql).fetchall()
        con.close()


def test_deterministic_per_seed_and_zero_is_the_train_split():
    assert [e.gold_sql for e in augmented_train(1, seed=3)] == [e.gold_sql for e in augmented_train(1, seed=3)]
    assert [e.gold_sql for e in augmented_train(1, seed=3)] != [e.gold_sql for e in augmented_train(1, seed=4)]
    assert len(augmented_train(0)) == len(load_toy("train"))
    with pytest.raises(ValueError, match="variants"):
        augmented_train(-1)
