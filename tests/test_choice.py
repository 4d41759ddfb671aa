"""grpo_lead.tasks.choice: loaders for each layout (local files; the hub stubbed), the prompt, the
checker, the rewards, the metrics by group and the toy posed as multiple choice."""

from __future__ import annotations

import csv
import json
import pickle

import datasets
import pytest

from grpo_lead.tasks.choice import (
    CHOICE_INSTRUCTION,
    ChoiceColumns,
    build_choice_prompt,
    check_choice,
    choice_summary_markdown,
    load_choices,
    make_choice_toy,
    summarize_choices,
)
from grpo_lead.tasks.choice.data import answer_to_letter, to_prompt
from grpo_lead.tasks.math.data import DataError

MEDQA = {
    "question": "A 45-year-old man has type 2 diabetes. First-line drug?",
    "options": {"A": "Insulin", "B": "Metformin", "C": "Glipizide", "D": "Acarbose"},
    "answer_idx": "B",
    "answer": "Metformin",
    "meta_info": "step2&3",
}
MEDQA_BIGBIO = {
    "question": "Which nerve is injured?",
    "options": [
        {"key": "A", "value": "Radial"},
        {"key": "B", "value": "Ulnar"},
        {"key": "C", "value": "Median"},
        {"key": "D", "value": "Axillary"},
        {"key": "E", "value": "Musculocutaneous"},
    ],
    "answer_idx": "E",
    "answer": "Musculocutaneous",
    "meta_info": "step1",
}
MEDMCQA = {
    "id": "m1",
    "question": "Drug of choice for absence seizures?",
    "opa": "Phenytoin",
    "opb": "Ethosuximide",
    "opc": "Carbamazepine",
    "opd": "Phenobarbitone",
    "cop": 1,
    "choice_type": "single",
    "exp": "Ethosuximide blocks T-type calcium channels.",
    "subject_name": "Pharmacology",
    "topic_name": "Antiepileptics",
}
PUBMEDQA = {
    "pubid": 1,
    "question": "Does aspirin reduce stroke risk?",
    "context": {
        "contexts": ["Aspirin was given.", "Strokes fell."],
        "labels": ["METHODS", "RESULTS"],
    },
    "final_decision": "yes",
}


def write_jsonl(path, rows):
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return str(path)


