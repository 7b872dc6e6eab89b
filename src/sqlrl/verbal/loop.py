"""The verbal loop for one question: sample, execute, cluster, judge, choose, refine.

1. *Sample* completions from the generator until ``k`` of them executed (optionally with rows) or
   ``max_attempts`` were asked for; failed requests count as attempts, so this always ends.
2. *Execute* each distinct query once in the sandbox (read-only, timeout, row cap).
3. *De-duplicate and cluster*: identical query texts (up to whitespace) are one candidate;
   candidates whose results have the same core fingerprint (``Table.fingerprint``: the bag of rows,
   column order kept, names ignored; row order counts with ``cluster_ordered``, column order does
   not with ``cluster_column_order=False``) are one cluster. A cluster's size is its number of samples.
   Candidates are :class:`sqlrl.generate.voting.Candidate` and are ranked by
   :func:`sqlrl.generate.voting.majority_vote`, the vote of ``sqlrl generate``.
4. *Judge*: the largest ``max_judge_candidates`` clusters, each shown by one query and its
   execution summary (and how many samples produced it), are scored by the judge in ``judge_rounds``
   rounds; scores are averaged over the rounds that could be read.
5. *Choose* the cluster with the best mean score (plus ``vote_weight`` x ``score_max`` x its share
   of the executed samples, when set); ties go to the larger cluster, then to the
   simpler query (fewer syntax nodes), then to the one seen first. Without judge scores (judge off,
   or no round readable) the largest cluster wins, with the same tie-breaks (majority vote). With
   ``prefer_nonempty`` (default) results with rows rank before empty ones in both orders.
6. *Refine* (optional, ``refine_rounds``): while the choice has no rows, nothing executed, or its
   score is below ``refine_below``, the generator sees its query, the result, the judge's critique and
   other failures, and is sampled ``refine_samples`` more times; the pool grows and step 4-5 repeat.
"""

from __future__ import annotations

import dataclasses
import json
import math
import time
import zlib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from sqlrl.data.example import Example
from sqlrl.data.prompts import PromptTooLongError, build_messages, dialect_label, fit_schema, schema_ddl
from sqlrl.generate.voting import Candidate, Vote, majority_vote
from sqlrl.models.chat import ChatModel
from sqlrl.sandbox.result import ErrorKind, ExecResult
from sqlrl.sql.extract import extract_sql
from sqlrl.sql.shape import tree_size
from sqlrl.verbal import prompts
from sqlrl.verbal.config import VerbalConfig
from sqlrl.verbal.judge import JudgeCall, run_judge

__all__ = ["NO_SQL", "Candidate", "Cluster", "Execution", "Trajectory", "VerbalLoop", "sql_complexity"]

#: The prediction written when no reply held any SQL: it fails to run on any database.
NO_SQL = "SELECT no_sql_found"


def _stable_seed(*parts: Any) -> int:
    return zlib.crc32("/".join(map(str, parts)).encode("utf-8")) & 0x7FFFFFFF


def _json_value(v: Any) -> Any:
    if v is None or isinstance(v, (bool, int, str)):
        return v
    if isinstance(v, float):
        return v if math.isfinite(v) else repr(v)
    if isinstance(v, (bytes, bytearray, memoryview)):
        return f"<blob {len(bytes(v))} bytes>"
    return str(v)


def normalize(sql: str) -> str:
    """The de-duplication key of a query: whitespace collapsed, trailing semicolons dropped."""
    return " ".join(sql.split()).rstrip("; ")


def sql_complexity(sql: str, dialect: str = "sqlite") -> int:
    """Syntax-tree nodes of a query (:func:`sqlrl.sql.shape.tree_size`); unparseable text counts 10,000 plus its words.

    >>> sql_complexity("SELECT a FROM t") < sql_complexity("SELECT DISTINCT a FROM t WHERE b = 1")
    True
    """
    size = tree_size(sql, dialect)
    return 10_000 + len(sql.split()) if size is None else size


