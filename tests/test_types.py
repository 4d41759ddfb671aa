"""The type checker on the pure modules that import no torch. `./run lint` runs it on every
module in pyproject's `[tool.mypy]`: options.py and the advantages too, which import torch (or,
for options.py, the advantages package), and reading torch's types takes about 30 s of CPU on a
fresh cache, so that run is not repeated here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
# answers/ and reasoning.py import the standard library (and math-verify) only
TORCH_FREE = ["src/grpo_lead/answers", "src/grpo_lead/reasoning.py"]


def test_the_pure_modules_type_check(tmp_path):
    # the strictness and the overrides come from pyproject.toml's [tool.mypy]
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path), *TORCH_FREE],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues found in" in result.stdout
