"""The ``sqlrl`` command line: small command classes with ``register`` and ``run``."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from sqlrl._cliutil import (
    CommandError,
    UsageError,
    dialect,
    error,
    make_console,
    non_negative_int,
    positive_float,
    positive_int,
    run_guarded,
)

console = make_console()


def _open_sandbox(args: argparse.Namespace):
    """The sandbox on ``--db``; a path that is missing or no database raises a SandboxError (exit 1).
    With ``--dialect`` other than SQLite's and ``--engine auto``: DuckDB (a SQLite file imported)."""
    from sqlrl.sandbox import Sandbox
    from sqlrl.sandbox.service import engine_for_dialect

    engine = engine_for_dialect(args.engine, getattr(args, "dialect", None))
    ties = getattr(args, "sqlite_ties", False)
    return Sandbox(Path(args.db), engine=engine, timeout=args.timeout, max_rows=args.max_rows, sqlite_ties=ties)


def _run_in(sandbox: Any, sql: str, dialect: str | None) -> Any:
    """``sql``, written in ``dialect``, run in ``sandbox`` (transpiled by sqlglot first; a query it cannot
    transpile gives a ``transpile`` failure)."""
    from sqlrl.sandbox import ErrorKind, ExecResult
    from sqlrl.sandbox.service import translate_for

    text, why = translate_for(sql, dialect, sandbox.dialect, sandbox.engine)
    if text is None:
        return ExecResult.failure(sql, ErrorKind.TRANSPILE, why, engine=sandbox.engine)
    return sandbox.execute(text)


def _add_db_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--db", required=True, help="SQLite file, DuckDB file or directory of CSV files")
    p.add_argument("--engine", default="auto", choices=["auto", "sqlite", "duckdb"], help="execution engine")
    p.add_argument("--timeout", type=positive_float, default=10.0, help="seconds before a query is stopped")
    p.add_argument(
        "--max-rows", type=non_negative_int, default=100_000, help="row cap per result (flagged as truncated)"
    )
    p.add_argument(
        "--sqlite-ties", action="store_true", help="DuckDB on a SQLite file: rows and groups that tie under the "
        "ORDER BY come in SQLite's order (one sqlglot parse per query)",
    )  # fmt: skip


def _result_json(result: Any) -> dict[str, Any]:
    return {
        "ok": result.ok,
        "error_kind": None if result.ok else result.error_kind.value,
        "error": result.error,
        "elapsed_s": round(result.elapsed, 6),
        "truncated": result.truncated,
        "num_rows": result.table.num_rows if result.ok else None,
    }


def render_table(table: Any, limit: int = 50, title: str | None = None) -> Any:
    """A rich table showing the first ``limit`` rows of a result table."""
    from rich.table import Table as RichTable

    out = RichTable(title=title, show_lines=False)
    for name in table.columns:
        out.add_column(str(name), overflow="fold")
    for row in table.rows()[:limit]:
        out.add_row(*("NULL" if v is None else str(v) for v in row))
    return out


