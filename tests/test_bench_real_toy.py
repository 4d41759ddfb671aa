"""benchmarks/bench_real_toy.py poses the demo's sums in words: the words say the operands."""

from __future__ import annotations

import json

import bench_real_toy


def test_sums_in_words_keep_the_toy_problems_and_levels(tmp_path):
    from grpo_lead.toylab.task import make_problems

    assert bench_real_toy.pose_in_words([3, 4, 2]) == "What is three plus four plus two?"
    bench_real_toy.write_problems(tmp_path / "p.jsonl", 8, seed=5)
    rows = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    toy = make_problems(8, seed=5)
    assert [r["level"] for r in rows] == [p["level"] for p in toy] == [1, 2, 3, 4] * 2
    for row, problem in zip(rows, toy):
        words = row["question"].removeprefix("What is ").removesuffix("?").split(" plus ")
        assert [bench_real_toy.WORDS.index(w) for w in words] == problem["operands"]
        assert row["answer"] == str(sum(problem["operands"]))
    assert len({r["id"] for r in rows}) == 8


def test_the_model_defaults_to_the_folder_run_test_writes(tmp_path, monkeypatch, capsys):
    """Issue 33: without --model or $GRPO_LEAD_SMOLLM2 the benchmark reads the folder `./run test`
    imports SmolLM2 into (as bench_memory.py does); where it is missing, the error names it."""
    import re
    import sys
    from pathlib import Path

    import pytest

    from grpo_lead.import_gguf import default_smollm2

    monkeypatch.delenv("GRPO_LEAD_SMOLLM2", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    run_script = (Path(__file__).resolve().parents[1] / "run").read_text()
    written = re.search(r"GRPO_LEAD_SMOLLM2:-\$HOME/([\w./-]+)\}", run_script).group(1)
    assert default_smollm2() == tmp_path / written
    monkeypatch.setattr(sys, "argv", ["bench_real_toy.py", "--out", str(tmp_path / "out")])
    with pytest.raises(SystemExit) as info:
        bench_real_toy.main()
    assert str(tmp_path / written) in str(info.value) and "./run test" in str(info.value)
    monkeypatch.setenv("GRPO_LEAD_SMOLLM2", str(tmp_path / "elsewhere"))
    assert default_smollm2() == tmp_path / "elsewhere"
