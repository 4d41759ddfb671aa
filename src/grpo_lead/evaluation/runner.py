"""The resumable evaluation loop every task shares: k samples per question, scored, stored.

A task's evaluation (`grpo_lead.tasks.math.evaluation.run_eval`,
`grpo_lead.tasks.choice.evaluation.run_choice_eval`) loads its questions, renders their prompts,
scores the samples and summarises; this module does the rest, the same for every task. An
output folder holds:

    run.json        the settings that define the samples (model, data, k, sampling, prompt)
    samples.jsonl   one line per sample: id, sample, prompt, text, extracted, correct, reason,
                    num_tokens, finished, and the task's own fields (difficulty, reference, ...)
    summary.json    the task's summary over this run's questions, plus the settings
    summary.md      the same as a markdown table

Resuming:
1. samples.jsonl is append-only and flushed after each question, so a killed run loses at most
   the question in flight; a last line without its newline (cut mid-write) is dropped and its
   sample generated again.
2. On rerun only the missing (id, sample) pairs are generated; a fully sampled run only
   recomputes the summary (no model is loaded).
3. A folder holding a run with other settings (run.json) is refused. `limit`, the backend, the
   batch size and the dtype are how a run is executed, not what it measures: they may change.

`RunSettings` is what every task's run measures (a task's settings extend it);
`settings_from_args` builds any task's settings from parsed `grpo-lead eval` arguments.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, TypeVar

from grpo_lead.answers import EXTRACTION_MODES
from grpo_lead.evaluation.errors import EvalError
from grpo_lead.evaluation.generation import (
    Completion,
    Generator,
    Request,
    Sampling,
    load_generator,
    prompt_too_long,
    request_seed,
)
from grpo_lead.protocol import EVAL_K, EVAL_MAX_NEW_TOKENS, EVAL_MIN_P, EVAL_TEMPERATURE

logger = logging.getLogger(__name__)

RUN_FILE = "run.json"
SAMPLES_FILE = "samples.jsonl"
SUMMARY_FILE = "summary.json"
SUMMARY_MD_FILE = "summary.md"


@dataclass(frozen=True)
class RunSettings:
    """What a run measures, for every task; the defaults are the paper's protocol
    (docs/evaluation.md). A task's settings extend it with their own columns and prompt."""

    model: str
    data: str
    k: int = EVAL_K
    temperature: float = EVAL_TEMPERATURE
    min_p: float = EVAL_MIN_P
    max_new_tokens: int = EVAL_MAX_NEW_TOKENS
    seed: int = 0
    split: str | None = None
    question_column: str | None = None
    answer_column: str | None = None
    id_column: str | None = None
    chat_template: bool = True
    system_prompt: str | None = None

    def canonical(self) -> dict[str, Any]:
        """The settings as stored in run.json, local paths made absolute; a tuple (the choice
        task's option columns) as a list, an empty one as None."""
        values = {
            k: list(v) or None if isinstance(v, tuple) else v for k, v in asdict(self).items()
        }
        for key in ("model", "data"):
            if Path(values[key]).expanduser().exists():
                values[key] = str(Path(values[key]).expanduser().resolve())
        return values

    def sampling(self) -> Sampling:
        return Sampling(self.temperature, self.min_p, self.max_new_tokens)


S = TypeVar("S", bound=RunSettings)


def settings_from_args(cls: type[S], args: argparse.Namespace, **given: Any) -> S:
    """``cls`` (a task's settings) from parsed `grpo-lead eval` arguments: each field from the
    flag of the same name, or from ``given`` (a field whose flag has another name or type)."""
    values = {f.name: getattr(args, f.name) for f in fields(cls) if hasattr(args, f.name)}
    return cls(**{**values, **given})


@dataclass(frozen=True)
class RunOptions:
    """How a run is executed: free to change between a run and its resumption."""

    limit: int | None = None
    backend: str = "auto"
    batch_size: int | None = None  # sequences per generation call (backend default if None)
    dtype: str = "auto"
    tensor_parallel_size: int = 1
    check_timeout: float = 5.0
    num_workers: int | None = None  # answer-checker processes (checker default if None)
    progress: bool = True

    @classmethod
    def from_args(cls, args: Any) -> RunOptions:
        """From parsed `grpo-lead eval` arguments (every eval task shares them)."""
        return cls(
            limit=args.limit,
            backend=args.backend,
            batch_size=args.batch_size,
            dtype=args.dtype,
            tensor_parallel_size=args.tensor_parallel_size,
            check_timeout=args.check_timeout,
            num_workers=args.num_workers,
            progress=args.progress,
        )


def default_out_dir(command: str, model: str, data: str) -> Path:
    """outputs/<command>/<model name>/<data stem>: where a run goes without --out."""
    return Path("outputs") / command / Path(model).name / Path(data).stem


def check_run(settings: Any, options: RunOptions, out: Path) -> None:
    """Every argument checked before data or a model loads (one-line `EvalError`s)."""
    from grpo_lead.paths import out_problem

    _validate(settings, options)
    problem = out_problem(out)
    if problem:
        raise EvalError(problem)


