"""LeadOptions (defaults written once, validation, presets), the registries' declared options,
overflow safety, the reference code's length gate, and the length-control methods of the field
with hand-computed values (cosine against TRL's own reward)."""

from __future__ import annotations

import math
import random
import re

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grpo_lead.advantages import (
    DIFFICULTY_WEIGHTS,
    LENGTH_REWARDS,
    alp_rewards,
    budget_rewards,
    cosine_rewards,
    group_normalize,
    kimi_rewards,
    lead_advantages,
    lead_batch_advantages,
    lead_rewards,
    length_shaped_rewards,
    register_difficulty_weight,
    register_length_reward,
)
from grpo_lead.options import PAPER, PRESETS, LeadOptions, preset


def t(values):
    return torch.tensor(values, dtype=torch.float32)


# ---- the options object ------------------------------------------------------------------------


def test_paper_defaults_are_lead_md_constants():
    # LEAD.md: alpha 0.05, eps 1e-6, -1 for wrong, A 0.4, B 1.5, k 10, x0 0.75
    assert (PAPER.alpha, PAPER.eps, PAPER.incorrect_reward) == (0.05, 1e-6, -1.0)
    assert (PAPER.weight_a, PAPER.weight_b, PAPER.weight_k, PAPER.weight_x0) == (0.4, 1.5, 10, 0.75)
    assert PAPER.length_reward == "paper" and PAPER.difficulty_weight == "logistic"
    assert PAPER.skip_length_term_below is None and not PAPER.group_filter


def test_presets_are_named_once():
    assert PRESETS["grpo"].is_plain_grpo and not PRESETS["lead"].is_plain_grpo
    assert preset("reference").skip_length_term_below == 4000
    assert preset("lead", alpha=0.1).alpha == 0.1
    with pytest.raises(ValueError, match="unknown preset 'leed'"):
        preset("leed")


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"alpha": float("inf")}, "alpha must be finite"),
        ({"alpha": 11.0}, r"alpha must lie in \[0, 10\]"),
        ({"incorrect_reward": float("nan")}, "incorrect_reward must be finite"),
        ({"incorrect_reward": 0.5}, "incorrect_reward must lie in"),
        ({"weight_a": 2.0}, "weight_a must be <= weight_b"),
        ({"eps": 0.0}, "eps must lie in"),
        ({"scale": "token"}, "scale must be one of"),
        ({"alpha": "0.1"}, "alpha must be a number"),
        ({"length_budget": float("inf")}, "length_budget must be finite"),
    ],
)
def test_bad_values_are_refused_with_the_field_named(changes, message):
    with pytest.raises(ValueError, match=message):
        LeadOptions(**changes)


def test_unknown_option_from_a_mapping_is_an_error():
    assert LeadOptions.from_mapping({"alpha": 0.1}).alpha == 0.1
    with pytest.raises(ValueError, match=r"unknown LEAD option\(s\) \['alpah'\]"):
        LeadOptions.from_mapping({"alpah": 0.1})


def test_registered_functions_declare_real_options():
    # the registry sits below LeadOptions: options that choose a function reading a misspelt
    # option are refused when built, naming it
    register_length_reward("typo")(lambda correct, lengths, group_size, *, alpah: None)
    try:
        with pytest.raises(
            ValueError, match=r"'typo' reads \['alpah'\], which are not LeadOptions"
        ):
            LeadOptions(length_reward="typo")
    finally:
        del LENGTH_REWARDS["typo"]
    with pytest.raises(TypeError, match="no \\*\\*kwargs"):
        register_difficulty_weight("swallow")(lambda adv, rho, group_size, **_: adv)
    assert "swallow" not in DIFFICULTY_WEIGHTS


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"length_reward": "cubic"}, r"length_reward must be one of \['alp', 'budget'"),
        ({"difficulty_weight": "sigmoid"}, r"difficulty_weight must be one of \['linear'"),
    ],
)
def test_options_name_registered_functions_only(changes, message):
    # checked by LeadOptions itself: the config, verl's section and a recipe all get it
    with pytest.raises(ValueError, match=message):
        LeadOptions(**changes)
    with pytest.raises(ValueError, match=message):
        LeadOptions.from_mapping(changes)


def test_soft_punish_cache_is_an_option_with_its_default_once():
    # None = a fifth of max_completion_length: 128 // 5 = 25; DAPO's 20480 // 5 = 4096
    assert PAPER.soft_punish_cache is None
    assert PAPER.soft_punish_window(128) == 25 and PAPER.soft_punish_window(20480) == 4096
    assert PAPER.soft_punish_window(3) == 1
    assert LeadOptions(soft_punish_cache=80).soft_punish_window(128) == 80
    for bad in (0, 2.5, float("inf"), True):
        with pytest.raises(ValueError, match="soft_punish_cache must"):
            LeadOptions(soft_punish_cache=bad)


