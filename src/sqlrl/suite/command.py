"""``sqlrl suite build``: distil a test suite for a database (SQLite, DuckDB or a CSV folder) and its gold queries."""

from __future__ import annotations

import argparse

__all__ = ["SuiteCommand"]


class SuiteCommand:
    """build distilled test suites: database variants that reject queries right by luck"""

    name = "suite"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        from sqlrl._cliutil import positive_float, positive_int, workers_int

        p = sub.add_parser(SuiteCommand.name, help=SuiteCommand.__doc__, description=SuiteCommand.__doc__)
        actions = p.add_subparsers(title="suite commands", metavar="ACTION", dest="action", required=True)
        b = actions.add_parser(
            "build",
            help="generate variants of --db and keep the fewest that tell each gold query from its near-misses",
            description="Writes <out>/<db_id>/<db_id>.sqlite (the original) and <db_id>_1.sqlite ... "
            "(test-suite-sql-eval's layout, which `sqlrl eval spider --db <out>` reads) and suite.json. A DuckDB "
            "file or a folder of CSV files gets DuckDB files instead (<db_id>.duckdb, <db_id>_1.duckdb ...; a CSV "
            "folder's tables as DuckDB loads them), which the suite rewards and the verdict run on DuckDB.",
        )
        b.add_argument("--db", required=True, help="the database: a SQLite or DuckDB file, or a folder of CSV files")
        b.add_argument(
            "--gold", required=True,
            help="gold queries (SQLite's dialect for a SQLite file, else DuckDB's): one SQL per line (SQL<TAB>db_id "
            "lines keep this db_id's), or a Spider/BIRD JSON file",
        )  # fmt: skip
        b.add_argument("--out", required=True, help="folder of suites; this one goes to <out>/<db_id>/")
        b.add_argument("-k", type=positive_int, default=10, help="most variants kept (default 10)")
        b.add_argument("--seed", type=int, default=0, help="seed of the candidates (default 0)")
        b.add_argument("--db-id", default=None, help="the suite's name (default: the database file's stem)")
        b.add_argument("--candidates", type=positive_int, default=50, help="candidate variants generated (default 50)")
        b.add_argument("--max-rows", type=positive_int, default=6, help="most rows per table in a variant")
        b.add_argument("--timeout", type=positive_float, default=5.0, help="seconds per query")
        b.add_argument("--workers", type=workers_int, default=None, help="threads running queries (-1: all cores)")
        b.add_argument(
            "--mode", choices=("spider", "bird"), default="spider",
            help="distil for this comparison: spider (multisets, order under ORDER BY; default) or bird (sets)",
        )  # fmt: skip
        b.add_argument("--force", action="store_true", help="build again even when suite.json matches")
        p.set_defaults(command=SuiteCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        import json
        from pathlib import Path

        from sqlrl._cliutil import CommandError
        from sqlrl.suite.build import build_suite, check_database, read_gold_file
        from sqlrl.suite.errors import SuiteError

        db_id = args.db_id or Path(args.db).stem
        try:
            check_database(Path(args.db))
            golds = read_gold_file(args.gold, db_id)
            suite = build_suite(
                args.db, golds, k=args.k, seed=args.seed, out_dir=args.out, db_id=db_id, candidates=args.candidates,
                max_rows=args.max_rows, timeout=args.timeout, workers=args.workers, force=args.force, mode=args.mode,
            )  # fmt: skip
        except SuiteError as e:
            raise CommandError(str(e)) from None
        state = "found (cached)" if suite.cached else "built"
        print(f"suite {state}: {suite.directory} ({len(suite.variants)} variants + the original)")
        print(json.dumps(suite.stats))
        return 0
