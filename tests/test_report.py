"""sqlrl report without a browser: result marks, what eval keeps, page data, inputs and the command."""

from __future__ import annotations

import json
import math
import random
from pathlib import Path

import pytest
from _report_data import HOSTILE, PAIRS, hostile_eval, run_spider, spider_fixture, train_state

from sqlrl.cli import main
from sqlrl.eval.report import ExampleResult, record_results, result_sample
from sqlrl.report import ReportInputError, build_report, page_data
from sqlrl.report.diff import MISSING, OK, table_diff
from sqlrl.report.html import embed_json, render_page
from sqlrl.scoring.reference import execution_match


def t(*rows, columns=None):
    rows = [list(r) for r in rows]
    return {"columns": columns or [f"c{j}" for j in range(len(rows[0]) if rows else 1)], "rows": rows,
            "num_rows": len(rows)}  # fmt: skip


# (gold, pred, options, expected gold marks, expected pred marks)
DIFF_CASES = [
    (t([1], [2]), t([2], [1]), {}, [OK, OK], [OK, OK]),  # a bag: order free
    (t([1], [2]), t([2], [1]), {"order_matters": True}, [[0], [0]], [[0], [0]]),  # ORDER BY in gold
    (t([1, "a"], [2, "b"]), t(["b", 2], ["a", 1]), {}, [OK, OK], [OK, OK]),  # columns permuted
    (t([1, "a"], [2, "b"]), t(["b", 2], ["z", 1]), {}, [[1], OK], [OK, [0]]),  # cell 'a'/'z' marked in pred's column
    (t([1], [2], [3]), t([1], [2]), {}, [OK, OK, MISSING], [OK, OK]),
    (t([1]), t([1], [1]), {}, [OK], [OK, MISSING]),  # spider counts duplicates
    (t([1]), t([1], [1]), {"mode": "bird"}, [OK], [OK, OK]),  # bird: sets
    (t([1, "a"]), t(["a", 1]), {"mode": "bird"}, [MISSING], [MISSING]),  # bird: column order matters
    (t([1], [2]), t([1.0], [2]), {"mode": "strict"}, [OK, OK], [OK, OK]),  # 1 == 1.0
    (t(["1"]), t([1]), {}, [MISSING], [MISSING]),  # '1' != 1: no cell in common, so no "changed" pair
    (t([1, "x"], [2, "y"]), t([1, "x"], [2, "z"]), {"mode": "bird"}, [OK, [1]], [OK, [1]]),  # shares 2: changed
    (t([1, 5], [2, 6]), t([2.001], [1]), {"mode": "spider2", "ignore_order": True}, [[1], [1]], [OK, OK]),
    (
        t([1, 5], [2, 6]),
        t([2.001], [1]),
        {"mode": "spider2", "condition_cols": [0], "ignore_order": True},
        [OK, OK],
        [OK, OK],
    ),
    (t([1, 5], [2, 6]), t([6, 1], [5, 2]), {"mode": "paverl"}, [OK, OK], [OK, OK]),  # sorted columns, any order
]


@pytest.mark.parametrize(("gold", "pred", "how", "g_marks", "p_marks"), DIFF_CASES)
def test_table_diff_cases(gold, pred, how, g_marks, p_marks):
    d = table_diff(gold, pred, **how)
    assert (d["gold_rows"], d["pred_rows"]) == (g_marks, p_marks)
    assert d["partial"] is False


def test_table_diff_column_partners():
    d = table_diff(t([1, "a"]), t(["a", 1, 9]))
    assert d["pred_cols"][2] == -1  # spider: a third pred column has no partner (and the rows differ)
    assert d["gold_rows"] != [OK]
    d = table_diff(t([1, 5]), t([5]), mode="spider2")
    assert d["gold_cols"] == [False, True] and d["pred_cols"] == [1]


def test_table_diff_partial_when_rows_were_cut():
    gold = {"columns": ["a"], "rows": [[1]], "num_rows": 5}
    assert table_diff(gold, t([1]))["partial"] is True


