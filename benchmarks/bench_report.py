"""How large ``sqlrl report``'s page is and how fast it opens and filters, for a 10,000-example evaluation.

sqlrl-toy's dev questions are cycled to ``--examples`` gold queries; a third of the predictions are
mutated (bench_eval.py's mutations), the rest are the gold. ``evaluate_spider`` (execution, the default 20
result rows kept per example) writes its output, ``build_report`` turns it into the page, and headless
Chromium (Debian's, through Playwright's ``executable_path``; skipped with a note when either is missing)
opens it, applies a database filter plus a text search, and opens one example's detail.

    PYTHONPATH=src python benchmarks/bench_report.py [--examples 10000] [--record]
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_eval import KINDS, mutate  # noqa: E402


def _fixture(root: Path, n: int) -> tuple[Path, Path, Path, Path]:
    from sqlrl.data import load_toy, toy_dir

    examples = list(load_toy("dev", cache_dir=root / "toy"))
    toy = toy_dir(root / "toy")
    tables: dict[str, list[str]] = {}
    rng = random.Random(0)
    gold_lines, pred_lines = [], []
    for i in range(n):
        ex = examples[i % len(examples)]
        if ex.db_id not in tables:
            con = sqlite3.connect(ex.db_path)
            tables[ex.db_id] = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
            con.close()
        pred = ex.gold_sql
        if i % 3 == 0:
            pred = mutate(ex.gold_sql, rng.choice(KINDS), tables[ex.db_id], rng) or ex.gold_sql
        gold_lines.append(f"{ex.gold_sql}\t{ex.db_id}\n")
        pred_lines.append(" ".join(pred.split()) + "\n")
    (root / "gold.sql").write_text("".join(gold_lines))
    (root / "pred.sql").write_text("".join(pred_lines))
    return root / "gold.sql", root / "pred.sql", toy / "database", toy / "tables.json"


def _browser_times(page_path: Path) -> dict[str, float] | str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return "no playwright installed"
    if exe is None:
        return "no chromium on PATH"
    out: dict[str, float] = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        page = browser.new_page()
        t0 = time.perf_counter()
        page.goto(page_path.as_uri())
        page.wait_for_selector("#list tr.ex")
        out["open"] = time.perf_counter() - t0
        count_before = page.inner_text("#count")

        def until_changed(before: str) -> str:  # polled: the page's Content-Security-Policy forbids eval
            while (now := page.inner_text("#count")) == before:
                time.sleep(0.005)
            return now

        t0 = time.perf_counter()
        page.select_option("#f-db", page.locator("#f-db option").nth(1).get_attribute("value"))
        count = until_changed(count_before)
        out["filter"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        page.fill("#f-text", "count")  # applied after the page's 120 ms typing pause, included
        until_changed(count)
        out["search"] = time.perf_counter() - t0
        t0 = time.perf_counter()
        page.click("#list tr.ex >> nth=0")
        page.wait_for_selector("#list tr.detail")
        out["detail"] = time.perf_counter() - t0
        browser.close()
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--examples", type=int, default=10_000)
    ap.add_argument("--record", action="store_true", help="write the table into benchmarks/RESULTS.md")
    a = ap.parse_args()

    from sqlrl.eval.spider import evaluate_spider
    from sqlrl.report import build_report

    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        gold, pred, db, tables = _fixture(root, a.examples)
        t0 = time.perf_counter()
        report = evaluate_spider(gold, pred, db, tables, etype="exec", progress=False)
        eval_s = time.perf_counter() - t0
        paths = report.write(root / "eval", chart=False)
        t0 = time.perf_counter()
        page = build_report([paths["json"]], root / "report.html")
        build_s = time.perf_counter() - t0
        jsonl_mb, html_mb = paths["jsonl"].stat().st_size / 1e6, page.stat().st_size / 1e6
        browser = _browser_times(page)
    cells = [f"{a.examples:,}", f"{eval_s:.1f}", f"{jsonl_mb:.1f}", f"{build_s:.1f}", f"{html_mb:.1f}"]
    if isinstance(browser, dict):
        cells += [f"{browser[k]:.2f}" for k in ("open", "filter", "search", "detail")]
    else:
        cells += [browser, "", "", ""]
    table = "\n".join([
        "| examples | eval s | eval JSONL MB | report s | page MB | open s | database filter s | text search s "
        "| detail s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        "| " + " | ".join(cells) + " |",
    ])  # fmt: skip
    print(table)
    if a.record:
        from _results import machine, record_section

        text = (
            "## The HTML report at 10,000 examples\n\n"
            f"{__doc__.split(chr(10) + chr(10), 1)[1].split(chr(10) + chr(10) + '    PYTHONPATH')[0]}\n\n"
            f"{table}\n\nMachine: {machine()}; 1-minute load average {load:.2f} at the start. Reproduce:\n\n"
            f"    PYTHONPATH=src python benchmarks/bench_report.py --examples {a.examples} --record\n"
        )
        record_section("report size", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
