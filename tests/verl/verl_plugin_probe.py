"""A pytest plugin (``-p verl_plugin_probe``) for running verl's own tests with ours loaded: the
session stops at once unless ``import verl`` registered ``grpo_lead`` through the entry point,
and the report header says that it did."""

from __future__ import annotations

import pytest

HEADER = "grpo_lead advantage estimator: registered by `import verl` (entry point verl.plugins)"


def pytest_configure(config):
    import verl  # noqa: F401  (loads the verl.plugins entry points)
    from verl.trainer.ppo.core_algos import ADV_ESTIMATOR_REGISTRY

    fn = ADV_ESTIMATOR_REGISTRY.get("grpo_lead")
    if fn is None or fn.__module__ != "grpo_lead.integrations.verl":
        raise pytest.UsageError("import verl did not register grpo_lead: is grpo-lead installed?")


def pytest_report_header(config):
    return HEADER
