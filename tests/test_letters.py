"""grpo_lead.answers.letters: the one reader of multiple-choice letters, rule by rule, and the
verdict table (benchmarks/letters_verdicts.py): the math checker and the multiple-choice task
read every completion alike, and the merge changed only the readings its FLIPS list."""

from __future__ import annotations

import json
from pathlib import Path

import letters_verdicts
import pytest

from grpo_lead.answers import verify_answer
from grpo_lead.answers.letters import (
    answer_span,
    choice_answer,
    clean_span,
    read_letters,
    reference_letter,
)
from grpo_lead.tasks.choice import check_choice, choose

BEFORE = Path(__file__).resolve().parent / "data" / "letters_before.json"
OPTIONS = ["zq1", "zq2", "zq3", "zq4", "zq5"]  # texts that match nothing: letters alone decide


def both(completion: str) -> tuple[str | None, str | None]:
    """(math path's letter, choice path's letter) of a completion."""
    math = choice_answer(completion)
    letter, _, _ = choose(completion, OPTIONS)
    return (math if math is not None and len(math) == 1 else None), letter


# ----------------------------------------------------------------------------- span


@pytest.mark.parametrize(
    ("completion", "expected"),
    [
        (r"x \boxed{C} y", ("C", True)),  # the box
        ("so the answer is (C).", ("(C)", True)),  # the marker
        ("Reasoning.\n\nC.\n\n", ("C.", False)),  # else the last non-empty line
        ("<think>Answer: B</think>So it is\nC", ("C", False)),  # after </think>
        ("<think>It could be C", (None, False)),  # cut off inside the reasoning
        (r"The answer is \boxed{C", (None, False)),  # a cut-off last box: no closing line
        (r"\boxed{}", (None, False)),  # an empty box is no answer
        ("", (None, False)),
    ],
)
def test_the_span_is_the_box_or_marker_else_the_closing_line(completion, expected):
    assert answer_span(completion) == expected


def test_cleaning_drops_wrappers_markdown_and_a_full_stop():
    assert clean_span(r"**\text{(C)}.**") == "(C)"
    assert clean_span("**C**.") == "C"
    assert clean_span("`C`") == "C" and clean_span("$C$") == "C"
    assert clean_span(r"\textbf{\mathrm{C}}") == "C"
    deep = r"\textbf{\text{**\text{\textbf{\text{C}}}**}}"
    assert clean_span(deep) == "C" and clean_span(clean_span(deep)) == clean_span(deep)


# ----------------------------------------------------------------------------- letter forms


@pytest.mark.parametrize(
    "span", ["C", "(C)", "C.", "C)", "C:", "option C", "Option (C)", "choice C", "Answer: C"]
)
def test_a_letter_alone(span):
    assert read_letters(span, marked=False) == ["C"]


@pytest.mark.parametrize(
    "span", ["C. Aspirin", "(C) 12", "C: foo", "C) 12", r"(C)\ 12", "C 12", r"C \frac{1}{2}"]
)
def test_a_letter_opening_the_span_with_a_delimiter_or_a_value(span):
    assert read_letters(span, marked=False) == ["C"]


@pytest.mark.parametrize(
    "span", ["A 45-year-old man has diabetes", "A good one", "E = mc^2", "C 12 apples"]
)
def test_a_capital_then_words_is_prose(span):
    assert read_letters(span, marked=True) == []


@pytest.mark.parametrize(
    "span", ["The correct option is C", "Thus the choice is (C).", "choice: C", "It must be (C)"]
)
def test_a_letter_named_in_a_sentence(span):
    assert read_letters(span, marked=False) == ["C"]


def test_the_parenthesis_of_an_aside_labels_no_choice():
    assert read_letters("It must be C)", marked=False) == ["C"]
    assert read_letters("It must be C (not D)", marked=False) == []


def test_a_letter_inside_the_options_text_is_no_hedge():
    assert read_letters("C. Vitamin A deficiency", marked=True) == ["C"]


# ----------------------------------------------------------------------------- case


@pytest.mark.parametrize("span", ["c", "(c)", "option c", "the correct option is c"])
def test_lower_case_counts_only_in_a_marked_span(span):
    assert read_letters(span, marked=True) == ["C"]
    assert read_letters(span, marked=False) == []


def test_lower_case_opens_no_choice():
    assert read_letters("e. coli infection", marked=True) == []
    assert read_letters("C. coli", marked=True) == ["C"]


# ----------------------------------------------------------------------------- hedges, keys


@pytest.mark.parametrize(
    "span", ["A or C", "A, C", "A and C", "A/C", "(A), (C)", "C. Aspirin or A. Insulin"]
)
def test_every_letter_a_span_names_counts(span):
    assert read_letters(span, marked=True) == ["A", "C"]


def test_the_same_letter_twice_is_one():
    assert read_letters("C, (C)", marked=True) == ["C"]
    assert both(r"\boxed{\text{A}} and \boxed{(A)}") == ("A", "A")


def test_a_letter_outside_the_keys_names_nothing():
    assert read_letters("F", marked=True) == []
    assert read_letters("E", "ABCD", marked=True) == []
    assert read_letters("E", marked=True) == ["E"]  # the math path: A-E


def test_a_reference_letter_is_upper_case_alone():
    assert [reference_letter(r) for r in ("C", "(C)", r"\text{(C)}", "$C$", "( C )")] == ["C"] * 5
    assert reference_letter("c") is None  # a variable
    assert reference_letter("F") is None and reference_letter("C 12") is None


# ----------------------------------------------------------------------------- both paths


def test_the_math_path_reports_a_hedge_as_its_span():
    assert verify_answer(r"\boxed{A} or \boxed{C}", "(C)").extracted == "A, C"
    assert verify_answer("So it is\nA or C", "(C)").reason == "mismatch"  # a hedge, not none
    assert verify_answer("So it is", "(C)").reason == "no_answer"


@pytest.mark.parametrize(
    "completion",
    [
        r"\boxed{c}",
        "Answer: A",
        "So it is\n**C**.",
        "It must be (C)",
        "So it is\nC. Aspirin",
        "The answer is A.",
        r"\boxed{C. Vitamin A deficiency}",
        # wrappers five deep: the choice path once cleaned its span twice, the math path once
        r"Answer: \textbf{\text{**\text{\textbf{\text{C}}}**}}",
    ],
)
def test_the_math_and_choice_paths_agree(completion):
    math, choice = both(completion)
    assert math == choice and math is not None


def test_the_choice_checker_adds_option_texts_on_top():
    options = ["12", "Metformin", "Aspirin", "Aspirin and heparin"]
    assert check_choice(r"\boxed{Aspirin}", options, "C").correct  # no letter: the text
    assert check_choice("C 12", options, "C").correct  # the letter before the text "12" (A)


def test_verdict_table_has_no_difference_left():
    rows = letters_verdicts.rows()
    assert [r["completion"] for r in rows if letters_verdicts.differs(r)] == []


def test_verdict_table_changed_only_the_listed_readings():
    before = {r["completion"]: r for r in json.loads(BEFORE.read_text())}
    changed = {
        (r["completion"], column, before[r["completion"]][column], r[column])
        for r in letters_verdicts.rows()
        for column in ("math", "choice", "real", "four")
        if before[r["completion"]][column] != r[column]
    }
    assert changed == letters_verdicts.flips()