@pytest.mark.parametrize("mode", ["spider", "bird", "strict"])
@pytest.mark.parametrize("order_matters", [False, True])
def test_marks_are_all_ok_exactly_when_the_verdict_matches(mode, order_matters):
    rng = random.Random(f"{mode}{order_matters}")
    values = [0, 1, 2, "a", "b", None]
    seen = {True: 0, False: 0}
    for _ in range(400):
        ncols = rng.randint(1, 3)
        gold = [tuple(rng.choice(values) for _ in range(ncols)) for _ in range(rng.randint(0, 4))]
        pred = list(gold)
        for _ in range(rng.randint(0, 2)):
            action = rng.choice(["shuffle", "cell", "drop", "dup", "permute"])
            if action == "shuffle":
                rng.shuffle(pred)
            elif action == "cell" and pred:
                r, c = rng.randrange(len(pred)), rng.randrange(ncols)
                pred[r] = pred[r][:c] + (rng.choice(values),) + pred[r][c + 1 :]
            elif action == "drop" and pred:
                pred.pop(rng.randrange(len(pred)))
            elif action == "dup" and pred:
                pred.append(rng.choice(pred))
            elif action == "permute":
                perm = rng.sample(range(ncols), ncols)
                pred = [tuple(row[j] for j in perm) for row in pred]
        verdict = execution_match(gold, pred, mode, order_matters=order_matters)
        d = table_diff(t(*gold, columns=["x"] * ncols), t(*pred, columns=["x"] * ncols), mode=mode,
                       order_matters=order_matters)  # fmt: skip
        all_ok = all(m == OK for m in d["gold_rows"] + d["pred_rows"])
        assert all_ok == verdict, (gold, pred, d)
        seen[verdict] += 1
    assert min(seen.values()) > 50  # both outcomes were exercised


def test_result_sample_is_json_safe_and_capped():
    import datetime
    import decimal

    rows = [(float("nan"), b"\x00\xff", decimal.Decimal("1.5"), datetime.date(2020, 1, 2)), (math.inf, None, 1, "x")]
    s = result_sample(["a", "b", "c", "d"], rows, 1)
    assert s == {"columns": ["a", "b", "c", "d"], "rows": [[{"float": "nan"}, {"bytes": "00ff"}, "1.5", "2020-01-02"]],
                 "num_rows": 2}  # fmt: skip
    json.dumps(s, allow_nan=False)
    ex = ExampleResult(0, "db", "easy", "g", "p")
    record_results(ex, (["a"], [(1,)]), None, 0)
    assert "results" not in ex.extra
    record_results(ex, (["a"], [(1,), (2,)]), None, 1, mode="bird")
    assert ex.extra["results"] == {"mode": "bird", "gold": {"columns": ["a"], "rows": [[1]], "num_rows": 2}}


@pytest.fixture(scope="module")
def spider(tmp_path_factory):
    fx = spider_fixture(tmp_path_factory.mktemp("report"))
    fx["out"] = run_spider(fx, "pred.sql", "out", "--result-rows", "2")
    fx["base"] = run_spider(fx, "base.sql", "base")
    return fx


def test_eval_keeps_result_rows(spider):
    lines = [json.loads(x) for x in (spider["out"] / "spider.jsonl").read_text().splitlines()]
    res = lines[2]["extra"]["results"]
    assert res["mode"] == "spider" and res["order_matters"] is False and res["database"] == "music.sqlite"
    assert res["gold"] == {"columns": ["name"], "rows": [["Ann"], ["Bob"]], "num_rows": 3}  # 2 of 3 kept
    assert res["pred"]["num_rows"] == 2
    assert "pred" not in lines[4]["extra"]["results"]  # the prediction failed: only the gold's rows
    assert lines[5]["extra"]["results"]["order_matters"] is True


def test_eval_result_rows_zero_keeps_none(spider, tmp_path):
    out = run_spider(spider, "pred.sql", tmp_path / "none", "--result-rows", "0")
    assert all("results" not in json.loads(x)["extra"] for x in (out / "spider.jsonl").read_text().splitlines())
    page = page_data([out])
    assert "result rows" in page["notes"]


