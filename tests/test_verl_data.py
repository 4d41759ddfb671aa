"""`grpo-lead verl-data` in the main venv (no verl needed): layout and argument errors. That verl's
own RLHFDataset reads the file is tested in tests/verl/test_verl_data.py."""

from __future__ import annotations

import json

import pyarrow.parquet as pq
import pytest

from grpo_lead.cli import main


@pytest.fixture
def problems(tmp_path):
    path = tmp_path / "problems.jsonl"
    rows = [{"question": "What is 2+2?", "answer": "4"}, {"question": "1+2?", "answer": "3"}]
    path.write_text("\n".join(json.dumps(r) for r in rows))
    return path


def test_writes_verls_layout(problems, tmp_path, capsys):
    out = tmp_path / "out" / "train.parquet"
    argv = ["verl-data", "--dataset", str(problems), "--output", str(out), "--data_source", "toy"]
    assert main([*argv, "--max_train_samples", "1"]) == 0
    assert "wrote 1 problems" in capsys.readouterr().out
    (row,) = pq.read_table(out).to_pylist()
    assert row == {
        "data_source": "toy",
        "prompt": [
            {
                "role": "user",
                "content": "What is 2+2?\nLet's think step by step and output the final answer "
                "within \\boxed{}.",
            }
        ],
        "ability": "math",
        "reward_model": {"style": "rule", "ground_truth": "4"},
        "extra_info": {"split": "train", "index": 0, "id": "0"},
    }


def test_an_existing_output_is_kept_unless_overwrite(problems, tmp_path, capsys):
    out = tmp_path / "train.parquet"
    out.write_bytes(b"keep me")
    assert main(["verl-data", "--dataset", str(problems), "--output", str(out)]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"keep me"
    assert main(["verl-data", "--dataset", str(problems), "--output", str(out), "--overwrite"]) == 0
    assert pq.read_table(out).num_rows == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--output", "x.jsonl"], "must end in .parquet"),
        (["--question_column", "nope"], "question column 'nope' not found"),
    ],
)
def test_bad_arguments_are_one_line_errors(problems, tmp_path, capsys, args, message):
    argv = ["verl-data", "--dataset", str(problems), "--output", str(tmp_path / "o.parquet")]
    assert main([*argv, *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and message in err and "\n" not in err
    assert not (tmp_path / "o.parquet").exists()


def test_a_missing_flag_is_a_one_line_usage_error(capsys):
    assert main(["verl-data", "--dataset", "x.jsonl"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "--output" in err and "\n" not in err


def test_missing_dataset_file(tmp_path, capsys):
    out = tmp_path / "o.parquet"
    assert main(["verl-data", "--dataset", str(tmp_path / "no.jsonl"), "--output", str(out)]) == 2
    assert "file not found" in capsys.readouterr().err


@pytest.mark.parametrize("where", ["a folder", "under a file"])
def test_an_unwritable_output_is_refused_before_the_load(tmp_path, capsys, where):
    if where == "a folder":
        out = tmp_path / "train.parquet"
        out.mkdir()
    else:
        (tmp_path / "data").write_text("a file")
        out = tmp_path / "data" / "verl" / "train.parquet"
    missing = tmp_path / "not-loaded.jsonl"  # loading it would say "file not found"
    argv = ["verl-data", "--dataset", str(missing), "--output", str(out), "--overwrite"]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: --output ") and "\n" not in err and "file not found" not in err


def test_the_column_hint_names_a_flag_verl_data_accepts(tmp_path, capsys):
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"text": "What is 2+2?", "answer": "4"}) + "\n")
    out = tmp_path / "o.parquet"
    assert main(["verl-data", "--dataset", str(data), "--output", str(out)]) == 2
    hint = capsys.readouterr().err.strip().rsplit("pass ", 1)[1]
    assert hint == "--question-column"
    assert main(["verl-data", "--dataset", str(data), "--output", str(out), hint, "text"]) == 0
    assert pq.read_table(out).num_rows == 1


def test_a_dict_answer_is_refused_not_written_as_a_python_repr(tmp_path, capsys):
    data = tmp_path / "p.jsonl"
    data.write_text(json.dumps({"question": "Roots?", "answer": {"x1": 1, "x2": 2}}) + "\n")
    out = tmp_path / "o.parquet"
    assert main(["verl-data", "--dataset", str(data), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "line 1 (column 'answer') is a JSON object" in err and "\n" not in err
    assert not out.exists()


def test_a_multiple_choice_set_is_not_told_to_pass_a_flag_verl_data_lacks(tmp_path, capsys):
    # Before: "use --task mcq", which verl-data has no flag for (issue 32, item 15)
    data = tmp_path / "p.jsonl"
    row = {"question": "Which?", "options": ["a", "b"], "answer": "A"}
    data.write_text(json.dumps(row) + "\n")
    out = tmp_path / "o.parquet"
    assert main(["verl-data", "--dataset", str(data), "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert "multiple-choice set" in err and "math problems only" in err, err
    assert "use --task" not in err and "\n" not in err
