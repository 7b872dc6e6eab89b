"""Scoring core (``sqlrl._core``) vs two pure-Python baselines.

Baselines, both given the Python row tuples that ``sqlite3`` returns:

- *official-style* (``benchmarks/official_style.py``): the official scripts' algorithms on their
  data structures, written from their semantics: test-suite ``result_eq`` for spider, BIRD's
  row sets for bird, mini-dev's positional rows for soft_f1, Spider 2.0's DataFrame column
  vectors for spider2, PaVeRL's DataFrame dtype logic for paverl. ``strict`` and ``table_f1``
  are sqlrl's own and have no official script;
- the *twin* ``sqlrl.scoring.reference``: the readable pure-Python statement of every rule
  (hash sets and ``Counter`` where the scripts enumerate), for all 7 modes and metrics.

Every execution mode and partial metric is timed on result tables of 1k, 10k and 100k rows
(5 columns: int id, int category, float price, text name, float score with NULLs) against four
realistic predictions:

- ``shuffled``: the gold rows shuffled, columns in the gold's order (what a correct query without
  ORDER BY returns: every mode reads every row);
- ``copy``: the gold rows shuffled and the columns permuted, as a correct query with another
  column order and no ORDER BY returns them;
- ``perturbed``: that copy with 1% of the rows edited (a price off by 0.004 or a renamed
  item), two rows dropped and three foreign rows added;
- ``near``: the copy with 1% of the prices off by 0.004: every row is there and every value
  within Spider 2.0's (0.01) and PaVeRL's (0.005) tolerances, so those two cannot answer from
  equal bags of values and must sort and compare with tolerance.

Then a GRPO-sized batch of 1,024 (gold, pred) pairs of Spider-sized tables is scored per mode
and metric (``workers=1``), and with all 7 at once through ``score_batch`` with ``workers=1``
and ``workers=2``. Clean inputs: a one-column gold never gets the "missing rows" edit (it gets a
wrong cell instead), because for a one-column gold and a shorter prediction PaVeRL's
``df_normalization`` takes a special path (it returns the prediction itself when no value occurs
in it more often than in gold) that the core does not reproduce. Every verdict and score of the
core is checked against both baselines (scores to 1e-12); a difference fails the run.

Timing: the core best of 5 runs (3 at 100k rows); a baseline runs once, best of 3 when a run
takes under 0.5 s, and is skipped ("skipped (> 60 s)") when its time predicted from the
previous size exceeds 60 s. The issue's target, the core at least 50x faster per comparison at
10k rows, is judged per mode on every prediction with the core scoring Python rows, as the
baselines do, and reported as well for tables built once. The *read floor* is the time CPython
takes merely to visit every cell of both row lists once, in C
(``deque(chain.from_iterable(rows), maxlen=0)``): an implementation that reads the cells cannot
be faster than that, so ``official-style / read floor`` bounds the speedup any of them can reach
from Python rows. Run from the repository root (the whole run takes about a minute on 2 cores):

    PYTHONPATH=src python benchmarks/bench_scoring.py --record

``--record`` writes the tables into benchmarks/RESULTS.md (section "Scoring core vs pure
Python"), leaving the other sections alone.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # numpy's idle BLAS threads otherwise compete for the cores

import argparse
import itertools
import random
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import official_style
from _results import machine, record_section

from sqlrl import as_table, compare, partial_match, score_batch
from sqlrl.scoring import METRICS, MODES, reference

NAMES = MODES + METRICS
OFFICIAL = ("spider", "bird", "spider2", "paverl", "soft_f1")  # those with an official script
RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
SECTION = "Scoring core vs pure Python"
TARGET = 50.0  # the target: core at least 50x faster per comparison ...
TARGET_ROWS = 10_000  # ... at 10k rows
SKIP_S = 60.0  # a baseline run predicted to take longer is skipped
SOURCES = {
    "spider": "test-suite `result_eq`",
    "bird": "BIRD `set(pred) == set(gold)`",
    "strict": "none (sqlrl's own)",
    "spider2": "Spider 2.0 `compare_pandas_table`",
    "paverl": "PaVeRL `_compare_results_outcomes`",
    "soft_f1": "mini-dev `calculate_f1_score`",
    "table_f1": "none (sqlrl's own)",
}

WHY = {  # printed for a mode whose target is missed against the official-style baseline
    "spider": "on `perturbed` the row counts differ and test-suite answers from two `len()` calls without reading "
    "a cell; `compare` on row lists makes the same check in Python and a call into the core costs a microsecond "
    "or two, so no implementation reaches 50x there (the ceiling). Where cells must be read (`copy`, `near`) the "
    "core is far ahead on built tables, and from rows canonicalising the cells (the `as_table` row) is most of its "
    "time.",
    "bird": "`set(pred) == set(gold)` is CPython's C set of tuples, about twice the read floor: from rows no "
    "implementation that reads the cells can be 50x faster. On built tables the core probes the gold's kept row "
    "index with every pred row and checks the matched rows cell by cell; for a prediction that matches "
    "(`shuffled`) that is random memory access for every row, only a few times faster than CPython's set "
    "comparison, while a mismatch is answered at the first missing row.",
    "soft_f1": "mini-dev's algorithm is C-level work (`dict.fromkeys` of the rows, tuple membership per row), "
    "under 50 times the read floor, so 50x is out of reach from rows; on built tables the core still de-duplicates "
    "the prediction and tests every cell pair of each row pair.",
    "spider2": "from rows, canonicalising the cells is a large part of the core's time; on `near` each nearly "
    "equal column must also be sorted by the official `str(x)` key and compared with tolerance.",
    "paverl": "PaVeRL's per-cell work runs in C (pandas `round`, `fillna`, `isin`, `sorted` of Series): the "
    "official-style time is under 50 times the read floor, so 50x is out of reach from rows; canonicalising is "
    "most of the core's from-rows time.",
}


# ---------------------------------------------------------------------------- data


def make_gold(n: int, rng: random.Random) -> list[tuple]:
    rows = []
    for i in range(n):
        score = None if rng.random() < 0.02 else round(rng.uniform(0, 5), 3)
        rows.append((i, rng.randrange(20), round(rng.uniform(1, 500), 2), f"item-{rng.randrange(n // 3 + 1)}", score))
    return rows


PERM = (3, 0, 4, 1, 2)  # pred column order (name, id, score, category, price)


def make_shuffled(gold: list[tuple], rng: random.Random) -> list[tuple]:
    rows = list(gold)
    rng.shuffle(rows)
    return rows


def make_copy(gold: list[tuple], rng: random.Random) -> list[tuple]:
    rows = list(gold)
    rng.shuffle(rows)
    return [tuple(r[c] for c in PERM) for r in rows]


def make_perturbed(gold: list[tuple], rng: random.Random) -> list[tuple]:
    rows = [list(r) for r in gold]
    for r in rng.sample(rows, max(1, len(rows) // 100)):
        if rng.random() < 0.5:
            r[2] = round(r[2] + 0.004, 3)
        else:
            r[3] = r[3] + "-x"
    del rows[:2]
    n = len(gold)
    rows += [[n + k, 99, 0.5, f"foreign-{k}", 1.0] for k in range(3)]
    rng.shuffle(rows)
    return [tuple(r[c] for c in PERM) for r in rows]


def make_near(gold: list[tuple], rng: random.Random) -> list[tuple]:
    rows = [list(r) for r in gold]
    for r in rng.sample(rows, max(1, len(rows) // 100)):
        r[2] = round(r[2] + 0.004, 3)
    rng.shuffle(rows)
    return [tuple(r[c] for c in PERM) for r in rows]


def read_floor(gold: list[tuple], pred: list[tuple]) -> None:
    """Visit every cell of both tables once, in C: no implementation that reads the cells is faster."""
    deque(itertools.chain.from_iterable(gold), maxlen=0)
    deque(itertools.chain.from_iterable(pred), maxlen=0)


def make_batch(n: int, rng: random.Random) -> tuple[list[list[tuple]], list[list[tuple]]]:
    """Spider-sized result tables (mostly a few rows, some hundreds) and predictions made
    from them the way model outputs differ: exact, reordered, missing or extra rows, a wrong
    cell, an extra column, or something unrelated."""
    golds, preds = [], []
    for _ in range(n):
        nrows = min(500, max(1, int(rng.expovariate(1 / 30))))
        ncols = rng.randint(1, 4)
        kinds = [rng.choice(("int", "float", "text")) for _ in range(ncols)]

        def cell(kind: str) -> object:
            if kind == "int":
                return rng.randrange(50)
            if kind == "float":
                return round(rng.uniform(0, 100), 2)
            return rng.choice(("alpha", "beta", "gamma", "delta", "Paris", "Lyon", "Nice"))

        gold = [tuple(cell(k) for k in kinds) for _ in range(nrows)]
        pred = list(gold)
        r = rng.random()
        if ncols == 1 and 0.35 <= r < 0.5:  # PaVeRL's one-column path (see the module doc):
            r += 0.25  # a wrong cell instead of missing rows
        if r < 0.35:
            rng.shuffle(pred)
        elif r < 0.5:
            pred = pred[: max(1, len(pred) - rng.randint(1, 5))]
        elif r < 0.6:
            pred = pred + [tuple(cell(k) for k in kinds) for _ in range(rng.randint(1, 5))]
        elif r < 0.75:
            i, c = rng.randrange(nrows), rng.randrange(ncols)
            row = list(pred[i])
            row[c] = cell(kinds[c])
            pred[i] = tuple(row)
        elif r < 0.85:
            pred = [row + (cell("int"),) for row in pred]
        elif r < 0.9:
            perm = list(range(ncols))
            rng.shuffle(perm)
            pred = [tuple(row[p] for p in perm) for row in pred]
        else:
            pred = [tuple(cell(k) for k in kinds) for _ in range(max(1, nrows + rng.randint(-3, 3)))]
        golds.append(gold)
        preds.append(pred)
    return golds, preds


# ---------------------------------------------------------------------------- scorers


def core_fn(name: str, ignore_order: bool) -> Callable[[object, object], object]:
    if name in MODES:
        kw = {"ignore_order": True} if name == "spider2" and ignore_order else {}
        return lambda g, p: compare(g, p, mode=name, **kw)
    return lambda g, p: partial_match(g, p, metric=name)


def twin_fn(name: str, ignore_order: bool) -> Callable[[list, list], object]:
    if name in MODES:
        kw = {"ignore_order": True} if name == "spider2" and ignore_order else {}
        return lambda g, p: reference.execution_match(g, p, name, **kw)
    return lambda g, p: reference.partial_match(g, p, name)


def official_fn(name: str, ignore_order: bool) -> Callable[[list, list], object] | None:
    if name == "spider":
        return lambda g, p: official_style.spider_ex(g, p)
    if name == "bird":
        return official_style.bird_ex
    if name == "spider2":
        return lambda g, p: official_style.spider2_ex(g, p, ignore_order=ignore_order)
    if name == "paverl":
        return official_style.paverl_acc
    if name == "soft_f1":
        return official_style.soft_f1
    return None


# ---------------------------------------------------------------------------- timing


def best_of(reps: int, fn: Callable[..., object], *args: object) -> tuple[float, object]:
    best, out = float("inf"), None
    for _ in range(reps):
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def best_fresh(reps: int, fn: Callable[..., object], make_args: Callable[[], tuple]) -> tuple[float, object]:
    """Like best_of, but each run gets arguments made anew by ``make_args`` outside the timer."""
    best, out = float("inf"), None
    for _ in range(reps):
        args = make_args()
        t0 = time.perf_counter()
        out = fn(*args)
        best = min(best, time.perf_counter() - t0)
    return best, out


def time_baseline(fn: Callable[..., object], predicted_s: float | None, *args: object) -> tuple[float | None, object]:
    """(seconds, result) of a slow baseline: one run, best of 3 if a run is under 0.5 s; (None,
    None) without running when the predicted time exceeds SKIP_S."""
    if predicted_s is not None and predicted_s > SKIP_S:
        return None, None
    t, out = best_of(1, fn, *args)
    if t < 0.5:
        t2, out = best_of(2, fn, *args)
        t = min(t, t2)
    return t, out


def same(a: object, b: object) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return bool(a) == bool(b)
    return abs(float(a) - float(b)) <= 1e-12  # type: ignore[arg-type]


def fmt_ms(s: float | None) -> str:
    if s is None:
        return f"skipped (> {SKIP_S:.0f} s)"
    ms = s * 1e3
    if ms < 0.01:
        return f"{ms:.2g}"
    return f"{ms:.3f}" if ms < 1 else (f"{ms:.2f}" if ms < 10 else f"{ms:.1f}" if ms < 1000 else f"{ms:,.0f}")


def fmt_x(r: float | None) -> str:
    if r is None:
        return "—"
    return f"{r:,.0f}x" if r >= 10 else f"{r:.2g}x"


def ratio(slow: float | None, fast: float) -> float | None:
    return None if slow is None else slow / fast


# ---------------------------------------------------------------------------- single tables


@dataclass
class Case:
    n: int
    pred: str
    name: str
    result: object
    core: float  # from rows
    built: float  # from Tables built once
    twin: float | None
    official: float | None  # None: skipped, or no official script (see has_official)
    has_official: bool
    floor: float  # read floor of the two row lists
    problems: list[str] = field(default_factory=list)


def bench_tables(sizes: list[int], rng: random.Random) -> tuple[list[str], list[Case], dict[int, float]]:
    lines = [
        "| rows | pred | mode / metric | result | core, from rows (ms) | core, built tables (ms) "
        "| official-style (ms) | twin (ms) | official-style / core | twin / core |",
        "|---:|---|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    cases: list[Case] = []
    build: dict[int, float] = {}  # rows -> seconds of as_table(gold) + as_table(pred)
    last: dict[tuple[str, str, str], tuple[int, float]] = {}  # (baseline, pred, name) -> (rows, s)

    def predicted(key: tuple[str, str, str], n: int) -> float | None:
        if key not in last:
            return None
        n0, t0 = last[key]
        return t0 * (n / n0) * 1.3  # a little worse than linear: sorts and hashing

    for n in sizes:
        gold = make_gold(n, rng)
        preds = {
            "shuffled": make_shuffled(gold, rng),
            "copy": make_copy(gold, rng),
            "perturbed": make_perturbed(gold, rng),
            "near": make_near(gold, rng),
        }
        core_reps = 5 if n <= 10_000 else 3
        t_build, (gt, _) = best_of(core_reps, lambda g, p: (as_table(g), as_table(p)), gold, preds["shuffled"])
        build[n] = t_build
        lines.append(f"| {n:,} | | as_table(gold) + as_table(pred) | | {fmt_ms(t_build)} | | | | | |")
        print(lines[-1], flush=True)
        for pname, pred in preds.items():
            t_floor, _ = best_of(core_reps, read_floor, gold, pred)
            lines.append(f"| {n:,} | {pname} | read floor (both tables) | | {fmt_ms(t_floor)} | | | | | |")
            print(lines[-1], flush=True)
            for name in NAMES:
                cfn, tfn, ofn = core_fn(name, True), twin_fn(name, True), official_fn(name, True)
                t_core, c = best_of(core_reps, cfn, gold, pred)
                # the gold Table reused (it keeps its row index, as in a GRPO group); each pred Table fresh
                t_built, c2 = best_fresh(core_reps, cfn, lambda pred=pred, gt=gt: (gt, as_table(pred)))
                t_twin, tw = time_baseline(tfn, predicted(("twin", pname, name), n), gold, pred)
                t_off, off = (None, None)
                if ofn is not None:
                    t_off, off = time_baseline(ofn, predicted(("official", pname, name), n), gold, pred)
                case = Case(n, pname, name, c, t_core, t_built, t_twin, t_off, ofn is not None, t_floor)
                if not same(c, c2):
                    case.problems.append(f"built tables {c2}")
                if t_twin is not None:
                    last["twin", pname, name] = (n, t_twin)
                    if not same(c, tw):
                        case.problems.append(f"twin {tw}")
                if t_off is not None:
                    last["official", pname, name] = (n, t_off)
                    if not same(c, off):
                        case.problems.append(f"official-style {off}")
                cases.append(case)
                shown = str(bool(c)) if isinstance(c, bool) else f"{c:.4f}"
                flag = f" **MISMATCH: {'; '.join(case.problems)}**" if case.problems else ""
                off_ms = fmt_ms(t_off) if ofn is not None else "—"
                lines.append(
                    f"| {n:,} | {pname} | {name} | {shown}{flag} | {fmt_ms(t_core)} | {fmt_ms(t_built)} "
                    f"| {off_ms} | {fmt_ms(t_twin)} | {fmt_x(ratio(t_off, t_core))} | {fmt_x(ratio(t_twin, t_core))} |"
                )
                print(lines[-1], flush=True)
    return lines, cases, build


@dataclass
class Verdict:
    name: str
    low_official: float | None  # lowest speedup over the preds, core from rows
    low_twin: float | None
    low_official_built: float | None  # the same with the core scoring built tables
    low_twin_built: float | None
    ceiling: float | None  # lowest official-style / read floor: the most any reader of the rows can reach

    def met(self, baseline: str, built: bool = False) -> bool | None:
        if baseline == "official":
            low = self.low_official_built if built else self.low_official
        else:
            low = self.low_twin_built if built else self.low_twin
        return None if low is None else low >= TARGET


def speedups(cases: list[Case], n: int) -> tuple[list[str], list[Verdict]]:
    """Per mode and metric at n rows: speedup of the core over each baseline, and the target."""
    at = [c for c in cases if c.n == n]
    lines = [
        "| mode / metric | pred | official-style / core, from rows | official-style / core, built tables "
        "| official-style / read floor | twin / core, from rows | twin / core, built tables |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    verdicts = []
    for name in NAMES:
        mine = [c for c in at if c.name == name]
        for c in mine:
            lines.append(
                f"| {name} | {c.pred} | {fmt_x(ratio(c.official, c.core))} | {fmt_x(ratio(c.official, c.built))} "
                f"| {fmt_x(ratio(c.official, c.floor))} | {fmt_x(ratio(c.twin, c.core))} "
                f"| {fmt_x(ratio(c.twin, c.built))} |"
            )

        def low(values: list[float | None]) -> float | None:
            return None if not values or any(v is None for v in values) else min(values)  # type: ignore[type-var]

        official = bool(mine) and mine[0].has_official
        verdicts.append(
            Verdict(
                name,
                low([ratio(c.official, c.core) for c in mine]) if official else None,
                low([ratio(c.twin, c.core) for c in mine]),
                low([ratio(c.official, c.built) for c in mine]) if official else None,
                low([ratio(c.twin, c.built) for c in mine]),
                low([ratio(c.official, c.floor) for c in mine]) if official else None,
            )
        )
    target = [
        f"| mode / metric | official script | vs official-style, from rows | ≥ {TARGET:.0f}x | built tables "
        f"| ≥ {TARGET:.0f}x | ceiling from rows | vs twin, from rows | ≥ {TARGET:.0f}x | built tables "
        f"| ≥ {TARGET:.0f}x |",
        "|---|---|---:|---|---:|---|---:|---:|---|---:|---|",
    ]

    def yes(v: bool | None) -> str:
        return "—" if v is None else ("**yes**" if v else "no")

    for v in verdicts:
        target.append(
            f"| {v.name} | {SOURCES[v.name]} | {fmt_x(v.low_official)} | {yes(v.met('official'))} "
            f"| {fmt_x(v.low_official_built)} | {yes(v.met('official', True))} | {fmt_x(v.ceiling)} "
            f"| {fmt_x(v.low_twin)} | {yes(v.met('twin'))} | {fmt_x(v.low_twin_built)} | {yes(v.met('twin', True))} |"
        )
    missed = [v for v in verdicts if v.met("official") is False or v.met("official", True) is False]
    if missed:
        target += ["", "Where the target is missed against the official-style baselines, and why:", ""]
        target += [f"- {v.name}: {WHY[v.name]}" for v in missed if v.name in WHY]
    return lines + [""] + target, verdicts


# ---------------------------------------------------------------------------- batch


def batch_core(golds: list, preds: list, modes: object, metrics: object, workers: int = 1) -> dict[str, list[float]]:
    return score_batch(golds, preds, modes=modes, metrics=metrics, workers=workers)  # type: ignore[arg-type]


def each_pair(fn: Callable[[list, list], object], pairs: list[tuple[list, list]]) -> list[object]:
    return [fn(g, p) for g, p in pairs]


def bench_batch(n: int, rng: random.Random) -> tuple[list[str], int, dict[str, float]]:
    golds, preds = make_batch(n, rng)

    def fresh_tables() -> tuple[list, list]:  # built outside the timer; every run starts from new Tables
        return [as_table(g) for g in golds], [as_table(p) for p in preds]

    pairs = list(zip(golds, preds, strict=True))
    rows_total = sum(len(g) + len(p) for g, p in pairs)
    mismatches = 0

    def check(name: str, label: str, got: list, want: list) -> int:
        bad = [i for i, (a, b) in enumerate(zip(got, want, strict=True)) if not same(a, b)]
        for i in bad[:1]:
            print(f"MISMATCH {name} pair {i}: core {got[i]} {label} {want[i]}")
            print(f"  gold={golds[i]!r}\n  pred={preds[i]!r}")
        return len(bad)

    per = [
        "| mode / metric | core, from rows (ms) | core, built tables (ms) | official-style (ms) | twin (ms) "
        "| official-style / core | twin / core |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    t_twin_all = t_off_all = 0.0
    for name in NAMES:
        modes, metrics = ([name], []) if name in MODES else ([], [name])
        t_core, out = best_of(3, batch_core, golds, preds, modes, metrics)
        t_built, out2 = best_fresh(3, batch_core, lambda m=modes, k=metrics: (*fresh_tables(), m, k))
        core_scores = out[name]  # type: ignore[index]
        mismatches += check(name, "built tables", out2[name], core_scores)  # type: ignore[index]
        t_twin, twin_scores = time_baseline(each_pair, None, twin_fn(name, False), pairs)
        t_twin_all += t_twin or 0.0
        mismatches += check(name, "twin", core_scores, twin_scores)  # type: ignore[arg-type]
        ofn, t_off = official_fn(name, False), None
        if ofn is not None:
            t_off, off_scores = time_baseline(each_pair, None, ofn, pairs)
            t_off_all += t_off or 0.0
            mismatches += check(name, "official-style", core_scores, off_scores)  # type: ignore[arg-type]
        per.append(
            f"| {name} | {fmt_ms(t_core)} | {fmt_ms(t_built)} | {fmt_ms(t_off) if ofn else '—'} | {fmt_ms(t_twin)} "
            f"| {fmt_x(ratio(t_off, t_core))} | {fmt_x(ratio(t_twin, t_core))} |"
        )
        print(per[-1], flush=True)

    every = [
        "| implementation | scores | workers | time (ms) | per pair (µs) | vs baseline |",
        "|---|---|---:|---:|---:|---:|",
        f"| official-style | the 5 official | 1 | {fmt_ms(t_off_all)} | {t_off_all / n * 1e6:,.1f} | 1x |",
        f"| pure-Python twin | all 7 | 1 | {fmt_ms(t_twin_all)} | {t_twin_all / n * 1e6:,.1f} | 1x |",
    ]
    summary = {"twin": t_twin_all, "official": t_off_all}
    official_modes = [m for m in MODES if m in OFFICIAL]
    official_metrics = [m for m in METRICS if m in OFFICIAL]
    for workers in (1, 2):
        for label, built in (("core, from rows", False), ("core, built tables", True)):

            def args(*names: object, built: bool = built, workers: int = workers) -> Callable[[], tuple]:
                return lambda: (*(fresh_tables() if built else (golds, preds)), *names, workers)

            t, _ = best_fresh(3, batch_core, args(MODES, METRICS))
            every.append(
                f"| {label} | all 7 | {workers} | {fmt_ms(t)} | {t / n * 1e6:,.1f} | {fmt_x(t_twin_all / t)} vs twin |"
            )
            summary[f"{label}, {workers}"] = t
            t, _ = best_fresh(3, batch_core, args(official_modes, official_metrics))
            every.append(
                f"| {label} | the 5 official | {workers} | {fmt_ms(t)} | {t / n * 1e6:,.1f} "
                f"| {fmt_x(t_off_all / t)} vs official-style |"
            )
            summary[f"official 5, {label}, {workers}"] = t
    lines = [
        f"{n:,} (gold, pred) pairs, {rows_total:,} rows in all (Spider-sized: median "
        f"{sorted(len(g) for g in golds)[n // 2]} gold rows); spider2 without `ignore_order`. *Built tables*: "
        "every gold and pred `Table` made anew before each run, outside the timer (no row index kept from a "
        "previous run).",
        "",
        "Per mode and metric, one worker:",
        "",
        *per,
        "",
        "Every score of a pair at once (*the 5 official*: spider, bird, spider2, paverl, soft_f1):",
        "",
        *every,
    ]
    return lines, mismatches, summary


# ---------------------------------------------------------------------------- report


def record(text: str) -> None:
    record_section(SECTION, text, RESULTS)


def summary_paragraph(
    verdicts: list[Verdict], build_s: float, floor_s: float, batch: dict[str, float], n_batch: int
) -> list[str]:
    def lows(baseline: str, built: bool = False) -> str:
        attr = {("official", False): "low_official", ("official", True): "low_official_built"}.get(
            (baseline, built), "low_twin_built" if built else "low_twin"
        )
        return ", ".join(f"{v.name} {fmt_x(getattr(v, attr))}" for v in verdicts if getattr(v, attr) is not None)

    def verdict(baseline: str, built: bool = False) -> str:
        judged = [v for v in verdicts if v.met(baseline, built) is not None]
        met = [v.name for v in judged if v.met(baseline, built)]
        if not met:
            return f"not met for any mode ({lows(baseline, built)})"
        if len(met) == len(judged):
            return f"met for every mode ({lows(baseline, built)})"
        return f"met for {', '.join(met)} only ({lows(baseline, built)})"

    out_of_reach = [v.name for v in verdicts if v.ceiling is not None and v.ceiling < TARGET]
    reach = (
        f"From rows it is out of reach for {', '.join(out_of_reach)}: there the official-style script takes less "
        f"than {TARGET:.0f} times the *read floor*, the time CPython needs merely to visit every cell of both "
        f"row lists once ({fmt_ms(floor_s)} ms here), so no implementation that reads the cells can be "
        f"{TARGET:.0f}x faster (the *ceiling* column). "
        if out_of_reach
        else ""
    )
    t7 = batch["core, from rows, 1"]
    t5, t5b = batch["official 5, core, from rows, 1"], batch["official 5, core, built tables, 1"]
    return [
        f"**Scoring speed.** At {TARGET_ROWS:,} rows, with both sides given the Python rows, the issue's target "
        f"(the core at least {TARGET:.0f}x faster per comparison, on every prediction) is {verdict('official')} "
        f"against the official-style baselines, and {verdict('twin')} against the twin; in brackets the lowest "
        f"speedup over the four predictions. {reach}Scoring Tables built once (the gold reused with the row index "
        "it keeps, as in a GRPO group; each prediction a fresh Table) the target is "
        f"{verdict('official', True)} against the official-style baselines and {verdict('twin', True)} against the "
        f"twin. Canonicalising both tables from Python objects costs the core {fmt_ms(build_s)} ms at this size. "
        f"On the {n_batch:,}-pair Spider-sized batch (one worker) the core computes all 7 scores in "
        f"{fmt_ms(t7)} ms, {fmt_x(batch['twin'] / t7)} faster than the twin, and the 5 official scores "
        f"{fmt_x(batch['official'] / t5)} faster than the official-style scripts ({fmt_x(batch['official'] / t5b)} "
        "on built tables).",
    ]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", default="1000,10000,100000", help="table sizes in rows")
    ap.add_argument("--batch", type=int, default=1024, help="pairs in the batch benchmark")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--record", action="store_true", help=f"write the tables into {RESULTS.name}")
    args = ap.parse_args()

    rng = random.Random(args.seed)
    load0 = os.getloadavg()[0]  # other work on the machine skews the timings: recorded with them
    t0 = time.perf_counter()
    print(machine())
    sizes = [int(s) for s in args.sizes.split(",")]
    table_lines, cases, build = bench_tables(sizes, rng)
    bad_tables = sum(bool(c.problems) for c in cases)
    speed_lines, verdicts = speedups(cases, TARGET_ROWS) if TARGET_ROWS in sizes else ([], [])
    print("\n".join(speed_lines))
    batch_lines, bad_batch, batch = bench_batch(args.batch, rng)
    print("\n".join(batch_lines))
    total = time.perf_counter() - t0
    load1 = os.getloadavg()[0]
    load = f"1-minute load average {load0:.2f} before, {load1:.2f} at the end, which the run itself raises by 1"
    mismatches = bad_tables + bad_batch
    agree = "all equal" if mismatches == 0 else f"{mismatches} DIFFERENCES"
    print(f"\ncore, official-style and twin agree on every verdict and score: {mismatches == 0} ({total:.0f} s in all)")

    floor = min(c.floor for c in cases if c.n == TARGET_ROWS) if verdicts else 0.0
    summary = summary_paragraph(verdicts, build[TARGET_ROWS], floor, batch, args.batch) if verdicts else []
    print("\n".join(["", *summary]))

    text = "\n".join(
        [
            f"## {SECTION}",
            "",
            *summary,
            "",
            "The compiled core (`sqlrl._core`, through `sqlrl.compare` / `partial_match` / `score_batch`) against "
            "two pure-Python baselines: *official-style* (`benchmarks/official_style.py`), the official scripts' "
            "algorithms on their own data structures (test-suite `result_eq` on row lists: row-sorted quick "
            "rejection, constrained column-permutation enumeration, bag check; BIRD row sets; mini-dev positional "
            "Soft-F1; Spider 2.0 column vectors of pandas DataFrames with `str` sort keys and `math.isclose`; "
            "PaVeRL's pandas dtype logic, key filtering and sorted column matching), written from their semantics; "
            "and the *twin* `sqlrl.scoring.reference`, the readable statement of all 7 rules with hash sets and "
            "`Counter`s. `strict` and `table_f1` are sqlrl's own: they have no official script. Every core verdict "
            f"and score was checked against both baselines: {agree}.",
            "",
            "Reproduce (repository root, after `python setup.py build_ext --inplace`):",
            "",
            "    PYTHONPATH=src python benchmarks/bench_scoring.py --record",
            "",
            f"Machine: {machine()}, pandas {official_style.pd.__version__}. The core: best of 5 runs (3 at 100k "
            "rows); a baseline: one run, best of 3 when a run takes under 0.5 s, skipped when its time predicted "
            f"from the previous size exceeds {SKIP_S:.0f} s; whole run {total:.0f} s ({load}).",
            "",
            f"### Speedup at {TARGET_ROWS:,} rows",
            "",
            "The core's time *from rows* includes canonicalising both tables from Python tuples, which is what the "
            "baselines are given (the DataFrame-based ones build their frames inside their time); *built tables* "
            "scores a gold `Table` made once with `as_table` and reused (it keeps the row index it builds on first "
            "use, as in a GRPO group) against a prediction `Table` made fresh for every run. *Read floor*: "
            "`deque(chain.from_iterable(rows), maxlen=0)` over both row lists, the time CPython needs to visit "
            "every cell once in C; *ceiling* = official-style time / read floor, the most any implementation that "
            "reads the cells could gain from rows. The target is judged per mode on the lowest speedup over the "
            "four predictions.",
            "",
            *speed_lines,
            "",
            "### Single tables",
            "",
            "5 columns (int id, int category, float price, text name, float score with 2% NULLs). "
            "`shuffled`: rows shuffled. `copy`: rows shuffled, columns permuted. `perturbed`: that copy with 1% "
            "of rows edited, 2 rows dropped and 3 foreign rows added. `near`: the copy with 1% of the prices off "
            "by 0.004 (within the spider2 and paverl tolerances, so those must sort and compare with tolerance). "
            "spider2 runs with `ignore_order`.",
            "",
            *table_lines,
            "",
            "### Batch",
            "",
            *batch_lines,
        ]
    )
    if args.record:
        record(text)
        print(f"recorded in {RESULTS}")
    if mismatches:
        raise SystemExit(f"{mismatches} differences between the core and a baseline")


if __name__ == "__main__":
    main()
