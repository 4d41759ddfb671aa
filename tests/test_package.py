"""The public surface: every exported name resolves; the CLI lists and dispatches commands."""

from __future__ import annotations

import subprocess
import sys

import grpo_lead
from grpo_lead.cli import COMMANDS, main


def test_every_export_resolves():
    for name in grpo_lead.__all__:
        assert getattr(grpo_lead, name) is not None, name


def test_check_answer_exported_from_the_package():
    assert grpo_lead.check_answer("<think>2+2</think>\\boxed{4}", "4") is True


def test_cli_usage_and_unknown_command(capsys):
    assert main([]) == 2
    assert main(["frobnicate"]) == 2
    assert "unknown command 'frobnicate'" in capsys.readouterr().err
    assert main(["--version"]) == 0


def test_console_script_help_lists_commands():
    out = subprocess.run(
        [sys.executable, "-m", "grpo_lead.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 0
    for name in COMMANDS:
        assert name in out.stdout


def test_saved_tokenizer_round_trips(tiny_model_dir):
    """Regression: transformers 5 loads a "qwen2" folder's tokenizer as Qwen2Tokenizer, which
    dropped the spaces and newlines of our character vocabulary; load_tokenizer (used by train,
    eval, export and serve) loads it as saved."""
    from grpo_lead.hf import load_tokenizer, saved_as_plain_fast

    assert saved_as_plain_fast(tiny_model_dir)
    tok = load_tokenizer(tiny_model_dir)
    text = "What is 1+2?\nAnswer in \\boxed{}. <think>a b</think>"
    assert tok.decode(tok(text)["input_ids"]) == text
    assert not saved_as_plain_fast(tiny_model_dir / "missing")
