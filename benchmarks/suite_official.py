"""The official test-suite evaluator on sqlrl's suites: do its verdicts equal sqlrl's, example by example?

The fixture is bench_eval.py's (sqlrl-toy train + dev questions, the gold plus mutated predictions). A
suite is built for every database from the fixture's gold queries (``build_suite``, ``-k``,
``--candidates``) into one folder in test-suite-sql-eval's layout, and both evaluators run execution
on it (``--db <suites>``, ``--etype exec``, with and without ``--plug_value``): the official
``evaluation.py`` (``--spider-official``: a test-suite-sql-eval checkout, fetched by the user, run with
``--official-python``) and ``evaluate_spider``. Every per-example verdict is compared; the run fails if
any differs. Also printed: how many predictions plain EX accepts on the original databases that the
suites reject (on both sides).

    PYTHONPATH=src python benchmarks/suite_official.py --spider-official /path/to/test-suite-sql-eval \\
        --official-python /path/to/venv/bin/python [-k 10] [--candidates 50] [--record]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_eval import SPIDER_OFFICIAL, SPIDER_OURS, build_fixture, run_driver, spider_mismatches  # noqa: E402


def build_suites(fx: Path, k: int, candidates: int) -> tuple[Path, dict]:
    """``fx/suites/<db_id>/`` for every database of the fixture, from its gold queries; a fixture folder
    ``fx/on_suites`` whose ``dev_databases`` is that folder (the drivers read ``dev_databases``)."""
    from sqlrl.suite import build_suite

    golds: dict[str, list[str]] = {}
    for line in (fx / "dev_gold.sql").read_text().splitlines():
        sql, _, db = line.partition("\t")
        if sql.strip() not in golds.setdefault(db.strip(), []):
            golds[db.strip()].append(sql.strip())
    stats = {}
    for db_id, queries in sorted(golds.items()):
        db = fx / "dev_databases" / db_id / f"{db_id}.sqlite"
        suite = build_suite(db, queries, k=k, candidates=candidates, out_dir=fx / "suites", progress=False)
        stats[db_id] = len(suite.variants)
    view = fx / "on_suites"
    view.mkdir()
    (view / "dev_databases").symlink_to(fx / "suites")
    for name in ("dev_gold.sql", "pred.sql", "tables.json"):
        (view / name).symlink_to(fx / name)
    return view, stats


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spider-official", required=True, help="a test-suite-sql-eval checkout (not bundled)")
    ap.add_argument("--official-python", default=sys.executable, help="interpreter with nltk and sqlparse")
    ap.add_argument("-k", type=int, default=10)
    ap.add_argument("--candidates", type=int, default=50)
    ap.add_argument("--variants", type=int, default=2, help="mutated predictions per question (default 2)")
    ap.add_argument("--record", action="store_true", help="write the section of benchmarks/RESULTS.md")
    a = ap.parse_args()
    official = str(Path(a.spider_official).resolve())
    env = {**os.environ, "PYTHONPATH": str(HERE.parent / "src")}
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        fx = Path(tmp)
        info = build_fixture(fx, a.variants)
        t0 = time.perf_counter()
        view, variants = build_suites(fx, a.k, a.candidates)
        build_s = time.perf_counter() - t0
        preds = (fx / "pred.sql").read_text().splitlines()
        rows = []
        ok = True
        for plug in (False, True):
            args = ["exec", "1" if plug else "0"]
            ours = run_driver(sys.executable, SPIDER_OURS, [str(view), "1", *args], env)
            theirs = run_driver(a.official_python, SPIDER_OFFICIAL, [official, str(view), *args])
            plain = run_driver(sys.executable, SPIDER_OURS, [str(fx), "1", *args], env)
            plain_off = run_driver(a.official_python, SPIDER_OFFICIAL, [official, str(fx), *args])
            m = spider_mismatches(ours, theirs, preds)
            rejected = sum(1 for p, s in zip(plain["exec"], ours["exec"], strict=True) if p and not s)
            rejected_off = sum(1 for p, s in zip(plain_off["exec"], theirs["exec"], strict=True) if p and not s)
            ok &= m["exec"] == 0
            row = (
                f"| exec{' + plug_value' if plug else ''} | {m['compared']} | {m['exec']} | "
                f"{sum(ours['exec'])} / {sum(theirs['exec'])} | {sum(plain['exec'])} / {sum(plain_off['exec'])} | "
                f"{rejected} / {rejected_off} | {ours['seconds']:.1f} / {theirs['seconds']:.1f} |"
            )
            print(row, flush=True)
            rows.append(row)
    table = "\n".join(
        [
            "| run | per-example verdicts compared (execution, hardness) | differ "
            "| right on the suites (sqlrl / official) | right on the databases "
            "(sqlrl / official) | rejected by the suites (sqlrl / official) | seconds (sqlrl 1 worker / official) |",
            "|---|---:|---:|---:|---:|---:|---:|",
            *rows,
        ]
    )
    print(f"suites: {sum(variants.values())} variants over {len(variants)} databases, built in {build_s:.1f} s")
    print("every verdict agrees" if ok else "VERDICTS DIFFER")
    if a.record:
        from _results import machine, record_section

        text = (
            "## The official test-suite evaluator on sqlrl's suites\n\n"
            f"bench_eval.py's fixture ({info['predictions']} predictions on {info['questions']} sqlrl-toy "
            f"questions: the gold plus mutations); a suite per database from the fixture's gold queries "
            f"(k = {a.k}, {a.candidates} candidates: {sum(variants.values())} variants over {len(variants)} "
            f"databases, {build_s:.1f} s); test-suite-sql-eval's `evaluation.py` and `evaluate_spider` run "
            "execution on the suites folder (`--db`, the official layout). *Rejected*: right on the original "
            "databases, wrong on the suites.\n\n"
            f"{table}\n\n"
            f"{'Every per-example verdict agrees.' if ok else 'Some verdicts differ.'} "
            "Command: `PYTHONPATH=src python benchmarks/suite_official.py --spider-official "
            f"/path/to/test-suite-sql-eval --official-python /path/to/venv/bin/python -k {a.k} --candidates "
            f"{a.candidates}`. Machine: {machine()}; load average {load:.1f} at the start.\n"
        )
        record_section("suite official", text)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
