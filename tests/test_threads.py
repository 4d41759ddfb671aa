"""Torch CPU threads in eval, train and serve (`--threads`; `grpo_lead.threads`): the default
is the CPUs this process may use less the load already on them, OMP_NUM_THREADS is respected,
and each command sets what it is given."""

from __future__ import annotations

import json
import logging
import subprocess
import sys

import pytest
import torch

from grpo_lead import threads
from grpo_lead.threads import cgroup_cpu_limit, choose_threads, set_torch_threads


@pytest.fixture(autouse=True)
def _restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


@pytest.mark.parametrize(
    ("cpus", "load", "expected"),
    [
        (2, 1.6, 1),  # the loaded 2-core machine of the first real-model run: 2 - round(1.6)
        (2, 0.3, 2),  # idle: both
        (2, None, 2),  # no load average (Windows): the CPUs
        (8, 20.0, 1),  # overloaded: at least 1
        (64, 0.0, 16),  # capped at MAX_THREADS
    ],
)
def test_choose_threads(cpus, load, expected):
    assert choose_threads(cpus=cpus, load=load) == expected


def test_cgroup_quota(tmp_path):
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")
    assert cgroup_cpu_limit(cpu_max) == 1.5
    cpu_max.write_text("max 100000\n")
    assert cgroup_cpu_limit(cpu_max) is None
    assert cgroup_cpu_limit(tmp_path / "missing") is None


def test_a_quota_below_the_affinity_mask_wins(monkeypatch, tmp_path):
    cpu_max = tmp_path / "cpu.max"
    cpu_max.write_text("150000 100000\n")  # 1.5 CPUs -> 2
    monkeypatch.setattr(threads, "CGROUP_CPU_MAX", cpu_max)
    monkeypatch.setattr(threads.os, "sched_getaffinity", lambda pid: set(range(32)))
    monkeypatch.setattr(threads, "cgroup_cpu_limit", lambda path=cpu_max: 1.5)
    assert threads.available_cpus() == 2


def test_default_uses_what_is_free_and_logs_why(monkeypatch, caplog):
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    monkeypatch.setattr(threads, "available_cpus", lambda: 2)
    monkeypatch.setattr(threads.os, "getloadavg", lambda: (1.6, 1.0, 1.0))
    with caplog.at_level(logging.INFO, logger="grpo_lead.threads"):
        assert set_torch_threads(None) == 1
    assert torch.get_num_threads() == 1
    assert "torch threads: 1 (2 CPUs available, load 1.6; --threads sets it)" in caplog.text


def test_omp_num_threads_is_respected_and_threads_wins(monkeypatch):
    torch.set_num_threads(2)
    monkeypatch.setenv("OMP_NUM_THREADS", "2")
    assert set_torch_threads(None) == 2 and torch.get_num_threads() == 2
    assert set_torch_threads(1) == 1 and torch.get_num_threads() == 1
    with pytest.raises(ValueError, match="threads must be at least 1, got 0"):
        set_torch_threads(0)


def test_eval_sets_threads(tiny_model_dir, tmp_path, caplog, capsys):
    from grpo_lead.eval_cli import eval_main

    data = tmp_path / "q.jsonl"
    data.write_text(json.dumps({"question": "1+1", "answer": "2"}) + "\n")
    argv = ["--model", str(tiny_model_dir), "--data", str(data), "-k", "1", "--no-progress"]
    argv += ["--max-new-tokens", "2", "--out", str(tmp_path / "o"), "--num-workers", "1"]
    torch.set_num_threads(1)
    with caplog.at_level(logging.INFO, logger="grpo_lead.evaluation.generation"):
        assert eval_main([*argv, "--threads", "2"]) == 0
    assert torch.get_num_threads() == 2 and "float32, 2 torch threads)" in caplog.text
    assert eval_main([*argv, "--threads", "0"]) == 2
    assert "argument --threads: must be at least 1, got 0" in capsys.readouterr().err


def test_train_takes_threads(tmp_path):
    from grpo_lead.train import parse_train_args

    cpu = ["--use_cpu", "true", "--bf16", "false"]
    script, _, _ = parse_train_args(["--output_dir", str(tmp_path), *cpu, "--threads", "3"])
    assert script.threads == 3
    cmd = [sys.executable, "-m", "grpo_lead.cli", "train", "--model_name_or_path", "x"]
    proc = subprocess.run(
        [*cmd, "--output_dir", str(tmp_path / "o"), *cpu, "--threads", "0"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1] == "error: threads must be at least 1, got 0"


def test_serve_sets_threads_for_the_transformers_engine(tiny_model_dir):
    from grpo_lead.serve.cli import build_engine, build_parser

    args = build_parser().parse_args(["--model", str(tiny_model_dir), "--threads", "2"])
    args.engine = "transformers"
    torch.set_num_threads(1)
    build_engine(args, "tiny")
    assert torch.get_num_threads() == 2


def test_serve_refuses_zero_threads_in_one_line(capsys):
    from grpo_lead.serve.cli import serve_main

    assert serve_main(["--model", "m", "--threads", "0"]) == 2
    assert "argument --threads: must be at least 1, got 0" in capsys.readouterr().err