def one_line(excinfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# ----------------------------------------------------------------------------- loaders


def test_medqa_dict_and_bigbio_list_layouts(tmp_path):
    ds = load_choices(write_jsonl(tmp_path / "medqa.jsonl", [MEDQA, MEDQA_BIGBIO]))
    first, second = ds[0], ds[1]
    assert first["options"] == ["Insulin", "Metformin", "Glipizide", "Acarbose"]
    assert (first["answer"], first["answer_text"], first["step"]) == ("B", "Metformin", "step2&3")
    assert len(second["options"]) == 5 and second["answer"] == "E" and second["step"] == "step1"
    assert first["id"] == "0" and second["id"] == "1"  # no id column: the row number


def test_medqa_without_answer_idx_uses_the_answer_text(tmp_path):
    row = {k: v for k, v in MEDQA.items() if k != "answer_idx"}
    ds = load_choices(write_jsonl(tmp_path / "m.jsonl", [row]), layout="medqa")
    assert ds[0]["answer"] == "B"


def test_medmcqa_layout_reads_cop_as_a_zero_based_index(tmp_path):
    ds = load_choices(write_jsonl(tmp_path / "medmcqa.jsonl", [MEDMCQA]))
    row = ds[0]
    assert row["options"][1] == "Ethosuximide" and row["answer"] == "B"  # cop 1 -> B (0-based)
    assert (row["subject"], row["type"], row["id"]) == ("Pharmacology", "single", "m1")


def test_medmcqa_one_based_release_with_index_base(tmp_path):
    path = write_jsonl(tmp_path / "m.jsonl", [{**MEDMCQA, "cop": 2}])
    assert load_choices(path, columns=ChoiceColumns(answer_index_base=1))[0]["answer"] == "B"


def test_pubmedqa_layout_poses_yes_no_maybe_with_the_context(tmp_path):
    ds = load_choices(write_jsonl(tmp_path / "pubmedqa.jsonl", [PUBMEDQA]))
    row = ds[0]
    assert row["options"] == ["yes", "no", "maybe"] and row["answer"] == "A"
    assert row["context"] == "METHODS: Aspirin was given.\nRESULTS: Strokes fell."
    prompt = build_choice_prompt(row["question"], row["options"], context=row["context"])
    assert prompt.startswith("METHODS: Aspirin") and "\nA. yes\nB. no\nC. maybe\n" in prompt


@pytest.mark.parametrize(
    ("options", "answer", "expected_answer"),
    [
        (["red", "green", "blue"], "C", "C"),  # list, letter
        (["red", "green", "blue"], 1, "B"),  # list, index
        ({"a": "red", "b": "green", "c": "blue"}, "green", "B"),  # dict (lower keys), text
        ('{"A": "red", "B": "green", "C": "blue"}', "(A)", "A"),  # JSON text
        ([{"label": "A", "text": "red"}, {"label": "B", "text": "green"}], "b", "B"),
        ({"B": "green", "A": "red"}, "Red", "A"),  # keys out of order, text in another case
    ],
)
def test_generic_layout_options_and_answers(tmp_path, options, answer, expected_answer):
    path = write_jsonl(
        tmp_path / "g.jsonl", [{"prompt": "Colour?", "choices": options, "label": answer}]
    )
    row = load_choices(path, columns=ChoiceColumns(options="choices", answer="label"))[0]
    assert row["answer"] == expected_answer
    assert row["options"][:2] == ["red", "green"]
    assert row["question"] == "Colour?"


def test_generic_csv_with_separate_option_columns_and_groups(tmp_path):
    path = tmp_path / "q.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, ["q", "o1", "o2", "o3", "gold", "area"])
        w.writeheader()
        w.writerow({"q": "2+2?", "o1": "3", "o2": "4", "o3": "5", "gold": "4", "area": "math"})
        w.writerow({"q": "2+3?", "o1": "3", "o2": "4", "o3": "5", "gold": "C", "area": "math"})
    cols = ChoiceColumns(
        question="q", option_columns=("o1", "o2", "o3"), answer="gold", subject="area"
    )
    ds = load_choices(str(path), columns=cols)
    # "4" is an option's text here, not an index: text wins over digits only when no letter
    assert [r["answer"] for r in ds] == ["B", "C"] and ds[0]["subject"] == "math"


def test_answer_digits_read_as_index_when_no_option_has_that_text():
    assert answer_to_letter("2", ["x", "y", "z"]) == "C"
    assert answer_to_letter("2", ["x", "y", "z"], index_base=1) == "B"
    assert answer_to_letter(3, ["x", "y", "z"]) is None
    assert answer_to_letter("D", ["x", "y", "z"]) is None


@pytest.mark.parametrize(
    ("options", "answer", "readings"),
    [
        (["1", "2", "3", "4"], "2", "C as an index but B as an option's text"),
        (["1", "2", "3", "4"], 2, "C as an index but B as an option's text"),
        (["b", "a", "c"], "a", "A as a letter but B as an option's text"),
    ],
)
def test_an_answer_that_reads_two_ways_is_an_error_naming_row_and_column(
    tmp_path, options, answer, readings
):
    # Before: "2" was B (the option's text) and 2 was C (an index); "a" among b, a, c was A
    # (a letter) though the option "a" is B, all without a word (issue 32, item 4)
    rows = [{"q": "Pick", "choices": ["x", "y"], "gold": "B"},
            {"q": "Which?", "choices": options, "gold": answer}]  # fmt: skip
    path = write_jsonl(tmp_path / "g.jsonl", rows)
    columns = ChoiceColumns(question="q", options="choices", answer="gold")
    with pytest.raises(DataError) as excinfo:
        load_choices(path, columns=columns)
    message = one_line(excinfo)
    assert "row 2" in message and "(column 'gold')" in message, message
    assert f"names {readings}; say which" in message, message
    assert "--answer-format letter|index|text" in message


@pytest.mark.parametrize(
    ("options", "answer", "answer_format", "expected"),
    [
        (["1", "2", "3", "4"], "2", "text", "B"),
        (["1", "2", "3", "4"], "2", "index", "C"),
        (["b", "a", "c"], "a", "letter", "A"),
        (["b", "a", "c"], "a", "text", "B"),
    ],
)
def test_answer_format_says_which_rule_holds(tmp_path, options, answer, answer_format, expected):
    path = write_jsonl(tmp_path / "g.jsonl", [{"q": "Which?", "choices": options, "gold": answer}])
    columns = ChoiceColumns(question="q", options="choices", answer="gold",
                            answer_format=answer_format)  # fmt: skip
    assert load_choices(path, columns=columns)[0]["answer"] == expected


def test_a_named_layout_keeps_its_own_rule_without_a_word(tmp_path):
    # MedMCQA's cop is an index even when the options are numbers
    row = {**MEDMCQA, "opa": "1", "opb": "2", "opc": "3", "opd": "4", "cop": 2}
    assert load_choices(write_jsonl(tmp_path / "m.jsonl", [row]))[0]["answer"] == "C"


def test_parquet_and_json_files(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    pq.write_table(pa.Table.from_pylist([MEDMCQA]), tmp_path / "m.parquet")
    assert load_choices(str(tmp_path / "m.parquet"))[0]["answer"] == "B"
    (tmp_path / "m.json").write_text(json.dumps([MEDQA]), encoding="utf-8")
    assert load_choices(str(tmp_path / "m.json"))[0]["answer"] == "B"


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        (
            {**MEDQA, "answer_idx": "E"},
            "row 2: answer 'E' (column 'answer_idx') is not among its options A-D",
        ),
        ({**MEDQA, "options": {}}, "row 2: no options"),
        (
            {**MEDQA, "options": [{"key": "A", "value": "x"}, {"key": "A", "value": "y"}]},
            "row 2: option letter A repeats",
        ),
        ({**MEDQA, "options": {"A": "x", "C": "y"}}, "row 2: option letters A, C skip a letter"),
        ({**MEDQA, "options": {"A": "x", "B": " "}}, "row 2: option B is empty"),
        ({**MEDQA, "question": ""}, "row 2: empty question"),
        ({**MEDMCQA, "cop": -1}, "row 2: answer '-1' (column 'cop') is not among its options A-D"),
        ({**MEDMCQA, "cop": 4}, "is not among its options A-D"),
        ({**PUBMEDQA, "final_decision": "perhaps"}, "answer 'perhaps' (column 'final_decision')"),
    ],
)
def test_bad_rows_give_one_line_errors_naming_the_row(tmp_path, row, expected):
    good = {k: row[k] for k in row}  # same layout, valid first row
    first = {"medqa": MEDQA, "medmcqa": MEDMCQA, "pubmedqa": PUBMEDQA}
    layout = "medmcqa" if "opa" in row else "pubmedqa" if "final_decision" in row else "medqa"
    path = write_jsonl(tmp_path / "bad.jsonl", [first[layout], good])
    with pytest.raises(DataError) as excinfo:
        load_choices(path, layout=layout)
    message = one_line(excinfo)
    assert expected in message and "bad.jsonl" in message


