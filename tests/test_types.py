"""Static checks. The type checker (mypy strict, pyproject's `[tool.mypy]`) on the pure modules, as `./run lint`
runs it: answers/ and reasoning.py (standard library only: a few seconds), and the advantages
package and options.py, which import torch: reading torch's types takes about 25 s of CPU on a
fresh cache (30 s on an idle 2-core machine, 75 s under load), hence marked slow. And no
function over 60 lines (STYLE.md) anywhere in src/."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
# answers/ and reasoning.py import the standard library (and math-verify) only
TORCH_FREE = ["src/grpo_lead/answers", "src/grpo_lead/reasoning.py"]
# the LEAD math and its options (options.py imports the advantages package's registry)
WITH_TORCH = ["src/grpo_lead/advantages", "src/grpo_lead/options.py"]


def _mypy(paths: list[str], cache: Path) -> subprocess.CompletedProcess[str]:
    # the strictness and the overrides come from pyproject.toml's [tool.mypy]
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--cache-dir", str(cache), *paths],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_the_pure_modules_type_check(tmp_path):
    result = _mypy(TORCH_FREE, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues found in" in result.stdout


@pytest.mark.slow
def test_the_lead_math_and_its_options_type_check(tmp_path):
    result = _mypy(WITH_TORCH, tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    modules = len(list(Path("src/grpo_lead/advantages").glob("*.py"))) + 1  # and options.py
    assert f"no issues found in {modules} source files" in result.stdout


def test_functions_fit_on_a_screen():
    src = REPO / "src" / "grpo_lead"
    files = sorted(src.rglob("*.py"))
    long = []
    for path in files:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > 60:
                    long.append(f"{path.relative_to(src)}:{node.name} ({lines} lines)")
    assert len(files) > 60 and not long, long
