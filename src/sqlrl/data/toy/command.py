"""``sqlrl toy``: build sqlrl-toy into the cache if needed and say where its files are."""

from __future__ import annotations

import argparse
import shlex

__all__ = ["ToyCommand"]


class ToyCommand:
    """build the embedded sqlrl-toy benchmark if needed and print where its files are"""

    name = "toy"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser(
            ToyCommand.name,
            help=ToyCommand.__doc__,
            description=ToyCommand.__doc__ + " (in the sqlrl cache: $SQLRL_CACHE_DIR, else ~/.cache/sqlrl)",
        )
        p.add_argument("--path", action="store_true", help="print only the benchmark folder")
        p.set_defaults(command=ToyCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl._cliutil import error
        from sqlrl.data.toy.build import TOY_VERSION, build_toy
        from sqlrl.data.toy.load import toy_dir

        try:
            paths = build_toy(toy_dir())
        except OSError as e:
            return error(f"cannot build sqlrl-toy in {toy_dir()}: {e} (set SQLRL_CACHE_DIR to a writable folder)")
        if args.path:
            print(paths.root)
            return 0
        dbs = sorted(p.name for p in paths.database_dir.iterdir() if p.is_dir())
        print(f"sqlrl-toy {TOY_VERSION} in {paths.root}")
        for path, what in [
            (paths.train, "train questions (Spider format)"),
            (paths.dev, "dev questions (Spider format)"),
            (paths.train_gold, "train gold, SQL<TAB>db_id per line"),
            (paths.dev_gold, "dev gold, SQL<TAB>db_id per line"),
            (paths.tables, "schemas (Spider tables.json)"),
            (paths.database_dir, f"SQLite databases: <db_id>/<db_id>.sqlite for {', '.join(dbs)}"),
        ]:
            print(f"  {path.name:<16} {what}")
        gold, db, tables = (shlex.quote(str(p)) for p in (paths.dev_gold, paths.database_dir, paths.tables))
        print("Evaluate predictions for dev (one SQL per line, in dev.json's order), here the gold against itself:")
        print(f"  sqlrl eval spider --gold {gold} --pred {gold} --db {db} --table {tables}")
        return 0
