"""`grpo-lead eval --task mcq`: k samples per question, the chosen letter checked, summarised
overall and per subject / exam step / question type.

`run_choice_eval(settings, out)` fills the same resumable output folder as
`grpo_lead.evaluation.run_eval` (run.json, samples.jsonl, summary.json, summary.md; a rerun
generates only missing samples; a folder holding other settings is refused) and reuses its
sample store, generation backends and per-request seeds. What differs:

1. Questions come from `grpo_lead.choice.load_choices`; the prompt lists the options
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
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grpo_lead.choice.checker import check_choice
from grpo_lead.choice.data import (
    CHOICE_INSTRUCTION,
    ChoiceColumns,
    build_choice_prompt,
    load_choices,
)
from grpo_lead.choice.metrics import choice_summary_markdown, summarize_choices
from grpo_lead.evaluation.generation import (
    Completion,
    Generator,
    Request,
    Sampling,
    load_generator,
    request_seed,
)
from grpo_lead.evaluation.runner import (
    SAMPLES_FILE,
    SUMMARY_FILE,
    SUMMARY_MD_FILE,
    RunOptions,
    SampleStore,
    _chunks,
    _claim_folder,
    _validate,
)

logger = logging.getLogger(__name__)

__all__ = ["ChoiceEvalSettings", "run_choice_eval"]


@dataclass(frozen=True)
class ChoiceEvalSettings:
    """What a multiple-choice run measures (sampling defaults: the paper's protocol)."""

    model: str
    data: str
    k: int = 32
    temperature: float = 0.6
    min_p: float = 0.01
    max_new_tokens: int = 14000
    seed: int = 0
    split: str | None = None
    layout: str = "auto"
    question_column: str | None = None
    options_column: str | None = None
    option_columns: tuple[str, ...] | None = None
    answer_column: str | None = None
    answer_index_base: int = 0
    id_column: str | None = None
    subject_column: str | None = None
    step_column: str | None = None
    type_column: str | None = None
    chat_template: bool = True
    system_prompt: str | None = None
    instruction: str = CHOICE_INSTRUCTION
    abstain: bool = False
    task: str = "mcq"

    def canonical(self) -> dict[str, Any]:
        """The settings as stored in run.json, local paths made absolute."""
        values = asdict(self)
        values["option_columns"] = list(self.option_columns) if self.option_columns else None
        for key in ("model", "data"):
            if Path(values[key]).expanduser().exists():
                values[key] = str(Path(values[key]).expanduser().resolve())
        return values

    def sampling(self) -> Sampling:
        return Sampling(self.temperature, self.min_p, self.max_new_tokens)

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
    _validate(settings, options)
    questions = load_choices(
        settings.data,
        layout=settings.layout,
        split=settings.split,
        columns=settings.columns(),
        limit=options.limit,
    ).to_list()
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
        _generate(todo, store, generator, settings, progress=options.progress)
    records = store.records([q["id"] for q in questions])
    summary = {**summarize_choices(records, settings.k), "settings": settings.canonical()}
    (out / SUMMARY_FILE).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    title = f"{Path(settings.data).name}: {Path(settings.model).name}"
    (out / SUMMARY_MD_FILE).write_text(
        choice_summary_markdown(summary, title=title), encoding="utf-8"
    )
    return summary


def _generate(
    todo, store: SampleStore, generator: Generator, settings: ChoiceEvalSettings, *, progress: bool
) -> None:
    from tqdm.auto import tqdm

    with tqdm(
        total=len(todo),
        desc=f"eval {Path(settings.data).name}",
        unit="question",
        disable=not progress,
    ) as bar:
        for chunk in _chunks(todo, generator.batch_size):
            prompts = [generator.format_prompt(_prompt(q, settings)) for q, _ in chunk]
            requests = [
                Request(prompt, len(missing), request_seed(settings.seed, q["id"], missing[0]))
                for prompt, (q, missing) in zip(prompts, chunk, strict=True)
            ]
            completions = generator.generate(requests)
            for (q, missing), prompt, done in zip(chunk, prompts, completions, strict=True):
                store.append(_records(q, missing, prompt, done))
                bar.update(1)


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
    from grpo_lead.evaluation.errors import EvalError

    if len(done) != len(missing):
        raise EvalError(
            f"backend returned {len(done)} samples for {question['id']}, not {len(missing)}"
        )
    records = []
    for index, completion in zip(missing, done, strict=True):
        verdict = check_choice(completion.text, question["options"], question["answer"])
        records.append(
            {
                "id": question["id"],
                "sample": index,
                "prompt": prompt,
                "text": completion.text,
                "extracted": verdict.extracted,
                "correct": bool(verdict.correct),
                "reason": verdict.reason,
                "num_tokens": completion.num_tokens,
                "finished": completion.finished,
                "reference": question["answer"],
                "options": question["options"],
                **{key: question.get(key) for key in ("subject", "step", "type")},
            }
        )
    return records
