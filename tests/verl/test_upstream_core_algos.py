"""verl's own CPU tests of `core_algos` still pass with our estimator loaded.

The test file is verl's, at exactly the installed version: `./run test` downloads verl's source
distribution from PyPI with pip and unpacks its ``tests/trainer/ppo`` into
``.venv-verl/verl-src/verl-<version>`` (nothing of verl's is copied into this repository). It runs
in a fresh pytest process whose plugin ``verl_plugin_probe`` stops the session unless ``import
verl`` registered ``grpo_lead``. (Its registry tests replace verl's registry for their duration,
another reason it has a process of its own.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path

from verl_plugin_probe import HEADER

HERE = Path(__file__).resolve().parent
UPSTREAM = Path(sys.prefix) / "verl-src" / f"verl-{version('verl')}"
TEST_FILE = UPSTREAM / "tests" / "trainer" / "ppo" / "test_core_algos_on_cpu.py"


def test_verls_core_algos_cpu_tests_pass_with_grpo_lead_registered():
    assert TEST_FILE.is_file(), (
        f"{TEST_FILE} is missing: `./run test` unpacks it (pip download --no-binary :all: "
        f"--no-deps verl=={version('verl')}, then tests/trainer/ppo from the archive)"
    )
    proc = subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "verl_plugin_probe", "-p", "no:cacheprovider"]
        + ["-W", "ignore", "--rootdir", str(UPSTREAM), str(TEST_FILE)],
        cwd=UPSTREAM,
        env={**os.environ, "PYTHONPATH": str(HERE)},
        capture_output=True,
        text=True,
        timeout=900,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-4000:]
    assert HEADER in out
    summary = out.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 20, summary  # 0.9.1's file: 23 tests
    assert not re.search(r"\b(failed|errors?|skipped)\b", summary), summary
