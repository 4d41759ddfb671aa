"""Multiple-choice questions in one row layout: MedQA, MedMCQA, PubMedQA and local files.

`load_choices(source)` returns a `datasets.Dataset` with the columns

    id (str)            the source's id column, else the 0-based row number
    question (str)      the question (stripped)
    context (str|None)  passages shown before the question (PubMedQA's abstract), else None
    options (list[str]) the option texts in letter order: options[i] has letter "ABCD..."[i]
    answer (str)        the correct option's letter (the column the rewards read)
    answer_text (str)   the correct option's text
    subject, step, type (str|None)  group fields for the evaluation: MedMCQA `subject_name` and
                        `choice_type`, MedQA `meta_info` (step1 / step2&3), or named columns

Options are a list, not a dict, because Arrow stores a list of any length in one column type
(a dict of 4 and a dict of 5 options would become one struct padded with nulls).

Layouts (`layout="auto"` picks one from the columns):

1. ``medqa``: ``question``, ``options`` (a dict ``{"A": ...}`` or bigbio's list of
   ``{key, value}``), ``answer_idx`` (the letter; else ``answer``, the text), ``meta_info``.
2. ``medmcqa``: ``question``, ``opa``..``opd``, ``cop`` (the correct option's index, 0-based
   as on the Hub; the original JSON release counts from 1: pass ``answer_index_base=1``),
   ``subject_name``, ``choice_type``. Its test split has no answers (``cop`` -1).
3. ``pubmedqa``: ``question``, ``context`` (text, a list of passages, or the Hub's
   ``{"contexts": [...], "labels": [...]}``), ``final_decision``; options are yes / no / maybe.
4. ``generic``: any file; the options in one column (a dict, a list of texts, a list of
   ``{key, value}``, or JSON text of these) or in separate columns (``option_columns``), the
   answer as a letter, an index (``answer_index_base``) or the option's text; an answer that
   two of these read as different options ("2" among the options 1-4: B by text, C as an
   index) is an error naming the row, unless ``answer_format`` says which rule holds.

A named layout reads its answer column by its own rule (`ANSWER_RULES`: MedQA a letter,
MedMCQA an index even when the options are numbers, PubMedQA the option's text); its group and
context columns are optional (absent: no breakdown by them).

Every problem raises `grpo_lead.reader.DataError` (also `grpo_lead.tasks.math.data.DataError`)
with one line naming the source and the row: an answer not among the options, an empty option set, a repeated or skipped letter, an empty
question or option. ``on_error="skip"`` drops such rows instead (logged with a count).
"""

from __future__ import annotations

import json
import logging
import re
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from grpo_lead.reader import DataError, cell_text, check_unique_ids, pick_column, read_source

logger = logging.getLogger(__name__)

__all__ = [
    "CHOICE_SETS",
    "LAYOUTS",
    "CHOICE_INSTRUCTION",
    "ChoiceColumns",
    "ChoiceSet",
    "AmbiguousAnswer",
    "answer_to_letter",
    "build_choice_prompt",
    "letters",
    "load_choices",
    "normalize_choice_row",
    "option_pairs",
    "to_prompt",
]

LETTERS = string.ascii_uppercase
LAYOUTS = ("auto", "medqa", "medmcqa", "pubmedqa", "generic")
PUBMEDQA_OPTIONS = ("yes", "no", "maybe")
MEDMCQA_OPTION_COLUMNS = ("opa", "opb", "opc", "opd")

# Auto-detection for the generic layout, in order.
QUESTION_COLUMNS = ("question", "problem", "prompt", "query", "input")
OPTIONS_COLUMNS = ("options", "choices", "option", "candidates")
ANSWER_COLUMNS = ("answer_idx", "answer", "label", "target", "correct", "cop")
ID_COLUMNS = ("id", "unique_id", "idx", "index")
SUBJECT_COLUMNS = ("subject", "subject_name", "category")
STEP_COLUMNS = ("step", "meta_info")
TYPE_COLUMNS = ("type", "question_type", "choice_type")
CONTEXT_COLUMNS = ("context",)


@dataclass(frozen=True)
class ChoiceSet:
    """A named multiple-choice set on the Hub."""

    hub_id: str
    split: str
    layout: str
    config: str | None = None