@dataclass(eq=False)
class Execution(ExecResult):
    """A query's :class:`~sqlrl.sandbox.ExecResult` as the trajectory keeps it: with the key its result is
    clustered by, the summary the judge and the generator see, and its first rows as JSON values.

    Attributes:
        key: the result's cluster key (the fingerprint in hex, or ``unhashable:...`` when the core
            cannot read a value); None when it did not run.
        summary: the result or error as the prompts show it ("" when the query could not be run).
        head: the first rows (``summary_rows``) with JSON values; the file's ``rows``.

    Only the core table of a result is kept, not its Python rows (``rows`` is None then).
    """

    key: str | None = None
    summary: str = ""
    head: list[list[Any]] = field(default_factory=list)

    @classmethod
    def of(cls, result: ExecResult, **fields: Any) -> Execution:
        """``result`` with the trajectory's fields."""
        return cls(**{f.name: getattr(result, f.name) for f in dataclasses.fields(ExecResult)}, **fields)

    @property
    def nonempty(self) -> bool:
        return self.ok and self.num_rows > 0

    def to_json(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "error_kind": None if self.error_kind is None else str(self.error_kind),
            "error": self.error,
            "columns": [str(c) for c in self.columns] if self.ok else [],
            "num_rows": self.num_rows if self.ok else 0,
            "rows": self.head,
            "truncated": self.truncated,
            "elapsed_s": round(self.elapsed, 6),
            "result_hash": self.key,
            "summary": self.summary,
        }


@dataclass
class Cluster:
    """Candidates with the same result."""

    index: int
    key: str
    candidates: list[int]
    size: int = 0
    nonempty: bool = True
    representative: int = -1

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "result_hash": self.key,
            "candidates": self.candidates,
            "size": self.size,
            "nonempty": self.nonempty,
            "representative": self.representative,
        }


@dataclass
class Trajectory:
    """Everything that happened for one question; :meth:`to_json` is one line of the trajectory file."""

    example: Example
    prompt: list[dict[str, str]]
    requests: list[dict[str, Any]] = field(default_factory=list)
    samples: list[dict[str, Any]] = field(default_factory=list)
    candidates: list[Candidate] = field(default_factory=list)
    clusters: list[Cluster] = field(default_factory=list)
    judge: list[JudgeCall] = field(default_factory=list)
    feedback: list[dict[str, Any]] = field(default_factory=list)
    choices: list[dict[str, Any]] = field(default_factory=list)
    prediction: str = NO_SQL
    reason: str = "no_sql"
    baselines: dict[str, str | None] = field(default_factory=dict)
    gold: dict[str, Any] = field(default_factory=dict)
    elapsed: float = 0.0
    config_hash: str = ""

    @property
    def id(self) -> str:
        return self.example.id

    def stats(self) -> dict[str, Any]:
        return {
            "generator_requests": len(self.requests),
            "generator_samples": sum(r["n"] for r in self.requests),
            "generator_failed_requests": sum(1 for r in self.requests if r["error"]),
            "completions": len(self.samples),
            "sql_found": sum(1 for s in self.samples if s["sql"] is not None),
            "executable": sum(
                1 for s in self.samples if s["candidate"] is not None and self.candidates[s["candidate"]].execution.ok
            ),
            "candidates": len(self.candidates),
            "clusters": len(self.clusters),
            "judge_requests": len(self.judge),
            "judge_malformed": sum(1 for c in self.judge if c.reply and c.scores is None),
            "judge_failed_requests": sum(1 for c in self.judge if not c.reply),
            "refine_rounds": len(self.feedback),
        }

    def to_json(self) -> dict[str, Any]:
        ex = self.example
        return {
            "id": ex.id,
            "db_id": ex.db_id,
            "question": ex.question,
            "evidence": ex.evidence,
            "dialect": ex.dialect,
            "gold_sql": ex.gold_sql,
            "difficulty": ex.difficulty,
            "hardness": ex.hardness,
            "prediction": self.prediction,
            "reason": self.reason,
            "baselines": self.baselines,
            "gold_match": self.gold,
            "prompt": self.prompt,
            "requests": self.requests,
            "samples": self.samples,
            "candidates": [c.to_json() for c in self.candidates],
            "clusters": [c.to_json() for c in self.clusters],
            "judge": [c.to_json() for c in self.judge],
            "feedback": self.feedback,
            "choices": self.choices,
            "stats": self.stats(),
            "elapsed_s": round(self.elapsed, 3),
            "config_hash": self.config_hash,
        }


