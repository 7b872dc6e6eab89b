"""Datasets: loaders for Spider, BIRD, Spider 2.0-lite and JSON Lines into one :class:`Example` type,
the generated sqlrl-toy benchmark (:mod:`sqlrl.data.toy`), prompt building
(:mod:`sqlrl.data.prompts`), and the generated demo databases (:mod:`sqlrl.data.demo`).

>>> from sqlrl.data import load_spider, load_bird, load_toy, build_messages  # doctest: +SKIP
>>> ds = load_toy("dev")  # doctest: +SKIP
>>> messages = build_messages(ds[0], tables_entry=ds.tables[ds[0].db_id])  # doctest: +SKIP
"""

from __future__ import annotations

from sqlrl._lazy import lazy_exports

# Names are imported from their modules on first use (a command that needs one loader loads one).
_HOMES = {
    "BIRD_DIFFICULTIES": "bird", "load_bird": "bird",
    "DatasetError": "errors", "MalformedDatasetError": "errors", "MissingDatasetFileError": "errors",
    "ExampleSet": "example", "Dataset": "example", "Example": "example", "load_jsonl": "jsonl",
    "PromptOptions": "prompts", "PromptTooLongError": "prompts", "build_messages": "prompts",
    "build_prompt": "prompts", "dialect_label": "prompts", "schema_ddl": "prompts",
    "HARDNESS_LEVELS": "spider", "load_spider": "spider", "load_tables": "spider", "suite_databases": "spider",
    "gold_csv_files": "spider2", "load_spider2_lite": "spider2",
    "TOY_VERSION": "toy", "ToyPaths": "toy", "build_toy": "toy", "load_toy": "toy.load", "toy_dir": "toy.load",
}  # fmt: skip
__getattr__, __dir__ = lazy_exports(__name__, _HOMES)

__all__ = [
    "BIRD_DIFFICULTIES",
    "HARDNESS_LEVELS",
    "TOY_VERSION",
    "ExampleSet",
    "Dataset",
    "DatasetError",
    "Example",
    "MalformedDatasetError",
    "MissingDatasetFileError",
    "PromptOptions",
    "PromptTooLongError",
    "ToyPaths",
    "build_messages",
    "build_prompt",
    "build_toy",
    "dialect_label",
    "gold_csv_files",
    "load_bird",
    "load_jsonl",
    "load_spider",
    "load_spider2_lite",
    "load_tables",
    "load_toy",
    "schema_ddl",
    "suite_databases",
    "toy_dir",
]
