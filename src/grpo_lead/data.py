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

The prompt of the paper's evaluation protocol (LEAD.md) is `build_prompt(question)`:
`question + "\\nLet's think step by step and output the final answer within \\boxed{}."`.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

logger = logging.getLogger(__name__)

LEAD_PROMPT_SUFFIX = "\nLet's think step by step and output the final answer within \\boxed{}."

# Instructions some redistributed benchmark files prepend to the problem (MATH-500 copies).
KNOWN_QUESTION_PREFIXES = ("Return your final response within \\boxed{}.",)

# Auto-detection order for columns not given explicitly.
QUESTION_COLUMNS = ("problem", "question", "prompt", "query", "input")
ANSWER_COLUMNS = ("answer", "final_answer", "ground_truth", "target", "solution")
SOLUTION_COLUMNS = frozenset({"solution"})  # full worked solutions: the answer is extracted
ID_COLUMNS = ("id", "unique_id", "problem_id", "idx", "index")
DIFFICULTY_COLUMNS = ("difficulty", "level")

FILE_SUFFIXES = (".jsonl", ".json", ".parquet", ".csv")


class DataError(ValueError):
    """Unusable input data: the message is one line naming the file, column or row."""


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


def to_conversation(prompt: str, system_prompt: str | None = None) -> list[dict[str, str]]:
    """Chat messages for a prompt: a system message unless `system_prompt` is None, then the
    user message. An empty `system_prompt` is an empty system message: a chat template that
    adds a default system prompt to a chat without one (SmolLM2, Qwen2.5) then adds none."""
    messages = [] if system_prompt is None else [{"role": "system", "content": system_prompt}]
    return [*messages, {"role": "user", "content": prompt}]


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
    name, rows, locations, spec = _read_source(source, split=split)
    if limit is not None:
        rows, locations = rows[:limit], locations[:limit]
    if not rows:
        raise DataError(f"{name}: no rows")
    columns = _resolve_columns(name, list(rows[0]), given, spec)
    records = [
        _normalize_row(name, row, index, where, columns)
        for index, (row, where) in enumerate(zip(rows, locations))
    ]
    _check_unique_ids(name, records, columns)
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


# --------------------------------------------------------------------------- reading sources


def _read_source(
    source: str, *, split: str | None
) -> tuple[str, list[dict[str, Any]], list[str], BenchmarkSpec | None]:
    """(display name, raw rows, a location label per row, benchmark spec or None)."""
    if source in BENCHMARKS:
        spec = BENCHMARKS[source]
        rows = _read_hub(spec.hub_id, spec.config, split or spec.split)
        return source, rows, _row_labels(len(rows)), spec
    path = Path(source).expanduser()
    if path.suffix.lower() in FILE_SUFFIXES or path.exists():
        rows, locations = _read_file(path)
        return str(path), rows, locations, None
    rows = _read_hub(source, None, split)
    return source, rows, _row_labels(len(rows)), None


def _row_labels(n: int) -> list[str]:
    return [f"row {i + 1}" for i in range(n)]


def _read_file(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a .jsonl/.json/.parquet/.csv file")
    readers: dict[str, Callable[[Path], tuple[list[dict[str, Any]], list[str]]]] = {
        ".jsonl": _read_jsonl,
        ".json": _read_json,
        ".parquet": _read_parquet,
        ".csv": _read_csv,
    }
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"{path}: unsupported file type {path.suffix!r} (use {FILE_SUFFIXES})")
    return reader(path)


