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
