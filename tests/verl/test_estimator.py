"""verl's own `compute_advantage` with adv_estimator=grpo_lead equals grpo-lead's pure functions.

Batches are built as verl's trainer builds them: a `DataProto` whose rows are shuffled groups of
uneven sizes (uid in ``non_tensor_batch``), right-padded responses, the score on the last
response token; the ``algorithm`` config is composed from verl's own ``ppo_trainer.yaml`` with the
command-line overrides a user types (``+algorithm.lead.alpha=...``). The expected values are
computed group by group with the lower-level pure functions (`lead_rewards`, `lead_advantages`,
`apply_outcome_overrides`, `group_filter_mask`), not through the estimator's own code path.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch
import verl
from hydra import compose, initialize_config_dir
from verl import DataProto
from verl.trainer.ppo.ray_trainer import compute_advantage

from grpo_lead.advantages import (
    apply_outcome_overrides,
    group_filter_mask,
    group_normalize,
    lead_advantages,
    lead_rewards,
    logistic_difficulty_weight,
    solve_rate,
)

CONFIG_DIR = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
SIZES = (8, 3, 8, 5, 2, 8, 1)  # uneven, one lone answer
CODES = torch.tensor([1.0, -1.0, 0.0, -2.0])  # compute_score's outcome codes


@pytest.fixture(scope="module")
def algorithm():
    """verl's composed `algorithm` section for a list of command-line overrides."""
    with initialize_config_dir(config_dir=CONFIG_DIR, version_base=None):

        def make(*overrides: str):
            cfg = compose(
                config_name="ppo_trainer",
                overrides=["algorithm.adv_estimator=grpo_lead", *overrides],
            )
            return cfg.algorithm

        yield make


def make_batch(seed: int, sizes=SIZES, max_len: int = 12, codes=CODES):
    """Shuffled uneven groups: (DataProto, scores (N,), lengths (N,), uids (N,))."""
    g = torch.Generator().manual_seed(seed)
    uids = np.array([f"q{i}" for i, n in enumerate(sizes) for _ in range(n)], dtype=object)
    n = len(uids)
    scores = codes[torch.randint(len(codes), (n,), generator=g)]
    first = np.flatnonzero(uids == "q0")  # one all-correct group with a length signal
    scores[first] = 1.0
    lengths = torch.randint(1, max_len + 1, (n,), generator=g)
    perm = torch.randperm(n, generator=g)
    uids, scores, lengths = uids[perm.numpy()], scores[perm], lengths[perm]
    mask = (torch.arange(max_len).unsqueeze(0) < lengths.unsqueeze(1)).float()  # right-padded
    rewards = torch.zeros(n, max_len)
    rewards[torch.arange(n), lengths - 1] = scores  # verl: the score on the last response token
    data = DataProto.from_dict(
        tensors={"token_level_rewards": rewards, "response_mask": mask},
        non_tensors={"uid": uids},
    )
    return data, scores, lengths.float(), uids


def expected(scores, lengths, uids, *, classes=False, group_filter=False, scale="group", **kw):
    """Group by group with the pure functions (paper defaults unless given in kw)."""
    weight = {k: kw[k] for k in ("A", "B", "k", "x0") if k in kw}
    out = torch.zeros_like(scores)
    for uid in dict.fromkeys(uids.tolist()):
        rows = torch.as_tensor(np.flatnonzero(uids == uid))
        s, size = scores[rows], len(rows)
        correct = s > 0
        r = lead_rewards(
            correct,
            lengths[rows],
            size,
            alpha=kw.get("alpha", 0.05),
            incorrect_reward=kw.get("incorrect_reward", -1.0),
        )
        if classes:
            rep = s == -2.0
            r = apply_outcome_overrides(
                r,
                format_failure=(s == 0.0) | rep,
                repetition=rep,
                format_failure_reward=kw["format_failure_reward"],
                repetition_reward=kw.get("repetition_reward", -2.0),
            )
        if scale == "group":
            a = lead_advantages(r, correct, size, **weight)
        else:  # centred, not divided by the std, then the same weight
            base = group_normalize(r, size, std="none")
            a = logistic_difficulty_weight(base, solve_rate(correct, size), size, **weight)
        if group_filter:
            a = a * group_filter_mask(r, size)
        out[rows] = a
    return out


