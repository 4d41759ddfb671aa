"""Math problems in one shape: benchmarks, training sets and local files.

`load_problems(source)` returns a `datasets.Dataset` with the columns

    id (str)          unique per row: the source's id column, else the 0-based row number
    question (str)    the problem text, stripped of known instruction prefixes
    answer (str)      the reference answer, normalised by `answers.normalize_reference`
                      (GSM8K "... #### 18" -> "18"; a full solution -> its last \\boxed{})
    difficulty (float) only when a difficulty column is known (MATH-500 "level") or given

`source` is, in this order: a name of `BENCHMARKS`, a local .jsonl/.json/.parquet/.csv file, or a
Hugging Face Hub dataset id. Columns of local files and unknown hub datasets are auto-detected
(`QUESTION_COLUMNS`, `ANSWER_COLUMNS`, ...) unless given. Every problem with the input raises
`DataError` with a one-line message naming the file, the column or the row.

The prompt of the paper's evaluation protocol (docs/evaluation.md) is `build_prompt(question)`:
`question + "\\nLet's think step by step and output the final answer within \\boxed{}."`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from grpo_lead.protocol import LEAD_PROMPT_SUFFIX  # noqa: F401 - re-exported: the paper's prompt
from grpo_lead.reader import (  # noqa: F401 - public here too
    FILE_SUFFIXES,
    DataError,
    cell_text,
    check_unique_ids,
    pick_column,
    read_source,
    to_conversation,
)

logger = logging.getLogger(__name__)

# Instructions some redistributed benchmark files prepend to the problem (MATH-500 copies).
KNOWN_QUESTION_PREFIXES = ("Return your final response within \\boxed{}.",)

# Auto-detection order for columns not given explicitly.
QUESTION_COLUMNS = ("problem", "question", "prompt", "query", "input")
ANSWER_COLUMNS = ("answer", "final_answer", "ground_truth", "target", "solution")
SOLUTION_COLUMNS = frozenset({"solution"})  # full worked solutions: the answer is extracted
ID_COLUMNS = ("id", "unique_id", "problem_id", "idx", "index")
DIFFICULTY_COLUMNS = ("difficulty", "level")


@dataclass(frozen=True)
class BenchmarkSpec:
    """Where a named data set lives on the Hub and which columns hold what."""

    hub_id: str
    split: str
    question_column: str
    answer_column: str
    config: str | None = None
    id_column: str | None = None
    difficulty_column: str | None = None
    answer_is_solution_text: bool = False  # GSM8K: "worked solution ... #### 18"


BENCHMARKS: dict[str, BenchmarkSpec] = {
    "aime24": BenchmarkSpec(
        "HuggingFaceH4/aime_2024", "train", "problem", "answer", id_column="id"
    ),
    # The AIME 2025 copy open-r1 / lighteval evaluate on (30 problems, columns as AIME 2024).
    "aime25": BenchmarkSpec("yentinglin/aime_2025", "train", "problem", "answer", id_column="id"),
    "math500": BenchmarkSpec(
        "HuggingFaceH4/MATH-500",
        "test",
        "problem",
        "answer",
        id_column="unique_id",
        difficulty_column="level",
    ),
    "gsm8k": BenchmarkSpec(
        "openai/gsm8k", "test", "question", "answer", config="main", answer_is_solution_text=True
    ),
    # The paper's training set (~40k problems); the paper filters it by difficulty.
    "deepscaler": BenchmarkSpec(
        "agentica-org/DeepScaleR-Preview-Dataset", "train", "problem", "answer"
    ),
}


@dataclass(frozen=True)
class _Columns:
    question: str
    answer: str
    id: str | None
    difficulty: str | None
    answer_is_solution_text: bool


def build_prompt(question: str, *, suffix: str = LEAD_PROMPT_SUFFIX) -> str:
    """The evaluation prompt: `question + suffix` (the suffix is not repeated if present)."""
    if suffix and question.endswith(suffix):
        return question
    return question + suffix


SYSTEM_PROMPT_HELP = (
    "system message. Default: none of ours, but a chat template may add its own (SmolLM2's: "
    "'You are a helpful AI assistant named SmolLM, trained by Hugging Face'; Qwen2.5's: 'You are "
    "Qwen...'); the first prompt the model sees is logged. '' sends an empty system message, "
    "which replaces such a default"
)


def load_problems(
    source: str,
    *,
    split: str | None = None,
    question_column: str | None = None,
    answer_column: str | None = None,
    difficulty_column: str | None = None,
    id_column: str | None = None,
    limit: int | None = None,
):
    """Load problems as a `datasets.Dataset` with columns id, question, answer[, difficulty].

    `limit` keeps the first `limit` rows (only those are validated). Raises `DataError`.
    """
    import datasets

    if limit is not None and limit < 1:
        raise DataError(f"limit must be at least 1, got {limit}")
    given = {
        "question": question_column,
        "answer": answer_column,
        "id": id_column,
        "difficulty": difficulty_column,
    }
    name, rows, locations, spec = _read(source, split)
    if limit is not None:
        rows, locations = rows[:limit], locations[:limit]
    if not rows:
        raise DataError(f"{name}: no rows")
    _refuse_choice_rows(name, list(rows[0]), given)
    columns = _resolve_columns(name, list(rows[0]), given, spec)
    records = [
        _normalize_row(name, row, index, where, columns)
        for index, (row, where) in enumerate(zip(rows, locations))
    ]
    check_unique_ids(name, records, columns.id)
    logger.info(
        "loaded %d problems from %s (question=%s, answer=%s, id=%s, difficulty=%s)",
        len(records),
        name,
        columns.question,
        columns.answer,
        columns.id,
        columns.difficulty,
    )
    return datasets.Dataset.from_list(records)


def _read(source: str, split: str | None):
    """(display name, raw rows, a location label per row, benchmark spec or None)."""
    read = read_source(source, split=split, named=BENCHMARKS)
    return read.name, read.rows, read.locations, read.spec


# --------------------------------------------------------------------------- columns and rows


def _resolve_columns(
    name: str, available: list[str], given: dict[str, str | None], spec: BenchmarkSpec | None
) -> _Columns:
    """Explicit columns win, then the benchmark spec, then auto-detection."""

    def pick(role: str, spec_value: str | None, candidates: Iterable[str], required: bool):
        return pick_column(
            name, available, role, given[role] or spec_value, candidates, required=required
        )

    question = pick("question", spec and spec.question_column, QUESTION_COLUMNS, True)
    answer = pick(
        "answer", spec and spec.answer_column, [c for c in ANSWER_COLUMNS if c != question], True
    )
    auto_ids = [] if spec else ID_COLUMNS  # benchmark specs name their id column or have none
    auto_difficulty = [] if spec else DIFFICULTY_COLUMNS
    return _Columns(
        question=question,
        answer=answer,
        id=pick("id", spec and spec.id_column, auto_ids, False),
        difficulty=pick("difficulty", spec and spec.difficulty_column, auto_difficulty, False),
        answer_is_solution_text=bool(spec and spec.answer_is_solution_text)
        or answer in SOLUTION_COLUMNS,
    )


# Columns that hold a question's options (MedQA, MMLU; MedMCQA's opa, opb, ...): such rows are a
# multiple-choice set, whose options a math prompt would never show.
OPTION_COLUMNS = ("options", "choices", "opa")


# What to do with a multiple-choice set (train and eval have --task; verl-data says otherwise).
MCQ_HINT = "use --task mcq (a recipe: task: mcq), which lists them in the prompt"


def _refuse_choice_rows(name: str, available: list[str], given: dict[str, str | None]) -> None:
    used = {given["question"], given["answer"]}
    found = next((c for c in OPTION_COLUMNS if c in available and c not in used), None)
    if found is not None:
        raise DataError(
            f"{name}: the rows carry options (column {found!r}), a multiple-choice set: " + MCQ_HINT
        )


def _normalize_row(
    name: str, row: dict[str, Any], index: int, where: str, columns: _Columns
) -> dict[str, Any]:
    question = cell_text(row.get(columns.question))
    if not question:
        raise DataError(f"{name}: empty question in {where} (column {columns.question!r})")
    question = _strip_known_prefix(question)
    value = row.get(columns.answer)
    if isinstance(value, (dict, list)):  # str() would make a Python repr no answer matches
        raise DataError(
            f"{name}: the answer in {where} (column {columns.answer!r}) is a "
            f"{'JSON object' if isinstance(value, dict) else 'list'}; give a text or a number"
        )
    answer = _reference_answer(cell_text(value), columns.answer_is_solution_text)
    if not answer:
        raise DataError(f"{name}: empty answer in {where} (column {columns.answer!r})")
    record: dict[str, Any] = {"id": _row_id(row, index, columns), "question": question}
    record["answer"] = answer
    if columns.difficulty is not None:
        record["difficulty"] = _difficulty(name, row.get(columns.difficulty), where, columns)
    return record


def _row_id(row: dict[str, Any], index: int, columns: _Columns) -> str:
    """The id column's value, else the 0-based row number."""
    if columns.id is not None and cell_text(row.get(columns.id)):
        return cell_text(row[columns.id])
    return str(index)


def _strip_known_prefix(question: str) -> str:
    for prefix in KNOWN_QUESTION_PREFIXES:
        if question.startswith(prefix):
            return question[len(prefix) :].lstrip()
    return question


def _reference_answer(text: str, is_solution_text: bool) -> str:
    """Normalise a reference; for a worked solution take its final answer (#### n or boxed)."""
    from grpo_lead.answers import extract_answer, normalize_reference

    if not text:
        return ""
    if is_solution_text and "####" not in text:
        text = extract_answer(text) or ""
    return normalize_reference(text).strip() if text else ""


_NUMBER = re.compile(r"[-+]?\d+(?:\.\d+)?")


def _difficulty(name: str, value: Any, where: str, columns: _Columns) -> float:
    """A difficulty as a float; "Level 3" (MATH) reads as 3.0."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    match = _NUMBER.search(cell_text(value))
    if match is None:
        raise DataError(
            f"{name}: difficulty {value!r} in {where} (column {columns.difficulty!r}) is not a number"
        )
    return float(match.group())
