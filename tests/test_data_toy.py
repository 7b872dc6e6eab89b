"""sqlrl-toy: layout, size, hardness coverage, compositional hold-out, gold queries, determinism, cache."""

from __future__ import annotations

import json
import os
import re
import sqlite3
import time
from collections import Counter
from pathlib import Path

import pytest

from sqlrl.data import TOY_VERSION, build_toy, load_toy, toy_dir
from sqlrl.data.toy import HARDNESS_LEVELS, ToyPaths, sql_tokens
from sqlrl.data.toy.templates import TEMPLATES


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[ToyPaths, float]:
    start = time.perf_counter()
    paths = build_toy(tmp_path_factory.mktemp("toy") / "toy")
    return paths, time.perf_counter() - start


@pytest.fixture(scope="module")
def paths(built) -> ToyPaths:
    return built[0]


@pytest.fixture(scope="module")
def splits(paths: ToyPaths) -> dict[str, list[dict]]:
    return {s: json.loads(paths.split(s).read_text(encoding="utf-8")) for s in ("train", "dev", "iid")}


@pytest.fixture(scope="module")
def tables(paths: ToyPaths) -> dict[str, dict]:
    return {t["db_id"]: t for t in json.loads(paths.tables.read_text(encoding="utf-8"))}


def _all(splits):
    """Train and dev: the benchmark's distinct question/query pairs (iid repeats some value-free queries)."""
    return [*splits["train"], *splits["dev"]]


# -- layout and size ------------------------------------------------------------------------------


def test_build_is_fast(built):
    assert built[1] < 20.0  # about 0.3 s on an idle core; generous for loaded CI machines


def test_spider_layout(paths: ToyPaths, tables):
    for f in paths.files():
        assert f.is_file(), f
    assert len(tables) >= 3
    for db_id in tables:
        assert paths.db_path(db_id) == paths.root / "database" / db_id / f"{db_id}.sqlite"
        assert paths.db_path(db_id).read_bytes().startswith(b"SQLite format 3\x00")