def test_eval_page_verdicts_marks_and_baseline(spider):
    page = page_data([spider["out"] / "spider.json"], baseline=spider["base"], rows=10)
    exs = page["examples"]
    assert [e["v"] for e in exs] == [v for _, _, v in PAIRS]
    assert page["groups"][-1] == "all" and page["verdict_metric"] == "execution"
    assert exs[1]["res"]["gold"]["marks"] == [[1], [1]]  # age cells differ, names agree (2 rows kept)
    assert exs[2]["res"]["partial"] is True  # 2 of 3 rows kept: the marks compare what was kept
    assert exs[3]["res"]["pred"]["marks"] == [MISSING, OK]  # Ann extra (the 2 kept pred rows: Ann, Bob)
    assert exs[6]["res"]["pred"]["cols"] == [1, 0]
    assert exs[0]["comp"]["where"] == [1, 1, 1] and exs[0]["dbs"] == {"music.sqlite": 1.0, "music_v1.sqlite": 1.0}
    assert exs[7]["dbs"] == {"music.sqlite": 1.0, "music_v1.sqlite": 0.0}  # right on the original only
    assert exs[7]["res"]["database"] == "music_v1.sqlite"  # the rows shown are where it failed
    assert exs[7]["res"]["gold"]["marks"] == [MISSING, OK]  # Ann (36 there) is missing
    assert (exs[0]["chg"], exs[1]["chg"]) == ("fixed", "broken")
    counts = page["baseline"]["counts"]
    assert counts["fixed"] == 1 and counts["broken"] == 1 and sum(counts.values()) == len(PAIRS)


def test_generate_output_adds_questions(spider, tmp_path):
    gen = tmp_path / "gen"
    gen.mkdir()
    (gen / "samples.jsonl").write_text("".join(
        json.dumps({"index": i, "question": f"question {i}", "prediction": p, "chosen": 0,
                    "samples": [{"completion": f"```sql\n{p}\n```", "sql": p, "ok": True}]}) + "\n"
        for i, (_, p, _) in enumerate(PAIRS)
    ))  # fmt: skip
    page = page_data([spider["out"], gen])
    assert page["examples"][3]["q"] == "question 3" and "```sql" in page["examples"][3]["completion"]
    alone = page_data([gen])
    assert [e["q"] for e in alone["examples"]][:2] == ["question 0", "question 1"]
    assert alone["examples"][0]["cands"][0]["ok"] is True


def test_train_page(tmp_path):
    page = page_data([train_state(tmp_path / "run")])
    s1, s2 = page["phases"][1], page["phases"][2]
    assert page["kind"] == "train" and [p["name"] for p in page["phases"]] == ["sft", "stage1", "stage2"]
    assert set(s1["rewards"]) == {"execution", "format"} and s1["rewards"]["execution"][-1] == [10, 1.0]
    assert s1["zero_variance"][0] == [1, pytest.approx(0.375)]  # sqlrl's own share first
    assert s1["length"][0] == [1, 21.0]
    assert s1["best"] == {"step": 5, "x": 5, "accuracy": 0.6, "path": "stage1/checkpoint-5"}
    assert s2["offset"] == 10 and s2["val"] == [[10, 0.6], [15, 0.7]] and s2["best"]["x"] == 15
    assert s2["samples"]["dev"][1] == {"db": "music", "q": "how many?", "gold": "SELECT 2", "completion": "SELECT 3",
                                       "correct": False}  # fmt: skip
    assert "rewards" not in page["phases"][0]  # SFT has no reward curves
    assert [(v["step"], v["n"], v["right"]) for v in s1["val_samples"]] == [(5, 6, 4), (10, 6, 3)]
    assert s1["val_samples"][0]["samples"][1]["q"] == "val question 0" and s2["val_samples"] == []


def test_embedded_json_cannot_end_the_script_block(tmp_path):
    text = "</script><script>alert(1)</script>\u2028&amp;"
    data = page_data([hostile_eval(tmp_path / "e", text)], title=text)
    html = render_page(data)
    assert "</script><script>alert" not in html
    assert html.count("</script>") == 2  # the data block's and the script's own
    assert "<title>&lt;/script&gt;" in html
    blob = html.split('id="sqlrl-data">', 1)[1].split("</script>", 1)[0]
    assert json.loads(blob)["examples"][0]["db"] == text
    assert embed_json({"x": float("nan")}) == '{"x":null}'


def test_report_is_self_contained(spider, tmp_path):
    html = render_page(page_data([spider["out"]]))
    for needle in ("http://", "https://", "src=", "<link"):
        assert needle not in html.replace("http://www.w3.org/2000/svg", ""), needle