class VerbalLoop:
    """Solve questions with group self-evaluation (see the module docs for the steps).

    Args:
        generator: the chat model that writes SQL (:class:`~sqlrl.models.chat.ChatModel`).
        judge: the chat model that scores result clusters (default: the generator).
        config: every setting (:class:`~sqlrl.verbal.config.VerbalConfig`).
        pool: an :class:`~sqlrl.sandbox.service.ExecutionService` to execute in (default: one made from the
            config, closed by :meth:`close`).

    >>> loop = VerbalLoop(backend, config=VerbalConfig(k=4, judge_rounds=3))  # doctest: +SKIP
    >>> traj = loop.solve(example, tables_entry=dataset.tables.get(example.db_id))  # doctest: +SKIP
    >>> traj.prediction, traj.reason  # doctest: +SKIP
    """

    def __init__(
        self,
        generator: ChatModel,
        judge: ChatModel | None = None,
        *,
        config: VerbalConfig | None = None,
        pool: Any = None,
    ) -> None:
        from sqlrl.eval._exec import evaluation_service

        self.generator = generator
        self.judge = judge if judge is not None else generator
        self.config = config or VerbalConfig()
        self._own_pool = pool is None
        self.pool = pool or evaluation_service(
            engine=self.config.engine, timeout=self.config.exec_timeout, max_rows=self.config.max_rows
        )
        self.config_hash = format(
            zlib.crc32(json.dumps(self.config.to_json(), sort_keys=True, default=str).encode()), "08x"
        )

    def close(self) -> None:
        if self._own_pool:
            self.pool.close()

    def __enter__(self) -> VerbalLoop:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- one question ------------------------------------------------------------------------------

    def solve(
        self, example: Example, *, tables_entry: Mapping[str, Any] | None = None, mode: str = "spider"
    ) -> Trajectory:
        """Run the loop on one example and return its trajectory (never raises for model or SQL failures).

        Args:
            example: the question; its ``db_path`` is where candidates run.
            tables_entry: the database's tables.json entry (foreign keys for the prompts).
            mode: execution-match mode for ``score_gold`` (``spider`` or ``bird``).
        """
        cfg = self.config
        t0 = time.perf_counter()
        opts = cfg.prompt_options
        if cfg.dialect and opts.dialect is None:
            opts = replace(opts, dialect=cfg.dialect)
        prompt = build_messages(example, options=opts, tables_entry=tables_entry)
        traj = Trajectory(example, prompt, config_hash=self.config_hash)
        state = _State(traj, self, example, tables_entry)
        state.sample(prompt, round_=0, want=cfg.k, attempts=cfg.max_attempts, temperature=cfg.temperature)
        traj.baselines = {"single": state.first_sql(), "majority": state.majority_sql()}
        choice = state.choose(0)
        for r in range(1, cfg.refine_rounds + 1):
            if not state.needs_refinement(choice):
                break
            conversation = state.feedback(choice, r)
            temperature = cfg.temperature if cfg.refine_temperature is None else cfg.refine_temperature
            state.sample(conversation, round_=r, want=cfg.refine_samples, attempts=cfg.refine_samples,
                         temperature=temperature)  # fmt: skip
            choice = state.choose(r)
        traj.prediction = choice["sql"] if choice["sql"] is not None else NO_SQL
        traj.reason = choice["reason"]
        if cfg.score_gold and example.gold_sql:
            state.score_gold(mode)
        traj.elapsed = time.perf_counter() - t0
        return traj


