"""The data of an evaluation page: headline table, per-example records with their result diffs, baseline changes.

The page shows what the evaluation wrote and recomputes nothing but the cell marks
(:func:`sqlrl.report.diff.table_diff`, from the rows the evaluation kept: ``--result-rows`` of
``sqlrl eval``). Questions come from a ``sqlrl generate`` or ``sqlrl verbal`` output given with the
evaluation (matched by position), since the official gold files carry none.
"""

from __future__ import annotations

from typing import Any

from sqlrl.report.diff import table_diff
from sqlrl.report.load import Run

__all__ = ["ROWS", "eval_page", "examples_page", "verdict"]

#: Rows of each result shown per example (the rest are counted, with a note).
ROWS = 10

_META_KEYS = (
    "gold", "pred", "predictions", "db_dir", "db_root", "tables", "dataset", "split", "etype", "mode", "ex_mode",
    "engine", "dialect", "timeout", "keep_distinct", "plug_value", "pair_by", "seconds",
)  # fmt: skip


def _unjudged(r: dict[str, Any]) -> bool:
    kind = r.get("error_kind") or ""
    extra = r.get("extra") or {}
    return "gold_error" in extra or kind.startswith("gold_") or kind == "missing_gold"


def verdict(record: dict[str, Any], metric: str | None) -> str:
    """``right``, ``wrong``, ``error`` (the prediction failed) or ``unjudged`` (the gold failed)."""
    if _unjudged(record):
        return "unjudged"
    value = (record.get("metrics") or {}).get(metric) if metric else None
    if value is not None and value >= 1.0:
        return "right"
    if record.get("error_kind"):
        return "error"
    return "wrong" if value is not None else "-"


def _results(extra: dict[str, Any], rows: int) -> dict[str, Any] | None:
    kept = extra.get("results")
    if not isinstance(kept, dict) or not (kept.get("gold") or kept.get("pred")):
        return None
    diff = table_diff(
        kept.get("gold"), kept.get("pred"), mode=kept.get("mode", "spider"),
        order_matters=bool(kept.get("order_matters")), ignore_order=bool(kept.get("ignore_order")),
        condition_cols=kept.get("condition_cols"),
    )  # fmt: skip
    out: dict[str, Any] = {k: kept[k] for k in ("mode", "order_matters", "ignore_order", "database") if k in kept}
    cut = False
    for side in ("gold", "pred"):
        table = kept.get(side)
        if not table:
            continue
        shown = table.get("rows") or []
        cut = cut or len(shown) > rows
        out[side] = {
            "columns": table.get("columns") or [],
            "rows": shown[:rows],
            "marks": diff[f"{side}_rows"][:rows],
            "cols": diff[f"{side}_cols"],
            "num_rows": table.get("num_rows", len(shown)),
            "truncated": bool(table.get("truncated")),
        }
    out["partial"] = diff["partial"] or cut
    return out


def _example(r: dict[str, Any], metric: str | None, rows: int) -> dict[str, Any]:
    extra = r.get("extra") or {}
    out: dict[str, Any] = {
        "i": r.get("index"),
        "db": r.get("db_id") or "",
        "g": r.get("group") or "",
        "v": verdict(r, metric),
        "m": r.get("metrics") or {},
        "ek": r.get("error_kind") or "",
        "err": r.get("error") or "",
        "gold": r.get("gold") or "",
        "pred": r.get("pred") or "",
    }
    if "components" in extra:
        out["comp"] = extra["components"]
    if extra.get("databases"):
        out["dbs"] = extra["databases"]
    for key in ("instance_id", "id", "plugged", "pred_parse_error", "gold_parse_error", "gold_error", "ex_error"):
        if extra.get(key) not in (None, ""):
            out.setdefault("x", {})[key] = extra[key]
    suite = extra.get("suite")
    if isinstance(suite, dict):  # eval --suite: where the prediction went wrong on the test suite
        out.setdefault("x", {})["test suite"] = f"wrong on {suite.get('failed_on', '?')}: {suite.get('reason', '')}"
    res = _results(extra, rows)
    if res is not None:
        out["res"] = res
    return out


def _questions(companion: Run | None) -> list[dict[str, Any]]:
    """Per position: the question (and the chosen completion) from a generate or verbal output."""
    if companion is None:
        return []
    out = []
    for rec in companion.records:
        q: dict[str, Any] = {"q": rec.get("question") or ""}
        if companion.kind == "generate":
            chosen = rec.get("chosen")
            samples = rec.get("samples") or []
            if isinstance(chosen, int) and 0 <= chosen < len(samples):
                q["completion"] = samples[chosen].get("completion") or ""
            q["n"] = len(samples)
        elif rec.get("evidence"):
            q["evidence"] = rec["evidence"]
        out.append(q)
    return out


def _change(this: str, base: str) -> str:
    if this == "right" and base != "right":
        return "fixed"
    if base == "right" and this != "right":
        return "broken"
    return ""


