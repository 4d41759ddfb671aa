"""DOT (Dynamic Outlier Truncation) against the authors' own function, run verbatim
(tests/data/dot/length_truncation.py, from github U-rara/DOT), on random groups and on real
text, and from its formula: T = int(mean + alpha * stdev), cut where L - T >= m."""

from __future__ import annotations

import importlib.util
import math
import random
import statistics
import sys
import types
from pathlib import Path

import pytest
import torch

from grpo_lead.advantages.dot import dot_cuts, dot_margin_tokens, max_z

REFERENCE = Path(__file__).parent / "data" / "dot" / "length_truncation.py"


class _Data:
    """The slice of verl's DataProto the authors' function reads: ``batch`` and
    ``non_tensor_batch``."""

    def __init__(self, batch, uids):
        self.batch = batch
        self.non_tensor_batch = {"uid": uids}


@pytest.fixture
def authors_dot(monkeypatch):
    """The authors' ``apply_length_truncation`` with verl's ``compute_reward`` stood in for by
    one that calls the reward function (theirs: ``reward_fn(data)``, then the extra info)."""
    reward = types.ModuleType("verl.trainer.ppo.reward")
    reward.compute_reward = lambda data, fn: (fn(data), {})
    for name in ("verl", "verl.trainer", "verl.trainer.ppo"):
        monkeypatch.setitem(sys.modules, name, types.ModuleType(name))
    monkeypatch.setitem(sys.modules, "verl.trainer.ppo.reward", reward)
    spec = importlib.util.spec_from_file_location("dot_reference", REFERENCE)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.apply_length_truncation


def _authors_lengths(fn, correct, lengths, group_size, answer_at, **kw):
    """Run the authors' function on a batch built from (correct, lengths); the reward after a
    cut is 1 where the answer (at token answer_at[i]) is still inside the kept tokens."""
    n, width, prompt = len(lengths), max(lengths) + 3, 5
    response_mask = torch.zeros(n, width, dtype=torch.long)
    for i, length in enumerate(lengths):
        response_mask[i, :length] = 1
    attention = torch.cat([torch.ones(n, prompt, dtype=torch.long), response_mask.clone()], 1)
    rewards = torch.zeros(n, width)
    for i, (ok, length) in enumerate(zip(correct, lengths, strict=True)):
        rewards[i, length - 1] = float(ok)
    uids = [f"g{i // group_size}" for i in range(n)]

    def recompute(data):
        kept = data.batch["response_mask"].sum(1)
        out = torch.zeros(n, width)
        for i in range(n):
            out[i, max(int(kept[i]) - 1, 0)] = float(correct[i] and answer_at[i] < kept[i])
        return out

    batch = {"response_mask": response_mask, "attention_mask": attention,
             "token_level_rewards": rewards, "responses": torch.zeros(n, width, dtype=torch.long)}  # fmt: skip
    data, metrics = fn(_Data(batch, uids), recompute, **kw)
    return data.batch["response_mask"].sum(1).tolist(), metrics


def _random_batch(rng: random.Random, groups: int, group_size: int):
    correct, lengths = [], []
    for _ in range(groups):
        p = rng.choice([1.0, 1.0, 0.9, 0.5, 0.0])
        base = rng.randint(20, 400)
        for _ in range(group_size):
            correct.append(rng.random() < p)
            # mostly near the base, sometimes a long outlier (what DOT is for)
            tail = rng.randint(100, 3000) if rng.random() < 0.15 else rng.randint(0, 60)
            lengths.append(base + tail)
    return correct, lengths