def sample_record(
    question_id: Any,
    index: int,
    prompt: str,
    completion: Completion,
    verdict: Any,
    **task_fields: Any,
) -> dict[str, Any]:
    """One line of samples.jsonl: what every task records, then the task's own fields."""
    return {
        "id": question_id,
        "sample": index,
        "prompt": prompt,
        "text": completion.text,
        "extracted": verdict.extracted,
        "correct": bool(verdict.correct),
        "reason": verdict.reason,
        "num_tokens": completion.num_tokens,
        "finished": completion.finished,
        **task_fields,
    }


def collect_samples(
    questions: list[dict[str, Any]],
    out: Path,
    settings: Any,
    options: RunOptions,
    generator: Generator | None,
    *,
    prompt: Callable[[dict[str, Any]], str],
    score: Callable[[Todo, list[str], list[list[Completion]]], list[list[dict[str, Any]]]],
) -> list[dict[str, Any]]:
    """The resumable part every evaluation shares: claim `out` (run.json), generate the samples
    samples.jsonl lacks (k per question, per-request seeds), score them with `score` (one
    record list per question of a chunk), and return every record in question order.

    ``settings`` needs k, seed, data, model, chat_template, system_prompt, sampling() and
    canonical() (a `RunSettings`: each task's settings extend it); ``prompt`` renders a
    question's text before the chat template."""
    out.mkdir(parents=True, exist_ok=True)
    _claim_folder(out, settings)
    store = SampleStore(out / SAMPLES_FILE)
    todo = [(q, missing) for q in questions if (missing := store.missing(q["id"], settings.k))]
    logger.info(
        "%s: %d of %d questions already sampled", out, len(questions) - len(todo), len(questions)
    )
    if todo:
        generator = generator or load_generator(
            options.backend,
            settings.model,
            settings.sampling(),
            chat_template=settings.chat_template,
            system_prompt=settings.system_prompt,
            dtype=options.dtype,
            batch_size=options.batch_size,
            seed=settings.seed,
            tensor_parallel_size=options.tensor_parallel_size,
        )
        _check_prompt_lengths(todo, generator, prompt)
        _generate(todo, store, generator, settings, options, len(questions), prompt, score)
    return store.records([q["id"] for q in questions])


def _check_prompt_lengths(
    todo: Todo, generator: Generator, prompt: Callable[[dict[str, Any]], str]
) -> None:
    """Refuse, before any generation, a question whose prompt fills the model's context (the
    backend would fail deep inside generation, after the questions before it)."""
    for question, _ in todo:
        problem = prompt_too_long(generator, generator.format_prompt(prompt(question)))
        if problem:
            empty = generator.format_prompt(prompt({**question, "question": ""}))
            alone = prompt_too_long(generator, empty)
            if alone:  # not the question's fault: the system prompt fills the context alone
                raise EvalError(
                    f"--system-prompt: with the chat template and no question at all, {alone}; "
                    "shorten it"
                )
            raise EvalError(
                f"question {question['id']!r}: {problem}; shorten it or leave it out of the data"
            )


def _validate(settings: RunSettings, options: RunOptions) -> None:
    checks = [
        (settings.k >= 1, f"k must be at least 1, got {settings.k}"),
        (settings.temperature >= 0, f"temperature must be >= 0, got {settings.temperature}"),
        (0 <= settings.min_p < 1, f"min-p must be in [0, 1), got {settings.min_p}"),
        (
            settings.max_new_tokens >= 1,
            f"max-new-tokens must be >= 1, got {settings.max_new_tokens}",
        ),
        (
            getattr(settings, "extraction", "strict") in EXTRACTION_MODES,
            f"extraction must be strict or lenient, got {getattr(settings, 'extraction', None)!r}",
        ),
        (options.batch_size is None or options.batch_size >= 1, "batch-size must be >= 1"),
        (options.limit is None or options.limit >= 1, "limit must be >= 1"),
        (
            options.check_timeout > 0 and math.isfinite(options.check_timeout),
            f"check-timeout must be > 0, got {options.check_timeout}",
        ),
        (
            options.num_workers is None or options.num_workers >= 1,
            f"num-workers must be at least 1, got {options.num_workers}",
        ),
        (
            options.tensor_parallel_size >= 1,
            f"tensor-parallel-size must be at least 1, got {options.tensor_parallel_size}",
        ),
    ]
    for ok, message in checks:
        if not ok:
            raise EvalError(message)


HASH_KEYS = ("data_sha256", "model_sha256")


def input_hashes(settings: Any) -> dict[str, str]:
    """The content hashes of a local --data file and --model folder (`grpo_lead.paths`): a
    question edited in place, or a model retrained into the same folder, is other work, and
    the samples of the old one must not be reused for it."""
    from grpo_lead.paths import content_hash

    hashes = {"data_sha256": content_hash(settings.data)}
    hashes["model_sha256"] = content_hash(settings.model)
    return {key: value for key, value in hashes.items() if value is not None}