BROKEN_INPUTS = [
    ("missing", None, "no such file or folder"),
    ("spider.json", "{not json", "is not valid JSON"),
    ("spider.json", '{"benchmark": "x"}', "not the summary of sqlrl eval"),
    ("state.json", '{"nothing": 1}', "not the state of sqlrl train"),
    ("samples.jsonl", '{"index": 0}\n[1]\n', "line 2 must be a JSON object"),
    ("trajectories.jsonl", "{broken\n", "trajectories.jsonl line 1 is not valid JSON"),
]


@pytest.mark.parametrize(("name", "content", "message"), BROKEN_INPUTS)
def test_broken_inputs_are_named(tmp_path, capsys, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_text(content)
        if name == "spider.json":
            (tmp_path / "spider.jsonl").write_text("")
    with pytest.raises(ReportInputError, match=message):
        page_data([path])
    assert main(["report", str(path), "--out", str(tmp_path / "r.html")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: ") and str(path.name) in err and message in err
    assert not (tmp_path / "r.html").exists()


def test_eval_lines_must_be_eval_examples(spider, tmp_path):
    (tmp_path / "x.json").write_text((spider["out"] / "spider.json").read_text())
    (tmp_path / "x.jsonl").write_text('{"foo": 1}\n')
    with pytest.raises(ReportInputError, match="line 1: not an eval example"):
        page_data([tmp_path / "x.jsonl"])


def test_combinations_that_make_no_page(spider, tmp_path):
    run = train_state(tmp_path / "run")
    with pytest.raises(ReportInputError, match="reported alone"):
        page_data([run, spider["out"]])
    with pytest.raises(ReportInputError, match="one eval output"):
        page_data([spider["out"], spider["base"]])
    with pytest.raises(ReportInputError, match="a baseline is an eval output"):
        page_data([spider["out"]], baseline=run)


def test_report_command(spider, tmp_path, capsys):
    out = tmp_path / "r.html"
    assert (
        main(["report", str(spider["out"]), "--out", str(out), "--baseline", str(spider["base"]), "--rows", "1"]) == 0
    )
    assert "wrote" in capsys.readouterr().out and out.stat().st_size > 1000
    assert main(["report", str(spider["out"]), "--out", str(out)]) == 2
    assert "--overwrite" in capsys.readouterr().err
    assert main(["report", str(spider["out"]), "--out", str(out), "--overwrite", "--title", "T"]) == 0
    assert main(["report", str(spider["out"]), "--out", str(tmp_path)]) == 2


def test_eval_html_flag(spider, tmp_path):
    html = tmp_path / "page.html"
    run_spider(spider, "pred.sql", tmp_path / "o", "--html", str(html))
    text = html.read_text()
    assert '"kind":"eval"' in text and "SELECT nme FROM singer" in text
    assert build_report([tmp_path / "o"], tmp_path / "again.html").read_text().count('"v":"right"') == 2
    root = spider["root"]
    args = ["eval", "spider", "--gold", str(root / "gold.sql"), "--pred", str(root / "pred.sql"), "--db",
            str(spider["db"]), "--table", str(spider["tables"]), "--html", str(html)]  # fmt: skip
    assert main(args) == 2  # exists: --overwrite wanted, before any work


def test_hostile_text_stays_data(tmp_path):
    for k, text in enumerate(HOSTILE):
        data = page_data([hostile_eval(tmp_path / str(k), text)])
        assert data["examples"][0]["db"] == text and data["examples"][0]["res"]["gold"]["columns"][0] == text


def test_bird_spider2_and_paverl_keep_result_rows(tmp_path):
    import sqlite3

    from sqlrl.eval.bird import BIRD_SEPARATOR, evaluate_bird
    from sqlrl.eval.paverl import evaluate_paverl, load_examples
    from sqlrl.eval.spider2 import evaluate_spider2

    (tmp_path / "db" / "shop").mkdir(parents=True)
    con = sqlite3.connect(tmp_path / "db" / "shop" / "shop.sqlite")
    con.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b"), (3, "c")])
    con.commit()
    con.close()
    (tmp_path / "gold.sql").write_text("SELECT id, name FROM t\tshop\n")
    preds = {"0": f"SELECT id, name FROM t WHERE id < 3{BIRD_SEPARATOR}shop"}
    ex = evaluate_bird(preds, tmp_path / "gold.sql", tmp_path / "db", workers=1, result_rows=2).examples[0]
    kept = ex.extra["results"]
    assert kept["mode"] == "bird" and kept["gold"]["num_rows"] == 3 and len(kept["gold"]["rows"]) == 2
    page = page_data([Path(p) for p in _write_eval(tmp_path / "bird", "bird", [ex])])
    assert page["examples"][0]["res"]["gold"]["marks"] == [OK, OK] and page["examples"][0]["res"]["partial"]

    gold = tmp_path / "s2" / "gold"
    (gold / "exec_result").mkdir(parents=True)
    (gold / "exec_result" / "local001.csv").write_text("id,name\n1,a\n2,b\n")
    (gold / "spider2lite_eval.jsonl").write_text(
        json.dumps({"instance_id": "local001", "condition_cols": [1], "ignore_order": True}) + "\n"
    )
    (tmp_path / "s2" / "sub").mkdir()
    (tmp_path / "s2" / "sub" / "local001.csv").write_text("name,n\nb,9\na,8\n")
    ex = evaluate_spider2(tmp_path / "s2" / "sub", gold, mode="exec_result", csv_reader="builtin").examples[0]
    kept = ex.extra["results"]
    assert ex.metrics["ex"] == 1.0 and kept["mode"] == "spider2" and kept["condition_cols"] == [1]
    assert kept["ignore_order"] is True and kept["pred"]["rows"] == [["b", 9], ["a", 8]]
    d = table_diff(kept["gold"], kept["pred"], mode="spider2", condition_cols=[1], ignore_order=True)
    assert d["gold_cols"] == [None, True] and d["pred_cols"] == [1, -1]

    (tmp_path / "d.jsonl").write_text(
        json.dumps({"question": "?", "query": "SELECT id FROM t", "db_path": "db/shop/shop.sqlite"}) + "\n"
    )
    ds = load_examples("jsonl", tmp_path / "d.jsonl")
    ex = evaluate_paverl(ds, ["SELECT id FROM t ORDER BY id DESC"], workers=1).examples[0]
    assert ex.extra["results"]["mode"] == "paverl" and ex.extra["results"]["pred"]["rows"] == [[3], [2], [1]]
    assert ex.extra["results"]["gold"]["rows"] == [[1], [2], [3]]


def _write_eval(root: Path, benchmark: str, examples) -> list[Path]:
    """An eval output of ``examples`` as ``EvalReport.write`` makes it."""
    from sqlrl.eval.report import EvalReport

    report = EvalReport(benchmark, ["simple"], ["ex"], list(examples))
    paths = report.write(root, chart=False)
    return [paths["json"]]


def test_paverl_keeps_the_first_gold_csv(tmp_path):
    import sqlite3

    from sqlrl.eval.paverl import evaluate_paverl, load_examples

    root = tmp_path / "spider2-lite"
    (root / "resource" / "databases" / "spider2-localdb").mkdir(parents=True)
    con = sqlite3.connect(root / "resource" / "databases" / "spider2-localdb" / "shop.sqlite")
    con.execute("CREATE TABLE t (id INTEGER, name TEXT)")
    con.executemany("INSERT INTO t VALUES (?, ?)", [(1, "a"), (2, "b")])
    con.commit()
    con.close()
    gold = root / "evaluation_suite" / "gold" / "exec_result"
    gold.mkdir(parents=True)
    (gold / "local001.csv").write_text("id,name\n1,a\n2,b\n")
    (root / "spider2-lite.jsonl").write_text(
        json.dumps({"instance_id": "local001", "db": "shop", "question": "?"}) + "\n"
    )
    preds = tmp_path / "p.jsonl"
    preds.write_text(json.dumps({"instance_id": "local001", "sql": "SELECT name FROM t"}) + "\n")
    ex = evaluate_paverl(load_examples("spider2", root), preds, workers=1).examples[0]
    kept = ex.extra["results"]
    assert kept["gold"] == {"columns": ["id", "name"], "rows": [[1, "a"], [2, "b"]], "num_rows": 2}
    assert table_diff(kept["gold"], kept["pred"], mode="paverl")["gold_cols"] == [False, True]
