"""Two CPU processes (torch.distributed, gloo) give the same LEAD advantages as one process
computing them on the same gathered batch, including a group split across the processes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from grpo_lead.options import PAPER
from grpo_lead.trainer import lead_batch_advantages


@pytest.mark.slow
def test_two_processes_match_one(tiny_model_dir, tmp_path):
    worker = Path(__file__).with_name("dist_worker.py")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "ACCELERATE_USE_CPU": "true"}
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nproc_per_node",
        "2",
        "--master_port",
        "29517",
        str(worker),
        str(tiny_model_dir),
        str(tmp_path),
    ]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    r0 = json.loads((tmp_path / "rank0.json").read_text())
    r1 = json.loads((tmp_path / "rank1.json").read_text())
    assert (r0["world"], r1["world"]) == (2, 2)
    # both processes saw the same gathered batch: 12 rows = 3 groups of 4, rows 4-7 (group 2)
    # live on rank 0 (rows 4, 5) and rank 1 (rows 6, 7)
    assert r0["rewards_per_func"] == r1["rewards_per_func"]
    assert r0["lengths"] == r1["lengths"]
    assert len(r0["lengths"]) == 12
    single = lead_batch_advantages(
        torch.tensor(r0["rewards_per_func"]),
        reward_weights=torch.ones(1),
        correct_index=0,
        lengths=torch.tensor(r0["lengths"]),
        group_size=4,
        options=PAPER,
    ).advantages
    assert single.abs().sum() > 0, "no learning signal in the batch: the check would be vacuous"
    both = torch.tensor(r0["local_advantages"] + r1["local_advantages"])
    assert torch.allclose(both, single, atol=1e-6)
