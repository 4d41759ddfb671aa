"""The multiple-choice path end to end: the medical recipes parse, the evaluation loop (scripted
and with a tiny model through `grpo-lead eval --task mcq`), and the toy sums posed as multiple
choice trained a few steps with GRPOLeadTrainer, through the library and through `grpo-lead
train`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
import yaml
from datasets import Dataset

from grpo_lead.evaluation import EvalError, RunOptions
from grpo_lead.evaluation.generation import Completion
from grpo_lead.tasks.choice import check_choice, make_choice_toy
from grpo_lead.tasks.choice.evaluation import ChoiceEvalSettings, run_choice_eval

ROOT = Path(__file__).parents[1]
MEDICAL = sorted((ROOT / "recipes" / "medical").glob("*.yaml"))


def write_jsonl(path: Path, rows) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return path


def toy_rows(n: int, seed: int = 0):
    from grpo_lead.toylab.task import make_problems

    return make_choice_toy(make_problems(n, seed=seed, levels=(1, 2)), seed=seed)


# ----------------------------------------------------------------------------- recipes


def test_there_are_medical_recipes():
    names = {p.stem for p in MEDICAL}
    assert {"qwen2.5-1.5b-medqa", "qwen2.5-7b-lora-medqa", "cpu-tiny-choice"} <= names


@pytest.mark.parametrize("recipe", MEDICAL, ids=lambda p: p.stem)
def test_medical_recipe_parses_with_the_three_rewards(recipe, tmp_path):
    from grpo_lead.configs import GRPOLeadConfig
    from grpo_lead.tasks import read_recipe, task_of
    from grpo_lead.tasks.choice.rewards import REWARDS
    from grpo_lead.tasks.choice.train import ChoiceScriptArguments
    from grpo_lead.train import parse_train_args

    raw = yaml.safe_load(recipe.read_text())
    argv = ["--config", str(recipe), "--output_dir", str(tmp_path)]
    if raw.get("bf16") or raw.get("use_vllm"):
        argv += ["--bf16", "false", "--use_cpu", "true", "--use_vllm", "false"]
    rest, read = read_recipe(argv)
    assert task_of(rest, read).name == "mcq"
    script, cfg, model = parse_train_args(rest, ChoiceScriptArguments, read)
    assert isinstance(script, ChoiceScriptArguments) and isinstance(cfg, GRPOLeadConfig)
    assert {"choice_accuracy", "format", "reasoning_quality"} <= set(script.reward_funcs)
    assert cfg.correctness_reward == "choice_accuracy_reward"
    assert len(cfg.reward_weights) == len(script.reward_funcs)
    assert (cfg.length_reward, cfg.difficulty_weight, cfg.incorrect_reward) == (
        "paper", "logistic", -1.0,
    )  # fmt: skip
    assert model.model_name_or_path and model.use_peft == ("lora" in recipe.stem)
    assert not set(script.reward_funcs) - set(REWARDS)


def test_math_recipes_are_not_choice_tasks():
    from grpo_lead.tasks import read_recipe, task_of

    argv = ["--config", str(ROOT / "recipes" / "cpu-tiny.yaml")]
    assert task_of(*read_recipe(argv)).name == "math"
    assert task_of(*read_recipe([*argv, "--task", "mcq"])).name == "mcq"
    assert task_of(["--task=math"], {"task": "mcq"}).name == "math"  # the flag wins


# ----------------------------------------------------------------------------- eval, scripted


class ScriptedGenerator:
    """Answers each question with a fixed list of texts (by question id)."""

    name = "scripted"
    batch_size = 64

    def __init__(self, answers: dict[str, list[str]]):
        self.answers = answers
        self.calls = 0

    def format_prompt(self, prompt: str) -> str:
        return prompt

    def generate(self, requests):
        self.calls += 1
        out = []
        for r in requests:
            qid = next(q for q, texts in self.answers.items() if f"#{q}#" in r.prompt)
            texts = self.answers[qid][: r.n]
            out.append([Completion(t, len(t), True) for t in texts])
        return out


def test_run_choice_eval_scores_groups_and_resumes(tmp_path):
    rows = [
        {"id": "q1", "question": "#q1# Nerve?", "options": ["Radial", "Ulnar"], "answer": "B",
         "subject": "Anatomy", "meta_info": "step1"},
        {"id": "q2", "question": "#q2# Drug?", "options": ["Aspirin", "Heparin"], "answer": "A",
         "subject": "Pharmacology", "meta_info": "step2&3"},
    ]  # fmt: skip
    data = write_jsonl(tmp_path / "qs.jsonl", rows)
    answers = {
        "q1": ["\\boxed{B}", "The answer is Ulnar.", "\\boxed{A}"],  # 2/3, majority B right
        "q2": ["\\boxed{B}", "\\boxed{I don't know}", "\\boxed{A} or \\boxed{B}"],  # 0/3
    }
    settings = ChoiceEvalSettings(model="scripted", data=str(data), k=3)
    out = tmp_path / "run"
    opts = RunOptions(progress=False)
    summary = run_choice_eval(settings, out, options=opts, generator=ScriptedGenerator(answers))
    overall = summary["overall"]
    assert overall["pass@1"] == pytest.approx((2 / 3 + 0) / 2)
    assert overall["cons@3"] == 0.5  # q1's majority B right; q2's only letter B wrong
    assert overall["coverage"] == pytest.approx(5 / 6)
    assert summary["by_subject"]["Anatomy"]["pass@1"] == pytest.approx(2 / 3)
    assert set(summary["by_step"]) == {"step1", "step2&3"}
    samples = [json.loads(x) for x in (out / "samples.jsonl").read_text().splitlines()]
    assert [s["reason"] for s in samples if s["id"] == "q2"] == ["mismatch", "abstain", "multiple"]
    assert "| subject Anatomy |" in (out / "summary.md").read_text()
    # resume: nothing left to sample, the generator is not called
    again = ScriptedGenerator(answers)
    assert run_choice_eval(settings, out, options=opts, generator=again)["overall"] == overall
    assert again.calls == 0
    other = ChoiceEvalSettings(model="scripted", data=str(data), k=3, abstain=True)
    with pytest.raises(EvalError, match="other settings"):
        run_choice_eval(other, out, options=opts, generator=again)


# ----------------------------------------------------------------------------- tiny model


def lead_config(tmp_path, **overrides):
    from grpo_lead.configs import GRPOLeadConfig

    kwargs = dict(
        output_dir=str(tmp_path / "out"), per_device_train_batch_size=8, num_generations=4,
        max_completion_length=16, max_steps=2, learning_rate=1e-2, use_cpu=True, bf16=False,
        gradient_checkpointing=False, report_to="none", logging_steps=1, save_strategy="no",
        temperature=1.0, seed=0, beta=0.0, correctness_reward="choice_accuracy_reward",
        reward_weights=[1.0, 0.2, 0.2],
    )  # fmt: skip
    kwargs.update(overrides)
    return GRPOLeadConfig(**kwargs)


@pytest.mark.slow
def test_toy_multiple_choice_trains_with_lead_and_the_three_rewards(tiny_model_dir, tmp_path):
    from grpo_lead.hf import load_tokenizer
    from grpo_lead.rewards import format_reward, reasoning_quality_reward
    from grpo_lead.tasks.choice.data import to_prompt
    from grpo_lead.tasks.choice.rewards import choice_accuracy_reward
    from grpo_lead.trainer import GRPOLeadTrainer

    rows = [{**r, "prompt": to_prompt(r, chat=False)} for r in toy_rows(8)]
    dataset = Dataset.from_list([{k: v for k, v in r.items() if k != "question"} for r in rows])
    tokenizer = load_tokenizer(tiny_model_dir)
    trainer = GRPOLeadTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[choice_accuracy_reward, format_reward, reasoning_quality_reward],
        args=lead_config(tmp_path),
        train_dataset=dataset,
        processing_class=tokenizer,
    )
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    assert trainer.state.global_step == 2
    changed = [n for n, p in trainer.model.named_parameters() if not torch.equal(before[n], p)]
    assert changed, "no parameter changed"
    logged = {k for entry in trainer.state.log_history for k in entry}
    for name in ("choice_accuracy_reward", "format_reward", "reasoning_quality_reward"):
        assert f"rewards/{name}/mean" in logged


@pytest.mark.slow
def test_grpo_lead_train_then_eval_on_the_toy_multiple_choice(tiny_model_dir, tmp_path, capsys):
    """`grpo-lead train` with the CPU recipe (task: mcq), then `grpo-lead eval --task mcq` on the
    trained model: per-level tables, and every stored verdict agrees with the checker."""
    from grpo_lead.cli import main

    data = write_jsonl(tmp_path / "toy.jsonl", toy_rows(8))
    out = tmp_path / "trained"
    recipe = ROOT / "recipes" / "medical" / "cpu-tiny-choice.yaml"
    code = main([
        "train", "--config", str(recipe), "--model_name_or_path", str(tiny_model_dir),
        "--dataset", str(data), "--output_dir", str(out),
    ])  # fmt: skip
    assert code == 0
    assert (out / "model.safetensors").is_file()
    saved = yaml.safe_load((out / "grpo_lead_recipe.yaml").read_text())
    assert saved["task"] == "mcq" and saved["correctness_reward"] == "choice_accuracy_reward"

    run = tmp_path / "eval"
    code = main([
        "eval", "--task", "mcq", "--model", str(out), "--data", str(data), "-k", "2",
        "--max-new-tokens", "8", "--backend", "transformers", "--no-chat-template",
        "--no-progress", "--out", str(run),
    ])  # fmt: skip
    assert code == 0
    summary = json.loads((run / "summary.json").read_text())
    assert summary["overall"]["num_questions"] == 8 and summary["overall"]["num_samples"] == 16
    assert set(summary["by_step"]) == {"level 1", "level 2"}
    samples = [json.loads(x) for x in (run / "samples.jsonl").read_text().splitlines()]
    for s in samples:
        assert "A. " in s["prompt"] and "\\boxed{}" in s["prompt"]
        assert check_choice(s["text"], s["options"], s["reference"]).correct == s["correct"]
    accuracy = sum(s["correct"] for s in samples) / len(samples)
    assert summary["overall"]["pass@1"] == pytest.approx(accuracy)
    assert "| step level 1 |" in capsys.readouterr().out


def test_train_and_eval_commands_report_bad_choice_data_in_one_line(tmp_path, capsys):
    from grpo_lead.cli import main

    bad = write_jsonl(tmp_path / "bad.jsonl", [{"question": "q", "options": ["x"], "answer": "C"}])
    recipe = ROOT / "recipes" / "medical" / "cpu-tiny-choice.yaml"
    code = main([
        "train", "--config", str(recipe), "--model_name_or_path", str(tmp_path),
        "--dataset", str(bad), "--output_dir", str(tmp_path / "o"),
    ])  # fmt: skip
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and err[-1].startswith("error: ") and "row 1: answer 'C'" in err[-1]
    code = main(
        ["eval", "--task", "mcq", "--model", "m", "--data", str(bad), "--out", str(tmp_path / "e")]
    )
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and "row 1: answer 'C'" in err[-1]
