"""sqlrl report pages in a real browser: headless Chromium driven by Playwright.

The browser is Debian's ``chromium`` (``apt-get install chromium``; ``.ci/run`` installs it), launched
through ``executable_path``: ``playwright install`` downloads browsers and is never run. The tests
skip, saying why, when the ``playwright`` package or a Chromium binary is missing.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import pytest
from _report_data import HOSTILE, PAIRS, hostile_eval, run_spider, spider_fixture, train_state

from sqlrl.report import build_report


def _chromium() -> str | None:
    for name in (os.environ.get("SQLRL_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"):
        if name and (found := shutil.which(name)):
            return found
    return None


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install '.[dev]')")
    exe = _chromium()
    if exe is None:
        pytest.skip("no Chromium binary on PATH (apt-get install chromium, or set SQLRL_CHROMIUM)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """A loaded report with every console error, page error and dialog it raised."""

    def __init__(self, browser, path: Path) -> None:
        self.page = browser.new_page(viewport={"width": 1280, "height": 900})
        self.problems: list[str] = []
        self.dialogs: list[str] = []
        self.page.on("console", lambda m: self.problems.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(str(e)))

        def dialog(d) -> None:
            self.dialogs.append(d.message)
            d.dismiss()

        self.page.on("dialog", dialog)
        self.page.on("request", lambda r: None if r.url.startswith(("file:", "data:")) else self.problems.append(r.url))
        self.page.goto(path.as_uri())
        self.page.wait_for_selector("body[data-ready='1']")

    def count(self) -> str:
        return self.page.inner_text("#count")

    def wait_count(self, start: str) -> None:
        """Until the example count starts with ``start`` (the search box applies after a short pause). Polled
        from Python: the page's Content-Security-Policy forbids the eval that ``wait_for_function`` uses."""
        deadline = time.monotonic() + 15
        while not self.count().startswith(start):
            assert time.monotonic() < deadline, f"count stayed {self.count()!r}, expected {start!r}"
            self.page.wait_for_timeout(20)

    def rows(self) -> list[str]:
        return self.page.eval_on_selector_all("#list tr.ex", "rs => rs.map(r => r.dataset.index)")

    def close(self) -> None:
        self.page.close()


@pytest.fixture(scope="module")
def spider(tmp_path_factory):
    fx = spider_fixture(tmp_path_factory.mktemp("browser"))
    out = run_spider(fx, "pred.sql", "out")
    base = run_spider(fx, "base.sql", "base")
    gen = fx["root"] / "gen"
    gen.mkdir()
    (gen / "samples.jsonl").write_text("".join(
        json.dumps({"index": i, "question": f"question number {i}", "prediction": p}) + "\n"
        for i, (_, p, _) in enumerate(PAIRS)
    ))  # fmt: skip
    fx["html"] = build_report([out, gen], fx["root"] / "eval.html", baseline=base)
    return fx


def test_eval_page_filters_sorts_and_details(browser, spider):
    p = Page(browser, spider["html"])
    n = len(PAIRS)
    assert p.count() == f"{n} of {n} examples"
    assert p.page.locator("#headline tr").count() >= 4  # groups, count, execution (+ baseline delta), exact match
    assert p.page.locator("svg[aria-label='accuracy by level'] rect").count() > 0
    p.page.select_option("#f-verdict", "wrong")
    assert p.rows() == ["1", "2", "3", "5", "7"]
    p.page.select_option("#f-verdict", "")
    p.page.select_option("#f-error", "runtime")
    assert p.rows() == ["4"]
    p.page.select_option("#f-error", "")
    p.page.fill("#f-text", "question number 6")
    p.wait_count("1 of")
    assert p.rows() == ["6"]
    p.page.fill("#f-text", "")
    p.wait_count(f"{n} of")
    p.page.click("#list th[data-col='#']")  # already sorted by #: now descending
    assert p.rows() == [str(i) for i in reversed(range(n))]
    p.page.click("#list th[data-col='verdict']")
    assert p.rows()[:1] == ["4"]  # error < right < wrong
    p.page.select_option("#f-change", "fixed")
    assert p.rows() == ["0"]
    p.page.select_option("#f-change", "")

    p.page.click("#list tr.ex[data-index='1']")
    detail = p.page.locator("#list tr.detail")
    assert detail.count() == 1
    assert "question number 1" in detail.inner_text()
    sql = detail.locator(".sides").first  # gold and predicted SQL with the token diff: "+ 1" was added
    assert sql.locator(".ins").all_inner_texts() == ["+", "1"] and sql.locator(".del").count() == 0
    gold_table, pred_table = detail.locator("table.res").all()
    assert gold_table.locator("td.diff").all_inner_texts() == ["30", "40", "50"]
    assert pred_table.locator("td.diff").all_inner_texts() == ["31", "41", "51"]
    assert "Spider components" in detail.inner_text()
    assert "first failure): music.sqlite \u2717\n" in detail.inner_text()  # the variant is not checked then
    assert "Baseline: right (broken)" in detail.inner_text()
    p.page.click("#list tr.ex[data-index='1']")
    assert p.page.locator("#list tr.detail").count() == 0

    p.page.click("#list tr.ex[data-index='3']")  # Ann is an extra row
    pred = p.page.locator("#list tr.detail table.res").nth(1)
    assert pred.locator("tr.extra").all_inner_texts() == ["Ann"]
    p.page.click("#list tr.ex[data-index='2']")  # Cy is missing
    gold = p.page.locator("#list tr.detail table.res").first
    assert gold.locator("tr.missing").all_inner_texts() == ["Cy"]
    p.page.click("#list tr.ex[data-index='7']")  # right on the original database, wrong on the variant
    text = p.page.locator("#list tr.detail").last.inner_text()
    assert "first failure): music.sqlite \u2713music_v1.sqlite \u2717" in text  # (tags, no space between)
    assert "on music_v1.sqlite" in text
    assert not p.problems and not p.dialogs
    p.close()


