"""What group self-evaluation buys over one sample and over majority vote, at equal generator calls.

The generator is *scripted* so that its error rate is known: for every sqlrl-toy question (train +
dev, 508 by default) each sample is, with probability ``p``, the gold query (verbatim or as
sqlglot re-prints it, so that distinct texts share one result cluster); otherwise one of that
question's *mistakes*: sqlglot mutations of the gold query that change its result or fail (a
dropped condition, a literal in the wrong case, a number off by one, ``>`` for ``>=``, a wrong
column, swapped aggregate, toggled DISTINCT, flipped ORDER BY direction, another LIMIT, a dropped
GROUP BY, IN for NOT IN, UNION for INTERSECT/EXCEPT, a misspelt column, a syntax error, or a reply
with no SQL). Every mutation is executed first and kept only if its result differs from the gold
result (or it fails). Mistakes are correlated, as a model's are: one *favourite* executable mistake
per question takes half of the error mass, the others share the rest. The generator ignores
refinement feedback, so refinement is not measured here.

Methods, from the same N samples per question (so at equal generator calls):

- *single sample*: the first sample (what N = 1 gives);
- *majority vote*: the largest result cluster (results with rows first, then simpler query);
- *verbal*: the loop's choice with a judge (``judge_rounds`` R rounds, averaged);
- *any* (pass@N): some sample is right, the ceiling of any selection.

Judges (the simulated judge reads only the prompt the loop sends, as an LLM would):

- *rubric* (never sees the gold): a deterministic checklist over the question, each candidate's
  SQL and its execution summary, plus Gaussian noise per round (``--rubric-noise``). It starts at
  5 and adds the share of queries that gave the result (x3); subtracts for no rows (-3), only
  NULLs (-2), a string literal of the SQL that the question does not mention (-1.5 each, case
  sensitive), a number of the question missing from the SQL (-1 each) or a number in the SQL that
  the question does not contain (-0.5 each, 0 and 1 exempt), a missing COUNT for "how many /
  number of / count" (-2), a missing AVG / SUM / MAX-or-DESC / MIN-or-ASC for "average",
  "total", "most/highest/largest/maximum", "least/lowest/smallest/minimum" (-1.5), DISTINCT
  without "different/distinct/unique" (-0.5) and a missing one with those words (-1), and a
  failed query (score 0). It is a stand-in for an LLM's reading of the SQL, not a measured LLM.
- *gold-aware noisy judge* (a calibration only; it knows the gold): scores 6.5 + noise for a
  result that matches the gold and 3.5 + noise otherwise, with the noise set so that in one round
  a right candidate outscores a wrong one with probability ``a`` (``--oracle-accuracy``). It shows
  what a judge of a given discrimination adds on top of the votes.

    PYTHONPATH=src python benchmarks/bench_verbal.py --record
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from _results import record_section

from sqlrl.data import load_toy
from sqlrl.eval._exec import evaluation_service
from sqlrl.sandbox.service import ExecutionService
from sqlrl.scoring import compare, gold_has_order_by
from sqlrl.verbal import FunctionBackend, VerbalConfig, VerbalLoop

SECTION = "Verbal self-evaluation on sqlrl-toy"
MISTAKES = ("drop_condition", "literal_case", "number_shift", "comparison", "wrong_column", "aggregate", "distinct",
            "order_direction", "limit", "drop_group_by", "negate_in", "set_operation", "misspelt_column",
            "syntax_error")  # fmt: skip
_QUESTION = re.compile(r"\nQuestion: (.*?)\n\n\d+ sampled queries ran", re.S)
_CANDIDATE = re.compile(
    r"^Candidate (\d+)(?: \(result of (\d+) of the (\d+) queries\))?:\n```sql\n(.*?)\n```\n(.*?)"
    r"(?=\n\nCandidate \d+|\n\nScore every candidate)",
    re.S | re.M,
)


# -- the scripted generator ------------------------------------------------------------------------


def mutate(sql: str, kind: str, columns: dict[str, list[str]], rng: random.Random) -> str | None:
    """One realistic mistake of ``kind`` in ``sql``, or None when it does not apply."""
    import sqlglot
    from sqlglot import exp

    if kind == "syntax_error":
        return sql.replace("FROM", "FORM", 1) if "FROM" in sql else None
    try:
        tree = sqlglot.parse_one(sql, read="sqlite")
    except sqlglot.errors.ParseError:
        return None
    select = tree if isinstance(tree, exp.Select) else tree.find(exp.Select)
    if select is None:
        return None
    if kind == "drop_condition":
        where = select.args.get("where")
        if where is None:
            return None
        cond = where.this
        if isinstance(cond, (exp.And, exp.Or)):
            where.set("this", cond.left if rng.random() < 0.5 else cond.right)
        else:
            select.set("where", None)
    elif kind == "literal_case":
        lit = next((s for s in tree.find_all(exp.Literal) if s.is_string and s.this.strip()), None)
        if lit is None:
            return None
        text = lit.this
        lit.set("this", text.capitalize() if text != text.capitalize() else text.lower())
    elif kind == "number_shift":
        nums = [n for n in tree.find_all(exp.Literal) if n.is_number and not isinstance(n.parent, exp.Limit)]
        if not nums:
            return None
        n = rng.choice(nums)
        value = float(n.this)
        n.set("this", str(int(value) + rng.choice((-1, 1))) if value.is_integer() else str(round(value * 1.1, 2)))
    elif kind == "comparison":
        swap = {exp.GT: exp.GTE, exp.GTE: exp.GT, exp.LT: exp.LTE, exp.LTE: exp.LT}
        node = next((c for c in tree.find_all(*swap) if True), None)
        if node is None:
            return None
        node.replace(swap[type(node)](this=node.this.copy(), expression=node.expression.copy()))
    elif kind == "wrong_column":
        col = next((c for c in select.expressions if isinstance(c, exp.Column)), None)
        table = next(iter(select.find_all(exp.Table)), None)
        if col is None or table is None:
            return None
        others = [c for c in columns.get(table.name, []) if c != col.name and not c.endswith("_id")]
        if not others:
            return None
        col.set("this", exp.to_identifier(rng.choice(others)))
    elif kind == "aggregate":
        swap = {exp.Max: exp.Min, exp.Min: exp.Max, exp.Avg: exp.Sum, exp.Sum: exp.Avg}
        agg = next(tree.find_all(*swap), None)
        if agg is None:
            return None
        agg.replace(swap[type(agg)](this=agg.this.copy()))
    elif kind == "distinct":
        select.set("distinct", None if select.args.get("distinct") else exp.Distinct())
    elif kind == "order_direction":
        ordered = next(tree.find_all(exp.Ordered), None)
        if ordered is None:
            return None
        ordered.set("desc", not ordered.args.get("desc"))
    elif kind == "limit":
        limit = tree.args.get("limit") or select.args.get("limit")
        if limit is None:
            return None
        value = int(limit.expression.this) if isinstance(limit.expression, exp.Literal) else 1
        limit.set("expression", exp.Literal.number(value + rng.choice((1, 2))))
    elif kind == "drop_group_by":
        if not select.args.get("group"):
            return None
        select.set("group", None)
    elif kind == "negate_in":
        node = next(tree.find_all(exp.In), None)
        if node is None:
            return None
        if isinstance(node.parent, exp.Not):
            node.parent.replace(node.copy())
        else:
            node.replace(exp.Not(this=node.copy()))
    elif kind == "set_operation":
        swap = {exp.Union: exp.Intersect, exp.Intersect: exp.Union, exp.Except: exp.Intersect}
        if type(tree) not in swap:
            return None
        tree = swap[type(tree)](this=tree.this.copy(), expression=tree.expression.copy(), distinct=True)
    elif kind == "misspelt_column":
        col = next(tree.find_all(exp.Column), None)
        if col is None:
            return None
        col.set("this", exp.to_identifier(col.name + "s"))
    return tree.sql(dialect="sqlite")


class Question:
    """The gold query, its cluster-preserving variants and its result-changing mistakes."""

    def __init__(self, ex: Any, pool: ExecutionService, columns: dict[str, list[str]], rng: random.Random) -> None:
        import sqlglot

        self.ex = ex
        gold = pool.execute(ex.db_path, ex.gold_sql, gold=True)
        order = gold_has_order_by(ex.gold_sql)
        reprint = sqlglot.transpile(ex.gold_sql, read="sqlite", write="sqlite")[0]
        self.right = [ex.gold_sql, reprint]
        self.executable_mistakes: list[str] = []
        self.failing_mistakes: list[str] = []
        self.kinds: dict[str, str] = {}
        for kind in MISTAKES:
            sql = mutate(ex.gold_sql, kind, columns, rng)
            if sql is None or sql in self.executable_mistakes or sql in self.failing_mistakes:
                continue
            r = pool.execute(ex.db_path, sql)
            self.kinds[sql] = kind
            if not r.ok:
                self.failing_mistakes.append(sql)
            elif not compare(gold.table, r.table, mode="spider", order_matters=order):
                self.executable_mistakes.append(sql)
        rng.shuffle(self.executable_mistakes)
        self.favourite = self.executable_mistakes[0] if self.executable_mistakes else None
        self.others = self.executable_mistakes[1:] + self.failing_mistakes + ["NO_SQL"]

    def sample(self, p: float, rng: random.Random) -> str:
        if rng.random() < p:
            sql = rng.choice(self.right)
        elif self.favourite is not None and rng.random() < 0.5:
            sql = self.favourite
        else:
            sql = rng.choice(self.others)
        if sql == "NO_SQL":
            return "I am not sure which tables hold this information."
        return f"```sql\n{sql}\n```"


def table_columns(db_path: Path) -> dict[str, list[str]]:
    con = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
    try:
        names = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return {t: [r[1] for r in con.execute(f'PRAGMA table_info("{t}")')] for t in names}
    finally:
        con.close()


def _question_of(messages: list[dict[str, str]]) -> str:
    return messages[-1]["content"].rsplit("Question: ", 1)[-1].strip() if len(messages) <= 2 else ""


def generator(questions: dict[str, Question], p: float) -> FunctionBackend:
    def fn(messages, n, seed=None, **kw):
        q = questions[_question_of(messages)]
        rng = random.Random(seed)
        return [q.sample(p, rng) for _ in range(n)]

    return FunctionBackend(fn, "scripted-generator")


# -- simulated judges ------------------------------------------------------------------------------


def parse_prompt(content: str) -> tuple[str, list[dict[str, Any]]]:
    """The question and the candidates (label, votes, total, sql, summary) of a judge prompt."""
    m = _QUESTION.search(content)
    question = m.group(1).strip() if m else ""
    cands = []
    for label, votes, total, sql, summary in _CANDIDATE.findall(content):
        cands.append({"label": label, "votes": int(votes or 1), "total": int(total or 1), "sql": sql,
                      "summary": summary})  # fmt: skip
    return question, cands


_WORDS = {
    "count": (r"\bhow many\b|\bnumber of\b|\bcount\b", r"count\("),
    "avg": (r"\baverage\b|\bmean\b", r"avg\("),
    "sum": (r"\btotal\b", r"sum\(|count\("),
    "max": (r"\bmost\b|\bhighest\b|\blargest\b|\bmaximum\b|\blongest\b|\boldest\b", r"max\(|\bdesc\b"),
    "min": (r"\bleast\b|\blowest\b|\bsmallest\b|\bminimum\b|\bshortest\b|\bfewest\b", r"min\(|\basc\b|order by"),
}


def rubric_score(question: str, cand: dict[str, Any]) -> float:
    """The rubric judge's score of one candidate, before noise (see the module docs)."""
    summary, sql = cand["summary"], cand["sql"]
    if summary.startswith("Error"):
        return 0.0
    q, low = question.lower(), sql.lower()
    score = 5.0 + 3.0 * cand["votes"] / max(1, cand["total"])
    if summary.startswith("Result: no rows"):
        score -= 3
    values = [line.strip() for line in summary.splitlines()[1:]]
    if values and all(set(v.strip("()").replace(",", " ").split()) <= {"NULL"} for v in values):
        score -= 2
    for lit in re.findall(r"'((?:[^']|'')*)'", sql):
        if lit and lit not in question:
            score -= 1.5
    q_numbers = set(re.findall(r"\b\d+(?:\.\d+)?\b", question))
    sql_numbers = set(re.findall(r"(?<![\w.])\d+(?:\.\d+)?\b", sql))
    score -= 1.0 * len(q_numbers - sql_numbers)
    score -= 0.5 * len({n for n in sql_numbers - q_numbers if n not in ("0", "1")})
    for name, (ask, want) in _WORDS.items():
        if re.search(ask, q) and not re.search(want, low):
            score -= 2.0 if name == "count" else 1.5
    wants_distinct = re.search(r"\bdifferent\b|\bdistinct\b|\bunique\b", q) is not None
    if "distinct" in low and not wants_distinct:
        score -= 0.5
    if wants_distinct and "distinct" not in low and "group by" not in low:
        score -= 1.0
    return score


