"""`grpo-lead demo`: the quick run end to end, its outputs, and the pure report helpers."""

from __future__ import annotations

import json
import math
import os
import re
import subprocess
import sys

import pytest

from grpo_lead.demo import demo_main, demo_settings, run_demo
from grpo_lead.toylab.report import format_table, smoothed
from grpo_lead.toylab.settings import LabSettings


def _summary(pass1, by_level, correct, wrong):
    present = [x for x in (correct, wrong) if x is not None]
    return {
        "overall": {
            "pass@1": pass1,
            "mean_length_correct": correct,
            "mean_length_wrong": wrong,
            "mean_length": sum(present) / len(present),
        },
        "by_difficulty": {str(lv): {"pass@1": v} for lv, v in by_level.items()},
    }


def test_format_table_rows_and_missing_values():
    table = format_table(
        {
            "warmup": _summary(0.5, {1: 0.8, 2: 0.2}, 60.0, 70.0),
            "lead": _summary(0.0, {1: 0.0}, None, 40.0),
        },
        levels=(1, 2),
    )
    lines = table.splitlines()
    assert len(lines) == 4  # header, rule, two runs
    # warm-up: 50% overall, L1 80%, L2 20%; tokens 60 (correct), 70 (wrong), (60 + 70) / 2 = 65
    assert lines[2].split() == ["after", "warm-up", "50.0", "80.0", "20.0", "|"] + [
        "60.0",
        "70.0",
        "65.0",
    ]
    # LEAD: no level-2 result and no correct answer: "-" cells; all = the wrong answers' 40
    assert lines[3].split() == ["after", "GRPO-LEAD", "0.0", "0.0", "-", "|", "-", "40.0", "40.0"]


def test_smoothed_history_is_a_trailing_mean():
    history = [{"step": i, "lead/accuracy": float(i), "x": None} for i in range(1, 6)]
    history.append({"train_runtime": 3.0, "step": 5})  # the final summary row is dropped
    rows = smoothed(history, window=2)
    assert [r["step"] for r in rows] == [1, 2, 3, 4, 5]
    assert [r["lead/accuracy"] for r in rows] == [1.0, 1.5, 2.5, 3.5, 4.5]
    assert all("x" not in r for r in rows)


def test_quick_settings_are_small():
    quick, full = LabSettings.quick(), LabSettings()
    assert quick.warmup_steps < full.warmup_steps and quick.rl_steps < full.rl_steps
    assert LabSettings.quick(rl_steps=2).rl_steps == 2
    assert full.rl_problems == 100 * 8  # one fresh batch of 8 prompts a step


def test_demo_settings_apply_the_command_line():
    s = demo_settings(quick=True, steps=7, warmup_steps=11, verbosity="useful")
    assert (s.rl_steps, s.warmup_steps, s.verbosity) == (7, 11, "useful")
    assert s.sft_examples == LabSettings.quick().sft_examples
    assert demo_settings().rl_steps == 100
    with pytest.raises(ValueError, match="steps and warmup_steps must be >= 1"):
        demo_settings(steps=0)


def test_bad_arguments(tmp_path, capsys):
    assert demo_main(["--verbosity", "chatty"]) == 2  # one line, not the whole usage
    err = capsys.readouterr().err
    assert err.startswith("error: argument --verbosity: invalid choice") and err.count("\n") == 1
    with pytest.raises(ValueError, match="verbosity"):
        run_demo(tmp_path / "unused", verbosity="chatty")
    assert not (tmp_path / "unused").exists()  # refused before any work
    # --ablation belongs to the grpo-lead command, which hands it to `grpo-lead ablation`
    assert demo_main(["--ablation"]) == 2
    assert "run `grpo-lead ablation`" in capsys.readouterr().err


@pytest.mark.slow
def test_quick_demo_compare_end_to_end(tmp_path):
    """The sub-minute demo with GRPO beside LEAD, run as a user runs it: every output exists,
    its figures are sane, and no dependency warning reaches the console."""
    from transformers import AutoModelForCausalLM

    from grpo_lead.hf import load_tokenizer
    from grpo_lead.toylab.evaluate import evaluate_model
    from grpo_lead.toylab.task import make_problems

    out = tmp_path / "demo"
    cmd = [sys.executable, "-m", "grpo_lead.cli", "demo", "--quick", "--compare", "--no-progress"]
    env = {k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"}  # Python's defaults
    run = subprocess.run(
        [*cmd, "--out", str(out)], capture_output=True, text=True, timeout=1800, env=env
    )
    assert run.returncode == 0, run.stderr[-2000:]
    printed = run.stdout + run.stderr
    assert "after warm-up" in run.stdout and "after GRPO-LEAD" in run.stdout
    # e.g. transformers' "`gradient_checkpointing` is deprecated" FutureWarning
    assert not re.findall(r"^.*Warning: .*$", printed, flags=re.M)

    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["results"]) == {"warmup", "grpo", "lead"}
    for name, result in summary["results"].items():
        overall = result["overall"]
        assert 0.0 <= overall["pass@1"] <= 1.0, name
        assert overall["num_samples"] == 16 * 2
        assert overall["mean_length"] > 0
        for length in (overall["mean_length_correct"], overall["mean_length_wrong"]):
            assert length is None or length > 0
        assert set(result["by_difficulty"]) == {"1", "2", "3", "4"}
        for level in result["by_difficulty"].values():
            assert 0.0 <= level["pass@1"] <= 1.0
    seconds = summary["seconds"]
    assert seconds["total"] > 0 and set(seconds["rl"]) == {"grpo", "lead"}
    assert "after GRPO " in summary["table"]

    png = out / "training.png"
    assert png.stat().st_size > 10_000
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    samples = (out / "samples.md").read_text()
    assert samples.count("**after GRPO-LEAD**") == 4
    for name in ("grpo", "lead"):
        history = json.loads((out / "runs" / name / "log_history.json").read_text())
        accuracies = [h["lead/accuracy"] for h in history if "lead/accuracy" in h]
        assert len(accuracies) == 3 and all(0 <= a <= 1 for a in accuracies)
    for path in ("data/sft.jsonl", "data/problems.jsonl", "data/eval.jsonl"):
        assert (out / path).stat().st_size > 0

    for name in ("warmup", "grpo", "lead"):
        folder = out / "models" / name
        AutoModelForCausalLM.from_pretrained(folder)
        tokenizer = load_tokenizer(folder)
        assert tokenizer.decode(tokenizer("What is 1+2?\n")["input_ids"]) == "What is 1+2?\n"
    _, [record] = evaluate_model(
        out / "models" / "lead", make_problems(1, seed=0), samples=1, max_new_tokens=8
    )
    assert 0 < record["num_tokens"] <= 8
    assert record["finished"] or record["num_tokens"] == 8  # shorter: it ended with EOS
    assert "<eos>" not in record["completion"] and "<pad>" not in record["completion"]
    assert not math.isnan(summary["warmup"]["final_loss"])