def test_options_reach_the_registered_function():
    c, lengths = t([1, 1, 0, 0]), t([10, 20, 5, 5])
    a = length_shaped_rewards(c, lengths, 4, PAPER.replace(alpha=0.5))
    assert torch.equal(a, lead_rewards(c, lengths, 4, alpha=0.5))
    assert not torch.equal(a, lead_rewards(c, lengths, 4))


# ---- overflow safety ---------------------------------------------------------------------------


def test_issue_example_is_finite():
    # lead_rewards(ones(8), [10, 200 x 7], 8, alpha=40) gave inf and NaN advantages
    r = lead_rewards(torch.ones(8), t([10] + [200] * 7), 8, alpha=40)
    a = lead_advantages(r, torch.ones(8), 8)
    assert torch.isfinite(r).all() and torch.isfinite(a).all()
    assert a[0] > 0 > a[1]  # the short answer is still the one pushed up


@settings(max_examples=150, deadline=None)
@given(
    G=st.integers(2, 16),
    alpha=st.floats(0, 1e6, allow_nan=False, allow_infinity=False),
    data=st.data(),
)
def test_every_finite_input_gives_finite_rewards_and_advantages(G, alpha, data):
    lengths = data.draw(st.lists(st.integers(0, 10**7), min_size=G, max_size=G))
    correct = data.draw(st.lists(st.booleans(), min_size=G, max_size=G))
    c = torch.tensor(correct)
    r = lead_rewards(c, t(lengths), G, alpha=alpha)
    a = lead_advantages(r, c, G)
    assert torch.isfinite(r).all() and torch.isfinite(a).all()
    for name in LENGTH_REWARDS:
        opts = PAPER.replace(length_reward=name, length_budget=100.0)
        shaped = length_shaped_rewards(c, t(lengths), G, opts)
        assert torch.isfinite(group_normalize(shaped, G)).all(), name


def test_clip_leaves_ordinary_values_bit_identical():
    c, lengths = torch.ones(8), t([10, 50, 60, 70, 80, 90, 100, 400])
    z = (lengths - lengths.mean()) / (lengths.std() + 1e-6)
    assert torch.equal(lead_rewards(c, lengths, 8), torch.exp(-0.05 * z))


# ---- the reference code's length gate, against its own loop ------------------------------------


def reference_reweight(rewards, completions_length, index, gate=4000):
    """aeroplanepaper/GRPO-LEAD verl/verl/trainer/main_ppo.py RewardManager.get_reweight_rewards,
    copied (comments dropped; the unused variable `min_three_avg` removed)."""
    unique_questions = set(index)
    for q in unique_questions:
        group_indices = [i for i, q_idx in enumerate(index) if q_idx == q]
        sum_len = 0
        var_len = 0
        num_correct = 0
        min1, min2, min3 = float("inf"), float("inf"), float("inf")
        for i in group_indices:
            L = completions_length[i]
            if min1 > L:
                min3 = min2
                min2 = min1
                min1 = L
            elif min2 > L:
                min3 = min2
                min2 = L
            elif min3 > L:
                min3 = L
            if rewards[i] > 0:
                num_correct += 1
                sum_len += L
        avg_min = (min1 + min2 + min3) / 3
        if avg_min <= gate:
            continue
        avg_len = sum_len / num_correct if num_correct > 0 else 0.0
        std_len = 1.0
        if num_correct > 1:
            for i in group_indices:
                if rewards[i] > 0:
                    var_len += (completions_length[i] - avg_len) ** 2
            val_len = var_len / (num_correct - 1)
            std_len = math.sqrt(val_len)
        alpha = 0.05
        for i in group_indices:
            if rewards[i] > 0:
                L_i = completions_length[i]
                epsilon = 1e-6
                z_i = (L_i - avg_len) / (std_len + epsilon)
                rewards[i] = rewards[i] * math.exp(-alpha * z_i)
    return rewards


@pytest.mark.parametrize("G", [2, 3, 4, 8])
def test_length_gate_matches_the_reference_code(G):
    rng = random.Random(G)
    opts = PAPER.replace(skip_length_term_below=4000.0)
    gated = 0
    for _ in range(200):
        correct = [rng.random() < 0.6 for _ in range(G)]
        lengths = [rng.choice([rng.randint(100, 5000), rng.randint(3000, 12000)]) for _ in range(G)]
        ref = reference_reweight([1.0 if c else -1.0 for c in correct], lengths, [0] * G)
        ours = length_shaped_rewards(torch.tensor(correct), t(lengths), G, opts)
        assert ours.tolist() == pytest.approx(ref, rel=1e-5, abs=1e-6)
        gated += G >= 3 and sum(sorted(lengths)[:3]) / 3 <= 4000 and sum(correct) > 1
    assert G < 3 or gated > 10, "too few gated groups: the check would be vacuous"


