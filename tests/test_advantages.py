"""LEAD's group math: hand-computed values, a loop reference against the vectorised code,
exhaustive small groups and property tests."""

from __future__ import annotations

import doctest
import importlib
import itertools
import math
import statistics

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from grpo_lead import advantages as adv
from grpo_lead.advantages import (
    DIFFICULTY_WEIGHTS,
    LENGTH_REWARDS,
    apply_outcome_overrides,
    article_advantages,
    article_rewards,
    difficulty_weighted_advantages,
    group_filter_mask,
    group_normalize,
    lead_advantages,
    lead_rewards,
    length_shaped_rewards,
    logistic_weight,
    register_length_reward,
    solve_rate,
)
from grpo_lead.options import PAPER, preset

MODULES = ("groups", "paper", "article", "outcomes", "length_methods", "registry", "batch")


def t(x):
    return torch.tensor(x, dtype=torch.float64)


def w(x, A=0.4, B=1.5, k=10.0, x0=0.75):
    return A + (B - A) / (1 + math.exp(k * (x - x0)))


@pytest.mark.parametrize("module", MODULES)
def test_doctests(module):
    assert doctest.testmod(importlib.import_module(f"grpo_lead.advantages.{module}")).failed == 0


def test_the_package_re_exports_every_public_name_of_its_modules():
    # the package was one module: `from grpo_lead.advantages import X` keeps working for every X
    for module in MODULES:
        for name in importlib.import_module(f"grpo_lead.advantages.{module}").__all__:
            assert name in adv.__all__ or name.isupper(), (module, name)


@pytest.mark.parametrize(
    "x, expected",
    # LEAD.md's table: w(0)=1.499, w(0.25)=1.493, w(0.5)=1.417, w(0.75)=0.950, w(0.875)=0.645, w(1)=0.483
    [(0.0, 1.499), (0.25, 1.493), (0.5, 1.417), (0.75, 0.950), (0.875, 0.645), (1.0, 0.483)],
)
def test_logistic_weight_table(x, expected):
    assert logistic_weight(t([x])).item() == pytest.approx(expected, abs=5e-4)


def test_worked_group_rewards_and_advantages():
    # G = 4: three correct answers of 10, 20, 30 tokens, one wrong of 40.
    # mu = 20, sample sigma = sqrt((100 + 0 + 100) / 2) = 10, z = (-1, 0, 1)
    # R = (e^0.05, 1, e^-0.05, -1)
    r = lead_rewards(t([1, 1, 1, 0]), t([10, 20, 30, 40]), 4)
    expected_r = [math.exp(0.05), 1.0, math.exp(-0.05), -1.0]
    assert r.tolist() == pytest.approx(expected_r, abs=1e-6)
    # base advantage: (R - mean) / (sample std + 1e-6); rho = 3/4
    mean = sum(expected_r) / 4
    sd = math.sqrt(sum((x - mean) ** 2 for x in expected_r) / 3)
    base = [(x - mean) / (sd + 1e-6) for x in expected_r]
    # positive advantages scale by w(rho) = w(0.75) = 0.95, negative by w(1 - rho) = w(0.25)
    expected_a = [b * w(0.75) if b > 0 else b * w(0.25) for b in base]
    a = lead_advantages(r, t([1, 1, 1, 0]), 4)
    assert a.tolist() == pytest.approx(expected_a, abs=1e-6)
    assert a[3].item() == pytest.approx(-1.498751 * 1.492608, abs=1e-4)


def test_lone_correct_answer_gets_one_and_sigma_is_one():
    # one correct answer: sigma := 1, z = 0, R = exp(0) = 1, whatever its length
    r = lead_rewards(t([0, 1, 0, 0]), t([5, 999, 7, 9]), 4)
    assert r.tolist() == [-1.0, 1.0, -1.0, -1.0]


def test_equal_lengths_all_correct_no_signal():
    r = lead_rewards(t([1, 1, 1]), t([12, 12, 12]), 3)
    assert r.tolist() == pytest.approx([1.0, 1.0, 1.0], abs=1e-9)
    assert lead_advantages(r, t([1, 1, 1]), 3).abs().max().item() == 0.0


def test_all_wrong_is_zero_advantage():
    r = lead_rewards(t([0, 0, 0, 0]), t([1, 2, 3, 4]), 4)
    assert r.tolist() == [-1.0] * 4
    assert lead_advantages(r, t([0, 0, 0, 0]), 4).tolist() == [0.0] * 4