def rubric_judge(noise: float) -> FunctionBackend:
    def fn(messages, n, seed=None, **kw):
        question, cands = parse_prompt(messages[1]["content"])
        rng = random.Random(seed)
        scores = {c["label"]: round(min(10.0, max(0.0, rubric_score(question, c) + rng.gauss(0, noise))), 2)
                  for c in cands}  # fmt: skip
        return [json.dumps({"scores": scores, "critique": "none"})] * n

    return FunctionBackend(fn, "rubric-judge")


def oracle_judge(questions: dict[str, Question], pool: ExecutionService, accuracy: float) -> FunctionBackend:
    """Knows the gold: right results score 6.5 + noise, wrong ones 3.5 + noise; P(right > wrong) = accuracy."""
    sigma = 3.0 / (2**0.5 * statistics.NormalDist().inv_cdf(accuracy))
    cache: dict[tuple[str, str], bool] = {}

    def right(q: Question, sql: str) -> bool:
        key = (q.ex.id, sql)
        if key not in cache:
            gold = pool.execute(q.ex.db_path, q.ex.gold_sql, gold=True)
            r = pool.execute(q.ex.db_path, sql)
            cache[key] = bool(r.ok and compare(gold.table, r.table, order_matters=gold_has_order_by(q.ex.gold_sql)))
        return cache[key]

    def fn(messages, n, seed=None, **kw):
        question, cands = parse_prompt(messages[1]["content"])
        q = questions[question]
        rng = random.Random(seed)
        scores = {c["label"]: round(min(10.0, max(0.0, (6.5 if right(q, c["sql"]) else 3.5) + rng.gauss(0, sigma))), 2)
                  for c in cands}  # fmt: skip
        return [json.dumps({"scores": scores})] * n

    return FunctionBackend(fn, f"oracle-judge-{accuracy}")


