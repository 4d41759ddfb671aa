"""GRPOLeadTrainer on a tiny local model: the loss uses the LEAD advantages, weights change,
config validation, and the TRL seams it depends on."""

from __future__ import annotations

import inspect

import pytest
import torch
from datasets import Dataset
from trl import GRPOTrainer

from grpo_lead.advantages import lead_advantages, lead_rewards
from grpo_lead.configs import GRPOLeadConfig
from grpo_lead.options import PAPER, preset
from grpo_lead.trainer import GRPOLeadTrainer, lead_batch_advantages


def accuracy_reward(completions, answer, **kwargs):
    """A deterministic stand-in for correctness on a random model: mixed groups by design."""
    return [float(sum(map(ord, c)) % 2 == 0) for c in completions]


def length_bonus(completions, **kwargs):
    return [len(c) / 100 for c in completions]


def make_config(tmp_path, **overrides):
    kwargs = dict(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=12,
        max_steps=2,
        learning_rate=1e-2,
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        temperature=1.0,
        seed=0,
        beta=0.0,
    )
    kwargs.update(overrides)
    return GRPOLeadConfig(**kwargs)


def prompts_dataset(n=8):
    return Dataset.from_list([{"prompt": f"{i}+{i}=", "answer": str(2 * i)} for i in range(n)])


class RecordingTrainer(GRPOLeadTrainer):
    """Keeps each batch the loss sees: local completions, their mask and advantages."""

    def _generate_and_score_completions(self, inputs):
        out = super()._generate_and_score_completions(inputs)
        self.recorded = getattr(self, "recorded", [])
        self.recorded.append(
            {
                "advantages": out["advantages"].clone(),
                "lengths": out["completion_mask"].sum(dim=1).clone(),
                "rewards_per_func": self._lead_rewards_per_func.clone(),
            }
        )
        return out


def test_trainer_uses_lead_advantages_and_changes_weights(tiny_model_dir, tmp_path):
    cfg = make_config(tmp_path)
    trainer = RecordingTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[accuracy_reward],
        args=cfg,
        train_dataset=prompts_dataset(),
    )
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    trainer.train()
    changed = [n for n, p in trainer.model.named_parameters() if not torch.equal(before[n], p)]
    assert changed, "no parameter changed"
    assert len(trainer.recorded) == 2
    for rec in trainer.recorded:
        correct = rec["rewards_per_func"][:, 0] > 0
        # the core functions, fed the batch's correctness and token lengths
        expected = lead_advantages(lead_rewards(correct, rec["lengths"].float(), 4), correct, 4)
        assert torch.allclose(rec["advantages"], expected, atol=1e-6)
    # the completions table shows the advantages actually used
    logged = list(trainer._logs["advantages"])[-8:]
    assert logged == pytest.approx(trainer.recorded[-1]["advantages"].tolist(), abs=1e-6)
    history = trainer.state.log_history[0]
    for key in (
        "lead/accuracy",
        "lead/solve_rate_p50",
        "lead/frac_groups_all_correct",
        "lead/frac_groups_all_wrong",
        "lead/frac_groups_dropped",
        "lead/mean_weight",
    ):
        assert key in history, key


def test_plain_grpo_mode_matches_trl_on_same_rewards(tiny_model_dir, tmp_path):
    """With every LEAD option off, the advantages are GRPO's (sample std, our eps)."""
    cfg = make_config(
        tmp_path,
        length_reward="none",
        incorrect_reward=0.0,
        difficulty_weight="none",
        max_steps=1,
    )
    assert cfg.is_plain_grpo
    trainer = RecordingTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[accuracy_reward, length_bonus],
        args=cfg,
        train_dataset=prompts_dataset(),
    )
    trainer.train()
    rec = trainer.recorded[0]
    total = rec["rewards_per_func"].sum(dim=1).reshape(-1, 4)
    expected = (total - total.mean(1, keepdim=True)) / (total.std(1, keepdim=True) + 1e-6)
    expected = torch.where(total.std(1, keepdim=True) > 0, expected, torch.zeros_like(expected))
    assert torch.allclose(rec["advantages"], expected.reshape(-1), atol=1e-5)


