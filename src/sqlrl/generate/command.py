"""``sqlrl generate``: the command class (``register`` and ``run``), as ``sqlrl.cli`` expects.

Examples::

    sqlrl generate --model ./my-model                                   # sqlrl-toy dev, greedy
    sqlrl generate --model ./my-model --dataset spider --path spider/ --n 8 --temperature 0.8 --out preds/
    sqlrl eval spider --gold preds/gold.sql --pred preds/pred.sql --db spider/database --table spider/tables.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from sqlrl._cliutil import (
    UsageError,
    error,
    fail,
    keywords_for,
    make_console,
    non_negative_int,
    positive_float,
    positive_int,
    workers_int,
)

err_console = make_console(stderr=True)

__all__ = ["GenerateCommand"]


def _eval_hint(dataset: Any, kind: str, paths: dict[str, Path], cache_dir: str | None) -> str | None:
    """The command that scores the written files, when the benchmark's paths are known."""
    if "gold" not in paths:
        return None
    db_file = next((ex.db_path for ex in dataset if ex.db_path is not None), None)
    if db_file is None:
        return None
    db_dir = Path(db_file).parent.parent
    if kind == "toy":
        from sqlrl.data.toy.load import toy_dir

        tables = toy_dir(cache_dir) / "tables.json"
        return f"sqlrl eval spider --gold {paths['gold']} --pred {paths['spider']} --db {db_dir} --table {tables}"
    if kind == "bird":
        return f"sqlrl eval bird --pred {paths['bird']} --gold {paths['gold']} --db-root {db_dir}"
    if kind == "spider":
        return f"sqlrl eval spider --gold {paths['gold']} --pred {paths['spider']} --db {db_dir} --table <tables.json>"
    return None