CHOICE_SETS: dict[str, ChoiceSet] = {
    # USMLE, 4 options (10,178 train / 1,273 test); the 5-option copy is bigbio/med_qa.
    "medqa": ChoiceSet("GBaker/MedQA-USMLE-4-options", "test", "medqa"),
    # The test split is unlabelled (cop -1): evaluate on validation (4,183 questions).
    "medmcqa": ChoiceSet("openlifescienceai/medmcqa", "validation", "medmcqa"),
    # The 1,000 expert-labelled questions.
    "pubmedqa": ChoiceSet("qiaojin/PubMedQA", "train", "pubmedqa", config="pqa_labeled"),
}


@dataclass(frozen=True)
class ChoiceColumns:
    """Column names for the generic layout (None: auto-detect); named layouts fix their own."""

    question: str | None = None
    options: str | None = None
    option_columns: tuple[str, ...] | None = None
    answer: str | None = None
    id: str | None = None
    context: str | None = None
    subject: str | None = None
    step: str | None = None
    type: str | None = None
    answer_index_base: int = 0
    answer_format: str | None = None  # "letter" | "index" | "text"; None: the layout's rule


def letters(n: int) -> str:
    """The letters of n options: ``letters(4) == "ABCD"``."""
    if not 1 <= n <= len(LETTERS):
        raise ValueError(f"between 1 and {len(LETTERS)} options, got {n}")
    return LETTERS[:n]


def load_choices(
    source: str,
    *,
    layout: str = "auto",
    split: str | None = None,
    columns: ChoiceColumns | None = None,
    limit: int | None = None,
    on_error: str = "raise",
):
    """Load multiple-choice questions as a `datasets.Dataset` (see the module docstring).

    `source`: a name of `CHOICE_SETS`, a local .jsonl/.json/.parquet/.csv file, or a Hub id.
    `limit` keeps the first `limit` rows. Raises `DataError`.
    """
    import datasets

    if layout not in LAYOUTS:
        raise DataError(f"layout must be one of {LAYOUTS}, got {layout!r}")
    if on_error not in ("raise", "skip"):
        raise DataError(f"on_error must be 'raise' or 'skip', got {on_error!r}")
    if limit is not None and limit < 1:
        raise DataError(f"limit must be at least 1, got {limit}")
    if columns is not None and columns.answer_format not in (None, *ANSWER_FORMATS):
        raise DataError(
            f"answer format must be one of {', '.join(ANSWER_FORMATS)}, got {columns.answer_format!r}"
        )
    name, rows, layout = _read_source(source, split=split, layout=layout)
    rows = rows[:limit] if limit is not None else rows
    if not rows:
        raise DataError(f"{name}: no rows")
    if layout == "auto":
        layout = detect_layout(rows[0])
    columns = resolve_columns(name, list(rows[0]), layout, columns or ChoiceColumns())
    records, skipped = [], 0
    for index, row in enumerate(rows):
        try:
            records.append(normalize_choice_row(row, layout, columns, index=index))
        except DataError as exc:
            if on_error == "raise":
                raise DataError(f"{name}: {exc}") from None
            skipped += 1
            logger.warning("%s: skipped: %s", name, exc)
    if not records:
        raise DataError(f"{name}: every row was skipped")
    check_unique_ids(name, records, columns.id)
    logger.info(
        "loaded %d questions from %s (layout %s, %d skipped)", len(records), name, layout, skipped
    )
    return datasets.Dataset.from_list(records)


# --------------------------------------------------------------------------- sources


def _read_source(source: str, *, split: str | None, layout: str) -> tuple[str, list[dict], str]:
    """(display name, raw rows, layout) from a named set, a local file or a Hub id."""
    read = read_source(source, split=split, named=CHOICE_SETS)
    if read.spec is not None and layout == "auto":
        layout = read.spec.layout
    return read.name, read.rows, layout


# --------------------------------------------------------------------------- columns


def detect_layout(row: Mapping[str, Any]) -> str:
    """The layout a row's columns announce (generic when none does)."""
    if {"opa", "opb", "cop"} <= set(row):
        return "medmcqa"
    if "final_decision" in row:
        return "pubmedqa"
    if "options" in row and "answer_idx" in row:
        return "medqa"
    return "generic"