def _claim_folder(out: Path, settings: RunSettings) -> None:
    """Write run.json, or check that the one there has the same settings. A folder without
    samples is free to claim again: a run that failed before its first sample (a mistyped
    --model) measured nothing, and the corrected command may reuse its folder."""
    path, wanted = out / RUN_FILE, settings.canonical() | input_hashes(settings)
    samples = out / SAMPLES_FILE
    has_samples = samples.exists() and samples.stat().st_size > 0
    if not path.exists() or not has_samples:
        if has_samples:
            raise EvalError(f"{out} holds {SAMPLES_FILE} but no {RUN_FILE}; use another --out")
        path.write_text(json.dumps({"settings": wanted}, indent=2) + "\n", encoding="utf-8")
        return
    try:
        stored = json.loads(path.read_text(encoding="utf-8"))["settings"]
        stored.setdefault("extraction", "strict")  # runs from before the option were strict
        for key in HASH_KEYS:  # runs from before the hashes: their inputs are taken on trust
            stored.setdefault(key, wanted.get(key))
    except (json.JSONDecodeError, KeyError, TypeError, AttributeError):
        raise EvalError(f"{path} is not a run file; use another --out") from None
    diff = [
        f"{key} {stored.get(key)!r} != {v!r}" for key, v in wanted.items() if stored.get(key) != v
    ]
    if diff:
        raise EvalError(
            f"{out} holds a run with other settings ({'; '.join(diff)}); use another --out"
        )


class SampleStore:
    """samples.jsonl: one JSON record a line, keyed by (id, sample), append-only."""

    def __init__(self, path: Path):
        self.path = path
        self._records: dict[tuple[str, int], dict[str, Any]] = {}
        if path.exists():
            self._load()

    def _load(self) -> None:
        data = self.path.read_bytes()
        complete, _, tail = data.rpartition(b"\n")
        if tail:  # cut mid-write: drop it so the next append starts on a fresh line
            logger.warning("%s: dropping a truncated last line", self.path)
            with self.path.open("r+b") as f:
                f.truncate(len(data) - len(tail))
        for number, line in enumerate(complete.split(b"\n"), start=1):
            if line.strip():
                self._add(self._parse(line, number))

    def _parse(self, line: bytes, number: int) -> dict[str, Any]:
        try:
            record = json.loads(line)
            key = (str(record["id"]), int(record["sample"]))
        except (ValueError, KeyError, TypeError):
            raise EvalError(
                f"{self.path}: line {number} is not a sample record; repair or delete the file"
            ) from None
        return {**record, "id": key[0], "sample": key[1]}

    def _add(self, record: dict[str, Any]) -> None:
        key = (record["id"], record["sample"])
        if key in self._records:
            logger.warning("%s: duplicate sample %s ignored", self.path, key)
            return
        self._records[key] = record

    def missing(self, question_id: str, k: int) -> list[int]:
        return [i for i in range(k) if (question_id, i) not in self._records]

    def append(self, records: Sequence[dict[str, Any]]) -> None:
        """Write records and flush (closing the file flushes it to the OS)."""
        with self.path.open("a", encoding="utf-8") as f:
            f.write("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records))
        for record in records:
            self._add(record)

    def records(self, ids: Iterable[str]) -> list[dict[str, Any]]:
        """The stored records of these question ids, in id order then sample order."""
        order = {qid: i for i, qid in enumerate(ids)}
        chosen = [r for key, r in self._records.items() if key[0] in order]
        return sorted(chosen, key=lambda r: (order[r["id"]], r["sample"]))


Todo = list[tuple[dict[str, Any], list[int]]]  # (problem, missing sample indices)


def _generate(
    todo: Todo,
    store: SampleStore,
    generator: Generator,
    settings: Any,
    options: RunOptions,
    total: int,
    prompt: Callable[[dict[str, Any]], str],
    score: Callable[[Todo, list[str], list[list[Completion]]], list[list[dict[str, Any]]]],
) -> None:
    from tqdm.auto import tqdm

    bar = tqdm(
        total=total,
        initial=total - len(todo),
        desc=f"eval {Path(settings.data).name}",
        unit="question",
        disable=not options.progress,
    )
    with bar:
        for chunk in _chunks(todo, generator.batch_size):
            prompts = [generator.format_prompt(prompt(q)) for q, _ in chunk]
            requests = [
                Request(text, len(missing), request_seed(settings.seed, q["id"], missing[0]))
                for text, (q, missing) in zip(prompts, chunk, strict=True)
            ]
            completions = generator.generate(requests)
            for (q, missing), done in zip(chunk, completions, strict=True):
                if len(done) != len(missing):
                    raise EvalError(
                        f"backend returned {len(done)} samples for {q['id']}, not {len(missing)}"
                    )
            for records in score(chunk, prompts, completions):
                store.append(records)
                bar.update(1)


def _chunks(todo: Todo, batch_size: int) -> Iterable[Todo]:
    """Consecutive questions whose samples add up to at most batch_size (at least one)."""
    chunk: Todo = []
    size = 0
    for item in todo:
        if chunk and size + len(item[1]) > batch_size:
            yield chunk
            chunk, size = [], 0
        chunk.append(item)
        size += len(item[1])
    if chunk:
        yield chunk