# ---- the length-control methods, by hand ---------------------------------------------------------


def test_budget_kimi_alp_by_hand():
    c = torch.tensor([1, 1, 0, 0])
    # budget 15: 10 within (1), 20 beyond (0); wrong -1
    assert budget_rewards(c, t([10, 20, 5, 30]), budget=15).tolist() == [1, 0, -1, -1]
    # kimi: L_min 10, L_max 30: lam = 0.5 - (L - 10) / 20 = 0.5, 0, -0.5, 0.5
    # correct 1 + lam; wrong -1 + min(0, lam)
    assert kimi_rewards(c, t([10, 20, 30, 10]), 4).tolist() == [1.5, 1.0, -1.5, -1.0]
    assert kimi_rewards(c, t([7, 7, 7, 7]), 4).tolist() == [1, 1, -1, -1]  # one length: lam 0
    # alp: rho = 0.5, beta 0.01: price 0.01 * L * 0.5
    r = alp_rewards(c, t([10, 20, 30, 40]), 4, beta=0.01)
    assert r.tolist() == pytest.approx([0.95, 0.9, -1.15, -1.2])
    # the hardest group (rho = 1/4 <= 1/K) pays max(rho, 1/K) = 1/4 per token
    r = alp_rewards(torch.tensor([1, 0, 0, 0]), t([40, 40, 40, 40]), 4, beta=0.01)
    assert r.tolist() == pytest.approx([0.9, -1.1, -1.1, -1.1])


def test_cosine_equals_trl_on_the_same_completions():
    from trl.rewards import get_cosine_scaled_reward

    trl_fn = get_cosine_scaled_reward(max_len=100)
    completions = [[{"content": r"\boxed{\frac{1}{3}}"}], [{"content": r"\boxed{\frac{1}{2}}"}]] * 3
    solution = [r"\frac{1}{3}"] * 6
    completion_ids = [[1] * n for n in (0, 10, 50, 99, 100, 250)]
    expected = trl_fn(completions, solution, completion_ids)
    correct = torch.tensor([True, False] * 3)
    ours = cosine_rewards(correct, t([len(i) for i in completion_ids]), max_len=100)
    assert ours.tolist() == pytest.approx(expected, abs=1e-6)


def test_batch_scale_divides_by_the_batch_std():
    r = t([1, 0, 3, 1])  # groups (1, 0), (3, 1): centred 0.5, -0.5, 1, -1
    # batch sample std of (1, 0, 3, 1): mean 1.25, var (0.0625+1.5625+3.0625+0.0625)/3 = 1.5833
    std = math.sqrt(4.75 / 3)
    out = group_normalize(r, 2, std="batch", eps=0.0)
    assert out.tolist() == pytest.approx([0.5 / std, -0.5 / std, 1 / std, -1 / std])


def test_every_method_composes_with_the_penalty_and_the_weight():
    rpf = t([[1], [1], [0], [0], [1], [1], [1], [0]])
    lengths = t([10, 30, 20, 20, 15, 25, 35, 5])
    for name in ("paper", "linear", "budget", "kimi", "alp", "cosine", "none"):
        for weight in ("logistic", "none"):
            opts = PAPER.replace(length_reward=name, difficulty_weight=weight, length_budget=20.0)
            b = lead_batch_advantages(
                rpf,
                reward_weights=torch.ones(1),
                correct_index=0,
                lengths=lengths,
                group_size=4,
                options=opts,
            )
            assert torch.isfinite(b.advantages).all()
            assert b.advantages[:2].min() > b.advantages[2:4].max(), (name, weight)


def test_config_round_trips_the_options(tmp_path):
    from grpo_lead.configs import GRPOLeadConfig

    for name in ("lead", "grpo", "dler", "reference"):
        opts = preset(name)
        cfg = GRPOLeadConfig(
            output_dir=str(tmp_path), use_cpu=True, bf16=False, report_to="none",
            **GRPOLeadConfig.options_kwargs(opts),
        )  # fmt: skip
        assert cfg.lead_options() == opts, name
    assert GRPOLeadConfig.options_kwargs(preset("dler"))["scale_rewards"] == "batch"


