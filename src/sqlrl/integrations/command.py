"""``sqlrl export verl|openrlhf|skyrl``: write an sqlrl dataset in another framework's training-data layout."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

__all__ = ["ExportCommand"]

_SOURCES = ("toy", "spider", "bird")


class ExportCommand:
    """write a dataset (sqlrl-toy, Spider, BIRD) as verl or SkyRL parquet, or OpenRLHF JSON Lines"""

    name = "export"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        p = sub.add_parser(ExportCommand.name, help=ExportCommand.__doc__, description=ExportCommand.__doc__)
        p.add_argument("framework", choices=("verl", "openrlhf", "skyrl"), help="the training framework's layout")
        p.add_argument("--data", choices=_SOURCES, default="toy", help="the dataset (default: toy)")
        p.add_argument("--root", default=None, help="the Spider / BIRD folder (default: the loader's own search)")
        p.add_argument("--splits", nargs="+", default=["train", "dev"], help="splits to write (default: train dev)")
        p.add_argument("--limit", type=int, default=None, help="at most this many examples per split")
        p.add_argument(
            "--out", required=True, help="folder for <split>.parquet (verl, skyrl) or <split>.jsonl (openrlhf)"
        )
        p.set_defaults(command=ExportCommand)

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl._cliutil import EXIT_USAGE, error

        if args.limit is not None and args.limit <= 0:
            return error("--limit must be a positive number", EXIT_USAGE)
        out = Path(args.out)
        if out.exists() and not out.is_dir():
            return error(f"--out {out} is a file", EXIT_USAGE)
        out.mkdir(parents=True, exist_ok=True)
        for split in args.splits:
            dataset = _load(args.data, args.root, split)
            tables = dict(getattr(dataset, "tables", {}) or {})
            examples = list(dataset)[: args.limit] if args.limit else list(dataset)
            if args.framework == "verl":
                from sqlrl.integrations.verl import write_parquet

                path = out / f"{split}.parquet"
                n = write_parquet(examples, path, split=split, tables=tables)
            elif args.framework == "skyrl":
                from sqlrl.integrations import skyrl

                path = out / f"{split}.parquet"
                n = skyrl.write_parquet(examples, path, split=split, tables=tables)
            else:
                from sqlrl.integrations.openrlhf import openrlhf_records

                path = out / f"{split}.jsonl"
                records = openrlhf_records(examples, tables=tables)
                with path.open("w", encoding="utf-8") as f:
                    for r in records:
                        f.write(json.dumps(r, ensure_ascii=False) + "\n")
                n = len(records)
            print(f"{path}: {n} rows ({args.data} {split})")
        return 0


def _load(source: str, root: str | None, split: str):
    from sqlrl import data

    if source == "toy":
        return data.load_toy(split)
    if source == "spider":
        return data.load_spider(root, split=split)
    return data.load_bird(root, split=split)