def test_group_of_one_is_finite_zero():
    r = lead_rewards(t([1, 0]), t([3, 4]), 1)
    assert r.tolist() == [1.0, -1.0]
    assert lead_advantages(r, t([1, 0]), 1).tolist() == [0.0, 0.0]


def test_wrong_answer_never_positive_in_mostly_wrong_group():
    # Plain GRPO with 0/1 rewards already gives wrong answers negative advantages, but with
    # shaping that lowers correct rewards a wrong answer must still stay below every correct one.
    r = lead_rewards(t([1, 0, 0, 0, 0, 0, 0, 0]), t([50, 1, 2, 3, 4, 5, 6, 7]), 8)
    a = lead_advantages(r, t([1, 0, 0, 0, 0, 0, 0, 0]), 8)
    assert a[0] > 0 and (a[1:] < 0).all()


def test_hard_question_pushes_correct_harder_than_easy():
    # one correct out of 4 (rho = .25) vs three out of 4 (rho = .75): the correct answer's
    # advantage is scaled by w(.25) = 1.49 vs w(.75) = 0.95
    hard = lead_advantages(t([1, -1, -1, -1]), t([1, 0, 0, 0]), 4)
    easy = lead_advantages(t([-1, 1, 1, 1]), t([0, 1, 1, 1]), 4)
    base = group_normalize(t([1, -1, -1, -1]), 4)
    assert hard[0].item() == pytest.approx(base[0].item() * w(0.25), abs=1e-9)
    # wrong answer on an easy question: pushed down by w(1 - .75) = w(.25)
    assert easy[0].item() == pytest.approx(-base[0].item() * w(0.25), abs=1e-9)


def test_group_normalize_conventions():
    # rewards (0, 2): mean 1, sample std sqrt(2), population std 1
    assert group_normalize(t([0, 2]), 2).tolist() == pytest.approx(
        [-1 / (math.sqrt(2) + 1e-6), 1 / (math.sqrt(2) + 1e-6)], abs=1e-9
    )
    assert group_normalize(t([0, 2]), 2, std="population", eps=0).tolist() == [-1.0, 1.0]
    assert group_normalize(t([0, 2]), 2, std="none").tolist() == [-1.0, 1.0]
    with pytest.raises(ValueError, match="std must be"):
        group_normalize(t([0, 2]), 2, std="unbiased")


def test_shape_errors_name_the_argument():
    with pytest.raises(ValueError, match="correct has 3 rows, not a multiple of group_size=2"):
        solve_rate(t([1, 0, 1]), 2)
    with pytest.raises(ValueError, match="group_size must be >= 1"):
        solve_rate(t([1]), 0)
    with pytest.raises(ValueError, match="flat 1-D"):
        group_normalize(torch.zeros(2, 2), 2)


def test_article_forms():
    # correct of 200 tokens: 3 - 0.1 * 200 / 200 = 2.9; wrong: -1 - 1 = -2
    r = article_rewards(t([1, 0]), t([200, 50]))
    assert r.tolist() == pytest.approx([2.9, -2.0])
    # population std of (2.9, -2) is 2.45; d = 1 - 1/2 = .5, weight 1.5
    a = article_advantages(r, t([1, 0]), 2)
    assert a.tolist() == pytest.approx([1.5, -1.5], abs=1e-6)


def test_outcome_overrides():
    r = apply_outcome_overrides(
        t([1.0, -1.0, 1.0, -1.0]),
        format_failure=t([0, 1, 1, 0]),
        repetition=t([1, 0, 1, 0]),
    )
    # row 0: repetition without a format failure stays; row 1: truncated -> 0; row 2: -> -2
    assert r.tolist() == [1.0, 0.0, -2.0, -1.0]


def test_group_filter_mask():
    rewards = t([-1, -1, 0, 0, 1, 1, 1, 1, 1.05, 0.95, 1, 1, 1, -1, -1, -1])
    keep = group_filter_mask(rewards, 4)
    # groups: all <= 0 (drop); all exactly 1 (drop); all correct with length signal (keep); mixed
    assert keep.tolist() == [False] * 4 + [False] * 4 + [True] * 4 + [True] * 4


