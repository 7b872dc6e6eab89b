"""``sqlrl eval spider | bird | spider2 | paverl``: command classes with ``register`` and ``run``.

Each class registers one sub-command on the ``eval`` sub-parsers; :class:`EvalCommand` creates
``eval`` itself and registers them all::

    sub = parser.add_subparsers()
    EvalCommand.register(sub)          # sqlrl eval bird|spider2|paverl ...
    args = parser.parse_args(argv)
    args.command.run(args)

Every command prints the familiar table, and with ``--out DIR`` writes ``<stem>.json`` (summary),
``<stem>.jsonl`` (one line per example: verdicts, errors, timings, the first result rows) and
``<stem>.png``; with ``--html PATH`` the page ``sqlrl report`` makes of them.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import Any

from sqlrl._cliutil import (
    UsageError,
    error,
    fail,
    keywords_for,
    make_console,
    run_guarded,
)

console = make_console()
err_console = make_console(stderr=True)

__all__ = [
    "EVAL_COMMANDS",
    "EvalBirdCommand",
    "EvalCommand",
    "EvalPaverlCommand",
    "EvalSpider2Command",
    "EvalSpiderCommand",
]


def _add_output_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--out", default=None, help="folder for <stem>.json, <stem>.jsonl (per example) and <stem>.png")
    p.add_argument("--stem", default=None, help="file name stem in --out (default: the benchmark)")
    p.add_argument("--no-chart", action="store_true", help="do not draw the PNG")
    p.add_argument("--html", default=None, help="also write the HTML report here (what sqlrl report writes)")
    p.add_argument("--overwrite", action="store_true", help="replace the files of an earlier run in --out")
    p.add_argument("--json", action="store_true", help="print the JSON summary instead of the table")
    bar = p.add_mutually_exclusive_group()
    bar.add_argument(
        "--progress", dest="progress", action="store_true", default=None, help="always show a progress bar"
    )
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")


def _check_out(args: argparse.Namespace, benchmark: str) -> None:
    """Before any work: ``--out`` must be a folder that can be made, without an earlier run's files
    unless ``--overwrite``; ``--html`` a file name, new unless ``--overwrite``."""
    html = getattr(args, "html", None)
    if html and Path(html).is_dir():
        raise UsageError(f"--html {html} is a folder; name the HTML file to write")
    if html and Path(html).exists() and not args.overwrite:
        raise UsageError(f"--html {html} exists: pass --overwrite to replace it")
    if not args.out:
        return
    out = Path(args.out)
    stem = args.stem or benchmark
    if out.exists() and not out.is_dir():
        raise UsageError(
            f"--out {out} is a file; --out names a folder for {stem}.json, {stem}.jsonl and {stem}.png: "
            f"choose another path"
        )
    parent = out
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        raise UsageError(f"--out {out} cannot be made: {parent} is a file")
    if parent.exists() and not os.access(parent, os.W_OK):
        raise UsageError(f"--out {out} cannot be written: no permission in {parent}")
    names = [f"{stem}.json", f"{stem}.jsonl"] + ([] if args.no_chart else [f"{stem}.png"])
    earlier = [n for n in names if (out / n).exists()]
    if earlier and not args.overwrite:
        raise UsageError(
            f"--out {out} already holds {', '.join(earlier)}: pass --overwrite to replace them, "
            f"or choose another --out or --stem"
        )


def _gold_failures(report: Any) -> int | None:
    """Say, before the table, how many examples could not be judged (gold failed, database missing).

    Returns an exit code when none could be (the table would be all zeros), else None.
    """
    failed = report.unjudged()
    total = len(report.examples)
    if total == 0:
        return error("nothing was evaluated: the input has no examples")
    if not failed:
        return None
    kinds = Counter(e.error_kind or "gold_error" for e in failed)
    reasons = ", ".join(f"{k} {v}" for k, v in kinds.most_common())
    first = failed[0].error or failed[0].extra.get("gold_error", "")
    if len(failed) == total:
        return error(
            f"none of the {total} examples could be evaluated: every gold query failed or its database is "
            f"missing ({reasons}); first: {first}. Check the gold and database paths and --timeout"
        )
    sys.stdout.flush()
    print(
        f"warning: {len(failed)} of {total} examples could not be evaluated and score 0 whatever the "
        f"prediction ({reasons}); first: {first}",
        file=sys.stderr,
        flush=True,
    )
    return None


def _finish(report: Any, args: argparse.Namespace, text: str) -> int:
    if args.json:
        print(json.dumps(report.to_json(), indent=2, ensure_ascii=False, default=str))
    else:
        print(text)
        if report.meta.get("suite"):
            from sqlrl.eval.on_suite import format_suite_flips

            print(format_suite_flips(report))
        errors = report.error_counts()
        if errors:
            print("errors: " + ", ".join(f"{k} {v}" for k, v in sorted(errors.items())))
        notes = report.meta.get("notes") or {}
        for key, value in notes.items():
            err_console.print(f"note: {key.replace('_', ' ')}: {value}", highlight=False)
    if args.out:
        paths = report.write(args.out, args.stem, chart=not args.no_chart)
        print("wrote " + ", ".join(str(p) for p in paths.values()), file=sys.stderr if args.json else sys.stdout)
    if args.html:
        from sqlrl.report import write_eval_html

        path = write_eval_html(report, args.html)
        print(f"wrote {path}", file=sys.stderr if args.json else sys.stdout)
    return 0


class EvalBirdCommand:
    """Evaluate BIRD predictions: EX by difficulty, Soft-F1 and R-VES, as the official mini-dev scripts do."""

    name = "bird"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        from sqlrl.eval.options import BirdOptions, add_flags

        p = sub.add_parser(EvalBirdCommand.name, help=EvalBirdCommand.__doc__, description=EvalBirdCommand.__doc__)
        p.add_argument(
            "--pred",
            "--predicted-sql-path",
            dest="pred",
            required=True,
            help="predictions: JSON object {idx: 'SQL\\t----- bird -----\\tdb_id'}",
        )
        p.add_argument(
            "--gold",
            "--ground-truth-path",
            dest="gold",
            required=True,
            help="gold: 'SQL<TAB>db_id' lines (dev_gold.sql) or dev.json",
        )
        p.add_argument(
            "--db-root", "--db-root-path", dest="db_root", required=True, help="folder of <db_id>/<db_id>.sqlite"
        )
        p.add_argument(
            "--diff",
            "--diff-json-path",
            dest="diff",
            default=None,
            help="difficulty file (dev.json or JSON Lines with 'difficulty'); default: from --gold",
        )
        add_flags(p, BirdOptions)
        _add_output_options(p)
        p.set_defaults(command=EvalBirdCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl.data.errors import DatasetError
        from sqlrl.eval.bird import evaluate_bird, format_bird_table

        metrics = [m.strip() for m in args.metrics.split(",") if m.strip()]
        _check_out(args, "bird")
        try:
            report = evaluate_bird(
                args.pred,
                args.gold,
                args.db_root,
                **keywords_for(evaluate_bird, args, difficulty=args.diff, metrics=metrics),
            )
        except (DatasetError, ValueError, OSError, ImportError) as e:
            return fail(e)
        failed = _gold_failures(report)
        if failed is not None:
            return failed
        return _finish(report, args, format_bird_table(report))


class EvalSpider2Command:
    """Evaluate a Spider 2.0-lite submission: result CSVs, or SQL run on the local SQLite databases."""

    name = "spider2"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        from sqlrl.eval.options import Spider2Options, add_flags

        p = sub.add_parser(
            EvalSpider2Command.name, help=EvalSpider2Command.__doc__, description=EvalSpider2Command.__doc__
        )
        p.add_argument(
            "--result-dir", "--result_dir", "--pred", dest="result_dir", required=True, help="the submission folder"
        )
        p.add_argument(
            "--gold-dir",
            "--gold_dir",
            dest="gold_dir",
            required=True,
            help="gold folder with exec_result/ and spider2lite_eval.jsonl",
        )
        add_flags(p, Spider2Options)
        _add_output_options(p)
        p.set_defaults(command=EvalSpider2Command)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl.data.errors import DatasetError
        from sqlrl.eval.spider2 import evaluate_spider2, format_spider2_summary

        _check_out(args, "spider2")
        try:
            report = evaluate_spider2(
                args.result_dir, args.gold_dir, **keywords_for(evaluate_spider2, args, save_csv_dir=args.save_csv)
            )
        except (DatasetError, ValueError, OSError, ImportError) as e:
            return fail(e)
        failed = _gold_failures(report)
        if failed is not None:
            return failed
        text = format_spider2_summary(report)
        if not args.json:
            console.print(report.table(title="Spider 2.0-lite", digits=4))
        return _finish(report, args, text)


class EvalPaverlCommand:
    """PaVeRL-SQL's EX_b (full match) and EX_f (mean partial accuracy) on a dataset with a predictions file."""

    name = "paverl"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        from sqlrl.eval.options import DATASET_KINDS, PaverlOptions, add_flags

        p = sub.add_parser(
            EvalPaverlCommand.name, help=EvalPaverlCommand.__doc__, description=EvalPaverlCommand.__doc__
        )
        p.add_argument("--dataset", choices=DATASET_KINDS, default="toy", help="benchmark kind (default toy)")
        p.add_argument(
            "--path", default=None, help="benchmark folder (spider, bird, spider2-lite) or file (jsonl); not for toy"
        )
        p.add_argument("--split", default="dev", help="split (toy, spider, bird; default dev)")
        p.add_argument(
            "--pred",
            required=True,
            help="predictions: BIRD JSON, {id: sql} JSON, JSON list, JSON Lines or one SQL per line",
        )
        add_flags(p, PaverlOptions)
        _add_output_options(p)
        p.set_defaults(command=EvalPaverlCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl.data.errors import DatasetError
        from sqlrl.eval.paverl import evaluate_paverl, format_paverl_summary, load_examples

        _check_out(args, "paverl")
        try:
            dataset = load_examples(args.dataset, args.path, split=args.split, cache_dir=args.cache_dir)
            report = evaluate_paverl(dataset, args.pred, **keywords_for(evaluate_paverl, args))
        except (DatasetError, ValueError, OSError, ImportError) as e:
            return fail(e)
        failed = _gold_failures(report)
        if failed is not None:
            return failed
        if not args.json:
            console.print(report.table(title=f"PaVeRL EX_b / EX_f on {report.meta['dataset']}"))
        return _finish(report, args, format_paverl_summary(report))


class EvalSpiderCommand:
    """Evaluate Spider predictions as test-suite-sql-eval does: execution on every database variant, exact match."""

    name = "spider"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        from sqlrl.eval.options import SpiderOptions, add_flags

        p = sub.add_parser(
            EvalSpiderCommand.name, help=EvalSpiderCommand.__doc__, description=EvalSpiderCommand.__doc__
        )
        p.add_argument("--gold", required=True, help="gold: 'SQL<TAB>db_id' lines (dev_gold.sql)")
        p.add_argument("--pred", required=True, help="predictions: one SQL per line")
        p.add_argument(
            "--db", "--db-dir", dest="db", required=True, help="folder of <db_id>/*.sqlite (or a test suite)"
        )
        p.add_argument("--table", "--tables", dest="table", required=True, help="tables.json")
        add_flags(p, SpiderOptions)
        _add_output_options(p)
        p.set_defaults(command=EvalSpiderCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl.data.errors import DatasetError
        from sqlrl.eval.spider import evaluate_spider, format_spider_table

        _check_out(args, "spider")
        try:
            report = evaluate_spider(args.gold, args.pred, args.db, args.table, **keywords_for(evaluate_spider, args))
        except (DatasetError, ValueError, OSError, ImportError) as e:
            return fail(e)
        failed = _gold_failures(report)
        if failed is not None:
            return failed
        return _finish(report, args, format_spider_table(report))


EVAL_COMMANDS = [EvalSpiderCommand, EvalBirdCommand, EvalSpider2Command, EvalPaverlCommand]


class EvalCommand:
    """Evaluate predictions on Spider, BIRD, Spider 2.0-lite or with PaVeRL's EX_b / EX_f."""

    name = "eval"

    @staticmethod
    def register(sub: argparse._SubParsersAction, commands: list[Any] | None = None) -> None:
        p = sub.add_parser(EvalCommand.name, help=EvalCommand.__doc__, description=EvalCommand.__doc__)
        eval_sub = p.add_subparsers(title="benchmarks", metavar="BENCHMARK", dest="benchmark", required=True)
        for command in commands or EVAL_COMMANDS:
            command.register(eval_sub)

    @staticmethod
    def run(args: argparse.Namespace) -> int:  # pragma: no cover - each sub-command sets its own class
        return args.command.run(args)


def main(argv: list[str] | None = None) -> int:
    """``python -m sqlrl.eval.commands bird ...`` until the commands are registered in ``sqlrl.cli``."""
    parser = argparse.ArgumentParser(prog="sqlrl eval", description=EvalCommand.__doc__)
    sub = parser.add_subparsers(title="benchmarks", metavar="BENCHMARK", required=True)
    for command in EVAL_COMMANDS:
        command.register(sub)
    args = parser.parse_args(argv)
    return run_guarded(lambda: args.command.run(args))


if __name__ == "__main__":
    sys.exit(main())
