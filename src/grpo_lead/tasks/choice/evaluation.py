"""`grpo-lead eval --task mcq`: k samples per question, the chosen letter checked, summarised
overall and per subject / exam step / question type.

`run_choice_eval(settings, out)` fills the same resumable output folder as math's
`grpo_lead.tasks.math.evaluation.run_eval` (run.json, samples.jsonl, summary.json, summary.md;
a rerun generates only missing samples; a folder holding other settings is refused) and reuses
its sample store (`grpo_lead.evaluation.runner`), generation backends and per-request seeds. What differs:

1. Questions come from `grpo_lead.tasks.choice.load_choices`; the prompt lists the options
   (`build_choice_prompt`) instead of appending the math suffix.
2. Each sample is judged by `check_choice`; its record also holds the reference letter, the
   options and the group fields (subject, step, type).
3. The summary is `summarize_choices`: cons@k by majority letter, coverage and accuracy when
   answered, and tables per group.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grpo_lead.evaluation.generation import Completion, Generator
from grpo_lead.evaluation.runner import (
    SUMMARY_FILE,
    SUMMARY_MD_FILE,
    RunOptions,
    RunSettings,
    check_run,
    collect_samples,
    sample_record,
)
from grpo_lead.tasks.choice.checker import check_choice
from grpo_lead.tasks.choice.data import (
    CHOICE_INSTRUCTION,
    ChoiceColumns,
    build_choice_prompt,
    load_choices,
)
from grpo_lead.tasks.choice.metrics import choice_summary_markdown, summarize_choices

logger = logging.getLogger(__name__)

__all__ = ["ChoiceEvalSettings", "run_choice_eval"]


@dataclass(frozen=True)
class ChoiceEvalSettings(RunSettings):
    """What a multiple-choice run measures: `RunSettings` plus the row layout, the option and
    group columns, and the prompt's instruction and abstention offer."""

    layout: str = "auto"
    options_column: str | None = None
    option_columns: tuple[str, ...] | None = None
    answer_index_base: int = 0
    answer_format: str | None = None
    subject_column: str | None = None
    step_column: str | None = None
    type_column: str | None = None
    instruction: str = CHOICE_INSTRUCTION
    abstain: bool = False
    task: str = "mcq"

    def columns(self) -> ChoiceColumns:
        return ChoiceColumns(
            question=self.question_column,
            options=self.options_column,
            option_columns=self.option_columns,
            answer=self.answer_column,
            id=self.id_column,
            subject=self.subject_column,
            step=self.step_column,
            type=self.type_column,
            answer_index_base=self.answer_index_base,
            answer_format=self.answer_format,
        )


def run_choice_eval(
    settings: ChoiceEvalSettings,
    out: str | Path,
    *,
    options: RunOptions | None = None,
    generator: Generator | None = None,
) -> dict[str, Any]:
    """Evaluate (or resume) `settings.model` on a multiple-choice set; returns the summary."""
    options, out = options or RunOptions(), Path(out)
    check_run(settings, options, out)
    questions = load_choices(
        settings.data,
        layout=settings.layout,
        split=settings.split,
        columns=settings.columns(),
        limit=options.limit,
    ).to_list()

    def score(chunk, prompts: list[str], completions: list[list[Completion]]):
        return [
            _records(q, missing, text, done)
            for (q, missing), text, done in zip(chunk, prompts, completions, strict=True)
        ]

    records = collect_samples(
        questions,
        out,
        settings,
        options,
        generator,
        prompt=lambda q: _prompt(q, settings),
        score=score,
    )
    summary = {**summarize_choices(records, settings.k), "settings": settings.canonical()}
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    title = f"{Path(settings.data).name}: {Path(settings.model).name}"
    (out / SUMMARY_MD_FILE).write_text(
        choice_summary_markdown(summary, title=title), encoding="utf-8"
    )
    return summary


def _prompt(question: dict[str, Any], settings: ChoiceEvalSettings) -> str:
    return build_choice_prompt(
        question["question"],
        question["options"],
        context=question.get("context"),
        instruction=settings.instruction,
        abstain=settings.abstain,
    )


def _records(
    question: dict[str, Any], missing: Sequence[int], prompt: str, done: Sequence[Completion]
) -> list[dict[str, Any]]:
    """The samples.jsonl lines of one question."""
    records = []
    for index, completion in zip(missing, done, strict=True):
        verdict = check_choice(completion.text, question["options"], question["answer"])
        records.append(
            sample_record(
                question["id"],
                index,
                prompt,
                completion,
                verdict,
                reference=question["answer"],
                options=question["options"],
                **{key: question.get(key) for key in ("subject", "step", "type")},
            )  # fmt: skip
        )
    return records