@pytest.mark.parametrize("group_size", [4, 8, 16, 32])
@pytest.mark.parametrize(
    "kw",
    [
        {},  # the authors' defaults: threshold 1.0, alpha 3, m 32
        {"success_threshold": 1.0, "std_multiplier": 1.0, "min_truncation_margin": 8},
        {"success_threshold": 0.75, "std_multiplier": 0.5, "min_truncation_margin": 0.1},
        {"success_threshold": 0.5, "std_multiplier": 2.0, "min_truncation_margin": 0.05},
        {"success_threshold": 0.0, "std_multiplier": 0.0, "min_truncation_margin": 1},
    ],
)
def test_dot_cuts_equal_the_authors_function_on_random_groups(authors_dot, group_size, kw):
    rng = random.Random(f"{group_size}-{kw}")
    fired = 0
    for _ in range(40):
        correct, lengths = _random_batch(rng, groups=6, group_size=group_size)
        answer_at = [rng.randint(0, n - 1) for n in lengths]
        theirs, _ = _authors_lengths(authors_dot, correct, lengths, group_size, answer_at, **kw)
        ours = dot_cuts(
            torch.tensor(correct), torch.tensor(lengths), group_size,
            success_threshold=kw.get("success_threshold", 1.0),
            alpha=kw.get("std_multiplier", 3.0), margin=kw.get("min_truncation_margin", 32),
        )  # fmt: skip
        assert ours.lengths.tolist() == theirs
        assert ours.tokens_cut == sum(lengths) - sum(theirs)
        fired += int(ours.cut.any())
    if kw.get("std_multiplier", 3.0) < max_z(group_size):
        assert fired, "no batch was cut: the test would not tell anything apart"


def test_dot_never_fires_when_alpha_is_above_the_group_bound():
    """At G = 8 no completion lies 2.47 sample stds above its group's mean: alpha 3 never cuts,
    even one huge outlier among seven short answers (it sits exactly at the bound)."""
    assert max_z(8) == pytest.approx(7 / math.sqrt(8))
    lengths = torch.tensor([10] * 7 + [5000])
    z = (5000 - statistics.mean(lengths.tolist())) / statistics.stdev(lengths.tolist())
    assert z == pytest.approx(max_z(8))
    assert not dot_cuts(torch.ones(8, dtype=torch.bool), lengths, 8).cut.any()
    cut = dot_cuts(torch.ones(8, dtype=torch.bool), lengths, 8, alpha=2.0)
    assert cut.cut.tolist() == [False] * 7 + [True]
    mean, std = statistics.mean(lengths.tolist()), statistics.stdev(lengths.tolist())
    assert cut.lengths[-1].item() == int(mean + 2.0 * std)


def test_dot_formula_by_hand():
    # one all-correct group and one mixed group of 4; alpha 1, m 5
    lengths = torch.tensor([10, 10, 10, 30, 10, 10, 10, 30])
    correct = torch.tensor([True] * 4 + [True, False, True, True])
    out = dot_cuts(correct, lengths, 4, alpha=1.0, margin=5)
    t = int(15 + 1.0 * 10)  # mean 15, sample std 10
    assert out.threshold[0].item() == t == 25
    assert out.lengths.tolist() == [10, 10, 10, 25, 10, 10, 10, 30]  # mixed group untouched
    assert out.eligible.tolist() == [True, False]
    assert out.tokens_cut == 5
    # the margin: 30 - 25 = 5 >= m only when m <= 5
    assert not dot_cuts(correct, lengths, 4, alpha=1.0, margin=6).cut.any()
    # a fractional margin is a share of L, at least 16 tokens
    assert dot_margin_tokens(30, 0.1) == 16 and dot_margin_tokens(1000, 0.1) == 100
    assert dot_margin_tokens(1000, 32) == 32


def test_dot_on_real_text_breaks_the_answer_it_cuts(authors_dot):
    """Real answers, tokenized by SmolLM2's byte-level tokenizer stand-in (characters here):
    a verbose outlier in an all-correct group is cut before its box, so its reward recomputed
    on the cut text is 0 in both implementations."""
    from grpo_lead.answers import verify_answer

    short = "<think>3+4=7</think>\n\\boxed{7}"
    long = "<think>3+4=7\nSo 3+4=7.\nLet me check: 3 and 4 make 7. Yes, 7. Check again: 7.</think>\n\\boxed{7}"
    texts = [short] * 7 + [long]
    lengths = [len(t) for t in texts]
    correct = [verify_answer(t, "7").correct for t in texts]
    assert all(correct)
    answer_at = [t.index("\\boxed") for t in texts]
    theirs, metrics = _authors_lengths(
        authors_dot, correct, lengths, 8, answer_at, std_multiplier=2.0, min_truncation_margin=8
    )
    ours = dot_cuts(torch.tensor(correct), torch.tensor(lengths), 8, alpha=2.0, margin=8)
    assert ours.lengths.tolist() == theirs
    cut_text = long[: ours.lengths[-1]]
    assert not verify_answer(cut_text, "7").correct
    assert metrics["truncation/broken_answer_ratio"] == pytest.approx(1 / 8)
