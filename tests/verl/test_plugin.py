"""`import verl` registers `grpo_lead` by itself, through the installed package's entry point."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from importlib.metadata import entry_points

PROBE = """
import json, sys
import verl
from verl.trainer.ppo.core_algos import ADV_ESTIMATOR_REGISTRY as R
fn = R.get("grpo_lead")
print(json.dumps({
    "registered": fn is not None,
    "module": getattr(fn, "__module__", None),
    "loaded_by_verl": "grpo_lead.integrations.verl" in sys.modules,
    "trl_imported": "trl" in sys.modules,
    "grpo": "grpo" in R,
}))
"""


def _probe(**env: str) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", PROBE],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **env},
        cwd="/",  # nothing of the checkout on sys.path: only what is installed
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_the_installed_package_declares_the_entry_point():
    (ep,) = [e for e in entry_points(group="verl.plugins") if e.name == "grpo_lead"]
    assert ep.value == "grpo_lead.integrations.verl"


def test_import_verl_in_a_fresh_process_registers_grpo_lead():
    out = _probe(VERL_USE_EXTERNAL_PLUGINS="auto")
    assert out == {
        "registered": True,
        "module": "grpo_lead.integrations.verl",
        "loaded_by_verl": True,
        "trl_imported": False,  # `import verl` does not pay for TRL; the estimator imports it on use
        "grpo": True,  # verl's own estimators are still there
    }


def test_only_the_entry_point_registers_it():
    # verl's switch for entry-point plugins: off -> nothing of ours is imported or registered
    out = _probe(VERL_USE_EXTERNAL_PLUGINS="none")
    assert out["registered"] is False and out["loaded_by_verl"] is False
    # ... and on by name
    assert _probe(VERL_USE_EXTERNAL_PLUGINS="grpo_lead")["registered"] is True


def test_the_readmes_fallback_imports_it_by_module_name():
    # verl imports VERL_USE_EXTERNAL_MODULES before the entry points (and raises if it fails);
    # the entry point then loads the same module again without a duplicate-name error
    out = _probe(VERL_USE_EXTERNAL_MODULES="grpo_lead.integrations.verl")
    assert out["registered"] is True and out["loaded_by_verl"] is True
    off = _probe(
        VERL_USE_EXTERNAL_PLUGINS="none", VERL_USE_EXTERNAL_MODULES="grpo_lead.integrations.verl"
    )
    assert off["registered"] is True
