"""`grpo-lead eval` on math problems: k samples per question, each checked by the answer
checker (`grpo_lead.answers`), summarised (pass@1, cons@k, pass@k, lengths, per difficulty).

`run_eval(settings, out)` fills the resumable output folder of `grpo_lead.evaluation.runner`
(run.json, samples.jsonl, summary.json, summary.md). What is math's own:

1. Questions come from `load_problems`; the prompt is the question plus the paper's suffix
   (`build_prompt`).
2. Each sample is judged by `grpo_lead.answers.check_answers` (a chunk at a time, in worker
   processes); its record also holds the difficulty and the reference answer.
3. The summary is `grpo_lead.evaluation.metrics.summarize`.

`estimate_difficulty` reuses the loop to measure each problem's solve rate and filters the data
like the paper (keep 0 < solve_rate <= 0.75 by default).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grpo_lead.evaluation.generation import Completion, Generator
from grpo_lead.evaluation.metrics import summarize, summary_markdown
from grpo_lead.evaluation.runner import (
    SUMMARY_FILE,
    SUMMARY_MD_FILE,
    RunOptions,
    RunSettings,
    Todo,
    check_run,
    collect_samples,
    sample_record,
)
from grpo_lead.protocol import LEAD_PROMPT_SUFFIX
from grpo_lead.tasks.math.data import build_prompt, load_problems

logger = logging.getLogger(__name__)

__all__ = ["EvalSettings", "estimate_difficulty", "run_eval"]

SOLVE_RATES_FILE = "solve_rates.jsonl"
FILTERED_FILE = "filtered.jsonl"


@dataclass(frozen=True)
class EvalSettings(RunSettings):
    """What a math run measures: `RunSettings` plus the difficulty column, the prompt suffix
    and the answer checker's mode (defaults: the paper's protocol, docs/evaluation.md)."""

    difficulty_column: str | None = None
    prompt_suffix: str = LEAD_PROMPT_SUFFIX
    extraction: str = "strict"  # the answer checker's mode (grpo_lead.answers.EXTRACTION_MODES)


@dataclass
class EvalResult:
    problems: list[dict[str, Any]]
    records: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)


def run_eval(
    settings: EvalSettings,
    out: str | Path,
    *,
    options: RunOptions | None = None,
    generator: Generator | None = None,
) -> dict[str, Any]:
    """Evaluate (or resume evaluating) `settings.model` on `settings.data`; returns the summary.

    `generator` replaces the backend chosen by `options.backend` (tests, custom engines).
    """
    return _evaluate(settings, Path(out), options or RunOptions(), generator).summary


def _evaluate(
    settings: EvalSettings, out: Path, options: RunOptions, generator: Generator | None
) -> EvalResult:
    check_run(settings, options, out)
    problems = load_problems(
        settings.data,
        split=settings.split,
        question_column=settings.question_column,
        answer_column=settings.answer_column,
        difficulty_column=settings.difficulty_column,
        id_column=settings.id_column,
        limit=options.limit,
    ).to_list()

    def prompt(p: dict[str, Any]) -> str:
        return build_prompt(p["question"], suffix=settings.prompt_suffix)

    def score(chunk: Todo, prompts: list[str], completions: list[list[Completion]]):
        return _score(chunk, prompts, completions, options, settings.extraction)

    records = collect_samples(
        problems, out, settings, options, generator, prompt=prompt, score=score
    )
    summary = {**summarize(records, settings.k), "settings": settings.canonical()}
    _write_summary(out, summary)
    return EvalResult(problems, records, summary)


def _score(
    chunk: Todo,
    prompts: list[str],
    completions: list[list[Completion]],
    options: RunOptions,
    extraction: str = "strict",
) -> list[list[dict[str, Any]]]:
    """Check every completion of the chunk in one batch; one record list per question."""
    from grpo_lead.answers import check_answers

    texts = [c.text for done in completions for c in done]
    references = [p["answer"] for (p, missing) in chunk for _ in missing]
    verdicts = iter(
        check_answers(
            texts,
            references,
            timeout=options.check_timeout,
            num_workers=options.num_workers,
            extraction=extraction,
        )
    )
    return [
        [
            _record(p, index, prompt, completion, next(verdicts))
            for index, completion in zip(missing, done)
        ]
        for (p, missing), prompt, done in zip(chunk, prompts, completions)
    ]


def _record(
    problem: dict[str, Any], index: int, prompt: str, completion: Completion, verdict: Any
) -> dict[str, Any]:
    """One line of samples.jsonl."""
    return sample_record(problem["id"], index, prompt, completion, verdict,
                         difficulty=problem.get("difficulty"), reference=problem["answer"])  # fmt: skip


def _write_summary(out: Path, summary: dict[str, Any]) -> None:
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    settings = summary["settings"]
    title = f"{Path(settings['data']).name}: {Path(settings['model']).name}"
    (out / SUMMARY_MD_FILE).write_text(summary_markdown(summary, title=title), encoding="utf-8")


def estimate_difficulty(
    settings: EvalSettings,
    out: str | Path,
    *,
    min_solve_rate: float = 0.0,
    max_solve_rate: float = 0.75,
    options: RunOptions | None = None,
    generator: Generator | None = None,
) -> dict[str, Any]:
    """Each problem's solve rate over k samples, and the problems the paper would keep.

    solve_rate = correct samples / k. Writes out/solve_rates.jsonl (every problem: its id,
    question, answer[, difficulty], solve_rate, num_correct, num_samples) and
    out/filtered.jsonl (those with min_solve_rate < solve_rate <= max_solve_rate), next to the
    run files of `run_eval` (so it resumes too). Returns counts, paths and the summary.
    """
    out = Path(out)
    result = _evaluate(settings, out, options or RunOptions(), generator)
    correct: dict[str, list[bool]] = {}
    for record in result.records:
        correct.setdefault(record["id"], []).append(bool(record["correct"]))
    rows = []
    for problem in result.problems:
        marks = correct.get(problem["id"], [])
        rate = sum(marks) / len(marks) if marks else 0.0
        rows.append(
            {**problem, "solve_rate": rate, "num_correct": sum(marks), "num_samples": len(marks)}
        )
    kept = [r for r in rows if min_solve_rate < r["solve_rate"] <= max_solve_rate]
    _write_jsonl(out / SOLVE_RATES_FILE, rows)
    _write_jsonl(out / FILTERED_FILE, kept)
    logger.info(
        "kept %d of %d problems with %g < solve_rate <= %g",
        len(kept),
        len(rows),
        min_solve_rate,
        max_solve_rate,
    )
    return {
        "num_problems": len(rows),
        "num_kept": len(kept),
        "solve_rates": str(out / SOLVE_RATES_FILE),
        "filtered": str(out / FILTERED_FILE),
        "summary": result.summary,
    }


def _write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> None:
    with path.open("w", encoding="utf-8") as f:
        for row in rows:
            f.write(json.dumps(row, ensure_ascii=False) + "\n")