CASES = {
    "paper defaults": ((), {}),
    "reference code: classes and group filter": (
        ("+algorithm.lead.format_failure_reward=0.0", "+algorithm.lead.group_filter=true"),
        {"classes": True, "group_filter": True, "format_failure_reward": 0.0},
    ),
    "stage 2 repetition -1.5, other weights": (
        (
            "+algorithm.lead.format_failure_reward=0.0",
            "+algorithm.lead.repetition_reward=-1.5",
            "+algorithm.lead.alpha=0.2",
            "+algorithm.lead.weight_a=0.3",
            "+algorithm.lead.weight_x0=0.5",
        ),
        {
            "classes": True,
            "format_failure_reward": 0.0,
            "repetition_reward": -1.5,
            "alpha": 0.2,
            "A": 0.3,
            "x0": 0.5,
        },
    ),
    "no std (verl's norm_adv_by_std_in_grpo=False)": (
        ("algorithm.norm_adv_by_std_in_grpo=false",),
        {"scale": "none"},
    ),
}


@pytest.mark.parametrize("case", list(CASES))
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_compute_advantage_equals_the_pure_functions_group_by_group(algorithm, case, seed):
    overrides, kw = CASES[case]
    data, scores, lengths, uids = make_batch(seed)
    out = compute_advantage(data, adv_estimator="grpo_lead", config=algorithm(*overrides))
    adv = out.batch["advantages"]
    mask = out.batch["response_mask"]
    scalar = adv.sum(-1) / mask.sum(-1)
    torch.testing.assert_close(scalar, expected(scores, lengths, uids, **kw), rtol=1e-5, atol=1e-6)
    assert scalar.abs().sum() > 0  # something trains


def test_advantage_is_broadcast_over_response_tokens_and_masked(algorithm):
    data, scores, lengths, uids = make_batch(3)
    out = compute_advantage(data, adv_estimator="grpo_lead", config=algorithm())
    adv, ret, mask = out.batch["advantages"], out.batch["returns"], out.batch["response_mask"]
    assert adv.shape == mask.shape
    torch.testing.assert_close(ret, adv)
    assert (adv[mask == 0] == 0).all()  # padding gets nothing
    first = adv[:, :1]  # every response starts at token 0 (right padding)
    torch.testing.assert_close(adv, first * mask)  # one value per row, on each response token
    lone = torch.as_tensor(uids == "q6")  # the group of one answer: no baseline, advantage 0
    assert (adv[lone] == 0).all()


def test_plain_grpo_options_reproduce_verls_own_grpo(algorithm):
    # LEAD with every mechanism off is GRPO: same sample std and eps as verl's estimator
    # (verl gives a lone answer its score, LEAD 0: groups of one are left out here).
    sizes = (8, 3, 8, 5, 2)
    off = (
        "+algorithm.lead.length_reward=none",
        "+algorithm.lead.incorrect_reward=0.0",
        "+algorithm.lead.difficulty_weight=none",
    )
    data, *_ = make_batch(4, sizes=sizes, codes=torch.tensor([1.0, 0.0]))
    grpo = compute_advantage(data, adv_estimator="grpo", config=algorithm())
    grpo_adv = grpo.batch["advantages"].clone()
    data, *_ = make_batch(4, sizes=sizes, codes=torch.tensor([1.0, 0.0]))
    lead = compute_advantage(data, adv_estimator="grpo_lead", config=algorithm(*off))
    torch.testing.assert_close(lead.batch["advantages"], grpo_adv)


