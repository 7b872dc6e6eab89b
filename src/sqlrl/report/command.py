"""``sqlrl report``: one static HTML page from eval, train, generate or verbal outputs."""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from sqlrl._cliutil import CommandError, UsageError, non_negative_int

__all__ = ["ReportCommand"]


class ReportCommand:
    """Write one self-contained HTML page from what sqlrl eval, train, generate or verbal wrote."""

    name = "report"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser(ReportCommand.name, help=ReportCommand.__doc__, description=ReportCommand.__doc__)
        p.add_argument(
            "inputs", nargs="+", metavar="INPUT",
            help="an eval output (<stem>.json, <stem>.jsonl or their folder), optionally with the generate or "
            "verbal folder that made the predictions (for the questions); or a train output folder; or a "
            "generate or verbal folder alone",
        )  # fmt: skip
        p.add_argument("--out", "-o", required=True, help="the HTML file to write")
        p.add_argument("--baseline", default=None, help="another eval output of the same examples: fixed and broken")
        p.add_argument("--title", default=None, help="page title (default: from the input)")
        p.add_argument(
            "--rows", type=non_negative_int, default=10, help="rows of each result shown per example (default 10)"
        )
        p.add_argument("--overwrite", action="store_true", help="replace an existing --out file")
        p.set_defaults(command=ReportCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl.report import ReportInputError, build_report
        from sqlrl.report.html import SIZE_BUDGET

        out = Path(args.out)
        if out.is_dir():
            raise UsageError(f"--out {out} is a folder; name the HTML file to write")
        if out.exists() and not args.overwrite:
            raise UsageError(f"--out {out} exists: pass --overwrite to replace it")
        t0 = time.perf_counter()
        try:
            path = build_report(args.inputs, out, baseline=args.baseline, title=args.title, rows=args.rows)
        except ReportInputError as e:
            raise CommandError(str(e)) from None
        size = path.stat().st_size
        print(f"wrote {path} ({size / 1e6:.1f} MB in {time.perf_counter() - t0:.1f} s)")
        if size > SIZE_BUDGET:
            print(f"note: the page is larger than {SIZE_BUDGET // 2**20} MiB; --rows lower keeps it smaller")
        return 0
