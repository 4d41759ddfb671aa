"""Where the two readers of multiple-choice letters disagree (issue 31).

The math checker reads a letter when the reference is one ("(C)": AMC problems) and knows no
option's text; the multiple-choice task (`tasks.choice.check_choice`) knows its options. Both
should read a letter alike. For each completion of `CORPUS` this prints what each path reads:

- ``math``: the letter X for which ``verify_answer(completion, "(X)")`` is a match (letters
  A-E), else ``-``;
- ``choice``: ``choose(completion, options)`` with five options whose texts match nothing
  (the letter or the reason), with real texts (``real``) and with four options (``four``).

Rows where ``math`` and ``choice`` differ are marked ``*``. ``--json FILE`` writes the rows.
Before the two readers became one (`grpo_lead.answers.letters`), 31 of the 163 completions
read differently; tests/data/letters_before.json keeps those readings, and `FLIPS` lists every
reading that the one reader changed, with the reason (tests/test_letters.py checks both: no
difference left, and no change that is not listed).

    python benchmarks/letters_verdicts.py [--all] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import sys

from grpo_lead.answers import verify_answer
from grpo_lead.tasks.choice import choose

PLACEHOLDERS = ["zq1", "zq2", "zq3", "zq4", "zq5"]  # option texts no completion holds
FOUR = PLACEHOLDERS[:4]  # "E" is no option here
REAL = ["12", "Metformin", "Aspirin", "Aspirin and heparin", "none of these"]

CORPUS = [
    # ---- a letter alone, in every wrapper
    "C",
    "(C)",
    "C.",
    "C)",
    "\\boxed{C}",
    "\\boxed{(C)}",
    "\\boxed{C.}",
    "\\boxed{\\text{C}}",
    "\\boxed{\\text{(C)}}",
    "\\boxed{\\textbf{(C)}}",
    "\\boxed{\\mathrm{C}}",
    "$\\boxed{C}$",
    "\\boxed{option C}",
    "\\boxed{Option (C)}",
    "\\boxed{choice C}",
    "\\boxed{answer C}",
    "option C",
    "the answer is (C)",
    "So the answer is (C).",
    "The answer is C.",
    "The answer is: C",
    "Answer: C",
    "Answer: (C)",
    "**Answer:** C",
    "**Answer:** C) 12",
    "Final answer: C",
    "### Final Answer\nC",
    "### Final Answer\n\\boxed{C}",
    # ---- a letter with the option's text
    "C: foo",
    "Answer: C: foo",
    "(C) 12",
    "Answer: (C) 12",
    "\\boxed{(C) 12}",
    "\\boxed{\\textbf{(C)}\\ 12}",
    "\\boxed{C. Aspirin}",
    "C 12",
    "Answer: C 12",
    "\\boxed{C 12}",
    "C. Aspirin",
    "Final answer: (C) Aspirin",
    "<think>x</think>C. Aspirin",
    # ---- prose that opens with a capital letter
    "A 45-year-old man has diabetes.",
    "Answer: A 45-year-old man needs metformin.",
    "\\boxed{A 45-year-old man}",
    "A",
    "I think so.",
    "Answer: I",
    "Answer: A",
    "The answer is A good one.",
    "E = mc^2",
    "Answer: E = mc^2",
    "\\boxed{E=mc^2}",
    # ---- lower case
    "\\boxed{c}",
    "\\boxed{(c)}",
    "Answer: c",
    "the answer is (c)",
    "So it is\nc",
    "So it is\n(c)",
    "So it is\nc.",
    "x\nd",
    "x\nD",
    # ---- hedges
    "A or B",
    "Answer: A or B",
    "The answer is A or C.",
    "Answer: A, C",
    "\\boxed{A, C}",
    "\\boxed{A or C}",
    "\\boxed{A and C}",
    "\\boxed{A/C}",
    "\\boxed{(A), (C)}",
    "\\boxed{A} or \\boxed{B}",
    "\\boxed{A} or \\boxed{C}",
    "\\boxed{A}, \\boxed{C}",
    "\\boxed{C} and \\boxed{C}",
    "\\boxed{\\text{A}} and \\boxed{(A)}",
    "\\boxed{C} or \\boxed{(C)}",
    "C. Aspirin or D. Insulin",
    "Answer: C. Aspirin or D. Insulin",
    "Answer: (C) or (D)",
    "\\boxed{C or D}",
    "So it is\nA or B",
    "So it is\nA, C",
    "\\boxed{C} is more likely than A",
    "Answer: C, not A",
    "Answer: C, because A is wrong",
    "Answer: C (not D)",
    "\\boxed{C (not D)}",
    # ---- closing lines
    "So it is\n**C**",
    "So it is\n**(C)**",
    "So it is\n**C.**",
    "So it is\n**C**.",
    "So it is\nC",
    "So it is\nC.",
    "So it is\n(C)",
    "So it is\nC)",
    "So it is\n  C  ",
    "Comparing the options, the only one left is\nC)",
    "After eliminating the others:\n\nC",
    "Reasoning first.\nC.",
    "It must be (C)",
    "It must be C)",
    "It must be C",
    "It must be C.",
    "Thus the choice is C.",
    "The correct option is C.",
    "The correct option is (C).",
    "The correct choice: C",
    "So it is\nC. Aspirin",
    "So it is\n(C) Aspirin",
    "So it is\nC: Aspirin",
    "So it is\n$C$",
    "So it is\n`C`",
    "So it is\n\\text{C}",
    "Option C",
    "The answer is A.",
    "So the answer is (A).",
    "It must be C (not D)",
    "\\boxed{C. Vitamin A deficiency}",
    "Answer: (C) 12, (A) 5",
    "So it is\noption C",
    "So it is\nOption C.",
    # ---- letters outside A-E
    "\\boxed{F}",
    "Answer: F",
    "So it is\nF",
    "\\boxed{Z}",
    # ---- </think>, truncation
    "<think>It could be C",
    "<think>so \\boxed{C}. But wait",
    "<think>Platelets.</think>\\boxed{C}",
    "<think>Answer: B</think>\\boxed{C}",
    "<think>Answer: B</think>C",
    "<think>Answer: B</think>So it is\nC",
    "<think>x</think>",
    "<think>x</think>\n\n",
    "The answer is \\boxed{C",
    "\\boxed{B} then \\boxed{C",
    "So it is",
    "",
    # ---- abstentions and prose answers
    "\\boxed{I don't know}",
    "Answer: cannot be determined",
    "\\boxed{}",
    "Answer: \\boxed{}",
    "\\boxed{Aspirin}",
    "The answer is Aspirin.",
    "\\boxed{12}",
    "\\boxed{Metformin or aspirin}",
    "\\boxed{Aspirin and heparin}",
    # ---- from tests/checker_cases.py and tests/test_choice*.py
    "\\boxed{B}",
    "So the answer is (D).",
    "I cannot decide between the options.",
    "\\boxed{A, B}",
    "\\boxed{E}",
    "\\boxed{D}",
    "\\boxed{Warfarin}",
    "\\boxed{yes}",
    "\\boxed{yes} or \\boxed{no}",
    "PUvsHA+My=9~N(V.@YH+PYYT",
    "x\n9",
    "The answer is 9 apples",
    "Final answer: maybe",
    "Let me work through it step by step.\nSo the final answer is $\\boxed{\\text{(C)}}$.",
    "Let me work through it step by step.\nSo the final answer is $\\boxed{C}$.",
    "Let me work through it step by step.\nSo the final answer is $\\boxed{\\text{(B)}}$.",
    "A) " * 5,
]


# (completion, columns, reading before, reading now, why): every reading the one reader changed.
# "math" flips are the math checker's verdicts against a letter reference; the others, choose().
_OPTION_PATHS = ("choice", "real", "four")
FLIPS = [
    ("\\boxed{answer C}", ("math",), "-", "C", '"answer C" names C as "option C" does'),
    (
        "C 12",
        _OPTION_PATHS,
        "not_an_option|A|not_an_option",
        "C",
        "a letter then its value, as (C) 12",
    ),
    (
        "Answer: C 12",
        _OPTION_PATHS,
        "not_an_option|A|not_an_option",
        "C",
        "a letter then its value",
    ),
    (
        "\\boxed{C 12}",
        _OPTION_PATHS,
        "not_an_option|A|not_an_option",
        "C",
        "a letter then its value",
    ),
    ("Answer: A 45-year-old man needs metformin.", ("math",), "A", "-", "prose, no letter"),
    ("\\boxed{A 45-year-old man}", ("math",), "A", "-", "prose, no letter"),
    ("The answer is A good one.", ("math",), "A", "-", "prose, no letter"),
    ("E = mc^2", ("math",), "E", "-", "an equation, no letter"),
    ("Answer: E = mc^2", ("math",), "E", "-", "an equation, no letter"),
    ("Answer: A", ("math", *_OPTION_PATHS), "-|not_an_option", "A", "the MMLU answer line"),
    ("\\boxed{c}", ("math",), "-", "C", "lower case counts in a box"),
    ("\\boxed{(c)}", ("math",), "-", "C", "lower case counts in a box"),
    ("Answer: c", ("math",), "-", "C", "lower case counts after a marker"),
    ("the answer is (c)", ("math",), "-", "C", "lower case counts after a marker"),
    ("So it is\n**C.**", ("math",), "-", "C", "markdown around a closing C."),
    ("So it is\n**C**.", _OPTION_PATHS, "not_an_option", "C", "markdown around a closing C"),
    ("It must be (C)", _OPTION_PATHS, "not_an_option", "C", "a closing (C) labels a choice"),
    ("It must be C)", _OPTION_PATHS, "not_an_option", "C", "a closing C) labels a choice"),
    ("Thus the choice is C.", ("math",), "-", "C", '"the choice is C"'),
    ("The correct option is C.", ("math",), "-", "C", '"the correct option is C"'),
    ("The correct choice: C", ("math", *_OPTION_PATHS), "-|not_an_option", "C", '"choice: C"'),
    ("So it is\nC. Aspirin", ("math",), "-", "C", "a closing line opening with C."),
    ("So it is\n(C) Aspirin", ("math",), "-", "C", "a closing line opening with (C)"),
    ("So it is\nC: Aspirin", ("math",), "-", "C", "a closing line opening with C:"),
    ("So it is\n$C$", ("math",), "-", "C", "a closing C in math delimiters"),
    ("So it is\n`C`", ("math",), "-", "C", "a closing C in backticks"),
    ("So it is\n\\text{C}", ("math",), "-", "C", "a closing C in \\text{}"),
    ("The answer is A.", ("math",), "-", "A", 'as "The answer is C." (the article rule dropped A)'),
    ("It must be C (not D)", ("math",), "D", "-", "the ) of an aside labels nothing"),
    ("\\boxed{C. Vitamin A deficiency}", ("math",), "-", "C", "a letter in the text is no hedge"),
    ("So it is\noption C", ("math",), "-", "C", '"option C" closing the text'),
    ("So it is\nOption C.", ("math",), "-", "C", '"Option C." closing the text'),
    ("A) A) A) A) A) ", ("math",), "-", "A", "it names A only (repeated)"),
    ("The answer is \\boxed{C", _OPTION_PATHS, "not_an_option", "no_answer", "a cut-off box"),
    ("\\boxed{B} then \\boxed{C", _OPTION_PATHS, "not_an_option", "no_answer", "a cut-off box"),
    ("\\boxed{}", _OPTION_PATHS, "not_an_option", "no_answer", "an empty box"),
    ("Answer: \\boxed{}", _OPTION_PATHS, "not_an_option", "no_answer", "an empty box"),
]


def flips() -> set[tuple[str, str, str, str]]:
    """`FLIPS` as (completion, column, before, now); a reading before that differs by column is
    written "a|b|c", one part a column (the last part for the columns left)."""
    out = set()
    for text, columns, before, now, _ in FLIPS:
        parts = before.split("|")
        for i, column in enumerate(columns):
            out.add((text, column, parts[min(i, len(parts) - 1)], now))
    return out


def math_letter(completion: str) -> str:
    """The letter A-E the math checker counts right for this completion, '-' for none."""
    for letter in "ABCDE":
        if verify_answer(completion, f"({letter})").correct:
            return letter
    return "-"


def choice_reading(completion: str, options: list[str]) -> str:
    letter, reason, _ = choose(completion, options)
    return letter if letter is not None else reason


def rows() -> list[dict[str, str]]:
    out = []
    for text in CORPUS:
        placeholder = choice_reading(text, PLACEHOLDERS)
        out.append(
            {
                "completion": text,
                "math": math_letter(text),
                "choice": placeholder,
                "real": choice_reading(text, REAL),
                "four": choice_reading(text, FOUR),
            }
        )
    return out


def differs(row: dict[str, str]) -> bool:
    """The math path and the choice path (placeholder texts) read different letters."""
    choice = row["choice"] if len(row["choice"]) == 1 else "-"
    return row["math"] != choice


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--all", action="store_true", help="print every row, not only the differences"
    )
    parser.add_argument("--json", help="write every row to this file")
    args = parser.parse_args(argv)
    table = rows()
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=1)
            f.write("\n")
    print(f"{'':1} {'completion':48} {'math':4} {'choice':14} {'real':14} four")
    for row in table:
        if args.all or differs(row):
            mark = "*" if differs(row) else " "
            print(
                f"{mark} {row['completion']!r:48} {row['math']:4} {row['choice']:14} "
                f"{row['real']:14} {row['four']}"
            )
    print(
        f"{sum(map(differs, table))} of {len(table)} completions read differently", file=sys.stderr
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
