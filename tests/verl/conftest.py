"""The verl tests run in their own venv, .venv-verl (verl 0.9 pins transformers < 5.11; the main
venv has a newer one): `./run test` creates it and tests/test_verl.py runs this folder there as
`.venv-verl/bin/python -m pytest tests/verl`. Under a Python without verl (the main venv's own
collection of tests/) this folder is not collected; test_verl.py is what runs it."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.find_spec("verl")
# tests/ is on sys.path under pytest, so this very folder is a namespace package named "verl"
# (no origin): only a real installed verl counts.
if _spec is None or _spec.origin is None:
    collect_ignore_glob = ["test_*.py"]

# tests/checker_cases.py (the answer-checker table) as a plain module
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
