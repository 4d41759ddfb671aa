"""`grpo-lead verl-data` writes what verl's own `RLHFDataset` reads."""

from __future__ import annotations

import json

from omegaconf import OmegaConf
from verl.utils.dataset.rl_dataset import RLHFDataset

from grpo_lead.cli import main


def test_rlhf_dataset_reads_the_written_parquet(tmp_path):
    src = tmp_path / "problems.jsonl"
    rows = [
        {"problem": "What is 2+2?", "answer": "4", "level": "Level 1"},
        {"problem": "Solve x+1=3.", "solution": "So $x = \\boxed{2}$.", "answer": "2", "level": 4},
    ]
    src.write_text("\n".join(json.dumps(r) for r in rows))
    out = tmp_path / "verl" / "train.parquet"
    assert (
        main(
            [
                "verl-data",
                "--dataset",
                str(src),
                "--output",
                str(out),
                "--system_prompt",
                "Be brief.",
            ]
        )
        == 0
    )

    config = OmegaConf.create(
        {"filter_overlong_prompts": False, "cache_dir": str(tmp_path / "cache")}
    )
    dataset = RLHFDataset(data_files=str(out), tokenizer=None, config=config)
    assert len(dataset) == 2
    item = dataset[1]
    assert item["raw_prompt"] == [
        {"role": "system", "content": "Be brief."},
        {
            "role": "user",
            "content": "Solve x+1=3.\nLet's think step by step and output the final answer within \\boxed{}.",
        },
    ]
    assert item["data_source"] == "problems"
    assert item["reward_model"] == {"style": "rule", "ground_truth": "2"}
    assert item["index"] == 1  # verl reads extra_info.index
    assert item["extra_info"] == {"split": "train", "index": 1, "id": "1", "difficulty": 4.0}