def test_registry_refuses_duplicates_and_dispatches():
    assert set(LENGTH_REWARDS) >= {"paper", "linear", "none"}
    assert set(DIFFICULTY_WEIGHTS) >= {"logistic", "linear", "none"}
    with pytest.raises(ValueError, match="already registered"):
        register_length_reward("paper")(lambda *a, **k: None)
    c, lengths = t([1, 1, 0, 0]), t([10, 20, 5, 5])
    assert torch.equal(length_shaped_rewards(c, lengths, 4, PAPER), lead_rewards(c, lengths, 4))
    # linear: correct 1 - 0.1 * L / 200
    lin = length_shaped_rewards(c, lengths, 4, preset("article"))
    assert lin.tolist() == pytest.approx([1 - 0.1 * 10 / 200, 1 - 0.1 * 20 / 200, -1, -1])
    assert length_shaped_rewards(c, lengths, 4, preset("grpo")).tolist() == [1, 1, 0, 0]


# ---- a loop reference, as the paper writes it, against the vectorised code --------------------


def loop_reference(correct, lengths, G, alpha=0.05, eps=1e-6):
    rewards, advs = [], []
    for g in range(0, len(correct), G):
        c, L = correct[g : g + G], lengths[g : g + G]
        cl = [x for x, ok in zip(L, c) if ok]
        mu = statistics.fmean(cl) if cl else 0.0
        sigma = statistics.stdev(cl) if len(cl) > 1 else 1.0
        r = [math.exp(-alpha * (x - mu) / (sigma + eps)) if ok else -1.0 for x, ok in zip(L, c)]
        m = statistics.fmean(r)
        sd = statistics.stdev(r) if G > 1 else 0.0
        rho = sum(c) / G
        for x in r:
            a = (x - m) / (sd + eps)
            advs.append(a * w(rho) if a > 0 else a * w(1 - rho))
        rewards += r
    return rewards, advs


@settings(max_examples=200, deadline=None)
@given(
    G=st.integers(1, 8),
    groups=st.integers(1, 4),
    data=st.data(),
)
def test_vectorised_matches_loop(G, groups, data):
    n = G * groups
    correct = data.draw(st.lists(st.booleans(), min_size=n, max_size=n))
    lengths = data.draw(st.lists(st.integers(1, 4000), min_size=n, max_size=n))
    ref_r, ref_a = loop_reference(correct, lengths, G)
    r = lead_rewards(torch.tensor(correct), t(lengths), G)
    a = lead_advantages(r, torch.tensor(correct), G)
    assert r.tolist() == pytest.approx(ref_r, abs=1e-6)
    assert a.tolist() == pytest.approx(ref_a, abs=1e-6)


@pytest.mark.parametrize("G", [1, 2, 3, 4, 5])
def test_exhaustive_small_groups_are_safe(G):
    """Every correctness pattern x a few length patterns x every weighting: finite values, zero
    advantage where a group has no signal, correct answers never below wrong ones."""
    length_patterns = [[7] * G, list(range(1, G + 1)), list(range(G, 0, -1))]
    for pattern in itertools.product([0, 1], repeat=G):
        c = torch.tensor(pattern)
        for L in length_patterns:
            for lname in LENGTH_REWARDS:
                opts = PAPER.replace(length_reward=lname, length_budget=G / 2 + 1)
                r = length_shaped_rewards(c, t(L), G, opts)
                assert torch.isfinite(r).all()
                for wname in DIFFICULTY_WEIGHTS:
                    w_opts = opts.replace(difficulty_weight=wname)
                    a = difficulty_weighted_advantages(
                        group_normalize(r, G), solve_rate(c, G), G, w_opts
                    )
                    assert torch.isfinite(a).all(), (lname, wname, pattern, L)
                    if torch.all(r == r[0]):
                        assert a.abs().max().item() == 0.0
                    if 0 < sum(pattern) < G:
                        assert a[c.bool()].min() > a[~c.bool()].max()


@settings(max_examples=100, deadline=None)
@given(
    rewards=st.lists(st.floats(-5, 5, allow_nan=False), min_size=8, max_size=8),
    correct=st.lists(st.booleans(), min_size=8, max_size=8),
)
def test_weight_preserves_sign_and_bounds(rewards, correct):
    base = group_normalize(t(rewards), 4)
    a = lead_advantages(t(rewards), torch.tensor(correct), 4)
    assert torch.equal(torch.sign(a), torch.sign(base))
    # |A'| / |A| lies within [A, B] = [0.4, 1.5]
    nz = base.abs() > 1e-9
    ratio = (a[nz] / base[nz]).abs()
    assert ((ratio >= 0.4 - 1e-9) & (ratio <= 1.5 + 1e-9)).all()
