"""Shared fixtures: a tiny local model (no hub) and small prompt datasets. The benchmark scripts
are importable by name (`import bench_real_toy`), as they import each other when run."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    # The CI machine has 2 cores; tests that spawn processes get one each.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from helpers import tiny_model

    return tiny_model(tmp_path_factory.mktemp("tiny") / "model")