def test_missing_correctness_reward_is_a_clear_error(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="correctness_reward='accuracy_reward' is not among"):
        GRPOLeadTrainer(
            model=str(tiny_model_dir),
            reward_funcs=[length_bonus],
            args=make_config(tmp_path),
            train_dataset=prompts_dataset(),
        )


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("length_reward", "cubic", "length_reward must be one of"),
        ("difficulty_weight", "sigmoid", "difficulty_weight must be one of"),
        ("alpha", -0.1, r"alpha must lie in \[0, 10\]"),
        ("alpha", float("inf"), "alpha must be finite"),
        ("alpha", float("nan"), "alpha must be a number, got nan"),
        ("incorrect_reward", float("nan"), "incorrect_reward must be a number, got nan"),
        ("incorrect_reward", float("-inf"), "incorrect_reward must be finite"),
        ("lead_eps", 0.0, "lead_eps must lie in"),
        ("weight_a", 2.0, "weight_a must be <= weight_b"),
        ("weight_x0", 1.5, "weight_x0 must lie in"),
        ("length_reward", "budget", "needs length_budget"),
        ("num_generations", 1, "at least 2 generations per prompt"),
    ],
)
def test_bad_config_values_name_the_field(tmp_path, field, value, message):
    with pytest.raises(ValueError, match=message):
        make_config(tmp_path, **{field: value})


def test_lead_batch_advantages_composes_rewards_and_filter():
    # two groups of 2; column 0 = correctness, column 1 = a format reward with weight 0.5
    rpf = torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [float("nan"), 1.0]])
    batch = lead_batch_advantages(
        rpf,
        reward_weights=torch.tensor([1.0, 0.5]),
        correct_index=0,
        lengths=torch.tensor([5.0, 9.0, 3.0, 4.0]),
        group_size=2,
        options=PAPER.replace(group_filter=True),
    )
    # group 1: lone correct -> 1 + 0.5 = 1.5, wrong -> -1 + 0.5 = -0.5
    # group 2: both wrong (NaN counts wrong) -> -1 + 0 and -1 + 0.5: rewards all <= 0: dropped
    assert batch.rewards.tolist() == pytest.approx([1.5, -0.5, -1.0, -0.5])
    assert batch.correct.tolist() == [True, False, False, False]
    assert batch.keep.tolist() == [True, True, False, False]
    assert batch.advantages[2:].tolist() == [0.0, 0.0]
    assert batch.advantages[0] > 0 > batch.advantages[1]


def test_trl_seams_are_where_we_expect():
    """Fails when TRL moves the private methods GRPOLeadTrainer overrides."""
    calc = inspect.signature(GRPOTrainer._calculate_rewards)
    assert list(calc.parameters) == [
        "self",
        "inputs",
        "prompts",
        "completions",
        "completion_ids_list",
    ]
    gen = inspect.signature(GRPOTrainer._generate_and_score_completions)
    assert list(gen.parameters) == ["self", "inputs"]
    src = inspect.getsource(GRPOTrainer._generate_and_score_completions)
    assert "self._calculate_rewards(" in src and '"advantages": advantages' in src
    assert 'self._logs["advantages"].extend' in src


