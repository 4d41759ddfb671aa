"""benchmarks/bench_checker.py's MATH-500 row: where its answers come from, and a loud skip."""

from __future__ import annotations

import json

import bench_checker
import pytest


def test_math500_answers_from_a_file_the_default_file_or_the_hub(tmp_path, monkeypatch):
    import grpo_lead.tasks.math.data

    path = tmp_path / "m.jsonl"
    path.write_text("".join(json.dumps({"answer": a}) + "\n" for a in ["1", "\\frac{1}{2}"]))
    assert bench_checker.math500_answers(path) == (["1", "\\frac{1}{2}"], str(path))
    with pytest.raises(SystemExit, match="no such file"):  # a file named and missing: an error
        bench_checker.math500_answers(tmp_path / "missing.jsonl")
    monkeypatch.setattr(bench_checker, "DATA", path)  # the default file beside the checkout
    assert bench_checker.math500_answers(None)[0] == ["1", "\\frac{1}{2}"]

    def offline(*args, **kwargs):
        raise grpo_lead.tasks.math.data.DataError("HuggingFaceH4/MATH-500: cannot reach the Hub")

    monkeypatch.setattr(bench_checker, "DATA", tmp_path / "none.jsonl")
    monkeypatch.setattr(grpo_lead.tasks.math.data, "load_problems", offline)
    refs, why = bench_checker.math500_answers(None)
    assert refs is None and why.startswith("left out") and "--math500 FILE" in why
