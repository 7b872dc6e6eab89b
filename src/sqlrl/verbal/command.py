"""``sqlrl verbal``: run the verbal loop over a dataset (see :mod:`sqlrl.verbal`)."""

from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path
from typing import Any

from sqlrl._cliutil import UsageError, fail, keywords_for, non_negative_int, positive_int, workers_int

__all__ = ["VerbalCommand"]

_DATASETS = ("toy", "spider", "bird", "jsonl", "spider2")


def _flag(group: Any, name: str, *, type: Any, default: Any, help: str) -> None:
    group.add_argument(f"--{name}", type=type, default=default, help=f"{help} (default {default})")


def _switch(group: Any, name: str, default: bool, help: str) -> None:
    group.add_argument(f"--{name}", action=argparse.BooleanOptionalAction, default=default, help=help)


def _read(path: str | None) -> str | None:
    """A template or instruction file as UTF-8 text; errors name the file."""
    if path is None:
        return None
    from sqlrl.data._files import read_text

    return read_text(Path(path), "a template or instruction file")


class VerbalCommand:
    """Verbal RL: sample SQL, execute, let an LLM judge the group of results, refine; write predictions."""

    name = "verbal"

    @staticmethod
    def register(sub: argparse._SubParsersAction) -> None:
        from sqlrl.verbal.config import VerbalConfig

        d = VerbalConfig()
        p = sub.add_parser(
            VerbalCommand.name,
            help=VerbalCommand.__doc__,
            description=VerbalCommand.__doc__ + " Resumable: run the same command again to finish an interrupted run.",
        )
        data = p.add_argument_group("dataset")
        data.add_argument("--dataset", choices=_DATASETS, default="toy", help="benchmark kind (default toy: sqlrl-toy)")
        data.add_argument("--path", default=None, help="benchmark folder (spider, bird, spider2-lite) or file (jsonl)")
        data.add_argument("--split", default="dev", help="split (toy, spider, bird; default dev)")
        data.add_argument("--limit", type=positive_int, default=None, help="only the first N questions")
        data.add_argument("--cache-dir", default=None, help="where sqlrl-toy and DuckDB copies are cached")

        be = p.add_argument_group("model backend")
        be.add_argument(
            "--backend",
            choices=["openai", "local"],
            default="openai",
            help="openai: any OpenAI-compatible endpoint (vLLM, hosted); local: a transformers model folder",
        )
        be.add_argument("--model", required=True, help="model name on the endpoint, or the local model folder")
        be.add_argument("--base-url", default=None, help="endpoint root, e.g. http://localhost:8000/v1")
        be.add_argument("--api-key-env", default="OPENAI_API_KEY", help="variable holding the API key (unset: 'EMPTY')")
        _flag(be, "request-timeout", type=float, default=60.0, help="seconds per HTTP request")
        _flag(be, "max-retries", type=int, default=3, help="retries on timeouts, connection errors, 408/409/429/5xx")
        # deprecated: the openai client sets the backoff (accepted so old command lines still run)
        be.add_argument("--backoff", type=float, default=None, help=argparse.SUPPRESS)
        be.add_argument("--max-backoff", type=float, default=None, help=argparse.SUPPRESS)
        _flag(be, "concurrency", type=int, default=8, help="HTTP requests in flight at most")
        be.add_argument("--n-per-request", type=int, default=None,
                        help="most completions per request (1 for servers without 'n'; default all)")  # fmt: skip
        be.add_argument("--device", default=None, help="local backend: cpu, cuda, ... (default: cuda when available)")
        be.add_argument("--judge-model", default=None, help="judge model (default: the generator)")
        be.add_argument("--judge-base-url", default=None, help="judge endpoint (default: --base-url)")
        be.add_argument("--judge-api-key-env", default=None, help="judge key variable (default: --api-key-env)")

        s = p.add_argument_group("sampling")
        _flag(s, "k", type=int, default=d.k, help="stop once this many sampled queries executed")
        _flag(s, "max-attempts", type=int, default=d.max_attempts, help="completions sampled at most per question")
        _flag(s, "sample-batch", type=int, default=d.sample_batch, help="completions per generator request")
        _switch(s, "nonempty", d.require_nonempty, "only results with rows count towards k")
        _switch(s, "prefer-nonempty", d.prefer_nonempty, "results with rows rank before empty ones")
        _flag(s, "temperature", type=float, default=d.temperature, help="generator temperature")
        _flag(s, "top-p", type=float, default=d.top_p, help="generator top-p")
        s.add_argument("--max-new-tokens", type=positive_int, default=None,
                       help=f"generator completion length limit (default {d.max_new_tokens}; local backend: the "
                       "model's training length when its folder has a sqlrl_prompt.json)")  # fmt: skip
        _flag(s, "seed", type=int, default=d.seed, help="base seed of every request")
        s.add_argument(
            "--sample-values",
            type=non_negative_int,
            default=None,
            help="sample values per column in the schema (default 3, or the local model's training value)",
        )
        s.add_argument(
            "--think",
            action=argparse.BooleanOptionalAction,
            default=None,
            help="ask the generator to reason in <think> first (default no, or as the local model was trained)",
        )
        s.add_argument("--instruction-file", default=None, help="replaces the generator's instruction")
        s.add_argument("--ignore-model-prompt", action="store_true",
                       help="local backend: ignore the model folder's sqlrl_prompt.json (the prompt it was trained "
                       "with, used by default)")  # fmt: skip

        j = p.add_argument_group("judge")
        _switch(j, "judge", d.use_judge, "score the result clusters with the judge (--no-judge: majority vote)")
        _flag(j, "judge-rounds", type=int, default=d.judge_rounds, help="scoring rounds R, averaged")
        _flag(
            j, "judge-retries", type=int, default=d.judge_retries, help="extra tries of a round with a malformed reply"
        )
        _flag(j, "judge-temperature", type=float, default=d.judge_temperature, help="judge temperature")
        _flag(j, "judge-max-tokens", type=int, default=d.judge_max_tokens, help="judge reply length limit")
        _flag(j, "score-max", type=int, default=d.score_max, help="scores run from 0 to this")
        _flag(j, "vote-weight", type=float, default=d.vote_weight, help="add this x score-max x vote share to scores")
        _switch(j, "shuffle", d.shuffle, "show the clusters in a new order each round")
        _switch(j, "votes", d.show_votes, "tell the judge how many queries gave each result")
        _flag(j, "max-judge-candidates", type=int, default=d.max_judge_candidates, help="largest clusters shown")
        _switch(j, "judge-single-cluster", d.judge_single_cluster, "judge even when all results agree")
        j.add_argument("--judge-system-file", default=None, help="judge system template (str.format fields)")
        j.add_argument("--judge-user-file", default=None, help="judge user template (str.format fields)")

        r = p.add_argument_group("refinement")
        _flag(r, "refine-rounds", type=int, default=d.refine_rounds, help="refinement rounds")
        _flag(r, "refine-samples", type=int, default=d.refine_samples, help="completions per refinement round")
        _flag(r, "refine-below", type=float, default=d.refine_below, help="refine while the choice scores below this")
        r.add_argument("--refine-temperature", type=float, default=None, help="default: --temperature")
        r.add_argument("--refine-user-file", default=None, help="refinement feedback template")

        x = p.add_argument_group("execution and prompts")
        x.add_argument("--engine", choices=["sqlite", "duckdb", "auto"], default=d.engine, help="sandbox engine")
        _flag(x, "exec-timeout", type=float, default=d.exec_timeout, help="seconds per query, really stopped")
        _flag(x, "max-rows", type=int, default=d.max_rows, help="rows kept per result")
        _flag(x, "summary-rows", type=int, default=d.summary_rows, help="rows shown per result in prompts")
        x.add_argument("--dialect", default=None, help="SQL dialect asked for (default: the dataset's)")
        _switch(x, "cluster-ordered", d.cluster_ordered, "row order separates clusters")
        _switch(x, "cluster-column-order", d.cluster_column_order,
                "column order separates clusters (--no-cluster-column-order: as Spider's EX, not BIRD's)")  # fmt: skip
        _switch(x, "log-prompts", d.log_prompts, "keep every judge prompt in the trajectories")
        _switch(x, "score-gold", d.score_gold, "after choosing, record which candidates match the gold")

        o = p.add_argument_group("run")
        o.add_argument("--out", default=None, help="output folder (default runs/verbal-<dataset>-<split>)")
        _flag(o, "workers", type=workers_int, default=4, help="questions in progress at once (-1: all cores)")
        o.add_argument("--restart", action="store_true", help="discard the trajectories in --out and start over")
        o.add_argument("--json", action="store_true", help="print the summary as JSON")
        bar = o.add_mutually_exclusive_group()
        bar.add_argument("--progress", dest="progress", action="store_true", default=None, help="always show a bar")
        bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")
        p.set_defaults(command=VerbalCommand)

    @staticmethod
    def prompt_settings(args: argparse.Namespace) -> Any:
        """The local model's training prompt settings (:mod:`sqlrl.models.prompt_settings`), or None: another
        backend, no ``sqlrl_prompt.json``, or ``--ignore-model-prompt``."""
        from sqlrl.models.prompt_settings import PromptSettings

        if args.backend != "local" or args.ignore_model_prompt or not Path(args.model).is_dir():
            return None
        return PromptSettings.read(args.model)

    @staticmethod
    def config(args: argparse.Namespace) -> Any:
        """The :class:`VerbalConfig` the arguments describe (a local model's training prompt settings, with every
        prompt flag given overriding its field)."""
        from sqlrl.data.prompts import PromptOptions
        from sqlrl.verbal.config import VerbalConfig

        settings = VerbalCommand.prompt_settings(args)
        flags = {"sample_values": args.sample_values, "think": args.think, "instruction": _read(args.instruction_file)}
        given = {k: v for k, v in flags.items() if v is not None}
        opts = settings.options(**given) if settings is not None else PromptOptions(**given)
        d = VerbalConfig()
        max_new_tokens = args.max_new_tokens or (settings and settings.max_new_tokens) or d.max_new_tokens
        return VerbalConfig(**keywords_for(
            VerbalConfig, args, require_nonempty=args.nonempty, use_judge=args.judge, show_votes=args.votes,
            max_new_tokens=max_new_tokens, prompt_options=opts, judge_system=_read(args.judge_system_file),
            judge_user=_read(args.judge_user_file), refine_user=_read(args.refine_user_file),
        ))  # fmt: skip

    @staticmethod
    def backends(args: argparse.Namespace) -> tuple[Any, Any]:
        """The generator and judge chat models (the judge is the generator unless told otherwise)."""
        from sqlrl.models.local import LocalChatModel
        from sqlrl.models.openai_chat import OpenAIChatModel

        def openai(model: str, base_url: str | None, key_env: str) -> Any:
            return OpenAIChatModel(
                model, base_url=base_url, api_key_env=key_env, timeout=args.request_timeout,
                max_retries=args.max_retries, backoff=args.backoff, max_backoff=args.max_backoff,
                concurrency=args.concurrency, n_per_request=args.n_per_request,
            )  # fmt: skip

        if args.backend == "local":
            generator = LocalChatModel(args.model, device=args.device)
            judge = generator if args.judge_model is None else LocalChatModel(args.judge_model, device=args.device)
            return generator, judge
        generator = openai(args.model, args.base_url, args.api_key_env)
        if args.judge_model is None and args.judge_base_url is None and args.judge_api_key_env is None:
            return generator, generator
        judge = openai(args.judge_model or args.model, args.judge_base_url or args.base_url,
                       args.judge_api_key_env or args.api_key_env)  # fmt: skip
        return generator, judge

    @staticmethod
    def eval_command(args: argparse.Namespace, dataset: Any, summary: Any) -> str | None:
        """The ``sqlrl eval`` command that scores the written predictions, when it can be told."""
        files = summary.files
        ex = next(iter(dataset), None)
        if ex is None or ex.db_path is None:
            return None
        db_root = Path(ex.db_path).parent.parent
        q = shlex.quote
        if args.dataset in ("toy", "spider"):
            if args.dataset == "toy":
                from sqlrl.data.toy.load import toy_dir

                tables = toy_dir(args.cache_dir) / "tables.json"
            else:
                tables = Path(args.path) / "tables.json"
            return (f"sqlrl eval spider --gold {q(str(files['gold']))} --pred {q(str(files['pred']))} "
                    f"--db {q(str(db_root))} --table {q(str(tables))}")  # fmt: skip
        if args.dataset == "bird":
            return (f"sqlrl eval bird --pred {q(str(files['pred']))} --gold {q(str(files['gold']))} "
                    f"--diff {q(str(files['difficulty']))} --db-root {q(str(db_root))}")  # fmt: skip
        path = f" --path {q(args.path)}" if args.path else ""
        return f"sqlrl eval paverl --dataset {args.dataset}{path} --pred {q(str(files['predictions']))}"

    @staticmethod
    def run(args: argparse.Namespace) -> int:
        from rich.console import Console

        from sqlrl.data.errors import DatasetError
        from sqlrl.eval.paverl import load_examples
        from sqlrl.verbal.run import run_verbal

        err = Console(stderr=True)
        out_path = Path(args.out or f"runs/verbal-{args.dataset}-{args.split}")
        try:
            config = VerbalCommand.config(args)
            dataset = load_examples(args.dataset, args.path, split=args.split, cache_dir=args.cache_dir)
            if args.limit is not None:
                dataset = dataset[: args.limit]
            generator, judge = VerbalCommand.backends(args)
        except (DatasetError, ValueError, OSError, ImportError) as e:
            return fail(e)
        if out_path.exists() and not out_path.is_dir():
            raise UsageError(f"--out {out_path} is a file; --out names the folder of the run")
        from sqlrl.eval._exec import evaluation_service

        pool = evaluation_service(engine=config.engine, timeout=config.exec_timeout, max_rows=config.max_rows,
                           cache_dir=args.cache_dir)  # fmt: skip
        out = args.out or f"runs/verbal-{args.dataset}-{args.split}"
        try:
            summary = run_verbal(dataset, generator, judge, out_dir=out, config=config, kind=args.dataset,
                                 workers=args.workers, resume=not args.restart, progress=args.progress,
                                 pool=pool)  # fmt: skip
        except KeyboardInterrupt:
            err.print(f"interrupted: the finished questions are in {out}; run the same command again to resume")
            return 130
        finally:
            pool.close()
        report = summary.to_json()
        report.pop("config", None)
        command = VerbalCommand.eval_command(args, dataset, summary)
        if args.json:
            print(json.dumps({**report, "eval_command": command}, indent=2, default=str))
            return 0
        print(f"{summary.done} of {summary.total} questions finished ({summary.skipped} from an earlier run, "
              f"{summary.ran} now, {summary.errors} errors) in {summary.elapsed:.1f} s")  # fmt: skip
        print("choices: " + ", ".join(f"{k} {v}" for k, v in sorted(report.get("reasons", {}).items())))
        totals = report.get("totals", {})
        t = {k: totals.get(k, 0) for k in ("generator_samples", "generator_requests", "generator_failed_requests",
                                           "judge_requests", "judge_malformed", "judge_failed_requests")}  # fmt: skip
        print(f"generator: {t['generator_samples']} completions in {t['generator_requests']} requests "
              f"({t['generator_failed_requests']} failed); judge: {t['judge_requests']} requests "
              f"({t['judge_malformed']} malformed, {t['judge_failed_requests']} failed)")  # fmt: skip
        gm = report.get("gold_match")
        if gm:
            print(f"execution match with gold ({gm['mode']} mode, {gm['questions']} questions): verbal "
                  f"{gm['prediction']:.3f}, first sample {gm['single']:.3f}, majority vote {gm['majority']:.3f}, "
                  f"any candidate {gm['any']:.3f}")  # fmt: skip
        print("wrote " + ", ".join(str(v) for v in summary.files.values()))
        if command:
            print(f"score with: {command}")
        return 0