def _read_text(path: Path) -> str:
    """The file as text: UTF-8, with or without a byte-order mark (Excel, Notepad)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path}: line {line} is not UTF-8 (byte {exc.start}); save the file as UTF-8"
        ) from None


def _read_jsonl(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    rows, locations = [], []
    for number, line in enumerate(_read_text(path).split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: line {number} is not valid JSON ({exc.msg})") from None
        rows.append(_as_record(path, row, f"line {number}"))
        locations.append(f"line {number}")
    return rows, locations


def _read_json(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return _read_jsonl(path)  # JSON Lines saved as .json
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise DataError(f"{path}: expected a list of records or an object holding one list")
        data = lists[0]
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a list of records, got {type(data).__name__}")
    labels = _row_labels(len(data))
    return [_as_record(path, row, where) for row, where in zip(data, labels)], labels


def _read_parquet(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataError(f"{path}: cannot read parquet ({_first_line(exc)})") from None
    return rows, _row_labels(len(rows))


def _read_csv(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    rows = list(csv.DictReader(io.StringIO(_read_text(path), newline="")))
    return rows, _row_labels(len(rows))


def _as_record(path: Path, row: Any, where: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise DataError(f"{path}: {where} is a JSON {type(row).__name__}, expected an object")
    return row


def _read_hub(hub_id: str, config: str | None, split: str | None) -> list[dict[str, Any]]:
    """Rows of a Hub dataset split; with no split, "test" if present, else "train"."""
    import datasets

    try:
        loaded = datasets.load_dataset(hub_id, config, split=split)
    except Exception as exc:  # network, missing repo, bad split: all one-line DataErrors
        where = (
            f"{hub_id}" + (f" ({config})" if config else "") + (f" split {split}" if split else "")
        )
        raise DataError(
            f"cannot load {where}: not a local file or a loadable hub dataset ({_first_line(exc)})"
        ) from None
    if isinstance(loaded, datasets.DatasetDict):
        names = list(loaded)
        chosen = next((s for s in ("test", "train") if s in loaded), names[0])
        logger.info("%s: no split given, using %r of %s", hub_id, chosen, names)
        loaded = loaded[chosen]
    return loaded.to_list()


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


# --------------------------------------------------------------------------- columns and rows


def pick_column(
    name: str,
    available: list[str],
    role: str,
    chosen: str | None,
    candidates: Iterable[str],
    *,
    required: bool,
    must_exist: bool = True,
) -> str | None:
    """The column for `role`: `chosen` (given or a layout's) when set, else the first of
    `candidates` the data has. A one-line `DataError` names the data, the role and the
    available columns when a required one is missing or a chosen one is not there."""
    column = chosen
    if column is None:
        column = next((c for c in candidates if c in available), None)
        if column is None and required:
            raise DataError(
                f"{name}: no {role} column found (tried {list(candidates)}); "
                f"available columns: {available}; pass --{role}-column"
            )
    elif must_exist and column not in available:
        raise DataError(
            f"{name}: {role} column {column!r} not found; available columns: {available}"
        )
    return column


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


def _normalize_row(
    name: str, row: dict[str, Any], index: int, where: str, columns: _Columns
) -> dict[str, Any]:
    question = _text(row.get(columns.question))
    if not question:
        raise DataError(f"{name}: empty question in {where} (column {columns.question!r})")
    question = _strip_known_prefix(question)
    answer = _reference_answer(_text(row.get(columns.answer)), columns.answer_is_solution_text)
    if not answer:
        raise DataError(f"{name}: empty answer in {where} (column {columns.answer!r})")
    record: dict[str, Any] = {"id": _row_id(row, index, columns), "question": question}
    record["answer"] = answer
    if columns.difficulty is not None:
        record["difficulty"] = _difficulty(name, row.get(columns.difficulty), where, columns)
    return record


def _row_id(row: dict[str, Any], index: int, columns: _Columns) -> str:
    """The id column's value, else the 0-based row number."""
    if columns.id is not None and _text(row.get(columns.id)):
        return _text(row[columns.id])
    return str(index)


def _text(value: Any) -> str:
    """A cell as stripped text; integral floats lose their ".0" (AIME answers as floats)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


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
    match = _NUMBER.search(_text(value))
    if match is None:
        raise DataError(
            f"{name}: difficulty {value!r} in {where} (column {columns.difficulty!r}) is not a number"
        )
    return float(match.group())


def _check_unique_ids(name: str, records: list[dict[str, Any]], columns: _Columns) -> None:
    seen: set[str] = set()
    for record in records:
        if record["id"] in seen:
            raise DataError(
                f"{name}: duplicate id {record['id']!r} in column {columns.id!r}; "
                "pass another --id-column"
            )
        seen.add(record["id"])
