"""grpo_lead.reader: rows from local files and the Hub, read once for every task (math and
multiple choice): byte-order marks, non-UTF-8 files, bad JSON, directories, Hub failures,
column picking and duplicate ids, each a one-line `DataError` naming the file."""

from __future__ import annotations

import json
from pathlib import Path

import datasets
import pytest

from grpo_lead.reader import (
    DataError,
    check_unique_ids,
    first_line,
    pick_column,
    read_file,
    read_source,
)
from grpo_lead.tasks.choice.data import ChoiceColumns, load_choices
from grpo_lead.tasks.math.data import load_problems


def one_line(excinfo: pytest.ExceptionInfo) -> str:
    message = str(excinfo.value)
    assert "\n" not in message
    return message


# Each task's loader on the same file: the reader's behaviour is the same for both.
LOADERS = {
    "math": lambda path: load_problems(path),
    "mcq": lambda path: load_choices(path, columns=ChoiceColumns(option_columns=("o1", "o2"))),
}
ROWS = [  # answers as letters: "1" among the options 1, 2 reads two ways (issue 32, item 4)
    {"question": "a?", "o1": "1", "o2": "2", "answer": "A"},
    {"question": "b?", "o1": "2", "o2": "3", "answer": "A"},
]


def _text(suffix: str) -> str:
    if suffix == ".csv":
        return "question,o1,o2,answer\n" + "".join(",".join(r.values()) + "\n" for r in ROWS)
    if suffix == ".json":
        return json.dumps(ROWS)
    return "".join(json.dumps(r) + "\n" for r in ROWS)


@pytest.mark.parametrize("task", sorted(LOADERS))
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_a_utf8_byte_order_mark_is_read_by_every_task(tmp_path, task, suffix):
    # Excel and Notepad save UTF-8 with a BOM: '\ufeffquestion' must still be the question column
    path = tmp_path / f"p{suffix}"
    path.write_bytes(b"\xef\xbb\xbf" + _text(suffix).encode("utf-8"))
    ds = LOADERS[task](str(path))
    assert ds["question"] == ["a?", "b?"]


@pytest.mark.parametrize("task", sorted(LOADERS))
@pytest.mark.parametrize("suffix", [".csv", ".jsonl", ".json"])
def test_a_file_that_is_not_utf8_is_a_one_line_error_for_every_task(tmp_path, task, suffix):
    path = tmp_path / f"p{suffix}"
    path.write_bytes("question,answer\nr\xe9sum\xe9?,1\n".encode("latin-1"))
    with pytest.raises(DataError) as excinfo:
        LOADERS[task](str(path))
    message = one_line(excinfo)
    assert str(path) in message and "line 2 is not UTF-8" in message


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (None, "file not found"),
        ('{"a": 1}\n{"a": oops\n', "line 2 is not valid JSON"),
        ('{"a": 1}\n[1, 2]\n', "line 2 is a JSON list"),
    ],
)
def test_bad_files_give_one_line_errors_naming_the_file(tmp_path, content, expected):
    path = tmp_path / "bad.jsonl"
    if content is not None:
        path.write_text(content)
    with pytest.raises(DataError) as excinfo:
        read_file(path)
    message = one_line(excinfo)
    assert expected in message and str(path) in message


def test_unsupported_suffix_and_directory(tmp_path):
    path = tmp_path / "p.txt"
    path.write_text("hello")
    with pytest.raises(DataError, match="unsupported file type"):
        read_file(path)
    folder = tmp_path / "d.jsonl"
    folder.mkdir()
    with pytest.raises(DataError, match="is a directory"):
        read_file(folder)


def test_locations_are_lines_in_json_lines_and_rows_elsewhere(tmp_path):
    path = tmp_path / "p.jsonl"
    path.write_text('{"a": 1}\n\n{"a": 2}\n')
    assert read_file(path) == ([{"a": 1}, {"a": 2}], ["line 1", "line 3"])
    path = tmp_path / "p.json"
    path.write_text('{"data": [{"a": 1}, {"a": 2}]}')
    assert read_file(path) == ([{"a": 1}, {"a": 2}], ["row 1", "row 2"])


def test_named_sets_and_hub_ids(monkeypatch):
    calls = []

    class Spec:
        hub_id, split, config = "org/set", "test", "main"

    def fake_load_dataset(path, name=None, split=None):
        calls.append((path, name, split))
        return datasets.Dataset.from_list([{"x": 1}])

    monkeypatch.setattr(datasets, "load_dataset", fake_load_dataset)
    read = read_source("short", named={"short": Spec()})
    assert (read.name, read.rows, read.locations) == ("short", [{"x": 1}], ["row 1"])
    assert isinstance(read.spec, Spec)
    assert read_source("org/other", split="train").spec is None
    assert calls == [("org/set", "main", "test"), ("org/other", None, "train")]


def test_hub_failure_is_a_one_line_data_error(monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no network\nmore detail")

    monkeypatch.setattr(datasets, "load_dataset", offline)
    with pytest.raises(DataError) as excinfo:
        read_source("someone/some-dataset")
    assert "someone/some-dataset" in one_line(excinfo) and "no network" in one_line(excinfo)


def test_pick_column_and_unique_ids():
    cols = ["q", "question", "gold"]
    assert pick_column("d", cols, "question", None, ["problem", "question"], required=True) == (
        "question"
    )
    assert pick_column("d", cols, "id", None, ["id"], required=False) is None
    with pytest.raises(DataError, match="no answer column found"):
        pick_column("d", cols, "answer", None, ["answer"], required=True)
    with pytest.raises(DataError, match="answer column 'x' not found"):
        pick_column("d", cols, "answer", "x", ["answer"], required=True)
    check_unique_ids("d", [{"id": "1"}, {"id": "2"}], "id")
    with pytest.raises(DataError, match="d: duplicate id '1' in column 'k'; ids must be unique"):
        check_unique_ids("d", [{"id": "1"}, {"id": "1"}], "k")


def test_first_line():
    assert first_line(ValueError("one\ntwo")) == "one"
    assert first_line(KeyError()) == "KeyError"
    assert len(first_line(ValueError("x" * 500))) == 200


def test_the_task_modules_read_through_the_reader():
    import grpo_lead.tasks.choice.data as choice_data
    import grpo_lead.tasks.math.data as math_data

    for module in (math_data, choice_data):
        for copy in ("_read_file", "_read_hub", "_first_line", "_check_unique_ids"):
            assert not hasattr(module, copy), f"{module.__name__}.{copy}"
    assert Path(math_data.__file__).read_text().count("def pick_column") == 0


@pytest.mark.parametrize(
    ("text", "line", "why"),
    [
        ('question,answer\n"What is 2+2?,4\n1+1?,2\n', 2, "a quoted field is never closed"),
        ('question,answer\n1+1?,2\n"x"y,3\n', 3, "',' expected after '\"'"),
    ],
)
def test_a_csv_that_is_not_valid_names_the_line(tmp_path, text, line, why):
    # Before: an unclosed quote swallowed the rest of the file into one field, and the error was
    # "empty answer in row 1" (issue 32, item 15)

    path = tmp_path / "q.csv"
    path.write_text(text)
    with pytest.raises(DataError) as info:
        load_problems(str(path))
    assert str(info.value) == f"{path}: line {line}: not valid CSV ({why})"