def test_row_order_does_not_matter(algorithm):
    data, *_ = make_batch(5)
    base = compute_advantage(data, adv_estimator="grpo_lead", config=algorithm())
    base_adv = base.batch["advantages"].clone()
    perm = torch.randperm(len(data), generator=torch.Generator().manual_seed(0))
    shuffled = DataProto.from_dict(
        tensors={k: data.batch[k][perm] for k in ("token_level_rewards", "response_mask")},
        non_tensors={"uid": data.non_tensor_batch["uid"][perm.numpy()]},
    )
    out = compute_advantage(shuffled, adv_estimator="grpo_lead", config=algorithm())
    torch.testing.assert_close(out.batch["advantages"], base_adv[perm])


def test_hand_computed_group():
    # One group, G = 4: two correct answers of 10 and 20 tokens, two wrong.
    # lead_rewards: mu = 15, sigma = 7.071 (n - 1), z = -/+0.7071 -> exp(+/-0.05 * 0.7071)
    # = 1.0360, 0.9653; wrong -1. rho = 0.5; w(0.5) = 0.4 + 1.1 / (1 + e^-2.5) = 1.4169.
    from grpo_lead.integrations.verl import lead_advantages_by_index
    from grpo_lead.options import LeadOptions

    r = torch.tensor([1.0360, 0.9653, -1.0, -1.0])
    base = (r - r.mean()) / (r.std() + 1e-6)
    want = base * 1.4169
    got = lead_advantages_by_index(
        torch.tensor([1.0, 1.0, -1.0, -1.0]),
        torch.tensor([10.0, 20.0, 5.0, 5.0]),
        np.array(["a"] * 4, dtype=object),
        LeadOptions(),
    )
    torch.testing.assert_close(got, want, rtol=2e-4, atol=2e-4)


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        (("+algorithm.lead.alpah=0.1",), "algorithm.lead: unknown LEAD option(s) ['alpah']"),
        (("+algorithm.lead.alpha=20",), "algorithm.lead: alpha must lie in [0, 10]"),
        (("+algorithm.lead.length_reward=short",), "algorithm.lead: length_reward must be one of"),
        (("+algorithm.lead.scale=batch",), "scale=batch needs groups of one size, got sizes [1, 2"),
        (("algorithm.use_kl_in_reward=true",), "set algorithm.use_kl_in_reward=False"),
    ],
)
def test_bad_options_are_refused_with_the_key_named(algorithm, overrides, message):
    data, *_ = make_batch(0)
    with pytest.raises(ValueError) as info:
        compute_advantage(data, adv_estimator="grpo_lead", config=algorithm(*overrides))
    assert message in str(info.value)


def test_missing_uid_is_an_error():
    from verl.trainer.ppo.core_algos import get_adv_estimator_fn

    fn = get_adv_estimator_fn("grpo_lead")
    with pytest.raises(ValueError, match="prompt uid"):
        fn(token_level_rewards=torch.zeros(2, 3), response_mask=torch.ones(2, 3), config=None)


def test_batch_scale_with_groups_of_one_size(algorithm):
    # DLER's batch-wise normalisation: one std over the whole batch, so all groups in one call
    sizes = (4, 4, 4, 4)
    data, scores, lengths, uids = make_batch(6, sizes=sizes)
    out = compute_advantage(
        data, adv_estimator="grpo_lead", config=algorithm("+algorithm.lead.scale=batch")
    )
    scalar = out.batch["advantages"].sum(-1) / out.batch["response_mask"].sum(-1)
    order = torch.as_tensor(np.argsort(uids.astype(str), kind="stable"))  # group by group
    s, n = scores[order], 4
    correct = s > 0
    r = lead_rewards(correct, lengths[order], n)
    base = group_normalize(r, n, std="batch")
    want = logistic_difficulty_weight(base, solve_rate(correct, n), n)
    torch.testing.assert_close(scalar[order], want, rtol=1e-5, atol=1e-6)
    # ... which differs from the per-group std
    assert not torch.allclose(want, lead_advantages(r, correct, n), atol=1e-3)