# -- the comparison --------------------------------------------------------------------------------


def run(examples, questions, pool, p, n, judge, seed, rounds, vote_weight) -> dict[str, Any]:
    cfg = VerbalConfig(k=n, max_attempts=n, sample_batch=n, judge_rounds=rounds, seed=seed, log_prompts=False,
                       vote_weight=vote_weight)  # fmt: skip
    gen = generator(questions, p)
    hits = {"single": 0, "majority": 0, "verbal": 0, "any": 0}
    judge_calls = 0
    per_question = []
    with VerbalLoop(gen, judge, config=cfg, pool=pool) as loop:
        for ex in examples:
            traj = loop.solve(ex)
            for key, name in (("single", "single"), ("majority", "majority"), ("verbal", "prediction"), ("any", "any")):
                hits[key] += bool(traj.gold.get(name))
            per_question.append((bool(traj.gold.get("prediction")), bool(traj.gold.get("majority"))))
            judge_calls += len(traj.judge)
    total = len(examples)
    out = {k: v / total for k, v in hits.items()}
    out["judge_calls"] = judge_calls / total
    out["wins"] = sum(1 for v, m in per_question if v and not m)
    out["losses"] = sum(1 for v, m in per_question if m and not v)
    return out


def summary_of(pool: ExecutionService, ex: Any, sql: str) -> str:
    from sqlrl.verbal.prompts import format_summary

    r = pool.execute(ex.db_path, sql)
    return format_summary(r.ok, r.columns, (r.rows or [])[:5], r.num_rows, error_kind=str(r.error_kind), error=r.error)


