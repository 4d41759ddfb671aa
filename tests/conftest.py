"""Shared fixtures: a tiny local model (no hub) and small prompt datasets."""

from __future__ import annotations

import pytest
import torch


@pytest.fixture(scope="session", autouse=True)
def _few_threads():
    # The CI machine has 2 cores; tests that spawn processes get one each.
    torch.set_num_threads(1)


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory):
    from grpo_lead.toylab.model import save_tiny_model

    return save_tiny_model(
        tmp_path_factory.mktemp("tiny") / "model",
        hidden_size=32,
        num_layers=1,
        num_heads=2,
        intermediate_size=64,
    )
