"""The verl integration's tests (tests/verl/) run in their own venv, driven from here.

verl 0.9 pins transformers < 5.11 and the main venv has a newer one, so `./run test` keeps verl in
.venv-verl (see `verl_setup` in ./run) and this test runs ``.venv-verl/bin/python -m pytest
tests/verl`` with this checkout's src/ first on the path. Under CI (CI=true) a missing
.venv-verl fails; elsewhere it skips and says how to make one.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
VERL_PYTHON = REPO / ".venv-verl" / "bin" / "python"


@pytest.mark.slow
def test_the_verl_suite_passes_in_its_own_venv():
    if not VERL_PYTHON.is_file():
        message = f"{VERL_PYTHON} is missing: `./run test` creates it (verl_setup in ./run)"
        if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
            pytest.fail(message)
        pytest.skip(message)
    proc = subprocess.run(
        [str(VERL_PYTHON), "-m", "pytest", "tests/verl", "-q", "-p", "no:cacheprovider"]
        + ["-W", "ignore", "-o", "addopts="],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO / "src")},
        capture_output=True,
        text=True,
        timeout=1800,
    )
    out = proc.stdout + proc.stderr
    assert proc.returncode == 0, out[-6000:]
    summary = out.strip().splitlines()[-1]
    passed = re.search(r"(\d+) passed", summary)
    assert passed and int(passed.group(1)) >= 280, summary
    assert not re.search(r"\b(failed|errors?|skipped)\b", summary), summary