def test_training_page(browser, tmp_path):
    run = train_state(tmp_path / "run")
    p = Page(browser, build_report([run], tmp_path / "train.html"))
    labels = p.page.eval_on_selector_all("svg.chart", "s => s.map(x => x.getAttribute('aria-label'))")
    assert labels == ["reward per function (mean per step)", "validation EX (star: best checkpoint)",
                      "zero-variance groups (share)", "completion length (mean tokens)"]  # fmt: skip
    assert p.page.locator("svg.chart text.best").count() == 2  # one best checkpoint per stage
    reward = p.page.locator("svg.chart").first
    assert reward.locator("path").count() == 3  # execution, format, total
    assert "step 5 (60.0)" in p.page.inner_text("#phases")
    summaries = p.page.locator("details.samples summary").all_inner_texts()
    assert summaries == ["stage1 step 5 (EX 66.7): 6 of 6 shown, 4 of them right",
                         "stage1 step 10 (EX 50.0): 6 of 6 shown, 3 of them right",
                         "stage2 on dev: 2 of 2 shown, 1 of them right"]  # fmt: skip
    p.page.click("details.samples summary >> nth=2")
    assert "how many?" in p.page.locator("details.samples").nth(2).inner_text()
    assert not p.problems and not p.dialogs
    p.close()


@pytest.mark.parametrize("text", HOSTILE)
def test_untrusted_text_shows_literally_and_never_runs(browser, tmp_path, text):
    root = hostile_eval(tmp_path / "e", text)
    pages = [
        build_report([root, root / "gen"], tmp_path / "eval.html", title=text),
        build_report([root / "gen"], tmp_path / "gen.html", title=text),
        build_report([train_state(tmp_path / "run", text)], tmp_path / "train.html", title=text),
    ]
    for path in pages:
        p = Page(browser, path)
        for row in p.page.locator("#list tr.ex").all():
            row.click()
        for d in p.page.locator("details").all():
            d.evaluate("d => d.open = true")
        p.page.wait_for_timeout(50)
        assert p.page.evaluate("window.__xss") is None, path.name
        assert p.page.locator("img").count() == 0 and p.page.locator("script").count() == 2
        assert p.page.title() == text
        body = p.page.inner_text("body")
        assert body.count(text) >= (8 if path.name == "eval.html" else 2), (path.name, body)
        assert not p.dialogs and not p.problems, (p.dialogs, p.problems)
        p.close()


def test_ten_thousand_examples(browser, tmp_path):
    records = []
    for i in range(10_000):
        gold = {"columns": ["id", "name"], "rows": [[k, f"name {k}"] for k in range(i % 7)], "num_rows": i % 7}
        pred = {"columns": ["id", "name"], "rows": [[k, f"name {k + i % 2}"] for k in range(i % 5)], "num_rows": i % 5}
        records.append({
            "index": i, "db_id": f"db{i % 40}", "group": ["easy", "medium", "hard", "extra"][i % 4],
            "gold": f"SELECT id, name FROM t{i} WHERE x = {i}", "pred": f"SELECT id, name FROM t{i} WHERE x = {i % 3}",
            "metrics": {"execution": float(i % 3 == 0)}, "error_kind": "runtime" if i % 11 == 0 else None,
            "error": "", "extra": {"results": {"mode": "spider", "gold": gold, "pred": pred}},
        })  # fmt: skip
    summary = {"benchmark": "spider", "groups": ["easy", "medium", "hard", "extra"], "metrics": ["execution"],
               "summary": {g: {"count": 2500.0, "execution": 0.33} for g in ["easy", "medium", "hard", "extra", "all"]},
               "meta": {}}  # fmt: skip
    (tmp_path / "spider.json").write_text(json.dumps(summary))
    (tmp_path / "spider.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    path = build_report([tmp_path / "spider.json"], tmp_path / "big.html")
    size = path.stat().st_size
    assert size < 20 * 2**20
    t0 = time.perf_counter()
    p = Page(browser, path)
    opened = time.perf_counter() - t0
    assert p.count() == "10000 of 10000 examples"
    assert p.page.locator("#list tr.ex").count() == 200  # rows are rendered page by page
    t0 = time.perf_counter()
    p.page.select_option("#f-db", "db7")
    p.page.fill("#f-text", "where x = 1")
    p.wait_count("102 of")  # db7 (i % 40 == 7) and 'where x = 1' in the gold or predicted SQL
    filtered = time.perf_counter() - t0
    p.page.click("#list tr.ex >> nth=0")
    assert p.page.locator("#list tr.detail table.res").count() == 2
    print(f"10,000 examples: {size / 2**20:.1f} MiB, opened in {opened:.2f} s, filtered in {filtered:.2f} s")
    assert opened < 20 and filtered < 10  # generous: CI runs on 2 shared cores
    assert not p.problems
    p.close()
