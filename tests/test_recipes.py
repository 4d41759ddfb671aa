"""Every shipped recipe parses into the train command's dataclasses with valid LEAD values."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from grpo_lead.configs import GRPOLeadConfig, LeadScriptArguments
from grpo_lead.train import parse_train_args

RECIPES = sorted((Path(__file__).parents[1] / "recipes").glob("*.yaml"))
ACCELERATE = sorted((Path(__file__).parents[1] / "recipes" / "accelerate").glob("*.yaml"))


def test_there_are_recipes():
    names = {p.stem for p in RECIPES}
    assert {"deepseek-r1-distill-qwen-7b", "deepseek-r1-distill-qwen-14b", "cpu-tiny"} <= names
    assert {p.stem for p in ACCELERATE} == {"zero2", "zero3", "fsdp"}


@pytest.mark.parametrize("recipe", RECIPES, ids=lambda p: p.stem)
def test_recipe_parses(recipe, tmp_path):
    raw = yaml.safe_load(recipe.read_text())
    # GPU-only settings cannot be constructed on a CPU machine: check those keys by name only
    overrides = ["--output_dir", str(tmp_path)]
    if raw.get("bf16") or raw.get("use_vllm"):
        overrides += ["--bf16", "false", "--use_cpu", "true", "--use_vllm", "false"]
    script, cfg, model = parse_train_args(["--config", str(recipe), *overrides])
    assert isinstance(script, LeadScriptArguments) and isinstance(cfg, GRPOLeadConfig)
    assert model.model_name_or_path
    if "alpha" in raw:
        assert cfg.alpha == raw["alpha"]
    assert cfg.length_reward == raw.get("length_reward", "paper")


@pytest.mark.parametrize("recipe", ACCELERATE, ids=lambda p: p.stem)
def test_accelerate_configs_load(recipe):
    from accelerate.commands.config.config_args import load_config_from_file

    cfg = load_config_from_file(str(recipe))
    assert cfg.num_processes == 8 and cfg.mixed_precision == "bf16"


def test_written_recipe_reruns_as_config(tmp_path):
    """`train` saves grpo_lead_recipe.yaml; it parses back to the same settings."""
    from grpo_lead.train import write_recipe

    cpu = Path(__file__).parents[1] / "recipes" / "cpu-tiny.yaml"
    script, cfg, model = parse_train_args(
        ["--config", str(cpu), "--output_dir", str(tmp_path), "--alpha", "0.2"]
    )
    path = write_recipe(str(tmp_path), script, cfg, model)
    script2, cfg2, model2 = parse_train_args(["--config", str(path)])
    assert (cfg2.alpha, cfg2.learning_rate, cfg2.max_steps) == (0.2, cfg.learning_rate, 150)
    assert (
        script2.dataset == script.dataset and model2.model_name_or_path == model.model_name_or_path
    )