_NAMED_LAYOUT_COLUMNS = {
    "medqa": ChoiceColumns(
        question="question", options="options", answer="answer_idx", step="meta_info"
    ),
    "medmcqa": ChoiceColumns(
        question="question",
        option_columns=MEDMCQA_OPTION_COLUMNS,
        answer="cop",
        subject="subject_name",
        type="choice_type",
    ),
    "pubmedqa": ChoiceColumns(question="question", answer="final_decision", context="context"),
}


def resolve_columns(
    name: str, available: list[str], layout: str, given: ChoiceColumns
) -> ChoiceColumns:
    """Given columns win, then the layout's, then auto-detection; unknown names are errors."""
    fixed = _NAMED_LAYOUT_COLUMNS.get(layout, ChoiceColumns())

    def pick(role: str, candidates: Sequence[str], required: bool) -> str | None:
        chosen = getattr(given, role) or getattr(fixed, role)
        if not required and getattr(given, role) is None and chosen not in (None, *available):
            return None  # a layout's optional column (meta_info, subject_name) absent: no groups
        # a MedQA file without answer_idx is read from its answer text (_answer_letter)
        must_exist = not (layout == "medqa" and role == "answer")
        return pick_column(
            name, available, role, chosen, candidates, required=required, must_exist=must_exist
        )

    option_columns = given.option_columns or fixed.option_columns
    for column in option_columns or ():
        if column not in available:
            raise DataError(f"{name}: option column {column!r} not found; available: {available}")
    question = pick("question", QUESTION_COLUMNS, True)
    options = None
    if layout != "pubmedqa" and not option_columns:
        options = pick("options", OPTIONS_COLUMNS, True)
    return ChoiceColumns(
        question=question,
        options=options,
        option_columns=tuple(option_columns) if option_columns else None,
        answer=pick("answer", [c for c in ANSWER_COLUMNS if c not in (question, options)], True),
        id=pick("id", ID_COLUMNS, False),
        context=pick("context", CONTEXT_COLUMNS, False),
        subject=pick("subject", SUBJECT_COLUMNS, False),
        step=pick("step", STEP_COLUMNS, False),
        type=pick("type", TYPE_COLUMNS, False),
        answer_index_base=given.answer_index_base,
        answer_format=given.answer_format,
    )


# --------------------------------------------------------------------------- rows


def normalize_choice_row(
    row: Mapping[str, Any], layout: str, columns: ChoiceColumns, *, index: int
) -> dict[str, Any]:
    """One raw row -> the common layout; raises `DataError` naming the row (1-based)."""
    where = f"row {index + 1}"
    question = cell_text(row.get(columns.question))
    if not question:
        raise DataError(f"{where}: empty question (column {columns.question!r})")
    if layout == "pubmedqa":
        pairs = list(zip(LETTERS, PUBMEDQA_OPTIONS))
    elif columns.option_columns:
        pairs = list(zip(LETTERS, (row.get(c) for c in columns.option_columns)))
    else:
        pairs = option_pairs(row.get(columns.options), where=where)
    options = _validate_options(pairs, where)
    answer = _answer_letter(row, layout, columns, options, where)
    return {
        "id": cell_text(row.get(columns.id))
        if columns.id and cell_text(row.get(columns.id))
        else str(index),
        "question": question,
        "context": _context(row.get(columns.context)) if columns.context else None,
        "options": options,
        "answer": answer,
        "answer_text": options[LETTERS.index(answer)],
        "subject": _group(row, columns.subject),
        "step": _group(row, columns.step),
        "type": _group(row, columns.type),
    }


def option_pairs(value: Any, *, where: str = "row") -> list[tuple[str | None, Any]]:
    """(letter or None, text) pairs from a dict, a list of texts or of ``{key, value}``, or
    JSON text of these. None letters are assigned in order by `_validate_options`."""
    if isinstance(value, str) and value.strip()[:1] in ("{", "["):
        try:
            value = json.loads(value, object_pairs_hook=lambda pairs: _unique_keys(pairs, where))
        except json.JSONDecodeError:
            raise DataError(f"{where}: options are not valid JSON") from None
    if isinstance(value, Mapping):
        return [(_option_key(k, where), v) for k, v in value.items() if v is not None]
    if isinstance(value, (list, tuple)):
        pairs: list[tuple[str | None, Any]] = []
        for item in value:
            if isinstance(item, Mapping):  # bigbio: {"key": "A", "value": "..."}
                key = item.get("key", item.get("label"))
                text = item.get("value", item.get("text"))
                pairs.append((None if key is None else _option_key(key, where), text))
            else:
                pairs.append((None, item))
        return pairs
    if value is None or value == "":
        return []
    raise DataError(
        f"{where}: options must be a dict, a list or JSON text, got {type(value).__name__}"
    )