def eval_page(
    run: Run, *, baseline: Run | None = None, companion: Run | None = None, rows: int = ROWS, title: str | None = None
) -> dict[str, Any]:
    """The page data of an eval output (see the module); ``baseline`` another eval of the same examples."""
    s = run.summary
    metrics = list(s.get("metrics") or [])
    metric = metrics[0] if metrics else None
    examples = [_example(r, metric, rows) for r in run.records]
    questions = _questions(companion)
    for k, ex in enumerate(examples):
        if k < len(questions):
            ex.update(questions[k])
    page: dict[str, Any] = {
        "kind": "eval",
        "title": title or f"{s.get('benchmark', 'eval')} evaluation",
        "source": str(run.path),
        "benchmark": s.get("benchmark", ""),
        "groups": [*(s.get("groups") or []), "all"],
        "metrics": metrics,
        "verdict_metric": metric,
        "summary": s.get("summary") or {},
        "errors": s.get("errors") or {},
        "meta": {k: s.get("meta", {})[k] for k in _META_KEYS if s.get("meta", {}).get(k) not in (None, "")},
        "notes": dict(s.get("meta", {}).get("notes") or {}),
        "rows": rows,
        "examples": examples,
    }
    if (s.get("meta") or {}).get("partial"):
        page["partial"] = s["meta"]["partial"]
    if not any("res" in e for e in examples) and examples:
        page["notes"]["result rows"] = (
            "this evaluation kept no result rows (written before sqlrl eval kept them, or with --result-rows 0); "
            "run the evaluation again to see them"
        )
    if baseline is not None:
        base_metric = (baseline.summary.get("metrics") or [None])[0]
        by_index = {r.get("index"): r for r in baseline.records}
        counts = {"fixed": 0, "broken": 0, "both right": 0, "both wrong": 0, "not in baseline": 0}
        for ex in examples:
            b = by_index.get(ex["i"])
            if b is None:
                counts["not in baseline"] += 1
                continue
            bv = verdict(b, base_metric)
            ex["b"] = {"v": bv, "pred": b.get("pred") or "", "ek": b.get("error_kind") or ""}
            ex["chg"] = _change(ex["v"], bv)
            key = ex["chg"] or ("both right" if ex["v"] == "right" else "both wrong")
            counts[key] += 1
        page["baseline"] = {
            "source": str(baseline.path),
            "summary": baseline.summary.get("summary") or {},
            "metrics": baseline.summary.get("metrics") or [],
            "counts": counts,
        }
    return page


def examples_page(run: Run, *, rows: int = ROWS, title: str | None = None) -> dict[str, Any]:
    """A page for a ``sqlrl generate`` or ``sqlrl verbal`` output alone: its examples, predictions and
    candidates (verbal: the verdict against gold when the run knew it; generate: none, evaluate it first)."""
    examples = []
    for k, rec in enumerate(run.records):
        ex: dict[str, Any] = {
            "i": rec.get("index", k),
            "db": rec.get("db_id") or "",
            "g": rec.get("hardness") or rec.get("difficulty") or "",
            "m": {},
            "ek": "",
            "err": rec.get("error") or "",
            "gold": rec.get("gold") or rec.get("gold_sql") or "",
            "pred": rec.get("prediction") or "",
            "q": rec.get("question") or "",
        }
        gm = rec.get("gold_match")
        if isinstance(gm, dict) and isinstance(gm.get("prediction"), bool):
            ex["m"]["gold match"] = float(gm["prediction"])
            ex["v"] = "right" if gm["prediction"] else "wrong"
        else:
            ex["v"] = "-"
        cands = rec.get("samples") if run.kind == "generate" else rec.get("candidates")
        if isinstance(cands, list):
            ex["cands"] = [
                {"sql": c.get("sql") or "", "ok": (c.get("execution") or c).get("ok"), "cluster": c.get("cluster")}
                for c in cands[:20]
                if isinstance(c, dict)
            ]
        examples.append(ex)
    groups = sorted({e["g"] for e in examples if e["g"]})
    metrics = ["gold match"] if any(e["m"] for e in examples) else []
    summary: dict[str, dict[str, float]] = {}
    for g in [*groups, "all"]:
        rows_g = [e for e in examples if g == "all" or e["g"] == g]
        summary[g] = {"count": float(len(rows_g))}
        for m in metrics:
            vals = [e["m"][m] for e in rows_g if m in e["m"]]
            summary[g][m] = sum(vals) / len(vals) if vals else 0.0
    return {
        "kind": "eval",
        "title": title or f"sqlrl {run.kind} samples",
        "source": str(run.path),
        "benchmark": run.kind,
        "groups": [*groups, "all"],
        "metrics": metrics,
        "verdict_metric": metrics[0] if metrics else None,
        "summary": summary,
        "errors": {},
        "meta": {},
        "notes": {"verdicts": "evaluate the predictions with sqlrl eval and report that output to see verdicts"}
        if not metrics
        else {},
        "rows": rows,
        "examples": examples,
    }