class GenerateCommand:
    """Generate predictions for a dataset with a local Hugging Face model (greedy, or n samples with voting)."""

    name = "generate"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        from sqlrl.eval.options import DATASET_KINDS
        from sqlrl.generate.backends import BACKENDS

        p = sub.add_parser(GenerateCommand.name, help=GenerateCommand.__doc__, description=GenerateCommand.__doc__)
        p.add_argument("--model", required=True, help="local Hugging Face causal LM folder (never downloaded)")
        p.add_argument("--dataset", choices=DATASET_KINDS, default="toy", help="benchmark kind (default toy)")
        p.add_argument("--path", default=None, help="benchmark folder (spider, bird, spider2) or file (jsonl)")
        p.add_argument("--split", default="dev", help="split (toy, spider, bird; default dev)")
        p.add_argument("--limit", type=positive_int, default=None, help="only the first N examples")
        p.add_argument("--out", default="sqlrl-generate", help="output folder (default ./sqlrl-generate)")
        p.add_argument("--overwrite", action="store_true", help="replace the files of an earlier run in --out")
        s = p.add_argument_group("sampling")
        s.add_argument("--n", type=positive_int, default=1, help="samples per question; > 1 votes by execution result")
        s.add_argument("--temperature", type=float, default=None, help="default: 0 (greedy) for --n 1, else 0.8")
        s.add_argument("--top-p", type=float, default=1.0, help="nucleus sampling (default 1.0)")
        s.add_argument(
            "--max-new-tokens", type=positive_int, default=None,
            help="completion length (default: the model's training length from its sqlrl_prompt.json, else 256)",
        )  # fmt: skip
        s.add_argument("--seed", type=int, default=0, help="sampling seed (default 0)")
        s.add_argument("--batch-size", type=positive_int, default=8, help="questions per generation batch (default 8)")
        s.add_argument("--backend", choices=BACKENDS, default="auto", help="auto: vLLM when installed with CUDA")
        s.add_argument("--device", default=None, help="torch device (default: cuda when available)")
        s.add_argument("--dtype", default=None, help="weights dtype, e.g. bfloat16 (default: the checkpoint's)")
        pr = p.add_argument_group(
            "prompt",
            "A model trained by sqlrl train is asked as it was trained (its folder's sqlrl_prompt.json); these "
            "flags override single settings. Without that file the defaults are: ddl schema, 3 sample values, "
            "the standard instruction, a system message.",
        )
        pr.add_argument(
            "--schema-format", choices=["ddl", "compact", "none"], default=None, help="schema in the prompt"
        )
        pr.add_argument("--sample-values", type=non_negative_int, default=None, help="sample values per column (ddl)")
        pr.add_argument("--instruction", default=None, help="replace the instruction text")
        pr.add_argument("--dialect", default=None, help="SQL dialect asked for (default: the dataset's)")
        pr.add_argument(
            "--think", action=argparse.BooleanOptionalAction, default=None,
            help="ask for reasoning in <think> before the SQL",
        )  # fmt: skip
        pr.add_argument(
            "--system", action=argparse.BooleanOptionalAction, default=None,
            help="a system message holds the instruction (--no-system: the instruction opens the user turn)",
        )  # fmt: skip
        pr.add_argument(
            "--ignore-model-prompt", action="store_true",
            help="ignore the model's sqlrl_prompt.json: the defaults above, changed only by these flags",
        )  # fmt: skip
        ex = p.add_argument_group("execution (voting)")
        ex.add_argument("--engine", choices=["sqlite", "duckdb"], default="sqlite", help="sandbox engine")
        ex.add_argument("--timeout", type=positive_float, default=10.0, help="seconds per sampled query (default 10)")
        ex.add_argument("--workers", type=workers_int, default=2, help="threads executing samples (default 2)")
        ex.add_argument("--cache-dir", default=None, help="sqlrl cache (sqlrl-toy build, DuckDB copies)")
        ex.add_argument(
            "--vote-ignore-column-order",
            action="store_true",
            help="results that differ only in column order vote together (Spider's EX accepts a column "
            "permutation; BIRD's does not, so keep the default there)",
        )
        bar = p.add_mutually_exclusive_group()
        bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show bars")
        bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show bars")
        it = p.add_argument_group(
            "interactive episodes",
            "--interactive: the model may explore the database with read-only tools before it answers "
            "(docs/environment.md); pred.sql holds each episode's final SQL, trajectories.jsonl every turn.",
        )
        it.add_argument("--interactive", action="store_true", help="run one tool-using episode per question")
        it.add_argument("--max-turns", type=non_negative_int, default=6, help="exploration calls per episode (6)")
        it.add_argument("--max-chars", type=positive_int, default=4000, help="tool output characters per episode")
        it.add_argument(
            "--base-url", default=None,
            help="an OpenAI-compatible server (e.g. http://localhost:8000/v1): --model is then the served model's name",
        )  # fmt: skip
        it.add_argument("--api-key-env", default="OPENAI_API_KEY", help="environment variable holding the API key")
        p.add_argument("--json", action="store_true", help="print the summary as JSON")
        p.set_defaults(command=GenerateCommand)

    @staticmethod
    def prompt_settings(args: argparse.Namespace) -> Any:
        """The model's training prompt settings (None: no file, or ``--ignore-model-prompt``)."""
        from sqlrl.models.prompt_settings import PromptSettings

        if args.ignore_model_prompt or not Path(args.model).is_dir():
            return None
        return PromptSettings.read(args.model)

    @staticmethod
    def config(args: argparse.Namespace) -> Any:
        """The :class:`~sqlrl.generate.runner.GenerateConfig` the arguments describe: the model's training
        prompt settings (see :meth:`prompt_settings`), with every prompt flag given overriding its field."""
        from sqlrl.data.prompts import PromptOptions
        from sqlrl.generate.runner import GenerateConfig

        settings = GenerateCommand.prompt_settings(args)
        flags = {"schema_format": args.schema_format, "sample_values": args.sample_values,
                 "instruction": args.instruction, "dialect": args.dialect, "think": args.think,
                 "system_message": args.system}  # fmt: skip
        given = {k: v for k, v in flags.items() if v is not None}
        prompt = settings.options(**given) if settings is not None else PromptOptions(**given)
        tokens = args.max_new_tokens or (settings.max_new_tokens if settings is not None else None) or 256
        own = {"max_new_tokens": tokens, "prompt": prompt, "vote_column_order": not args.vote_ignore_column_order}
        return GenerateConfig(**keywords_for(GenerateConfig, args, **own))

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from sqlrl.data.errors import DatasetError
        from sqlrl.eval.paverl import load_examples
        from sqlrl.generate.backends import check_model_dir
        from sqlrl.generate.runner import generate_predictions

        out = Path(args.out)
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {out} is a file; --out names the folder for the prediction files")
        try:
            config = GenerateCommand.config(args)
            if args.base_url is None:
                check_model_dir(args.model)
            if args.interactive and config.n != 1:
                raise UsageError("--interactive runs one episode per question: leave --n at 1")
            dataset = load_examples(args.dataset, args.path, split=args.split, cache_dir=args.cache_dir)
        except (DatasetError, ValueError, OSError) as e:  # PromptSettingsError is a ValueError
            return fail(e)
        if args.limit is not None:
            dataset = dataset[: args.limit]
        if not len(dataset):
            return error(f"no examples in {args.dataset} {args.split}")
        files = (out / "generate.json", out / "samples.jsonl", out / "pred.sql", out / "trajectories.jsonl")
        earlier = sorted(p.name for p in files if p.exists())
        if earlier and not args.overwrite:
            raise UsageError(
                f"--out {out} already holds an earlier run ({', '.join(earlier)}): pass --overwrite to replace it, "
                "or name another folder with --out"
            )
        settings = GenerateCommand.prompt_settings(args)
        if settings is not None:
            err_console.print(
                f"prompt: as the model was trained ({Path(args.model) / 'sqlrl_prompt.json'}: schema "
                f"{config.prompt.schema_format}, {config.max_new_tokens} new tokens; flags override, "
                "--ignore-model-prompt ignores it)",
                highlight=False,
            )
        if args.dataset == "bird" and not config.vote_column_order:
            err_console.print(
                "note: BIRD's EX counts column order; --vote-ignore-column-order merges votes it tells apart",
                highlight=False,
            )
        model: Any = args.model
        if args.base_url is not None:
            from sqlrl.models.openai_chat import OpenAIChatModel

            model = OpenAIChatModel(args.model, base_url=args.base_url, api_key_env=args.api_key_env)
        try:
            if args.interactive:
                from sqlrl.env import EnvConfig
                from sqlrl.env.generate import interactive_predictions

                env = EnvConfig(max_turns=args.max_turns, max_chars=args.max_chars, timeout=args.timeout)
                result = interactive_predictions(model, dataset, config, env, progress=args.progress)
            else:
                result = generate_predictions(model, dataset, config, progress=args.progress, cache_dir=args.cache_dir)
        except (ValueError, OSError, ImportError, RuntimeError) as e:  # the run failed (model, data, engine)
            return error(str(e))
        paths = result.write(args.out)
        if args.interactive:
            from sqlrl.env.generate import write_trajectories

            paths["trajectories"] = write_trajectories(result, args.out)
        summary = result.summary()
        if args.json:
            print(json.dumps({"summary": summary, "files": {k: str(v) for k, v in paths.items()}}, indent=2))
            return 0
        line = f"{summary['examples']} examples, {summary['samples']} samples ({summary['with_sql']} with SQL"
        if config.n > 1:
            votes = ", ".join(f"{k} {v}" for k, v in sorted(summary["votes"].items()))
            line += f", {summary['executed_ok']} ran); votes: {votes}"
        else:
            line += ")"
        print(line)
        if args.interactive:
            ep = result.meta["episodes"]
            print(
                f"episodes: {ep['tool_calls']:.2f} tool calls and {ep['turns']:.2f} exploration turns on average, "
                f"{ep['answered']:.0%} answered with answer(sql), tool error rate {ep['tool_error_rate']:.0%}"
            )
        print(f"generation {result.meta['seconds_generate']:.1f} s, execution {result.meta['seconds_execute']:.1f} s")
        for kind, path in paths.items():
            print(f"wrote {kind}: {path}")
        hint = _eval_hint(dataset, args.dataset, paths, args.cache_dir)
        if hint:
            print(f"evaluate: {hint}")
        return 0