def _unique_keys(pairs: list[tuple[str, Any]], where: str) -> dict[str, Any]:
    """A JSON object whose keys do not repeat (json.loads would keep the last of two "A")."""
    seen: set[str] = set()
    for key, _ in pairs:
        if key in seen:
            raise DataError(f"{where}: option letter {key} repeats in the JSON text")
        seen.add(key)
    return dict(pairs)


def _option_key(key: Any, where: str) -> str:
    letter = str(key).strip().strip("()").upper()
    if len(letter) != 1 or letter not in LETTERS:
        raise DataError(f"{where}: option key {key!r} is not a letter")
    return letter


def _validate_options(pairs: list[tuple[str | None, Any]], where: str) -> list[str]:
    """Texts in letter order; the letters must be A, B, C, ... without repeats or gaps."""
    if not pairs:
        raise DataError(f"{where}: no options")
    if len(pairs) > len(LETTERS):
        raise DataError(f"{where}: {len(pairs)} options, at most {len(LETTERS)}")
    keyed = [(k if k is not None else LETTERS[i], v) for i, (k, v) in enumerate(pairs)]
    seen: set[str] = set()
    for key, _ in keyed:
        if key in seen:
            raise DataError(f"{where}: option letter {key} repeats")
        seen.add(key)
    keyed.sort(key=lambda kv: kv[0])
    expected = letters(len(keyed))
    if "".join(k for k, _ in keyed) != expected:
        got = ", ".join(k for k, _ in keyed)
        raise DataError(
            f"{where}: option letters {got} skip a letter (expected {', '.join(expected)})"
        )
    texts = [cell_text(v) for _, v in keyed]
    for key, text in zip(expected, texts, strict=True):
        if not text:
            raise DataError(f"{where}: option {key} is empty")
    return texts


def _answer_letter(
    row: Mapping[str, Any], layout: str, columns: ChoiceColumns, options: list[str], where: str
) -> str:
    value = row.get(columns.answer)
    # the user's --answer-format; else a named layout's own answer column is read by its rule;
    # another column by every rule (an answer that two rules read differently is an error)
    rule = ANSWER_RULES.get(layout, "any")
    if columns.answer != _NAMED_LAYOUT_COLUMNS.get(layout, ChoiceColumns()).answer:
        rule = "any"
    if layout == "medqa" and cell_text(value) == "" and "answer" in row:
        value, rule = row["answer"], "text"  # no answer_idx: the answer text
    rule = columns.answer_format or rule
    shown = cell_text(value)[:60] or "(empty)"
    try:
        letter = answer_to_letter(value, options, index_base=columns.answer_index_base, rule=rule)
    except AmbiguousAnswer as exc:
        raise DataError(
            f"{where}: answer {shown!r} (column {columns.answer!r}) names {exc}; say which "
            "with --answer-format letter|index|text (answer_format in a recipe)"
        ) from None
    if letter is None:
        raise DataError(
            f"{where}: answer {shown!r} (column {columns.answer!r}) is not among its options "
            f"{letters(len(options))[0]}-{letters(len(options))[-1]}"
        )
    return letter


class AmbiguousAnswer(ValueError):
    """An answer that names different options under different rules (`answer_to_letter`)."""

    def __init__(self, readings: dict[str, str]):
        self.readings = readings
        said = {"letter": "as a letter", "index": "as an index", "text": "as an option's text"}
        super().__init__(" but ".join(f"{k} {said[rule]}" for rule, k in readings.items()))