def test_tables_json_entries(paths: ToyPaths, tables):
    keys = {"db_id", "table_names", "table_names_original", "column_names", "column_names_original",
            "column_types", "primary_keys", "foreign_keys"}  # fmt: skip
    for db_id, t in tables.items():
        assert set(t) == keys
        assert t["column_names"][0] == [-1, "*"] == t["column_names_original"][0]
        assert len(t["column_names"]) == len(t["column_names_original"]) == len(t["column_types"])
        assert set(t["column_types"]) <= {"text", "number", "time", "boolean", "others"}
        con = sqlite3.connect(f"file:{paths.db_path(db_id)}?mode=ro", uri=True)
        real = {
            name: [r[1] for r in con.execute(f"PRAGMA table_info({name})")]
            for (name,) in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
        con.close()
        assert sorted(real) == sorted(t["table_names_original"])
        for ti, col in t["column_names_original"][1:]:
            assert col in real[t["table_names_original"][ti]]
        cols = t["column_names_original"]
        assert len(t["primary_keys"]) == len(t["table_names"])  # one single-column key per table
        for a, b in t["foreign_keys"]:
            assert cols[a][0] != cols[b][0] and b in t["primary_keys"]


def test_sizes_and_splits(splits, tables):
    train, dev = splits["train"], splits["dev"]
    assert len(train) + len(dev) >= 400
    assert 0.2 <= len(dev) / (len(train) + len(dev)) <= 0.4
    for split in (train, dev):
        assert {ex["db_id"] for ex in split} == set(tables)
        for ex in split:
            assert {"db_id", "question", "query", "query_toks", "hardness", "template", "composition"} <= set(ex)


@pytest.mark.parametrize("split", ["train", "dev"])
def test_every_hardness_level_well_represented(splits, split):
    counts = Counter(ex["hardness"] for ex in splits[split])
    assert set(counts) == set(HARDNESS_LEVELS)
    for level in HARDNESS_LEVELS:
        assert counts[level] / len(splits[split]) >= 0.15, (level, counts)


@pytest.mark.parametrize(
    "feature",
    [" JOIN ", "GROUP BY", "HAVING", "ORDER BY", "LIMIT", " IN (SELECT", "NOT IN (SELECT", "> (SELECT avg(",
     " UNION ", " INTERSECT ", " EXCEPT ", " LIKE ", " BETWEEN ", "count(DISTINCT", " OR ", "DISTINCT "],
)  # fmt: skip
@pytest.mark.parametrize("split", ["train", "dev"])
def test_sql_features_present(splits, split, feature):
    assert any(feature in ex["query"] for ex in splits[split])


def test_three_table_joins_present(splits):
    assert any(ex["query"].count(" JOIN ") == 2 for ex in splits["dev"])


# -- compositional hold-out -----------------------------------------------------------------------


def test_no_dev_composition_in_train(splits):
    train = {ex["composition"] for ex in splits["train"]}
    dev = {ex["composition"] for ex in splits["dev"]}
    assert not train & dev


def test_dev_compositions_are_new_combinations_of_seen_atoms(splits):
    def atoms(ex):
        template, *slots = ex["composition"].split("|")
        return {f"template={template}", *slots}

    train_atoms = set().union(*(atoms(ex) for ex in splits["train"]))
    for ex in splits["dev"]:
        assert ex["composition"].split("|")[0] == ex["template"]
        assert atoms(ex) <= train_atoms, ex["composition"]
    # the hold-out really combines: most dev compositions have two or more slots
    assert sum(len(atoms(ex)) >= 3 for ex in splits["dev"]) / len(splits["dev"]) > 0.7


# -- i.i.d. hold-out ------------------------------------------------------------------------------


def test_iid_questions_are_new_questions_of_train_compositions(splits):
    train_comps = {ex["composition"] for ex in splits["train"]}
    iid = splits["iid"]
    assert 250 <= len(iid) <= 400
    assert {ex["composition"] for ex in iid} <= train_comps
    seen_questions = {ex["question"] for ex in _all(splits)}
    seen_queries = {ex["query"] for ex in _all(splits)}
    assert not seen_questions & {ex["question"] for ex in iid}
    assert len({ex["question"] for ex in iid}) == len(iid)
    repeated = [ex for ex in iid if ex["query"] in seen_queries]
    for ex in repeated:  # only a composition without literal values may repeat a query (a new phrasing)
        assert "'" not in ex["query"] and not re.search(r"\b\d", ex["query"]), ex
    assert len(repeated) < len(iid) / 2
    assert set(Counter(ex["hardness"] for ex in iid)) == set(HARDNESS_LEVELS)


def test_templates_in_both_splits(splits):
    in_train = {ex["template"] for ex in splits["train"]}
    in_dev = {ex["template"] for ex in splits["dev"]}
    assert in_dev <= in_train
    assert len(in_dev) >= len(TEMPLATES) - 3


def test_template_hardness_is_consistent(splits):
    declared = {t.id: t.hardness for t in TEMPLATES}
    for ex in _all(splits):
        assert ex["hardness"] == declared[ex["template"]]


# -- gold queries ---------------------------------------------------------------------------------


def test_every_gold_query_executes_and_few_are_empty(paths: ToyPaths, splits):
    cons = {}
    empty = 0
    for ex in _all(splits):
        if ex["db_id"] not in cons:
            cons[ex["db_id"]] = sqlite3.connect(f"file:{paths.db_path(ex['db_id'])}?mode=ro", uri=True)
        rows = cons[ex["db_id"]].execute(ex["query"]).fetchall()
        empty += not rows
    for con in cons.values():
        con.close()
    stats = json.loads(paths.stats.read_text())
    total = len(_all(splits))
    assert stats["empty_result_rate"] == round(empty / (total + len(splits["iid"])), 4)
    assert empty == stats["splits"]["train"]["empty_results"] + stats["splits"]["dev"]["empty_results"]
    assert stats["splits"]["iid"]["empty_results"] == 0 and stats["splits"]["iid"]["pairs"] == len(splits["iid"])
    assert empty / total < 0.05


def test_gold_sql_files(paths: ToyPaths, splits):
    for split in ("train", "dev", "iid"):
        lines = paths.gold(split).read_text(encoding="utf-8").splitlines()
        assert lines == [f"{ex['query']}\t{ex['db_id']}" for ex in splits[split]]
        assert all(line.count("\t") == 1 for line in lines)


def test_questions_read_cleanly(splits):
    questions = [ex["question"] for ex in _all(splits)]
    for q in questions:
        assert q[0].isupper() and q[-1] in ".?", q
        assert "{" not in q and "  " not in q and " ," not in q, q
    assert len(set(questions)) == len(questions)
    assert len({ex["query"] for ex in _all(splits)}) == len(questions)


def test_query_tokens(splits):
    for ex in _all(splits)[:50]:
        assert "".join(ex["query_toks"]).replace(" ", "") == ex["query"].replace(" ", "")
        assert ex["query_toks"] == sql_tokens(ex["query"])
        values = [t for t in ex["query_toks"] if re.fullmatch(r"'.*'|\d+(\.\d+)?", t)]
        assert ex["query_toks_no_value"].count("value") == len(values)
        assert ex["query_toks_no_value"] == ["value" if t in values else t.lower() for t in ex["query_toks"]]


def test_hardness_agrees_with_spider_module(paths: ToyPaths, splits, tables):
    """The labels were checked against the official evaluation.py (all pairs agree); this re-checks them
    against sqlrl's own implementation once it exists."""
    spider = pytest.importorskip("sqlrl.sql.spider")
    hardness = getattr(spider, "hardness", None)
    schema_cls = getattr(spider, "Schema", None)
    if hardness is None or not hasattr(schema_cls, "from_tables_json"):
        pytest.skip("sqlrl.sql.spider has no hardness() / Schema.from_tables_json yet")
    schemas = {db: schema_cls.from_tables_json(t) for db, t in tables.items()}
    wrong = [
        (ex["template"], ex["hardness"], got, ex["query"])
        for ex in _all(splits)
        if (got := hardness(ex["query"], schemas[ex["db_id"]])) != ex["hardness"]
    ]
    assert not wrong, wrong[:5]


# -- determinism and cache ------------------------------------------------------------------------


def _tree(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_two_builds_are_byte_identical(paths: ToyPaths, tmp_path: Path):
    other = build_toy(tmp_path / "again")
    assert _tree(paths.root) == _tree(other.root)


def test_second_build_is_a_noop_unless_forced(tmp_path: Path):
    p = build_toy(tmp_path / "t")
    stamps = {f: f.stat().st_mtime_ns for f in p.files()}
    time.sleep(0.01)
    assert build_toy(tmp_path / "t") == p
    assert {f: f.stat().st_mtime_ns for f in p.files()} == stamps
    build_toy(tmp_path / "t", force=True)
    assert all(f.stat().st_mtime_ns != stamps[f] for f in p.files())


def test_incomplete_build_is_rebuilt(tmp_path: Path):
    p = build_toy(tmp_path / "t")
    before = p.dev.read_bytes()
    p.dev.unlink()
    build_toy(tmp_path / "t")
    assert p.dev.read_bytes() == before


def test_load_toy_uses_the_cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("SQLRL_CACHE_DIR", str(tmp_path / "cache"))
    assert toy_dir() == tmp_path / "cache" / f"toy-{TOY_VERSION}"
    dev = load_toy("dev")
    train = load_toy("train")
    assert (tmp_path / "cache" / f"toy-{TOY_VERSION}" / "dev.json").is_file()
    assert dev.name == "sqlrl-toy" and dev.split == "dev" and train.split == "train"
    assert len(dev) + len(train) >= 400
    ex = dev[0]
    assert ex.db_path is not None and ex.db_path.is_file() and ex.hardness in HARDNESS_LEVELS
    assert ex.extra["template"] and ex.extra["composition"].startswith(ex.extra["template"])
    assert set(dev.tables) == set(dev.db_ids)
    assert "books" in dev.schema("library").tables
    assert load_toy("iid").split == "iid"
    with pytest.raises(ValueError, match="splits 'train', 'dev', 'iid'"):
        load_toy("test")


def test_load_toy_explicit_cache_dir(tmp_path: Path):
    ds = load_toy("dev", cache_dir=tmp_path)
    assert os.path.commonpath([str(ds[0].db_path), str(tmp_path)]) == str(tmp_path)


def test_sqlrl_toy_prints_where_the_files_are_and_a_working_eval_command(tmp_path, monkeypatch, capsys):
    import shlex

    from sqlrl.cli import main

    monkeypatch.setenv("SQLRL_CACHE_DIR", str(tmp_path / "cache"))
    assert main(["toy", "--path"]) == 0
    root = Path(capsys.readouterr().out.strip())
    assert root == tmp_path / "cache" / f"toy-{TOY_VERSION}"
    assert all(p.is_file() for p in ToyPaths.at(root).files())
    assert main(["toy"]) == 0
    out = capsys.readouterr().out
    assert str(root / "tables.json") in out and "flights, library, university" in out
    command = next(line.strip() for line in out.splitlines() if line.strip().startswith("sqlrl eval spider"))
    assert main(shlex.split(command)[1:] + ["--etype", "exec"]) == 0  # no model: the gold against itself
    table = capsys.readouterr().out
    assert re.search(r"execution\s+1\.000\s+1\.000\s+1\.000\s+1\.000\s+1\.000", table), table
    monkeypatch.setenv("SQLRL_CACHE_DIR", str(root / "dev.json"))  # a file: cannot build there
    assert main(["toy"]) == 1
    assert "cannot build sqlrl-toy" in capsys.readouterr().err