def rubric_audit(questions: dict[str, Question], pool: ExecutionService) -> dict[str, list[int]]:
    """Per mistake kind: how often the noise-free rubric scores the gold above / equal to / below the mistake
    (equal votes), over the executable mistakes."""
    out: dict[str, list[int]] = {}
    for question, q in questions.items():
        gold = rubric_score(question, {"votes": 1, "total": 2, "sql": q.ex.gold_sql,
                                       "summary": summary_of(pool, q.ex, q.ex.gold_sql)})  # fmt: skip
        for sql in q.executable_mistakes:
            wrong = rubric_score(question, {"votes": 1, "total": 2, "sql": sql, "summary": summary_of(pool, q.ex, sql)})
            row = out.setdefault(q.kinds[sql], [0, 0, 0])
            row[0 if gold > wrong else 1 if gold == wrong else 2] += 1
    return out


def official_check(examples, questions, pool, p, n, judge, rounds, cache) -> dict[str, float]:
    """One configuration through ``run_verbal``: its pred.sql scored by the Spider evaluator (exec)."""
    from sqlrl.data.example import ExampleSet
    from sqlrl.data.toy.load import toy_dir
    from sqlrl.eval.spider import evaluate_spider
    from sqlrl.verbal import read_trajectories, run_verbal

    dataset = ExampleSet("sqlrl-toy", "train+dev", list(examples))
    cfg = VerbalConfig(k=n, max_attempts=n, sample_batch=n, judge_rounds=rounds, seed=0, log_prompts=False)
    out = cache / "run"
    summary = run_verbal(dataset, generator(questions, p), judge, out_dir=out, config=cfg, progress=False, pool=pool)
    root = toy_dir(cache)
    report = evaluate_spider(summary.files["gold"], summary.files["pred"], root / "database", root / "tables.json",
                             etype="exec", workers=1)  # fmt: skip
    records = {r["id"]: r for r in read_trajectories(summary.files["trajectories"])}
    differ = distinct_only = 0
    for ex, result in zip(examples, report.examples, strict=True):
        rec = records[ex.id]
        if (result.metrics["execution"] == 1.0) != bool(rec["gold_match"]["prediction"]):
            differ += 1
            distinct_only += ("distinct" in ex.gold_sql.lower()) != ("distinct" in rec["prediction"].lower())
    return {"p": p, "n": n, "evaluator": report.summary()["all"]["execution"], "differ": differ,
            "distinct_only": distinct_only, "compare": summary.stats["gold_match"]["prediction"]}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--p", type=float, nargs="+", default=[0.3, 0.5, 0.7], help="probability a sample is right")
    ap.add_argument("--n", type=int, nargs="+", default=[4, 8], help="generator samples per question")
    ap.add_argument("--seeds", type=int, default=2, help="repetitions with different sampling seeds")
    ap.add_argument("--rounds", type=int, default=3, help="judge rounds R")
    ap.add_argument("--rubric-noise", type=float, default=1.0, help="sd of the rubric judge's noise per round")
    ap.add_argument("--oracle-accuracy", type=float, nargs="*", default=[0.65, 0.8],
                    help="one-round pairwise accuracies of the gold-aware judge (calibration)")  # fmt: skip
    ap.add_argument("--vote-weight", type=float, default=1.0, help="VerbalConfig.vote_weight of the '+ votes' runs")
    ap.add_argument("--limit", type=int, default=None, help="first N questions only (quick look)")
    ap.add_argument("--record", action="store_true", help="write the section into benchmarks/RESULTS.md")
    args = ap.parse_args()

    t0 = time.perf_counter()
    load_before = os.getloadavg()[0]
    cache = Path(tempfile.mkdtemp(prefix="sqlrl-bench-verbal-"))
    examples = list(load_toy("train", cache_dir=cache)) + list(load_toy("dev", cache_dir=cache))
    examples = examples[: args.limit] if args.limit else examples
    rng = random.Random(0)
    pool = evaluation_service(engine="sqlite", timeout=10.0, max_rows=100_000)
    columns = {ex.db_id: table_columns(ex.db_path) for ex in examples}
    questions = {ex.question: Question(ex, pool, columns[ex.db_id], rng) for ex in examples}
    with_mistake = sum(1 for q in questions.values() if q.favourite is not None)
    audit = rubric_audit(questions, pool)
    mistakes = sum(len(q.executable_mistakes) + len(q.failing_mistakes) for q in questions.values())

    w = args.vote_weight
    judges: dict[str, tuple[Any, float]] = {
        "rubric": (lambda: rubric_judge(args.rubric_noise), 0.0),
        "rubric+votes": (lambda: rubric_judge(args.rubric_noise), w),
    }
    for a in args.oracle_accuracy:
        judges[f"a={a:g}"] = (lambda a=a: oracle_judge(questions, pool, a), 0.0)
        judges[f"a={a:g}+votes"] = (lambda a=a: oracle_judge(questions, pool, a), w)
    results: dict[tuple[str, float, int], list[dict[str, Any]]] = {}
    for p in args.p:
        for n in args.n:
            for name, (make, weight) in judges.items():
                for s in range(args.seeds):
                    r = run(examples, questions, pool, p, n, make(), seed=s, rounds=args.rounds, vote_weight=weight)
                    results.setdefault((name, p, n), []).append(r)
                mean = {
                    k: statistics.mean(x[k] for x in results[(name, p, n)]) for k in ("single", "majority", "verbal")
                }
                print(f"p={p} N={n} {name:>14}: single {mean['single']:.3f} majority {mean['majority']:.3f} "
                      f"verbal {mean['verbal']:.3f}", file=sys.stderr, flush=True)  # fmt: skip
    official = official_check(examples, questions, pool, args.p[0], args.n[0], judges["rubric"][0](), args.rounds,
                              cache)  # fmt: skip
    pool.close()
    elapsed = time.perf_counter() - t0

    def cell(name, p, n, key):
        runs = results[(name, p, n)]
        return statistics.mean(r[key] for r in runs)

    def pct(x):
        return f"{100 * x:.1f}"

    def row(values: list[float]) -> list[str]:
        best = max(values)
        return [f"**{pct(v)}**" if v == best else pct(v) for v in values]

    grid = [(p, n) for p in args.p for n in args.n]

    def gain(name: str, k: tuple[float, int]) -> float:
        return 100 * (cell(name, *k, "verbal") - cell("rubric", *k, "majority"))

    def span(name: str) -> str:
        lo, hi = min(gain(name, k) for k in grid), max(gain(name, k) for k in grid)
        return f"{lo:+.1f}" if round(lo, 1) == round(hi, 1) else f"{lo:+.1f} to {hi:+.1f}"

    def wl(name: str, cells: list[tuple[float, int]]) -> str:
        runs = [r for k in cells for r in results[(name, *k)]]
        return f"{sum(r['wins'] for r in runs)} / {sum(r['losses'] for r in runs)}"

    main_rows = []
    for p, n in grid:
        values = [cell("rubric", p, n, "single"), cell("rubric", p, n, "majority"), cell("rubric", p, n, "verbal"),
                  cell("rubric+votes", p, n, "verbal")]  # fmt: skip
        main_rows.append(
            f"| {p:g} | {n} | " + " | ".join(row(values)) + f" | {wl('rubric', [(p, n)])} | "
            f"{wl('rubric+votes', [(p, n)])} | {pct(cell('rubric', p, n, 'any'))} | "
            f"{cell('rubric', p, n, 'judge_calls'):.1f} |"
        )
    vote_gain = [100 * (cell("rubric", *k, "majority") - cell("rubric", *k, "single")) for k in grid]
    lo_p, hi_p = min(args.p), max(args.p)
    gain_lo = statistics.mean(gain("rubric", (lo_p, n)) for n in args.n)
    gain_hi = statistics.mean(gain("rubric", (hi_p, n)) for n in args.n)
    trend = ""
    if gain_lo > gain_hi:
        trend = (
            f" The judge helps most when samples are often wrong (p = {lo_p:g}: {gain_lo:+.1f} points on average "
            f"over N) and a favourite mistake outvotes the right query; at p = {hi_p:g} it adds {gain_hi:+.1f}."
        )
    if min(gain("rubric", k) for k in grid) < 0:
        trend += " Where the vote is already reliable it can cost accuracy."
    calibration = ""
    if args.oracle_accuracy:
        parts = [f"{span(f'a={a:g}')} points at a = {a:g} ({span(f'a={a:g}+votes')} with the votes added)"
                 for a in args.oracle_accuracy]  # fmt: skip
        calibration = (" A gold-aware judge of known discrimination changes accuracy over majority vote by "
                       + " and ".join(parts) + ".")  # fmt: skip
        weakest = f"a={min(args.oracle_accuracy):g}"
        top, low = (hi_p, max(args.n)), (lo_p, max(args.n))
        if gain(weakest, top) < 0:
            calibration += (
                f" A weak judge that ignores the votes overrules good majorities (a = {min(args.oracle_accuracy):g}, "
                f"p = {top[0]:g}, N = {top[1]}: {gain(weakest, top):+.1f} points); adding the vote share to its scores "
                f"(`vote_weight={w:g}`) gives {gain(weakest + '+votes', top):+.1f} there, but where a favourite "
                f"mistake outvotes the right query it gives back part of the gain (p = {low[0]:g}, N = {low[1]}: "
                f"{gain(weakest, low):+.1f} without, {gain(weakest + '+votes', low):+.1f} with the votes). How much to "
                "trust the votes depends on how often the model is right, which a real run can estimate on a dev split."
            )
    lines = [f"## {SECTION}", ""]
    lines += [
        f"**Result.** With a scripted generator of known error rate on {len(examples)} sqlrl-toy questions "
        f"and equal generator calls, majority vote by result cluster beats a single sample by "
        f"{min(vote_gain):+.1f} to {max(vote_gain):+.1f} points (by p and N). Verbal self-evaluation with a "
        f"rule-based judge that never sees the gold changes accuracy over majority vote by {span('rubric')} points "
        f"(won / lost questions against majority vote over the grid and seeds: {wl('rubric', grid)}), and by "
        f"{span('rubric+votes')} points with `vote_weight={w:g}` ({wl('rubric+votes', grid)}).{trend} The rubric "
        "judge is an optimistic stand-in: its rules target the script's "
        "mistake kinds (literal case, numbers, aggregates, LIMIT) and it cannot see a wrong column, a dropped GROUP "
        f"BY or a negated IN (table below).{calibration} Whether a real LLM judge reads SQL this well is not "
        "measured here.",
        "",
        "Execution accuracy (%, sqlrl `compare` in spider mode against the gold result, the metric `sqlrl eval "
        f"spider --etype exec` reports), mean of {args.seeds} sampling seeds, best of a row in bold; *W / L*: "
        "questions where verbal is right and majority vote wrong / the reverse, summed over seeds; *judge calls*: "
        f"judge requests per question (R = {args.rounds} rounds; none when all results agree). Every method uses "
        "the same N generator samples.",
        "",
        f"| p (sample right) | N samples | single sample | majority vote | verbal, rubric judge | verbal, rubric + "
        f"votes (w = {w:g}) | W / L | W / L (+ votes) | any sample right | judge calls |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        *main_rows,
        "",
    ]
    total = [sum(r[i] for r in audit.values()) for i in range(3)]
    n_audit = sum(total) or 1
    lines += [
        "How well the rubric judge tells the gold from each kind of executable mistake, without noise and with "
        f"equal votes (gold scored higher / equal / lower). Over all {n_audit} pairs it ranks the gold first "
        f"{pct(total[0] / n_audit)}% of the time, ties {pct(total[1] / n_audit)}% (a tie falls back to the vote) "
        f"and ranks it lower {pct(total[2] / n_audit)}%; with noise (sd {args.rubric_noise:g} per score) and "
        f"R = {args.rounds} rounds some of these flip.",
        "",
        "| mistake | higher | equal | lower |",
        "|---|---:|---:|---:|",
        *[f"| {kind} | {r[0]} | {r[1]} | {r[2]} |" for kind, r in sorted(audit.items())],
        "",
    ]
    if args.oracle_accuracy:
        heads = [h for a in args.oracle_accuracy for h in (f"a = {a:g}", f"a = {a:g} + votes")]
        lines += [
            "Calibration with a gold-aware noisy judge (it *knows* the gold result; *a* is the probability that in "
            "one round it scores a right candidate above a wrong one; *+ votes*: `vote_weight` "
            f"{w:g}). Same samples as above.",
            "",
            "| p | N | majority vote | " + " | ".join(heads) + " |",
            "|---:|---:|---:|" + "---:|" * len(heads),
        ]
        for p, n in grid:
            values = [cell("rubric", p, n, "majority")] + [
                cell(name, p, n, "verbal") for a in args.oracle_accuracy for name in (f"a={a:g}", f"a={a:g}+votes")
            ]
            lines.append(f"| {p:g} | {n} | " + " | ".join(row(values)) + " |")
        lines.append("")
    lines += [
        f"Setup: {len(examples)} questions (train + dev), {mistakes} validated mistakes ({with_mistake} questions "
        f"have an executable one); judge rounds R = {args.rounds}, rubric noise sd {args.rubric_noise:g}; "
        "`VerbalConfig(k=N, max_attempts=N, sample_batch=N, judge_rounds=R)`, other settings default (results "
        "with rows rank "
        "first in the vote). The judges are described in the script's docstring: the rubric judge is a "
        "checklist plus noise, not a language model, and the scripted generator ignores feedback, so refinement "
        "rounds are not measured. How the numbers move with a real model is the open question; run "
        "`sqlrl verbal` against an endpoint for that.",
        "",
        f"Cross-check: the p={official['p']:g}, N={official['n']} rubric run (seed 0) written by `run_verbal` and "
        f"scored by `sqlrl eval spider --etype exec` (test-suite semantics, DISTINCT removed as the official "
        f"script does) gives {pct(official['evaluator'])}% against {pct(official['compare'])}% from the loop's "
        f"own gold check; they differ on {official['differ']} questions, {official['distinct_only']} of which "
        "differ from the gold only in DISTINCT, which the official script removes before executing.",
        "",
        "Reproduce:",
        "",
        "    PYTHONPATH=src python benchmarks/bench_verbal.py --record",
        "",
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"whole run {elapsed:.0f} s (1-minute load average {load_before:.2f} before).",
    ]
    text = "\n".join(lines)
    print(text)
    if args.record:
        print(f"recorded in {record_section(SECTION, text)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