def answer_to_letter(
    value: Any, options: Sequence[str], *, index_base: int = 0, rule: str = "any"
) -> str | None:
    """The letter a reference names, None when it names none of the options.

    ``rule`` (`ANSWER_RULES`): "index" an int or digits counted from `index_base`
    (MedMCQA's ``cop``); "letter" a letter, "(C)" or "C." (MedQA's ``answer_idx``); "text" an
    option's text, case- and space-insensitive (PubMedQA's ``final_decision``); "any" (the
    generic layout) whichever of the three reads it. An answer that two rules read as
    different options raises `AmbiguousAnswer`: "2" among the options 1, 2, 3, 4 is B by its
    text and C as an index; "a" among b, a, c is A as a letter and B by its text.
    """
    if rule not in _RULES:
        raise ValueError(f"rule must be one of {_RULES}, got {rule!r}")
    if rule != "any":
        return _read_as(rule, value, options, index_base)
    readings = {
        r: key
        for r in ("letter", "index", "text")
        if (key := _read_as(r, value, options, index_base))
    }
    if len(set(readings.values())) > 1:
        raise AmbiguousAnswer(readings)
    return next(iter(readings.values()), None)


def _read_as(rule: str, value: Any, options: Sequence[str], index_base: int) -> str | None:
    """The letter ``value`` names under one rule ("index", "letter" or "text"), or None."""
    keys = letters(len(options))
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = cell_text(value)
    if rule == "index":
        if isinstance(value, int) or _DIGITS.fullmatch(text):
            i = int(text) - index_base
            return keys[i] if 0 <= i < len(keys) else None
        return None
    if rule == "letter":
        m = None if isinstance(value, int) else re.fullmatch(r"\(?([A-Za-z])\)?\.?", text)
        return m.group(1).upper() if m and m.group(1).upper() in keys else None
    matches = [k for k, opt in zip(keys, options, strict=True) if _fold(opt) == _fold(text)]
    return matches[0] if len(matches) == 1 else None


ANSWER_FORMATS = ("letter", "index", "text")
_RULES = ("any", *ANSWER_FORMATS)
# How a named layout's answer column names the option; the generic layout tries every way.
ANSWER_RULES = {"medqa": "letter", "medmcqa": "index", "pubmedqa": "text", "generic": "any"}
# decimal digits, which int() reads; not "²" (str.isdigit() says yes, int() refuses it)
_DIGITS = re.compile(r"-?\d+")


def _fold(text: str) -> str:
    return " ".join(text.casefold().split()).rstrip(".")


def _group(row: Mapping[str, Any], column: str | None) -> str | None:
    return (cell_text(row.get(column)) or None) if column else None


def _context(value: Any) -> str | None:
    """PubMedQA's context as text: passages joined, labelled ("BACKGROUND: ...") when labels
    are given."""
    if isinstance(value, Mapping):
        passages = list(value.get("contexts") or [])
        labels = list(value.get("labels") or [])
        if len(labels) == len(passages):
            passages = [
                f"{label}: {p}" if label else p for label, p in zip(labels, passages, strict=True)
            ]
        value = passages
    if isinstance(value, (list, tuple)):
        value = "\n".join(cell_text(v) for v in value if cell_text(v))
    return cell_text(value) or None


# --------------------------------------------------------------------------- prompts

CHOICE_INSTRUCTION = (
    "Let's think step by step and output the letter of the correct option within \\boxed{}."
)
ABSTAIN_INSTRUCTION = " If you cannot tell, output \\boxed{I don't know}."


def build_choice_prompt(
    question: str,
    options: Sequence[str],
    *,
    context: str | None = None,
    instruction: str = CHOICE_INSTRUCTION,
    abstain: bool = False,
) -> str:
    """The prompt in the paper's style, the options listed with letters:

    >>> print(build_choice_prompt("Which is even?", ["3", "4"]))
    Which is even?
    A. 3
    B. 4
    Let's think step by step and output the letter of the correct option within \\boxed{}.
    """
    head = f"{context}\n\n{question}" if context else question
    lines = [f"{key}. {text}" for key, text in zip(letters(len(options)), options, strict=True)]
    return "\n".join([head, *lines, instruction + (ABSTAIN_INSTRUCTION if abstain else "")])


def to_prompt(
    row: Mapping[str, Any],
    *,
    chat: bool,
    system_prompt: str | None = None,
    abstain: bool = False,
    instruction: str = CHOICE_INSTRUCTION,
):
    """A row's prompt for TRL: a conversation (chat template) or plain text."""
    from grpo_lead.reader import to_conversation

    text = build_choice_prompt(
        row["question"],
        row["options"],
        context=row.get("context"),
        instruction=instruction,
        abstain=abstain,
    )
    return to_conversation(text, system_prompt) if chat else text