class _State:
    """The growing pool of one question."""

    def __init__(self, traj: Trajectory, loop: VerbalLoop, example: Example, tables_entry: Any) -> None:
        self.traj = traj
        self.loop = loop
        self.cfg = loop.config
        self.example = example
        self.tables_entry = tables_entry
        self.dialect = self.cfg.dialect or self.cfg.prompt_options.dialect or example.dialect
        self.by_sql: dict[str, int] = {}
        self.by_key: dict[str, int] = {}
        self._schema: str | None = None

    # -- sampling and execution --------------------------------------------------------------------

    def sample(self, conversation: list[dict[str, str]], *, round_: int, want: int, attempts: int,
               temperature: float) -> None:  # fmt: skip
        cfg = self.cfg
        asked = 0
        counted = 0
        while counted < want and asked < attempts:
            n = min(cfg.sample_batch, attempts - asked)
            request = len(self.traj.requests)
            seed = _stable_seed(cfg.seed, self.example.id, round_, request)
            result = self.loop.generator.chat(
                [conversation], n=n, temperature=temperature, top_p=cfg.top_p, max_tokens=cfg.max_new_tokens, seed=seed
            )[0]
            asked += n
            self.traj.requests.append({
                "round": round_, "n": n, "returned": len(result.texts), "error": result.error,
                "tries": result.tries, "elapsed_s": round(result.elapsed, 4), "usage": result.usage,
            })  # fmt: skip
            for text in result.texts[:n]:
                if self._add_sample(text, round_, request):
                    counted += 1

    def _add_sample(self, text: str, round_: int, request: int) -> bool:
        """Record one completion; True when it counts towards ``k``."""
        got = extract_sql(text)
        sample = {"index": len(self.traj.samples), "round": round_, "request": request, "text": text,
                  "sql": got.sql, "source": got.source, "reason": got.reason, "candidate": None}  # fmt: skip
        self.traj.samples.append(sample)
        if got.sql is None:
            return False
        key = normalize(got.sql)
        idx = self.by_sql.get(key)
        if idx is None:
            idx = len(self.traj.candidates)
            execution = self._execute(got.sql)
            cand = Candidate(got.sql, execution.ok, execution.key, complexity=sql_complexity(got.sql, self.dialect),
                             execution=execution, index=idx, round=round_)  # fmt: skip
            self.traj.candidates.append(cand)
            self.by_sql[key] = idx
            if execution.ok:
                self._cluster(cand)
        cand = self.traj.candidates[idx]
        cand.samples.append(sample["index"])
        sample["candidate"] = idx
        if cand.cluster is not None:
            self.traj.clusters[cand.cluster].size += 1
        ex = cand.execution
        return ex.ok and (ex.num_rows > 0 or not self.cfg.require_nonempty)

    def _execute(self, sql: str) -> Execution:
        cfg = self.cfg
        if self.example.db_path is None:
            missing = ExecResult.failure(sql, ErrorKind.MISSING_DATABASE, "the example has no database file")
            return Execution.of(missing)
        r = self.loop.pool.execute(self.example.db_path, sql)
        kind = None if r.ok else str(r.error_kind)
        columns = [str(c) for c in r.columns] if r.ok else []
        rows = list(r.rows or []) if r.ok else []
        ex = Execution.of(r, head=[[_json_value(v) for v in row] for row in rows[: cfg.summary_rows]])
        if r.ok:
            try:
                table = r.table
                ex.key = format(table.fingerprint(cfg.cluster_ordered, cfg.cluster_column_order), "016x")
                ex._table, ex.rows = table, None  # the core table holds the rows: no second copy in Python
            except (ValueError, TypeError) as e:  # a value the core cannot read: its own cluster
                ex.key = f"unhashable:{normalize(sql)}:{e}"
        ex.summary = prompts.format_summary(
            r.ok, columns, rows[: cfg.summary_rows], ex.num_rows if r.ok else 0, error_kind=kind,
            error=r.error, truncated=r.truncated, max_rows=cfg.summary_rows, max_cell_chars=cfg.max_cell_chars,
            max_error_chars=cfg.max_error_chars,
        )  # fmt: skip
        return ex

    def _cluster(self, cand: Candidate) -> None:
        key = cand.execution.key or ""
        c = self.by_key.get(key)
        if c is None:
            c = len(self.traj.clusters)
            self.traj.clusters.append(Cluster(c, key, [], nonempty=cand.execution.nonempty))
            self.by_key[key] = c
        self.traj.clusters[c].candidates.append(cand.index)
        cand.cluster = c

    # -- choosing ----------------------------------------------------------------------------------

    def _vote(self) -> Vote | None:
        """The majority vote over the candidates (None without any): by result, results with rows first
        (``prefer_nonempty``), then larger clusters, simpler representatives, first seen."""
        if not self.traj.candidates:
            return None
        return majority_vote(self.traj.candidates, prefer_nonempty=self.cfg.prefer_nonempty)

    def _ranked(self, vote: Vote | None) -> list[Cluster]:
        """The clusters of executed candidates in the vote's order, each with its representative set."""
        if vote is None or not vote.executed:
            return []
        ranked = []
        for members, rep in zip(vote.clusters, vote.representatives, strict=True):
            cluster = self.traj.clusters[self.traj.candidates[members[0]].cluster]  # type: ignore[index]
            cluster.representative = rep
            ranked.append(cluster)
        return ranked

    def first_sql(self) -> str | None:
        return self.traj.samples[0]["sql"] if self.traj.samples else None

    def majority_sql(self) -> str | None:
        """The vote's choice: the largest cluster's representative, or when nothing executed the most
        frequent failing query (simpler, earlier on ties)."""
        vote = self._vote()
        self._ranked(vote)
        return None if vote is None else vote.sql

    def choose(self, round_: int) -> dict[str, Any]:
        cfg = self.cfg
        vote = self._vote()
        ranked = self._ranked(vote)
        choice: dict[str, Any] = {"round": round_, "cluster": None, "candidate": None, "sql": None, "scores": {},
                                  "judged": [], "score": None, "score_max": cfg.score_max, "critiques": []}  # fmt: skip
        if not ranked:  # nothing executed: the most frequent failing query
            idx = None if vote is None or vote.sql is None else vote.index
            sql = None if idx is None else self.traj.candidates[idx].sql
            choice.update(sql=sql, candidate=idx, reason="no_executable" if sql is not None else "no_sql")
            self.traj.choices.append(choice)
            return choice
        shown = ranked[: cfg.max_judge_candidates]
        winner = ranked[0]
        reason = "majority" if not cfg.use_judge else "single_cluster"
        if cfg.use_judge and (len(shown) > 1 or cfg.judge_single_cluster):
            order = [c.index for c in shown]
            outcome = run_judge(
                self.loop.judge,
                clusters=order,
                render=self._judge_messages,
                rounds=cfg.judge_rounds,
                retries=cfg.judge_retries,
                score_max=cfg.score_max,
                temperature=cfg.judge_temperature,
                max_tokens=cfg.judge_max_tokens,
                seed=_stable_seed(cfg.seed, self.example.id, "judge", round_),
                shuffle=cfg.shuffle,
                refine_round=round_,
                log_prompts=cfg.log_prompts,
            )
            self.traj.judge.extend(outcome.calls)
            choice["judged"] = order
            choice["critiques"] = outcome.critiques
            if outcome.mean:
                choice["scores"] = {str(c): round(v, 4) for c, v in outcome.mean.items()}
                total = sum(c.size for c in self.traj.clusters) or 1
                final = {c.index: outcome.mean[c.index] + cfg.vote_weight * cfg.score_max * c.size / total
                         for c in shown}  # fmt: skip
                if cfg.vote_weight:
                    choice["combined"] = {str(c): round(v, 4) for c, v in final.items()}
                rank = {c.index: i for i, c in enumerate(shown)}
                # ties within 1e-9: the majority-vote order (larger cluster, simpler query, seen first)
                winner = min(shown, key=lambda c: (-round(final[c.index], 9), rank[c.index]))
                choice["score"] = outcome.mean[winner.index]
                reason = "judge"
            else:
                reason = "judge_failed"
        cand = self.traj.candidates[winner.representative]
        choice.update(cluster=winner.index, candidate=cand.index, sql=cand.sql, reason=reason)
        self.traj.choices.append(choice)
        return choice

    # -- prompts -----------------------------------------------------------------------------------

    def _schema_text(self) -> str:
        if self._schema is None:
            opts = self.cfg.prompt_options
            if self.example.db_path is None:
                self._schema = "(schema not available)"
            else:
                self._schema = schema_ddl(self.example.db_path, sample_values=opts.sample_values,
                                          max_value_chars=opts.max_value_chars, foreign_keys=opts.foreign_keys,
                                          tables_entry=self.tables_entry)  # fmt: skip
        return self._schema

    def _judge_messages(self, order: list[int]) -> list[dict[str, str]]:
        cfg = self.cfg
        num_samples = sum(c.size for c in self.traj.clusters)
        labels = [str(i + 1) for i in range(len(order))]
        blocks = []
        for label, c in zip(labels, order, strict=True):
            cluster = self.traj.clusters[c]
            cand = self.traj.candidates[cluster.representative]
            votes = cluster.size if cfg.show_votes else None
            blocks.append(prompts.format_candidate(label, cand.sql, cand.execution.summary, votes, num_samples,
                                                   cfg.max_sql_chars))  # fmt: skip
        evidence = f"Evidence: {self.example.evidence.strip()}\n\n" if self.example.evidence.strip() else ""
        fields = dict(
            dialect=dialect_label(self.dialect),
            schema="",
            evidence=evidence,
            question=self.example.question.strip(),
            candidates="\n\n".join(blocks),
            num_candidates=len(order),
            num_samples=num_samples,
            score_max=cfg.score_max,
            labels=", ".join(labels),
            reply_format=prompts.reply_format(labels, cfg.score_max),
        )

        def assemble(schema: str) -> list[str]:
            filled = {**fields, "schema": schema}
            return [(cfg.judge_system or prompts.JUDGE_SYSTEM).format(**filled),
                    (cfg.judge_user or prompts.JUDGE_USER).format(**filled)]  # fmt: skip

        opts = cfg.prompt_options
        if opts.max_length is None or self.example.db_path is None:
            system, user = assemble(self._schema_text())
        else:  # the judge's prompt is bounded like the generator's: a smaller schema when it must
            judge_opts = replace(opts, schema_format="compact" if opts.schema_format == "compact" else "ddl")
            try:
                system, user = fit_schema(self.example, judge_opts, assemble, self.tables_entry)
            except PromptTooLongError:
                system, user = assemble("(schema not shown: the prompt would exceed max_length)")
        return [{"role": "system", "content": system}, {"role": "user", "content": user}]

    # -- refinement --------------------------------------------------------------------------------

    def needs_refinement(self, choice: dict[str, Any]) -> bool:
        if choice["cluster"] is None:
            return True
        if not self.traj.clusters[choice["cluster"]].nonempty:
            return True
        return choice["score"] is not None and choice["score"] < self.cfg.refine_below

    def feedback(self, choice: dict[str, Any], round_: int) -> list[dict[str, str]]:
        cfg = self.cfg
        problem = critique = ""
        cand = self.traj.candidates[choice["candidate"]] if choice["candidate"] is not None else None
        if cand is None:
            previous = prompts.PREVIOUS_NONE
            last = next((s["text"] for s in reversed(self.traj.samples) if s["text"]), "")
            assistant = prompts.clip(last, cfg.max_sql_chars) if last else ""
        else:
            previous = prompts.PREVIOUS_SQL.format(sql=prompts.clip(cand.sql, cfg.max_sql_chars),
                                                   result=cand.execution.summary)  # fmt: skip
            assistant = f"```sql\n{prompts.clip(cand.sql, cfg.max_sql_chars)}\n```"
            ex = cand.execution
            if not ex.ok:
                problem = "It did not run.\n"
            elif ex.num_rows == 0:
                problem = ("It returned no rows. If the question expects an answer, check the filter values against "
                           "the sample values in the schema (spelling, case, format) and the joins.\n")  # fmt: skip
            elif ex.head and all(v is None for row in ex.head for v in row):
                problem = "Its result holds only NULL values.\n"
            if choice["critiques"]:
                critique = "A reviewer's critique: " + " / ".join(dict.fromkeys(choice["critiques"]))[:1000] + "\n"
        failures = self._failures(exclude=None if cand is None else cand.index)
        fields = dict(dialect=dialect_label(self.dialect), previous=previous, sql=cand.sql if cand else "",
                      result=cand.execution.summary if cand else "", problem=problem, critique=critique,
                      failures=failures)  # fmt: skip
        user = (cfg.refine_user or prompts.REFINE_USER).format(**fields)
        conversation = list(self.traj.prompt)
        if assistant:
            conversation.append({"role": "assistant", "content": assistant})
        conversation.append({"role": "user", "content": user})
        self.traj.feedback.append({"round": round_, "after_choice": choice["candidate"], "message": user})
        return conversation

    def _failures(self, exclude: int | None, limit: int = 3) -> str:
        seen: list[str] = []
        lines = []
        for cand in self.traj.candidates:
            if cand.index == exclude or cand.execution.ok:
                continue
            if cand.execution.summary in seen:
                continue
            seen.append(cand.execution.summary)
            lines.append(f"- {prompts.clip(normalize(cand.sql), 300)}\n  {cand.execution.summary}")
            if len(lines) == limit:
                break
        return "Other attempts failed:\n" + "\n".join(lines) + "\n" if lines else ""

    # -- after the choice --------------------------------------------------------------------------

    def score_gold(self, mode: str) -> None:
        """Execution match of every executed candidate with the gold (never shown to the judge)."""
        from sqlrl.scoring import compare, gold_has_order_by

        ex = self.example
        gold = self.loop.pool.execute(ex.db_path, ex.gold_sql, gold=True) if ex.db_path is not None else None
        if gold is None or not gold.ok:
            self.traj.gold = {"error": None if gold is None else f"{gold.error_kind}: {gold.error}"}
            return
        order = gold_has_order_by(ex.gold_sql or "")
        by_sql: dict[str, bool] = {}
        for cand in self.traj.candidates:
            table = _table(cand.execution)
            cand.gold_match = table is not None and compare(gold.table, table, mode=mode, order_matters=order)
            by_sql[normalize(cand.sql)] = cand.gold_match

        def match(sql: str | None) -> bool:
            return bool(sql) and by_sql.get(normalize(sql), False)

        self.traj.gold = {
            "mode": mode,
            "prediction": match(self.traj.prediction),
            **{name: match(sql) for name, sql in self.traj.baselines.items()},
            "any": any(c.gold_match for c in self.traj.candidates),
        }


def _table(ex: Execution) -> Any:
    """The core table of a result that ran and whose values the core can read, else None."""
    if not ex.ok or (ex.key or "").startswith("unhashable:"):
        return None
    return ex.table
