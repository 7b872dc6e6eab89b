"""Loaders on hand-made Spider, BIRD, Spider 2.0-lite and JSON Lines fixtures, and their errors."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from sqlrl.data import (
    DatasetError,
    Example,
    ExampleSet,
    MalformedDatasetError,
    MissingDatasetFileError,
    gold_csv_files,
    load_bird,
    load_jsonl,
    load_spider,
    load_spider2_lite,
    suite_databases,
)


def _db(path: Path, rows=((1, "Ann", 30), (2, "Bo", 40))) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE singer (singer_id INTEGER PRIMARY KEY, name TEXT, age INTEGER)")
    con.executemany("INSERT INTO singer VALUES (?, ?, ?)", rows)
    con.commit()
    con.close()
    return path


def _tables_entry(db_id: str) -> dict:
    return {
        "db_id": db_id,
        "table_names": ["singer"],
        "table_names_original": ["singer"],
        "column_names": [[-1, "*"], [0, "singer id"], [0, "name"], [0, "age"]],
        "column_names_original": [[-1, "*"], [0, "singer_id"], [0, "name"], [0, "age"]],
        "column_types": ["text", "number", "text", "number"],
        "primary_keys": [1],
        "foreign_keys": [],
    }


def _write(path: Path, obj) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj), encoding="utf-8")
    return path


def _jsonl(path: Path, rows) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


# -- Spider ---------------------------------------------------------------------------------------


@pytest.fixture
def spider(tmp_path: Path) -> Path:
    root = tmp_path / "spider"
    for db in ("concert", "music"):
        _db(root / "database" / db / f"{db}.sqlite")
    _write(root / "tables.json", [_tables_entry("concert"), _tables_entry("music")])
    _write(root / "dev.json", [
        {"db_id": "concert", "question": "How many singers?", "query": "SELECT count(*) FROM singer",
         "query_toks": ["SELECT", "count", "(", "*", ")", "FROM", "singer"], "sql": {"select": []}},
        {"db_id": "music", "question": "Names?", "query": "SELECT name FROM singer", "hardness": "easy"},
    ])  # fmt: skip
    _write(root / "train_spider.json", [{"db_id": "music", "question": "Ages?", "query": "SELECT age FROM singer"}])
    return root


def test_spider_dev(spider: Path):
    ds = load_spider(spider, "dev")
    assert isinstance(ds, ExampleSet) and (ds.name, ds.split, len(ds)) == ("spider", "dev", 2)
    ex = ds[0]
    assert isinstance(ex, Example)
    assert (ex.id, ex.db_id, ex.question, ex.gold_sql) == ("spider/dev/0", "concert", "How many singers?",
                                                          "SELECT count(*) FROM singer")  # fmt: skip
    assert ex.db_path == spider / "database" / "concert" / "concert.sqlite"
    assert ex.dialect == "sqlite" and ex.evidence == "" and ex.hardness is None
    assert ex.extra["query_toks"][0] == "SELECT" and "sql" in ex.extra and ex.extra["index"] == 0
    assert ds[1].hardness == "easy"
    assert ds.db_ids == ["concert", "music"]
    assert set(ds.schema("concert").tables) == {"singer"}
    assert ds.tables["music"]["db_id"] == "music"
    assert ex.to_dict()["db_path"] == str(ex.db_path)
    assert len(ds[:1]) == 1 and len(ds.filter(lambda e: e.db_id == "music")) == 1


def test_spider_train_uses_train_spider_json(spider: Path):
    ds = load_spider(spider, "train")
    assert [ex.gold_sql for ex in ds] == ["SELECT age FROM singer"]


def test_spider_test_suite_folders(spider: Path, tmp_path: Path):
    suite = tmp_path / "suite"
    for db in ("concert", "music"):
        for name in (db, f"{db}_1", f"{db}_2"):
            _db(suite / db / f"{name}.sqlite")
    ds = load_spider(spider, "dev", test_suite_dir=suite)
    assert [Path(p).name for p in ds[0].extra["test_suite_dbs"]] == ["concert.sqlite", "concert_1.sqlite",
                                                                    "concert_2.sqlite"]  # fmt: skip
    assert suite_databases(suite, "music")[0].name == "music.sqlite"
    (suite / "music" / "music.sqlite").unlink()
    (suite / "music" / "music_1.sqlite").unlink()
    (suite / "music" / "music_2.sqlite").unlink()
    with pytest.raises(MissingDatasetFileError, match=r"test-suite databases of 'music': no \*\.sqlite"):
        load_spider(spider, "dev", test_suite_dir=suite)


def test_spider_explicit_paths(spider: Path):
    ds = load_spider(questions=spider / "dev.json", tables=spider / "tables.json", database_dir=spider / "database")
    assert len(ds) == 2
    with pytest.raises(ValueError, match="root= or an explicit path"):
        load_spider(questions=spider / "dev.json")
    with pytest.raises(ValueError, match="unknown Spider split 'validation'"):
        load_spider(spider, "validation")


@pytest.mark.parametrize(
    ("remove", "pattern"),
    [
        ("dev.json", r"Spider dev examples .*dev\.json not found"),
        ("tables.json", r"tables\.json .*not found"),
        ("database/music/music.sqlite", r"Spider database 'music' used by dev\.json entry 1: .*music\.sqlite not found"),
    ],
)  # fmt: skip
def test_spider_missing_files(spider: Path, remove: str, pattern: str):
    (spider / remove).unlink()
    with pytest.raises(MissingDatasetFileError, match=pattern) as info:
        load_spider(spider, "dev")
    assert isinstance(info.value, FileNotFoundError) and isinstance(info.value, DatasetError)


def test_spider_missing_database_allowed_without_check(spider: Path):
    (spider / "database" / "music" / "music.sqlite").unlink()
    assert len(load_spider(spider, "dev", check_databases=False)) == 2


@pytest.mark.parametrize(
    ("content", "pattern"),
    [
        ("{not json", r"dev\.json is not valid JSON"),
        ({"db_id": "concert"}, r"dev\.json must hold a JSON list .* found dict"),
        (["x"], r"entry 0 must be a JSON object, found str"),
        ([{"db_id": "concert", "query": "SELECT 1"}], r"dev\.json entry 0: missing field 'question' \(expected str\)"),
        ([{"db_id": "concert", "question": "q", "query": "SELECT 1"}, {"db_id": "concert", "question": "q"}],
         r"dev\.json entry 1: missing field 'query'"),
        ([{"db_id": "concert", "question": 3, "query": "SELECT 1"}], r"entry 0: field 'question' must be str, found int"),
        ([{"db_id": "nope", "question": "q", "query": "SELECT 1"}], r"entry 0: db_id 'nope' is not in .*tables\.json"),
    ],
)  # fmt: skip
def test_spider_malformed_entries(spider: Path, content, pattern: str):
    path = spider / "dev.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content), encoding="utf-8")
    with pytest.raises(MalformedDatasetError, match=pattern) as info:
        load_spider(spider, "dev")
    assert isinstance(info.value, ValueError) and not isinstance(info.value, KeyError)


def test_spider_malformed_tables(spider: Path):
    entry = _tables_entry("concert")
    del entry["column_names_original"]
    _write(spider / "tables.json", [entry])
    with pytest.raises(MalformedDatasetError, match=r"tables\.json entry 0: missing field 'column_names_original'"):
        load_spider(spider, "dev")


# -- BIRD -----------------------------------------------------------------------------------------


@pytest.fixture
def bird(tmp_path: Path) -> Path:
    root = tmp_path / "bird" / "dev"
    _db(root / "dev_databases" / "school" / "school.sqlite")
    _write(root / "dev_tables.json", [_tables_entry("school")])
    _write(root / "dev.json", [
        {"question_id": 0, "db_id": "school", "question": "Oldest?", "evidence": "old refers to max(age)",
         "SQL": "SELECT name FROM singer ORDER BY age DESC LIMIT 1", "difficulty": "simple"},
        {"question_id": 7, "db_id": "school", "question": "Count?", "evidence": "", "SQL": "SELECT count(*) FROM singer",
         "difficulty": "challenging"},
    ])  # fmt: skip
    return root


def test_bird_dev(bird: Path):
    ds = load_bird(bird, "dev")
    assert (ds.name, ds.split, len(ds)) == ("bird", "dev", 2)
    ex = ds[0]
    assert (ex.id, ex.db_id, ex.evidence, ex.difficulty) == ("0", "school", "old refers to max(age)", "simple")
    assert ex.gold_sql.startswith("SELECT name") and ex.hardness is None
    assert ex.db_path == bird / "dev_databases" / "school" / "school.sqlite"
    assert ds[1].id == "7" and ds[1].difficulty == "challenging" and ds[1].evidence == ""
    assert "singer" in ds.schema("school").tables


def test_bird_train_has_no_difficulty(bird: Path):
    _db(bird / "train_databases" / "school" / "school.sqlite")
    _write(bird / "train_tables.json", [_tables_entry("school")])
    _write(bird / "train.json", [{"db_id": "school", "question": "q", "evidence": "e", "SQL": "SELECT 1"}])
    ex = load_bird(bird, "train")[0]
    assert ex.difficulty is None and ex.id == "0" and ex.evidence == "e"


def test_bird_errors(bird: Path):
    entries = json.loads((bird / "dev.json").read_text())
    del entries[1]["SQL"]
    _write(bird / "dev.json", entries)
    with pytest.raises(MalformedDatasetError, match=r"dev\.json entry 1: missing field 'SQL' or 'query'"):
        load_bird(bird, "dev")
    (bird / "dev_tables.json").unlink()
    with pytest.raises(MissingDatasetFileError, match=r"BIRD dev schemas .*dev_tables\.json not found"):
        load_bird(bird, "dev")
    with pytest.raises(MissingDatasetFileError, match=r"BIRD dev folder .*not found"):
        load_bird(bird / "missing", "dev")


def test_bird_evidence_must_be_text(bird: Path):
    entries = json.loads((bird / "dev.json").read_text())
    entries[0]["evidence"] = ["a list"]
    _write(bird / "dev.json", entries)
    with pytest.raises(MalformedDatasetError, match=r"entry 0: field 'evidence' must be str, found list"):
        load_bird(bird, "dev")


# -- Spider 2.0-lite ------------------------------------------------------------------------------


@pytest.fixture
def spider2(tmp_path: Path) -> Path:
    root = tmp_path / "spider2-lite"
    _db(root / "resource" / "databases" / "spider2-localdb" / "shop.sqlite")
    (root / "resource" / "documents").mkdir(parents=True)
    (root / "resource" / "documents" / "rules.md").write_text("Age is in years.\n", encoding="utf-8")
    _jsonl(root / "spider2-lite.jsonl", [
        {"instance_id": "local001", "db": "shop", "question": "Names of singers?", "external_knowledge": "rules.md"},
        {"instance_id": "bq001", "db": "cloud", "question": "Cloud question", "external_knowledge": None},
        {"instance_id": "local002", "db": "shop", "question": "Ages?", "external_knowledge": None},
        {"instance_id": "local003", "db": "shop", "question": "No gold here", "external_knowledge": None},
    ])  # fmt: skip
    gold = root / "evaluation_suite" / "gold"
    (gold / "sql").mkdir(parents=True)
    (gold / "sql" / "local001.sql").write_text("SELECT name\nFROM singer\n", encoding="utf-8")
    (gold / "exec_result").mkdir()
    for name in ("local001.csv", "local002_a.csv", "local002_b.csv", "local002_1.csv", "local0021.csv"):
        (gold / "exec_result" / name).write_text("x\n1\n", encoding="utf-8")
    _jsonl(gold / "spider2lite_eval.jsonl", [
        {"instance_id": "local001", "condition_cols": [0], "ignore_order": True, "toks": "10"},
        {"instance_id": "local002", "condition_cols": [[0], [1]], "ignore_order": False},
    ])  # fmt: skip
    return root


def test_spider2_lite_local_tasks(spider2: Path):
    ds = load_spider2_lite(spider2)
    assert (ds.name, [ex.id for ex in ds]) == ("spider2-lite", ["local001", "local002", "local003"])
    a, b, c = ds
    assert a.db_path == spider2 / "resource" / "databases" / "spider2-localdb" / "shop.sqlite"
    assert a.gold_sql == "SELECT name\nFROM singer" and a.evidence == "Age is in years.\n"
    assert [Path(p).name for p in a.extra["gold_csvs"]] == ["local001.csv"]
    assert a.extra["condition_cols"] == [0] and a.extra["ignore_order"] is True
    assert a.extra["external_knowledge"] == "rules.md"
    # variants as the official evaluator finds them: _a, _b yes; _1 and the longer id no
    assert [Path(p).name for p in b.extra["gold_csvs"]] == ["local002_a.csv", "local002_b.csv"]
    assert b.gold_sql is None and b.extra["condition_cols"] == [[0], [1]] and b.extra["ignore_order"] is False
    assert c.extra["gold_csvs"] == [] and c.extra["condition_cols"] == [] and c.extra["ignore_order"] is False
    assert all(ex.dialect == "sqlite" for ex in ds)
    assert "singer" in ds.schema("shop").tables  # no tables.json: read from the database


def test_spider2_lite_all_instances(spider2: Path):
    ds = load_spider2_lite(spider2, local_only=False)
    bq = next(ex for ex in ds if ex.id == "bq001")
    assert bq.db_path is None and bq.dialect == "bigquery"


def test_gold_csv_files_pattern(tmp_path: Path):
    for name in ("bq1.csv", "bq1_a.csv", "bq1_ab.csv", "bq1_1.csv", "bq10.csv"):
        (tmp_path / name).write_text("x\n")
    assert [p.name for p in gold_csv_files(tmp_path, "bq1")] == ["bq1.csv", "bq1_a.csv"]
    assert gold_csv_files(tmp_path / "missing", "bq1") == []


def test_spider2_lite_errors(spider2: Path):
    (spider2 / "resource" / "documents" / "rules.md").unlink()
    with pytest.raises(MissingDatasetFileError, match=r"external knowledge of local001 \(spider2-lite\.jsonl line 1\)"):
        load_spider2_lite(spider2)
    (spider2 / "spider2-lite.jsonl").write_text('{"instance_id": "local009", "question": "q"}\n')
    with pytest.raises(MalformedDatasetError, match=r"spider2-lite\.jsonl line 1: missing field 'db' or 'db_id'"):
        load_spider2_lite(spider2)
    (spider2 / "spider2-lite.jsonl").write_text('\n{"instance_id": "local009", "db": "nowhere", "question": "q"}\n')
    with pytest.raises(MissingDatasetFileError, match=r"database 'nowhere' used by spider2-lite\.jsonl line 2"):
        load_spider2_lite(spider2)
    (spider2 / "spider2-lite.jsonl").write_text("[1, 2]\n")
    with pytest.raises(MalformedDatasetError, match=r"line 1 must be a JSON object, found list"):
        load_spider2_lite(spider2)
    with pytest.raises(MissingDatasetFileError, match=r"evaluation settings .*nope\.jsonl not found"):
        load_spider2_lite(spider2, eval_config=spider2 / "nope.jsonl")


# -- JSON Lines -----------------------------------------------------------------------------------


def test_jsonl_db_id_and_db_path(tmp_path: Path):
    _db(tmp_path / "dbs" / "a" / "a.sqlite")
    _db(tmp_path / "dbs" / "b.sqlite")
    _db(tmp_path / "data" / "local.db")
    path = _jsonl(tmp_path / "data" / "eval.jsonl", [
        {"question": "q1", "query": "SELECT 1", "db_id": "a", "hardness": "easy", "note": "kept"},
        {"question": "q2", "sql": "SELECT 2", "db_id": "b", "evidence": "ev", "id": "x-2", "dialect": "duckdb"},
        {"question": "q3", "query": "SELECT 3", "db_path": str(tmp_path / "dbs" / "b.sqlite")},
    ])  # fmt: skip
    ds = load_jsonl(path, database_dir=tmp_path / "dbs")
    assert (ds.name, ds.split, len(ds)) == ("jsonl", "eval", 3)
    a, b, c = ds
    assert (a.id, a.db_id, a.db_path, a.hardness, a.extra) == ("0", "a", tmp_path / "dbs" / "a" / "a.sqlite", "easy",
                                                               {"note": "kept"})  # fmt: skip
    assert (b.id, b.gold_sql, b.evidence, b.dialect, b.db_path) == ("x-2", "SELECT 2", "ev", "duckdb",
                                                                    tmp_path / "dbs" / "b.sqlite")  # fmt: skip
    assert c.db_id == "b" and c.db_path == tmp_path / "dbs" / "b.sqlite"
    # relative db_path: next to the file by default
    rel = _jsonl(tmp_path / "data" / "rel.jsonl", [{"question": "q", "query": "SELECT 1", "db_path": "local.db"}])
    assert load_jsonl(rel)[0].db_path == tmp_path / "data" / "local.db"


def test_jsonl_accepts_a_json_list(tmp_path: Path):
    _db(tmp_path / "x.sqlite")
    path = _write(tmp_path / "list.json", [{"question": "q", "query": "SELECT 1", "db_id": "x"}])
    assert load_jsonl(path)[0].db_path == tmp_path / "x.sqlite"


@pytest.mark.parametrize(
    ("rows", "pattern"),
    [
        ([{"question": "q", "db_id": "x"}], r"eval\.jsonl entry 0 \(line 1\): missing field 'query' or 'sql'"),
        ([{"question": "q", "query": "SELECT 1", "db_id": "x"}, {"query": "SELECT 1", "db_id": "x"}],
         r"entry 1 \(line 2\): missing field 'question'"),
        ([{"question": "q", "query": "SELECT 1"}], r"entry 0 \(line 1\): missing field 'db_id' or 'db_path'"),
        ([{"question": "q", "query": 5, "db_id": "x"}], r"field 'query' must be str, found int"),
    ],
)  # fmt: skip
def test_jsonl_malformed(tmp_path: Path, rows, pattern: str):
    _db(tmp_path / "x.sqlite")
    with pytest.raises(MalformedDatasetError, match=pattern):
        load_jsonl(_jsonl(tmp_path / "eval.jsonl", rows))


def test_jsonl_bad_line_and_missing_files(tmp_path: Path):
    path = tmp_path / "eval.jsonl"
    path.write_text('{"question": "q", "query": "SELECT 1", "db_id": "x"}\n{oops\n')
    with pytest.raises(MalformedDatasetError, match=r"eval\.jsonl line 2 is not valid JSON"):
        load_jsonl(path, check_databases=False)
    with pytest.raises(MissingDatasetFileError, match=r"JSON Lines of .*nothing\.jsonl not found"):
        load_jsonl(tmp_path / "nothing.jsonl")
    _jsonl(path, [{"question": "q", "query": "SELECT 1", "db_id": "ghost"}])
    with pytest.raises(MissingDatasetFileError, match=r"no database for db_id 'ghost'; tried .*ghost\.sqlite"):
        load_jsonl(path)
    assert load_jsonl(path, check_databases=False)[0].db_path is None
    _jsonl(path, [{"question": "q", "query": "SELECT 1", "db_path": "gone.sqlite"}])
    with pytest.raises(
        MissingDatasetFileError, match=r"database .*gone\.sqlite \(from db_path 'gone\.sqlite'\) not found"
    ):
        load_jsonl(path)
