"""What several test files share (tests/ is on sys.path under pytest): the tiny model they
build, a poll with a deadline, and python-hcl2's unquoting. Serve-only helpers are in
serve_helpers.py."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def tiny_model(folder: Path) -> Path:
    """The tests' tiny causal LM (one layer, hidden size 32) saved to `folder`."""
    from grpo_lead.toylab.model import save_tiny_model

    return save_tiny_model(folder, hidden_size=32, num_layers=1, num_heads=2, intermediate_size=64)


def wait_for(predicate: Callable[[], bool], timeout_s: float = 5.0) -> bool:
    """Poll `predicate` every 20 ms until it holds (True) or `timeout_s` passes (False)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def unquote_hcl(value: Any) -> Any:
    """python-hcl2 (v8) keeps the quotes of keys and strings: strip them."""
    if isinstance(value, dict):
        return {k.strip('"'): unquote_hcl(v) for k, v in value.items() if k != "__is_block__"}
    if isinstance(value, list):
        return [unquote_hcl(v) for v in value]
    return value.strip('"') if isinstance(value, str) else value