class ExecCommand:
    """Run one read-only query in the sandbox and print its result."""

    name = "exec"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser(ExecCommand.name, help=ExecCommand.__doc__)
        _add_db_options(p)
        p.add_argument("sql", help="the query")
        p.add_argument(
            "--dialect", type=dialect, default=None, help="dialect of the query (default: the engine's own); "
            "another than sqlite is transpiled by sqlglot to DuckDB and runs on DuckDB (a SQLite file's data "
            "imported) unless --engine sqlite",
        )  # fmt: skip
        p.add_argument("--json", action="store_true", help="print JSON instead of a table")
        p.add_argument("--limit", type=non_negative_int, default=50, help="rows to display")
        p.set_defaults(command=ExecCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        with _open_sandbox(args) as sandbox:
            result = _run_in(sandbox, args.sql, args.dialect)
        if args.json:
            payload = _result_json(result)
            if result.ok:
                payload["columns"] = result.table.columns
                payload["rows"] = [list(r) for r in result.table.rows()[: args.limit]]
            print(json.dumps(payload, default=str, ensure_ascii=False))
            return 0 if result.ok else 1
        if not result.ok:
            return error(f"the query failed ({result.error_kind}): {result.error}")
        console.print(render_table(result.table, args.limit))
        more = " (truncated)" if result.truncated else ""
        console.print(f"{result.table.num_rows} rows{more} in {result.elapsed * 1000:.1f} ms")
        return 0


class CompareCommand:
    """Execute a gold and a predicted query and print every verdict and partial score as JSON."""

    name = "compare"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser(CompareCommand.name, help=CompareCommand.__doc__)
        _add_db_options(p)
        p.add_argument("--gold", required=True, help="gold SQL")
        p.add_argument("--pred", required=True, help="predicted SQL")
        p.add_argument(
            "--order-matters",
            choices=["auto", "yes", "no"],
            default="auto",
            help="spider mode: compare row order (auto: gold contains 'order by', as the official script)",
        )
        p.add_argument("--ignore-order", action="store_true", help="spider2 mode: sort columns first")
        p.add_argument("--condition-cols", type=int, nargs="*", default=None, help="spider2 gold columns")
        p.set_defaults(command=CompareCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl.scoring import METRICS, MODES, gold_has_order_by, score

        with _open_sandbox(args) as sandbox:
            gold = sandbox.execute(args.gold)
            pred = sandbox.execute(args.pred)
        if not gold.ok:
            return error(f"the gold query failed ({gold.error_kind}): {gold.error}")
        order = {"yes": True, "no": False}.get(args.order_matters, gold_has_order_by(args.gold))
        report: dict[str, Any] = {"gold": _result_json(gold), "pred": _result_json(pred), "order_matters": order}
        if pred.ok:
            report["scores"] = score(
                gold.table,
                pred.table,
                modes=MODES,
                metrics=METRICS,
                order_matters=order,
                ignore_order=args.ignore_order,
                condition_cols=args.condition_cols,
            )
        else:
            report["scores"] = {name: 0.0 for name in (*MODES, *METRICS)}
        print(json.dumps(report, indent=2, ensure_ascii=False))
        return 0


class DemoCommand:
    """Score a few predicted queries against gold on a generated demo database."""

    name = "demo"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser(DemoCommand.name, help=DemoCommand.__doc__)
        p.add_argument("--engine", default="duckdb", choices=["sqlite", "duckdb"], help="execution engine")
        p.add_argument("--dir", default=None, help="where to write the demo databases (default: a temp dir)")
        p.set_defaults(command=DemoCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl.demo import run_demo

        if args.dir is not None and Path(args.dir).exists() and not Path(args.dir).is_dir():
            raise UsageError(f"--dir {args.dir} is a file; give a folder for the demo databases")
        return run_demo(engine=args.engine, directory=args.dir, console=console)


def _read_text(path: str) -> str:
    """A text file (``-``: stdin) as UTF-8; an error names the file."""
    if path == "-":
        stdin = getattr(sys.stdin, "buffer", None)
        if stdin is None:  # a text stream without bytes underneath (tests, embedding)
            return sys.stdin.read()
        data, path = stdin.read(), "stdin"
    else:
        data = Path(path).read_bytes()  # a missing file or a directory: an OSError naming it
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise CommandError(f"{path} is not UTF-8 text ({e})") from None


def _load_schema(args: argparse.Namespace):
    """A DbSchema from --db (SQLite/DuckDB file) or --tables + --db-id (tables.json)."""
    from sqlrl.sql import DbSchema, load_tables_json

    if getattr(args, "tables", None):
        if not args.db_id:
            raise UsageError("--tables needs --db-id")
        try:
            schemas = load_tables_json(args.tables)
        except ValueError as e:  # not JSON, not UTF-8, not tables.json entries: the message names the file
            raise CommandError(str(e)) from None
        if args.db_id not in schemas:
            raise CommandError(f"db_id {args.db_id!r} is not in {args.tables}")
        return schemas[args.db_id]
    if getattr(args, "db", None):
        from sqlrl.sandbox.source import database_kind

        if database_kind(args.db) == "csv_dir":  # raises for a missing path or a file that is no database
            raise CommandError(f"--db {args.db}: a CSV folder has no schema to read here; give a SQLite or DuckDB file")
        try:
            return DbSchema.from_database(args.db)
        except Exception as e:  # the engine's error on a corrupt file; the file is named here
            raise CommandError(f"cannot read the schema of {args.db}: {e}") from None
    return None


def _add_schema_options(p: argparse.ArgumentParser, required: bool = False) -> None:
    p.add_argument("--db", help="SQLite or DuckDB file to read the schema from")
    p.add_argument("--tables", help="Spider/BIRD tables.json (with --db-id)")
    p.add_argument("--db-id", help="database id in tables.json")
    p.add_argument("--dialect", type=dialect, default="sqlite", help="dialect of the SQL (default sqlite)")


class SqlCommand:
    """Debug the SQL layer by hand: extract, transpile, check, link, ngram."""

    name = "sql"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser(SqlCommand.name, help=SqlCommand.__doc__)
        sql_sub = p.add_subparsers(title="sql commands", metavar="ACTION", dest="action", required=True)

        e = sql_sub.add_parser("extract", help="find the SQL in a model completion (file or stdin)")
        e.add_argument("file", nargs="?", default="-", help="completion text file, - for stdin")

        t = sql_sub.add_parser("transpile", help="rewrite a query from one dialect into another")
        t.add_argument("sql")
        t.add_argument("--read", type=dialect, default="sqlite", help="source dialect")
        t.add_argument("--write", type=dialect, default="duckdb", help="target dialect")
        t.add_argument("--no-sqlite-compat", action="store_true", help="skip the SQLite-compat rewrites")

        c = sql_sub.add_parser("check", help="parse and bind a query against a schema, without executing it")
        c.add_argument("sql")
        _add_schema_options(c)
        c.add_argument("--engine", choices=["sqlite", "duckdb"], default=None, help="engine that binds")

        k = sql_sub.add_parser("link", help="schema items a query uses, and linking scores against gold")
        k.add_argument("sql")
        k.add_argument("--gold", help="gold SQL to score against")
        _add_schema_options(k)

        sc = sql_sub.add_parser("components", help="Spider exact match, the ten components and hardness")
        sc.add_argument("--gold", required=True, help="gold SQL")
        sc.add_argument("--pred", help="predicted SQL (default: hardness of the gold only)")
        sc.add_argument("--keep-values", action="store_true", help="compare condition values too")
        sc.add_argument("--keep-distinct", action="store_true", help="compare DISTINCT too")
        _add_schema_options(sc)

        n = sql_sub.add_parser("ngram", help="token n-gram similarity of two queries")
        n.add_argument("gold")
        n.add_argument("pred")
        n.add_argument("-n", type=positive_int, default=2, help="n-gram size")
        n.add_argument("--dialect", type=dialect, default="sqlite")
        p.set_defaults(command=SqlCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl import sql as sq

        if args.action == "extract":
            text = _read_text(args.file)
            got = sq.extract_sql(text)
            print(json.dumps({"sql": got.sql, "source": got.source, "reason": got.reason}, ensure_ascii=False))
            return 0 if got.ok else 1
        if args.action == "transpile":
            try:
                print(
                    sq.transpile(
                        args.sql,
                        read=args.read,
                        write=args.write,
                        sqlite_compat=False if args.no_sqlite_compat else None,
                    )
                )
            except sq.SqlError as e:
                return error(f"{type(e).__name__}: {e}")
            return 0
        if args.action == "check":
            got = sq.check_syntax(args.sql, dialect=args.dialect, schema=_load_schema(args), engine=args.engine)
            print(json.dumps({"ok": got.ok, "stage": got.stage, "error": got.error}, ensure_ascii=False))
            return 0 if got.ok else 1
        if args.action == "link":
            schema = _load_schema(args)
            if schema is None:
                raise UsageError("link needs a schema: --db or --tables with --db-id")
            try:
                items = sq.schema_items(args.sql, schema, args.dialect)
                out: dict[str, Any] = {"tables": sorted(items.tables), "columns": sorted(items.columns)}
                if args.gold:
                    out["scores"] = sq.linking_scores(args.gold, args.sql, schema, args.dialect)
            except sq.SqlError as e:
                return error(f"{type(e).__name__}: {e}")
            print(json.dumps(out, indent=2))
            return 0
        if args.action == "components":
            from sqlrl.sql import spider

            schema = _load_schema(args)
            if schema is None:
                raise UsageError("components needs a schema: --tables with --db-id, or --db")
            m = spider.evaluate(
                args.gold,
                args.pred if args.pred is not None else args.gold,
                schema.to_spider(),
                keep_values=args.keep_values,
                keep_distinct=args.keep_distinct,
            )
            out = {"hardness": m.hardness, "gold_error": m.gold_error and str(m.gold_error)}
            if args.pred is not None:
                out.update(
                    exact_match=m.exact,
                    component_match_fraction=m.match_fraction,
                    pred_error=m.pred_error and str(m.pred_error),
                    components={
                        k: {"gold_total": v.gold_total, "pred_total": v.pred_total, "matched": v.matched, "f1": v.f1}
                        for k, v in m.components.items()
                    },
                )
            print(json.dumps(out, indent=2, default=str))
            return 0
        if args.action == "ngram":
            print(sq.ngram_similarity(args.gold, args.pred, n=args.n, dialect=args.dialect))
            return 0
        return 2


def _eval_command():
    from sqlrl.eval.commands import EvalCommand

    return EvalCommand


def _verbal_command():
    from sqlrl.verbal.command import VerbalCommand

    return VerbalCommand


def _train_commands():
    from sqlrl.train.command import QuickstartCommand, TrainCommand

    return [QuickstartCommand, TrainCommand]


def _toy_command():
    from sqlrl.data.toy.command import ToyCommand

    return ToyCommand


def _suite_command():
    from sqlrl.suite.command import SuiteCommand

    return SuiteCommand


def _generate_command():
    from sqlrl.generate.command import GenerateCommand

    return GenerateCommand


def _report_command():
    from sqlrl.report.command import ReportCommand

    return ReportCommand


def _export_command():
    from sqlrl.integrations.command import ExportCommand

    return ExportCommand


COMMANDS = [
    DemoCommand, ExecCommand, CompareCommand, SqlCommand, _eval_command(), _toy_command(), _suite_command(),
    _generate_command(), _verbal_command(), *_train_commands(), _export_command(), _report_command(),
]  # fmt: skip


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The ``sqlrl`` parser. With ``argv``, only the command it names gets its flags; the others are listed
    by name and help line (what ``sqlrl --help`` shows), so a command does not pay for the others' setup."""
    parser = argparse.ArgumentParser(
        prog="sqlrl", description="Text-to-SQL RL toolkit: sandboxed execution and scoring."
    )
    sub = parser.add_subparsers(title="commands", metavar="COMMAND")
    named = None if argv is None else next((a for a in argv if not a.startswith("-")), "")
    for command in COMMANDS:
        if named is None or command.name == named:
            command.register(sub)
        else:
            sub.add_parser(command.name, help=command.__doc__)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one command. Exit codes: 0 success, 1 the command failed (``error: ...``), 2 a usage error."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(argv)
    args = parser.parse_args(argv)
    if not hasattr(args, "command"):
        parser.print_help()
        return 0
    return run_guarded(lambda: args.command.run(args))


if __name__ == "__main__":
    sys.exit(main())
