"""The scoring demo behind ``sqlrl demo``: gold vs predicted queries on generated databases."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

from rich.console import Console
from rich.table import Table as RichTable

from sqlrl.data.demo import DEMO_QUERIES, build_all_demos
from sqlrl.sandbox import Sandbox
from sqlrl.scoring import METRICS, MODES, gold_has_order_by, score_batch

# The columns the demo prints: every mode but spider2 (Spider 2.0's rule, for its own benchmark), and every
# metric, sqlrl's table_f1 first.
SHOWN_MODES = tuple(m for m in MODES if m != "spider2")
SHOWN_METRICS = tuple(reversed(METRICS))


def run_demo(engine: str = "duckdb", directory: str | None = None, console: Console | None = None) -> int:
    """Build the demo databases, execute every gold and predicted query, print all scores.

    Returns a process exit code: 0 when every prediction labelled ``correct`` matched in
    ``spider`` mode and every ``wrong`` or ``error`` one did not.
    """
    console = console or Console()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(directory or tmp)
        root.mkdir(parents=True, exist_ok=True)
        start = time.perf_counter()
        paths = build_all_demos(root, engine="sqlite")
        console.print(f"Built {len(paths)} demo databases in {root} ({time.perf_counter() - start:.2f} s)")
        sandboxes = {name: Sandbox(path, engine=engine, timeout=5.0) for name, path in paths.items()}
        try:
            return _score_all(sandboxes, engine, console)
        finally:
            for sb in sandboxes.values():
                sb.close()


def _score_all(sandboxes: dict[str, Sandbox], engine: str, console: Console) -> int:
    surprises: list[str] = []
    total = 0
    exec_s = score_s = 0.0
    for n, qs in enumerate(DEMO_QUERIES, 1):
        sb = sandboxes[qs.database]
        t0 = time.perf_counter()
        gold = sb.execute_gold(qs.gold)
        preds = sb.execute_many([p.sql for p in qs.predictions])
        exec_s += time.perf_counter() - t0
        if not gold.ok:
            console.print(f"[red]gold failed[/red] on {qs.database}: {gold.error}")
            return 2
        order = gold_has_order_by(qs.gold)
        t0 = time.perf_counter()
        scores = score_batch(
            [gold.table],
            [r.table if r.ok else None for r in preds],
            modes=SHOWN_MODES,
            metrics=SHOWN_METRICS,
            order_matters=order,
        )
        score_s += time.perf_counter() - t0
        table = RichTable(
            title=f"[bold]{n}. {qs.question}[/bold] ({qs.database}, gold: {gold.table.num_rows} rows"
            f"{', ordered' if order else ''})\n{_short(qs.gold, 160)}",
            title_justify="left",
        )
        table.add_column("prediction", ratio=1, overflow="fold")
        table.add_column("label")
        for col in (*SHOWN_MODES, *SHOWN_METRICS):
            table.add_column(col, justify="right", no_wrap=True)
        for i, (p, r) in enumerate(zip(qs.predictions, preds, strict=True)):
            total += 1
            spider = scores["spider"][i]
            if (p.kind == "correct" and spider != 1.0) or (p.kind in ("wrong", "error") and spider != 0.0):
                surprises.append(f"{qs.database}: {p.kind} prediction scored spider={spider:.0f}: {p.sql}")
            label = p.kind if r.ok else f"{p.kind} ([red]{r.error_kind.value}[/red])"
            table.add_row(
                _short(p.sql, 110),
                label,
                *(f"{scores[m][i]:.0f}" for m in SHOWN_MODES),
                *(f"{scores[m][i]:.3f}" for m in SHOWN_METRICS),
            )
        console.print(table)
    console.print(
        f"{total} predictions over {len(DEMO_QUERIES)} gold queries: execution {exec_s * 1000:.1f} ms, "
        f"scoring {score_s * 1000:.1f} ms.\nspider = test-suite EX (bag of rows, any column order), "
        "bird = set of rows, strict = ordered rows; table_f1, soft_f1 and paverl are partial scores in [0, 1]."
    )
    for line in surprises:
        console.print(f"[red]unexpected:[/red] {line}")
    return 1 if surprises else 0


def _short(sql: str, width: int) -> str:
    sql = " ".join(sql.split())
    return sql if len(sql) <= width else sql[: width - 3] + "..."