def test_lead_batch_advantages_outcome_classes():
    # one group of 4: correct, wrong, truncated, truncated + looping (reference code classes)
    rpf = torch.tensor([[1.0], [0.0], [0.0], [0.0]])
    flags = dict(
        format_failure=torch.tensor([False, False, True, True]),
        repetition=torch.tensor([False, False, False, True]),
    )
    on = lead_batch_advantages(
        rpf, reward_weights=torch.ones(1), correct_index=0, lengths=torch.full((4,), 9.0),
        group_size=4, options=preset("reference", skip_length_term_below=None), **flags,
    )  # fmt: skip
    assert on.rewards.tolist() == [1.0, -1.0, 0.0, -2.0]
    off = lead_batch_advantages(
        rpf, reward_weights=torch.ones(1), correct_index=0, lengths=torch.full((4,), 9.0),
        group_size=4, **flags,
    )  # fmt: skip
    assert off.rewards.tolist() == [1.0, -1.0, -1.0, -1.0]  # option off: flags ignored


def every_fourth_group_wrong(completions, answer, **kwargs):
    """Groups whose answer is a multiple of 4 are all wrong; the others mixed by parity."""
    return [
        0.0 if int(a) % 4 == 0 else float(sum(map(ord, c)) % 2 == 0)
        for c, a in zip(completions, answer, strict=True)
    ]


class MaskRecordingTrainer(GRPOLeadTrainer):
    def _generate_and_score_completions(self, inputs):
        out = super()._generate_and_score_completions(inputs)
        self.recorded = getattr(self, "recorded", [])
        self.recorded.append(
            {
                "mask": out["completion_mask"].clone(),
                "num_items": out["num_items_in_batch"].clone(),
                "keep": self.last_lead_batch.keep.clone(),
                "advantages": out["advantages"].clone(),
                "ids": out["completion_ids"].clone(),
                "flags": self._lead_flags.clone(),
                "batch": self.last_lead_batch,
            }
        )
        return out


def test_group_filter_takes_dropped_rows_out_of_the_loss(tiny_model_dir, tmp_path):
    cfg = make_config(
        tmp_path,
        group_filter=True,
        max_steps=1,
        per_device_train_batch_size=16,
        correctness_reward="every_fourth_group_wrong",
    )
    trainer = MaskRecordingTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[every_fourth_group_wrong],
        args=cfg,
        train_dataset=prompts_dataset(4),  # answers 0, 4 (always wrong: dropped), 2, 6 (mixed)
    )
    trainer.train()
    rec = trainer.recorded[0]
    dropped = ~rec["keep"]
    assert dropped.any() and rec["keep"].any(), "the batch must hold dropped and kept groups"
    # a dropped row has no token in the loss and no share of its normaliser
    assert rec["mask"][dropped].sum() == 0
    assert rec["mask"][rec["keep"]].sum(dim=1).min() > 0
    assert rec["num_items"].item() == rec["mask"].sum().item()
    assert (rec["advantages"][dropped] == 0).all()


def always_correct(completions, **kwargs):
    return [1.0] * len(completions)


def test_truncation_is_decided_from_eos_and_is_never_correct(tiny_model_dir, tmp_path):
    """A random tiny model rarely ends within 12 tokens: its truncated completions are format
    failures (reward 0) even though the correctness reward says 1, and they count as wrong in
    the solve rate: one outcome decision everywhere."""
    cfg = make_config(
        tmp_path, format_failure_reward=0.0, max_steps=1, correctness_reward="always_correct"
    )
    trainer = MaskRecordingTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[always_correct],
        args=cfg,
        train_dataset=prompts_dataset(),
    )
    trainer.train()
    rec = trainer.recorded[0]
    eos = trainer.eos_token_ids
    ended = torch.tensor(
        [bool(set(row.tolist()) & set(eos)) for row in rec["ids"]]
    )  # the local rows hold an EOS somewhere iff they ended
    truncated = rec["flags"][:, 1] > 0
    assert truncated.any(), "the check would be vacuous"
    assert torch.equal(truncated, ~ended)
    batch = rec["batch"]
    assert not batch.correct[truncated].any()
    assert batch.rewards[truncated].tolist() == [0.0] * int(truncated.sum())
    assert batch.correct[~truncated].all()
    assert torch.allclose(batch.solve_rate, (~truncated).float().reshape(-1, 4).mean(1))
