"""The path verl takes after generation, with verl's own pieces: token ids -> verl's
NaiveRewardManager (decodes, calls our compute_score as `reward.custom_reward_function` loads it)
-> `assemble_rm_scores` (the score on the last response token) -> `compute_response_mask` ->
`compute_advantage` with adv_estimator=grpo_lead; checked against the pure functions on the texts.
"""

from __future__ import annotations

import string
from functools import partial

import numpy as np
import torch
from omegaconf import OmegaConf
from verl import DataProto
from verl.experimental.reward_loop.reward_manager.naive import NaiveRewardManager
from verl.trainer.ppo.ray_trainer import compute_advantage, compute_response_mask
from verl.trainer.ppo.reward import _call_with_kwargs

from grpo_lead.advantages import apply_outcome_overrides, lead_advantages, lead_rewards
from grpo_lead.integrations.verl import compute_score
from grpo_lead.toylab.model import build_tokenizer

# (uid, reference, response): shuffled groups of uneven sizes; correct answers of several lengths,
# wrong ones, a truncated one and a truncated loop
ROWS = [
    ("q1", "4", "</think>So \\boxed{4}."),
    ("q2", "9", "</think>\\boxed{9}"),
    ("q1", "4", "</think>I add them: 2+2 makes four, so \\boxed{4}."),
    ("q2", "9", "</think>\\boxed{8}"),
    ("q1", "4", "</think>\\boxed{5}"),
    ("q3", "7", "<think>3 plus 4 is"),
    ("q2", "9", "</think>Three times three: \\boxed{9}"),
    ("q3", "7", "</think>\\boxed{7}"),
    ("q3", "7", "<think>" + "and " * 30),
    ("q1", "4", "</think>Surely \\boxed{4}"),
]


def _batch(tokenizer) -> DataProto:
    prompts = [tokenizer(f"Question {uid}?")["input_ids"] for uid, _, _ in ROWS]
    responses = [tokenizer(text)["input_ids"] for _, _, text in ROWS]
    assert [tokenizer.decode(r) for r in responses] == [t for _, _, t in ROWS]  # one char a token
    p_len, r_len = max(map(len, prompts)), max(map(len, responses))
    pad = tokenizer.pad_token_id
    prompt_ids = torch.tensor([[pad] * (p_len - len(p)) + p for p in prompts])  # left-padded
    response_ids = torch.tensor([r + [pad] * (r_len - len(r)) for r in responses])  # right
    attention = torch.cat([prompt_ids != pad, response_ids != pad], dim=1).long()
    return DataProto.from_dict(
        tensors={"prompts": prompt_ids, "responses": response_ids, "attention_mask": attention},
        non_tensors={
            "uid": np.array([uid for uid, _, _ in ROWS], dtype=object),
            "data_source": np.array(["math"] * len(ROWS), dtype=object),
            "reward_model": np.array(
                [{"style": "rule", "ground_truth": ref} for _, ref, _ in ROWS], dtype=object
            ),
            "extra_info": np.array([{"index": i} for i in range(len(ROWS))], dtype=object),
        },
    )


def _expected(classes: bool) -> torch.Tensor:
    scores = torch.tensor([compute_score("math", t, ref)["score"] for _, ref, t in ROWS])
    lengths = torch.tensor([float(len(t)) for _, _, t in ROWS])
    uids = np.array([uid for uid, _, _ in ROWS])
    out = torch.zeros(len(ROWS))
    for uid in ("q1", "q2", "q3"):
        rows = torch.as_tensor(np.flatnonzero(uids == uid))
        s, g = scores[rows], len(rows)
        r = lead_rewards(s > 0, lengths[rows], g)
        if classes:
            r = apply_outcome_overrides(
                r,
                format_failure=(s == 0) | (s == -2),
                repetition=s == -2,
                format_failure_reward=0.0,
            )
        out[rows] = lead_advantages(r, s > 0, g)
    return out


def test_reward_manager_scores_feed_the_estimator():
    tokenizer = build_tokenizer(extra_chars=string.printable)
    data = _batch(tokenizer)
    manager = NaiveRewardManager(
        config=OmegaConf.create({}),
        tokenizer=tokenizer,
        compute_score=partial(
            _call_with_kwargs, compute_score, {}
        ),  # as get_custom_reward_fn wraps it
    )
    results = [
        manager.loop.run_until_complete(manager.run_single(data[i : i + 1]))
        for i in range(len(data))
    ]
    scores = [r["reward_score"] for r in results]
    assert scores == [1.0, 1.0, 1.0, -1.0, -1.0, 0.0, 1.0, 1.0, -2.0, 1.0]
    assert [r["reward_extra_info"]["acc"] for r in results] == [float(s > 0) for s in scores]

    data.batch["token_level_rewards"] = NaiveRewardManager.assemble_rm_scores(data, scores)
    data.batch["response_mask"] = compute_response_mask(data)
    for classes in (False, True):
        algorithm = OmegaConf.create(
            {"use_kl_in_reward": False, "lead": {"format_failure_reward": 0.0} if classes else {}}
        )
        out = compute_advantage(data, adv_estimator="grpo_lead", config=algorithm)
        adv, mask = out.batch["advantages"], out.batch["response_mask"]
        torch.testing.assert_close(
            adv.sum(-1) / mask.sum(-1), _expected(classes), rtol=1e-5, atol=1e-6
        )
        assert (adv[mask == 0] == 0).all()
