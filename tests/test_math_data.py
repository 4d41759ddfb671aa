"""grpo_lead.tasks.math.data: benchmark specs, local files with auto-detected columns, one-line
errors."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from grpo_lead.tasks.math.data import (
    BENCHMARKS,
    LEAD_PROMPT_SUFFIX,
    DataError,
    build_prompt,
    load_problems,
    to_conversation,
)

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
needs_shared = pytest.mark.skipif(
    not SHARED_DATA.is_dir(), reason=f"benchmark copies not present at {SHARED_DATA}"
)


def write_jsonl(path: Path, rows: list[dict]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def one_line_error(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# ----------------------------------------------------------------------------- prompts


def test_build_prompt_is_the_papers_protocol():
    assert LEAD_PROMPT_SUFFIX == (
        "\nLet's think step by step and output the final answer within \\boxed{}."
    )
    assert build_prompt("What is 1+1?") == "What is 1+1?" + LEAD_PROMPT_SUFFIX
    # A question that already carries the suffix is not given a second one.
    assert build_prompt(build_prompt("Q")) == build_prompt("Q")
    assert build_prompt("Q", suffix="") == "Q"


def test_to_conversation():
    assert to_conversation("p") == [{"role": "user", "content": "p"}]
    assert to_conversation("p", "be brief") == [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": "p"},
    ]


# ----------------------------------------------------------------------------- real files


@needs_shared
def test_math500_file_strips_prefix_and_reads_levels():
    ds = load_problems(str(SHARED_DATA / "math500.jsonl"))
    assert len(ds) == 500
    assert ds.column_names == ["id", "question", "answer", "difficulty"]
    assert not any(q.startswith("Return your final response") for q in ds["question"])
    assert ds[0]["question"].startswith("Convert the point $(0,3)$")
    assert ds[0]["id"] == "test/precalculus/807.json"
    assert ds[0]["answer"] == "\\left( 3, \\frac{\\pi}{2} \\right)"
    assert set(ds["difficulty"]) == {1.0, 2.0, 3.0, 4.0, 5.0}


@needs_shared
def test_aime24_file():
    ds = load_problems(str(SHARED_DATA / "aime24.jsonl"))
    assert len(ds) == 30
    assert "difficulty" not in ds.column_names
    assert (ds[0]["id"], ds[0]["answer"]) == ("60", "204")  # ids and answers as strings


@needs_shared
def test_gsm8k_file_reference_is_the_number_after_hashes():
    ds = load_problems(str(SHARED_DATA / "gsm8k_test.jsonl"), limit=3)
    assert len(ds) == 3
    assert ds[0]["answer"] == "18"  # "... #### 18"
    assert ds[0]["id"] == "0"  # the idx column


# ----------------------------------------------------------------------------- local files


def test_jsonl_auto_detects_columns(tmp_path):
    path = write_jsonl(
        tmp_path / "p.jsonl",
        [{"question": " 1+1? ", "final_answer": 2}, {"question": "2+2?", "final_answer": 4.0}],
    )
    ds = load_problems(str(path))
    assert ds.column_names == ["id", "question", "answer"]
    assert ds.to_list() == [
        {"id": "0", "question": "1+1?", "answer": "2"},
        {"id": "1", "question": "2+2?", "answer": "4"},  # integral float loses ".0"
    ]


def test_explicit_columns_and_limit(tmp_path):
    rows = [{"q": f"q{i}", "a": str(i), "hard": i / 10, "key": f"k{i}"} for i in range(5)]
    path = write_jsonl(tmp_path / "p.jsonl", rows)
    ds = load_problems(
        str(path),
        question_column="q",
        answer_column="a",
        difficulty_column="hard",
        id_column="key",
        limit=2,
    )
    assert ds.to_list() == [
        {"id": "k0", "question": "q0", "answer": "0", "difficulty": 0.0},
        {"id": "k1", "question": "q1", "answer": "1", "difficulty": 0.1},
    ]


def test_solution_column_gives_the_boxed_answer(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"problem": "x?", "solution": "So $\\boxed{7}$."}])
    assert load_problems(str(path))[0]["answer"] == "7"


def test_level_strings_read_as_numbers(tmp_path):
    path = write_jsonl(tmp_path / "p.jsonl", [{"problem": "x?", "answer": "1", "level": "Level 4"}])
    assert load_problems(str(path))[0]["difficulty"] == 4.0


def test_json_csv_and_parquet(tmp_path):
    rows = [{"problem": "a?", "answer": "1"}, {"problem": "b?", "answer": "2"}]
    (tmp_path / "list.json").write_text(json.dumps(rows))
    (tmp_path / "wrapped.json").write_text(json.dumps({"data": rows}))
    (tmp_path / "p.csv").write_text("problem,answer\na?,1\nb?,2\n")
    datasets.Dataset.from_list(rows).to_parquet(str(tmp_path / "p.parquet"))
    for name in ("list.json", "wrapped.json", "p.csv", "p.parquet"):
        ds = load_problems(str(tmp_path / name))
        assert ds["question"] == ["a?", "b?"] and ds["answer"] == ["1", "2"], name


# ----------------------------------------------------------------------------- hub sources


def test_benchmark_specs_name_the_expected_datasets():
    assert BENCHMARKS["aime24"].hub_id == "HuggingFaceH4/aime_2024"
    assert BENCHMARKS["math500"].difficulty_column == "level"
    assert BENCHMARKS["gsm8k"].config == "main" and BENCHMARKS["gsm8k"].answer_is_solution_text
    assert {"aime25", "deepscaler"} <= set(BENCHMARKS)


def test_benchmark_name_loads_from_the_hub_with_its_spec(monkeypatch):
    calls = []

    def fake_load_dataset(path, name=None, split=None):
        calls.append((path, name, split))
        return datasets.Dataset.from_list([{"question": "q?", "answer": "work\n#### 1,234"}])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    ds = load_problems("gsm8k")
    assert calls == [("openai/gsm8k", "main", "test")]
    assert ds[0]["id"] == "0" and ds[0]["answer"].replace(",", "") == "1234"


def test_hub_failure_is_a_one_line_data_error(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no network\nmore detail")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError) as excinfo:
        load_problems("someone/some-dataset")
    assert "someone/some-dataset" in one_line_error(excinfo)


# ----------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("content", "kwargs", "expected"),
    [
        (None, {}, "file not found"),
        ('{"problem": "a", "answer": "1"}\n{"problem": oops\n', {}, "line 2 is not valid JSON"),
        ('{"problem": "a", "answer": "1"}\n[1, 2]\n', {}, "line 2 is a JSON list"),
        ('{"problem": "a", "answer": "1"}\n{"problem": "b", "answer": " "}\n', {}, "empty answer in line 2"),
        ('{"problem": "", "answer": "1"}\n', {}, "empty question in line 1"),
        ('{"text": "a", "answer": "1"}\n', {}, "available columns: ['text', 'answer']"),
        ('{"problem": "a", "answer": "1"}\n', {"answer_column": "gold"}, "answer column 'gold' not found"),
        ('{"problem": "a", "answer": "1", "id": 1}\n{"problem": "b", "answer": "2", "id": 1}\n', {}, "duplicate id '1'"),
        ('{"problem": "a", "answer": "1", "level": "hard"}\n', {}, "difficulty 'hard' in line 1"),
        ('{"problem": "a", "answer": "1"}\n', {"limit": 0}, "limit must be at least 1"),
    ],
)  # fmt: skip
def test_bad_files_give_one_line_errors(tmp_path, content, kwargs, expected):
    path = tmp_path / "bad.jsonl"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError) as excinfo:
        load_problems(str(path), **kwargs)
    message = one_line_error(excinfo)
    assert expected in message
    assert "limit" in expected or str(path) in message


def test_rows_with_options_are_refused_as_math(tmp_path):
    path = write_jsonl(
        tmp_path / "m.jsonl", [{"question": "q?", "choices": ["1", "2"], "answer": "2"}]
    )
    with pytest.raises(DataError) as excinfo:
        load_problems(str(path))
    assert "column 'choices'" in one_line_error(excinfo) and "--task mcq" in one_line_error(excinfo)
    # a column the caller names as the question or the answer is not taken for options
    assert load_problems(str(path), question_column="choices")[0]["answer"] == "2"