def test_medmcqa_numeric_options_read_cop_as_an_index_in_csv_as_in_jsonl(tmp_path):
    # options 2, 3, 4, 5 and cop "2" (a CSV cell is text): index 2 -> C ("4"), never the
    # option whose text is "2" (A); the JSONL copy (cop 2, an int) already said C
    row = {**MEDMCQA, "opa": "2", "opb": "3", "opc": "4", "opd": "5", "cop": 2}
    path = tmp_path / "m.csv"
    with path.open("w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, list(row))
        w.writeheader()
        w.writerow(row)
    from_csv = load_choices(str(path))[0]
    from_jsonl = load_choices(write_jsonl(tmp_path / "m.jsonl", [row]))[0]
    assert from_csv["answer"] == from_jsonl["answer"] == "C"
    assert from_csv["answer_text"] == "4"


def test_named_layouts_read_their_answer_column_by_their_rule():
    assert answer_to_letter("2", ["2", "3", "4"], rule="index") == "C"
    assert answer_to_letter("B", ["2", "3", "4"], rule="index") is None
    assert answer_to_letter("3", ["2", "3", "4"], rule="any") == "B"  # generic: text first
    assert answer_to_letter("3", ["A", "B", "C", "D"], rule="letter") is None
    assert answer_to_letter("(c)", ["x", "y", "z"], rule="letter") == "C"
    assert answer_to_letter("b", ["a", "b"], rule="text") == "B"
    assert answer_to_letter(1, ["a", "b"], rule="text") is None


@pytest.mark.parametrize("answer", ["\u00b2", "\u2463"])  # "²", "④": isdigit() yes, int() no
def test_unicode_digit_answers_are_one_line_errors_not_tracebacks(tmp_path, answer):
    assert answer_to_letter(answer, ["x", "y", "z", "w"]) is None
    row = {"question": "q?", "options": ["x", "y", "z", "w"], "answer": answer}
    with pytest.raises(DataError) as excinfo:
        load_choices(write_jsonl(tmp_path / "g.jsonl", [row]))
    assert "row 1: answer" in one_line(excinfo) and "not among its options" in one_line(excinfo)


def test_repeated_letters_in_json_text_options_stop_the_load(tmp_path):
    row = {"question": "q?", "options": '{"A": "3", "A": "4", "B": "5"}', "answer": "A"}
    with pytest.raises(DataError) as excinfo:
        load_choices(write_jsonl(tmp_path / "g.jsonl", [row]))
    assert "row 1: option letter A repeats" in one_line(excinfo)


@pytest.mark.parametrize(
    ("row", "absent", "group"),
    [(MEDQA, "meta_info", "step"), (MEDMCQA, "subject_name", "subject"),
     (MEDMCQA, "choice_type", "type"), (PUBMEDQA, "context", "context")],
)  # fmt: skip
def test_a_named_layouts_missing_group_column_means_no_breakdown(tmp_path, row, absent, group):
    path = write_jsonl(tmp_path / "m.jsonl", [{k: v for k, v in row.items() if k != absent}])
    assert load_choices(path)[0][group] is None


def test_a_given_group_column_that_is_absent_is_still_an_error(tmp_path):
    path = write_jsonl(tmp_path / "m.jsonl", [MEDQA])
    with pytest.raises(DataError, match="subject column 'area' not found"):
        load_choices(path, columns=ChoiceColumns(subject="area"))


def test_skip_drops_bad_rows_and_keeps_the_rest(tmp_path):
    path = write_jsonl(tmp_path / "m.jsonl", [MEDQA, {**MEDQA, "answer_idx": "Z"}, MEDQA_BIGBIO])
    ds = load_choices(path, on_error="skip")
    assert [r["answer"] for r in ds] == ["B", "E"] and [r["id"] for r in ds] == ["0", "2"]


def test_missing_columns_and_files_are_one_line_errors(tmp_path):
    path = write_jsonl(tmp_path / "x.jsonl", [{"question": "q", "choices": ["a", "b"]}])
    with pytest.raises(DataError, match="no answer column found"):
        load_choices(path)
    with pytest.raises(DataError, match="option column 'opz' not found"):
        load_choices(path, columns=ChoiceColumns(option_columns=("opz",), answer="choices"))
    with pytest.raises(DataError, match="file not found"):
        load_choices(str(tmp_path / "missing.jsonl"))


def test_named_sets_load_from_the_hub_with_their_spec(monkeypatch):
    calls = []

    def fake_load_dataset(path, name=None, split=None):
        calls.append((path, name, split))
        row = {"medmcqa": MEDMCQA, "pubmedqa": PUBMEDQA}.get(path.split("/")[-1].lower(), MEDQA)
        return datasets.Dataset.from_list([row])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    assert load_choices("medqa")[0]["answer"] == "B"
    assert load_choices("medmcqa")[0]["subject"] == "Pharmacology"
    assert load_choices("pubmedqa", split="train")[0]["options"] == ["yes", "no", "maybe"]
    assert calls == [
        ("GBaker/MedQA-USMLE-4-options", None, "test"),
        ("openlifescienceai/medmcqa", None, "validation"),
        ("qiaojin/PubMedQA", "pqa_labeled", "train"),
    ]


def test_hub_failure_is_a_one_line_data_error(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no network\nmore")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError) as excinfo:
        load_choices("medqa")
    assert "GBaker/MedQA-USMLE-4-options" in one_line(excinfo)


# ----------------------------------------------------------------------------- prompt


def test_prompt_lists_options_and_asks_for_the_letter_in_a_box():
    prompt = build_choice_prompt("Which is even?", ["3", "4"])
    assert prompt == f"Which is even?\nA. 3\nB. 4\n{CHOICE_INSTRUCTION}"
    assert "\\boxed{}" in CHOICE_INSTRUCTION and "letter" in CHOICE_INSTRUCTION
    assert "I don't know" in build_choice_prompt("q", ["x", "y"], abstain=True)


def test_to_prompt_is_a_conversation_or_text():
    row = {"question": "q", "options": ["x", "y"], "context": None}
    assert to_prompt(row, chat=False).startswith("q\nA. x")
    conv = to_prompt(row, chat=True, system_prompt="Be brief.")
    assert [m["role"] for m in conv] == ["system", "user"] and conv[1]["content"].startswith("q\n")


# ----------------------------------------------------------------------------- checker

OPTIONS = ["Metformin", "Insulin", "Aspirin", "Aspirin and heparin"]


@pytest.mark.parametrize(
    "text",
    [
        "\\boxed{C}",
        "<think>Platelets.</think>\\boxed{C}",
        "so the answer is (C).",
        "Answer: C",
        "Reasoning first.\nC.",
        "\\boxed{\\text{(C)}}",
        "\\boxed{c}",
        "\\boxed{aspirin}",  # the option's text
        "The answer is Aspirin.",
        "<think>x</think>C. Aspirin",
        "Final answer: (C) Aspirin",
        "The correct option is C.",
    ],
)
def test_checker_accepts_the_letter_and_the_text(text):
    verdict = check_choice(text, OPTIONS, "C")
    assert (verdict.correct, verdict.extracted, verdict.reason) == (True, "C", "match")


@pytest.mark.parametrize(
    ("text", "reason", "extracted"),
    [
        ("\\boxed{A} or \\boxed{C}", "multiple", None),
        ("Answer: A or C", "multiple", None),
        ("\\boxed{A, C}", "multiple", None),
        ("C. Aspirin or D. Aspirin and heparin", "multiple", None),
        ("\\boxed{Metformin or aspirin}", "multiple", None),
        ("\\boxed{D}", "mismatch", "D"),
        ("\\boxed{Aspirin and heparin}", "mismatch", "D"),  # the longer text wins
        ("\\boxed{E}", "not_an_option", "E"),
        ("\\boxed{Warfarin}", "not_an_option", "Warfarin"),
        ("\\boxed{I don't know}", "abstain", None),
        ("<think>It could be C", "no_answer", None),  # truncated reasoning, no box
        ("", "no_answer", None),
    ],
)
def test_checker_rejects_hedges_other_options_and_abstentions(text, reason, extracted):
    verdict = check_choice(text, OPTIONS, "C")
    assert (verdict.correct, verdict.reason, verdict.extracted) == (False, reason, extracted)


def test_a_closing_line_without_box_or_marker_needs_a_letter_form():
    """Found on a random tiny model: garbage whose last line held "9" chose the option "9" (4 of
    256 samples scored). Only boxed / marker spans may name an option by text inside them."""
    numbers = ["7", "9", "11", "12"]
    assert check_choice("PUvsHA+My=9~N(V.@YH+PYYT", numbers, "B").reason == "not_an_option"
    assert check_choice("x\nd", numbers, "D").reason == "not_an_option"  # lower case, unmarked
    assert check_choice("x\nD", numbers, "D").correct
    assert check_choice("x\n9", numbers, "B").correct  # the whole line is the option's text
    assert check_choice("The answer is 9 apples", numbers, "B").correct  # a marker span


def test_checker_pubmedqa_yes_no_maybe():
    yn = ["yes", "no", "maybe"]
    assert check_choice("\\boxed{yes}", yn, "A").correct
    assert check_choice("Final answer: maybe", yn, "C").correct
    assert check_choice("\\boxed{B}", yn, "B").correct
    assert check_choice("\\boxed{yes} or \\boxed{no}", yn, "A").reason == "multiple"
    assert not check_choice("\\boxed{no}", yn, "A").correct


def test_checker_refuses_a_reference_that_is_no_option():
    with pytest.raises(ValueError, match="not among the letters AB"):
        check_choice("\\boxed{A}", ["x", "y"], "C")


# ----------------------------------------------------------------------------- rewards


def test_rewards_read_options_from_the_rows_and_ignore_extra_kwargs():
    from grpo_lead.tasks.choice.rewards import abstain_reward, choice_accuracy_reward, format_reward

    completions = [
        "<think>Antiplatelet.</think>\\boxed{C}",
        "<think>x</think>\\boxed{aspirin}",
        [{"role": "assistant", "content": "\\boxed{A}"}],  # a conversation
        "\\boxed{I don't know}",
    ]
    kwargs = dict(
        options=[OPTIONS] * 4, answer=["C", "C", "C", "C"], trainer_state=None, subject=[None] * 4
    )
    assert choice_accuracy_reward(completions, **kwargs) == [1.0, 1.0, 0.0, 0.0]
    assert abstain_reward(completions, **kwargs) == [0.0, 0.0, 0.0, 1.0]
    assert format_reward(completions, **kwargs) == [1.0, 1.0, 0.0, 0.0]
    none_ref = choice_accuracy_reward(["\\boxed{A}"], options=[OPTIONS], answer=[None])
    assert none_ref == [None]


def test_rewards_need_the_options_column_and_pickle():
    from grpo_lead.tasks.choice.rewards import choice_accuracy_reward

    with pytest.raises(ValueError, match="'options' and 'answer' columns"):
        choice_accuracy_reward(["\\boxed{A}"], answer=["A"])
    with pytest.raises(ValueError, match="1 completions, 2 option lists"):
        choice_accuracy_reward(["x"], options=[OPTIONS, OPTIONS], answer=["A"])
    assert pickle.loads(pickle.dumps(choice_accuracy_reward)) is choice_accuracy_reward


def test_the_choice_reward_table_adds_its_names_and_leaves_maths_alone():
    from grpo_lead import rewards
    from grpo_lead.tasks.choice import rewards as choice_rewards

    table = choice_rewards.REWARDS
    assert (
        rewards.get_reward("choice_accuracy", rewards=table)
        is choice_rewards.choice_accuracy_reward
    )
    assert rewards.get_reward("accuracy", rewards=table) is rewards.accuracy_reward
    assert "choice_accuracy" not in rewards.REWARDS and "abstain" not in rewards.REWARDS
    with pytest.raises(ValueError, match="unknown reward 'choice_accuracy'"):
        rewards.get_reward("choice_accuracy")  # math's table


# ----------------------------------------------------------------------------- metrics


def record(qid, sample, letter, correct, reason, tokens, **groups):
    return dict(
        id=qid, sample=sample, extracted=letter, correct=correct, reason=reason,
        num_tokens=tokens, finished=True, **groups,
    )  # fmt: skip


def test_summary_by_group_with_majority_letter_and_coverage():
    records = [
        # q1 (Anatomy, step1): B, B, A -> 2/3 correct, majority B correct
        record("q1", 0, "B", True, "match", 10, subject="Anatomy", step="step1"),
        record("q1", 1, "B", True, "match", 20, subject="Anatomy", step="step1"),
        record("q1", 2, "A", False, "mismatch", 30, subject="Anatomy", step="step1"),
        # q2 (Pharmacology, step1): A, abstain, A wrong -> 0/3; majority A wrong
        record("q2", 0, "A", False, "mismatch", 40, subject="Pharmacology", step="step1"),
        record("q2", 1, None, False, "abstain", 50, subject="Pharmacology", step="step1"),
        record("q2", 2, "A", False, "mismatch", 60, subject="Pharmacology", step="step1"),
    ]
    s = summarize_choices(records, 3)
    overall = s["overall"]
    assert overall["pass@1"] == pytest.approx((2 / 3 + 0) / 2)
    assert overall["cons@3"] == 0.5
    assert overall["coverage"] == pytest.approx(5 / 6)  # one abstention of six
    assert overall["accuracy_answered"] == pytest.approx(2 / 5)
    assert overall["mean_length_correct"] == 15  # (10 + 20) / 2
    anatomy = s["by_subject"]["Anatomy"]
    assert (anatomy["pass@1"], anatomy["cons@3"], anatomy["num_questions"]) == (
        pytest.approx(2 / 3), 1.0, 1,
    )  # fmt: skip
    assert s["by_subject"]["Pharmacology"]["num_abstain"] == 1
    assert s["by_step"]["step1"]["num_questions"] == 2
    assert "by_type" not in s  # no record carries a type
    table = choice_summary_markdown(s, title="t")
    assert "| subject Anatomy | 0.667 | 1.000 |" in table and "| step step1 |" in table


def test_majority_is_by_letter_and_ties_go_to_the_first():
    # A, B tie: the first (A) wins, and A is wrong -> cons 0 although B was right
    records = [record("q", 0, "A", False, "mismatch", 5), record("q", 1, "B", True, "match", 5)]
    assert summarize_choices(records, 2)["overall"]["cons@2"] == 0.0


# ----------------------------------------------------------------------------- toy


def test_toy_as_multiple_choice_has_four_distinct_totals_one_right():
    from grpo_lead.toylab.task import make_problems

    problems = make_problems(40, seed=3)
    rows = make_choice_toy(problems, seed=0)
    assert rows == make_choice_toy(problems, seed=0)  # deterministic
    letters_used = set()
    for p, row in zip(problems, rows, strict=True):
        assert len(set(row["options"])) == 4 and row["question"] == p["question"]
        assert row["options"][ord(row["answer"]) - ord("A")] == p["answer"]
        assert all(int(o) >= 0 and abs(int(o) - int(p["answer"])) <= 3 for o in row["options"])
        assert row["step"] == f"level {p['level']}"
        letters_used.add(row["answer"])
    assert len(letters_used) >= 3  # the right total is not always at the same letter
    with pytest.raises(ValueError, match="num_options"):
        make_choice_toy(problems, seed=0, num_options=9)


@pytest.mark.parametrize("bad", ["not_utf8", "superscript_answer"])
def test_eval_task_mcq_refuses_bad_data_in_one_line_with_exit_2(tmp_path, capsys, bad):
    from grpo_lead.cli import main

    path = tmp_path / "q.jsonl"
    if bad == "not_utf8":
        path.write_bytes('{"question": "r\xe9sum\xe9?"}\n'.encode("latin-1"))
    else:
        write_jsonl(path, [{"question": "q?", "options": ["x", "y"], "answer": "\u00b2"}])
    argv = [
        "eval",
        "--task",
        "mcq",
        "--model",
        "m",
        "--data",
        str(path),
        "--out",
        str(tmp_path / "o"),
    ]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("error: ") and str(path) in err