def test_budget_method_needs_its_budget():
    with pytest.raises(ValueError, match="length_reward='budget' needs length_budget"):
        LeadOptions(length_reward="budget")
    assert preset("dler").length_budget == 4000


@pytest.mark.parametrize(
    "first", ["grpo_lead.options", "grpo_lead.advantages", "grpo_lead.advantages.registry"]
)
def test_options_and_registry_import_in_either_order(first):
    # options.py imports the registry from below; the advantages package never imports options
    import subprocess
    import sys

    code = (
        f"import {first}\n"
        "import torch\n"
        "from grpo_lead.advantages import lead_batch_advantages, length_shaped_rewards\n"
        "from grpo_lead.options import PAPER\n"
        "c, L = torch.tensor([1, 0]), torch.tensor([3.0, 4.0])\n"
        "from grpo_lead.advantages import lead_rewards\n"
        "assert torch.equal(length_shaped_rewards(c, L, 2, PAPER), lead_rewards(c, L, 2))\n"
        "kw = dict(reward_weights=torch.ones(1), correct_index=0, lengths=L, group_size=2)\n"
        "a = lead_batch_advantages(c[:, None].float(), options=PAPER, **kw).advantages\n"
        "assert a.abs().sum() > 0\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


def test_length_term_only_in_solved_groups():
    """``length_term_min_solve_rate`` (the lead-solved preset: 1.0): an all-correct group keeps
    the paper's exp(-alpha z); a group solved 3 times of 4 gets 1 for each correct answer, and its
    wrong answer keeps the explicit -1."""
    from grpo_lead.advantages import lead_rewards, length_shaped_rewards

    correct = torch.tensor([1, 1, 1, 1, 1, 1, 1, 0])
    lengths = torch.tensor([10.0, 20.0, 30.0, 40.0, 10.0, 20.0, 30.0, 5.0])
    solved = preset("lead-solved")
    assert solved == PAPER.replace(length_term_min_solve_rate=1.0)
    got = length_shaped_rewards(correct, lengths, 4, solved)
    paper = lead_rewards(correct, lengths, 4)
    assert torch.equal(got[:4], paper[:4])  # the solved group: the paper's length term
    assert not torch.equal(got[4:7], paper[4:7])
    assert got[4:].tolist() == [1.0, 1.0, 1.0, -1.0]
    # a threshold of 0.75 lets the second group's length term back in
    assert torch.equal(length_shaped_rewards(correct, lengths, 4, PAPER.replace(
        length_term_min_solve_rate=0.75)), paper)  # fmt: skip


def test_lead_dot_preset_is_lead_with_dots_cut_for_length():
    """The lead-dot preset: the paper's -1 and difficulty weight, no exp(-alpha z) term (a
    solved group's rewards are all 1), and DOT's cut at an alpha that fires at G = 8 (the
    authors' 3 cannot: the largest z in a group of 8 is 2.47)."""
    from grpo_lead.advantages import length_shaped_rewards
    from grpo_lead.advantages.dot import dot_cuts, max_z

    opts = preset("lead-dot")
    assert opts == PAPER.replace(length_reward="none", dot=True, dot_alpha=1.4, dot_margin=2.0)
    correct = torch.tensor([1] * 8 + [1, 1, 1, 1, 0, 0, 1, 1])
    lengths = torch.tensor([20.0] * 7 + [60.0] + [20.0, 30.0, 40.0, 50.0, 20.0, 20.0, 30.0, 80.0])
    rewards = length_shaped_rewards(correct, lengths, 8, opts)
    assert rewards.tolist() == [1.0] * 12 + [-1.0, -1.0] + [1.0, 1.0]
    assert opts.dot_alpha < max_z(8) < 3.0
    cut = dot_cuts(correct, lengths, 8, alpha=opts.dot_alpha, margin=opts.dot_margin)
    # the solved group's 60-token outlier is cut at int(25 + 1.4 * 14.14) = 44; the group with
    # wrong answers, 80 tokens included, is left alone
    assert cut.cut.tolist() == [False] * 7 + [True] + [False] * 8
    assert cut.lengths[7].item() == 44 and cut.eligible.tolist() == [True, False]
    assert not dot_cuts(correct, lengths, 8, alpha=3.0, margin=opts.dot_margin).cut.any()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"length_term_min_solve_rate": 1.5}, "length_term_min_solve_rate must lie in [0, 1]"),
        ({"dot_alpha": float("inf")}, "dot_alpha must be finite"),
        ({"dot_margin": -1.0}, "dot_margin must lie in [0, inf]"),
        ({"dot_success_threshold": 2.0}, "dot_success_threshold must lie in [0, 1]"),
    ],
)
def test_new_options_are_bounded(changes, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        PAPER.replace(**changes)
