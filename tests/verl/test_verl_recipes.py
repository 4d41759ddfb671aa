"""recipes/verl/*.sh launch verl with overrides that verl 0.9's own config accepts.

Each script runs as a user runs it, with a stand-in `python3` first on PATH that records its
arguments instead of training; the overrides are then composed onto verl's ``ppo_trainer.yaml``
with Hydra (an unknown or misspelt key fails there) and the paper's values are checked.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import verl
from hydra import compose, initialize_config_dir

from grpo_lead.integrations.verl import lead_options
from grpo_lead.options import LeadOptions

RECIPES = Path(__file__).resolve().parents[2] / "recipes" / "verl"
CONFIG_DIR = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
FAKE_PYTHON = """#!/bin/sh
{python} -c 'import json, sys; print(json.dumps(sys.argv[1:]))' "$@" > "{log}"
"""


def launch_args(script: Path, tmp_path: Path, *extra: str) -> list[str]:
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    log = tmp_path / "argv.json"
    fake = bin_dir / "python3"
    fake.write_text(FAKE_PYTHON.format(python=sys.executable, log=log))  # not `python3`: itself
    fake.chmod(0o755)
    train, val = tmp_path / "train.parquet", tmp_path / "val.parquet"
    train.touch()
    val.touch()
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:/usr/bin:/bin",
        "TRAIN_FILES": str(train),
        "VAL_FILES": str(val),
    }
    subprocess.run(["bash", str(script), *extra], env=env, check=True, timeout=60)
    return json.loads(log.read_text())


def composed(args: list[str]):
    assert args[:2] == ["-m", "verl.trainer.main_ppo"]
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):
        return compose(config_name="ppo_trainer", overrides=args[2:])


def test_the_papers_7b_run(tmp_path):
    cfg = composed(launch_args(RECIPES / "lead-r1-distill-qwen-7b.sh", tmp_path))
    actor, rollout = cfg.actor_rollout_ref.actor, cfg.actor_rollout_ref.rollout
    assert cfg.actor_rollout_ref.model.path == "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"
    assert cfg.algorithm.adv_estimator == "grpo_lead"
    assert actor.optim.lr == 1e-6
    assert cfg.data.train_batch_size == 32 and actor.ppo_mini_batch_size == 32  # on-policy
    assert rollout.n == 8 and rollout.temperature == 0.8
    assert cfg.data.max_response_length == 8192
    assert not actor.use_kl_loss and not cfg.algorithm.use_kl_in_reward  # KL 0
    assert actor.entropy_coeff == 0.001 and actor.clip_ratio == 0.2
    assert actor.loss_agg_mode == "token-mean"
    assert cfg.trainer.n_gpus_per_node == 8
    assert cfg.reward.custom_reward_function.path == "pkg://grpo_lead.integrations.verl"
    # the LEAD options the estimator reads: the paper's constants and the group filter
    assert lead_options(cfg.algorithm) == LeadOptions(group_filter=True)  # the rest: defaults


def test_the_small_run_and_extra_overrides(tmp_path):
    args = launch_args(
        RECIPES / "lead-r1-distill-qwen-1.5b-small.sh",
        tmp_path,
        "+algorithm.lead.format_failure_reward=0.0",
    )
    cfg = composed(args)
    assert cfg.trainer.n_gpus_per_node == 1
    assert cfg.algorithm.adv_estimator == "grpo_lead"
    assert cfg.actor_rollout_ref.rollout.n == 8
    assert lead_options(cfg.algorithm) == LeadOptions(format_failure_reward=0.0)


@pytest.mark.parametrize("script", sorted(RECIPES.glob("*.sh")), ids=lambda p: p.name)
def test_missing_data_is_a_one_line_error(script, tmp_path):
    env = {**os.environ, "TRAIN_FILES": str(tmp_path / "none.parquet")}
    proc = subprocess.run(["bash", str(script)], env=env, capture_output=True, text=True)
    assert proc.returncode == 2
    assert "none.parquet not found: make it with grpo-lead verl-data" in proc.stderr


def test_dot_is_refused_by_the_estimator_and_the_preset_passes():
    """DOT needs the reward function again after its cut, which verl's advantage estimator does
    not have: a one-line error that says where DOT runs. The lead-solved preset is an estimator
    option like any other."""
    with pytest.raises(ValueError, match="algorithm.lead.dot: DOT cuts rollouts"):
        lead_options({"lead": {"dot": True}})
    opts = lead_options({"lead": {"length_term_min_solve_rate": 1.0}})
    assert opts.length_term_min_solve_rate == 1.0
