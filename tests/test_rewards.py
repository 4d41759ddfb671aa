"""TRL reward functions: values, the TRL contract (extra kwargs, conversations, pickling)."""

from __future__ import annotations

import doctest
import math
import pickle

import pytest

from grpo_lead import rewards as R
from grpo_lead.rewards import (
    REWARDS,
    accuracy_reward,
    difficulty_aware_reward,
    format_reward,
    get_length_scaled_accuracy_reward,
    get_reward,
    grpo_lead_reward,
    has_degenerate_repetition,
    outcome_reward,
    reasoning_quality_reward,
)

TRL_KWARGS = {"trainer_state": None, "log_extra": lambda *a: None, "log_metric": lambda *a: None}


def test_doctests():
    assert doctest.testmod(R).failed == 0


@pytest.mark.parametrize("name", sorted(REWARDS))
def test_contract_extra_kwargs_conversations_pickle(name):
    fn = get_reward(name)
    conv = [[{"role": "assistant", "content": "<think>1+1=2</think> \\boxed{2}"}]] * 2
    out = fn(
        prompts=[[{"role": "user", "content": "1+1?"}]] * 2,
        completions=conv,
        completion_ids=[[1, 2, 3], [1, 2, 3]],
        answer=["2", "2"],
        unrelated_column=["x", "y"],
        **TRL_KWARGS,
    )
    assert len(out) == 2 and all(v is None or math.isfinite(v) for v in out)
    assert pickle.loads(pickle.dumps(fn)).__name__ == fn.__name__


def test_unknown_reward_lists_names():
    with pytest.raises(ValueError, match=r"unknown reward 'acc'; known: (\w+, )*accuracy, "):
        get_reward("acc")


def test_accuracy_reads_answer_solution_or_ground_truth():
    comps = ["\\boxed{4}", "\\boxed{5}"]
    assert accuracy_reward(comps, answer=["4", "4"]) == [1.0, 0.0]
    assert accuracy_reward(comps, solution=["4", "5"]) == [1.0, 1.0]
    assert accuracy_reward(comps, ground_truth=["5", "5"]) == [0.0, 1.0]
    assert accuracy_reward(comps, answer=[None, "5"]) == [None, 1.0]
    with pytest.raises(ValueError, match="no 'answer' column"):
        accuracy_reward(comps)


def test_format_reward_cases():
    assert format_reward(
        [
            "<think>reason</think>\\boxed{1}",  # ok
            "reason</think> the answer is 1",  # opening tag in the prompt: ok
            "<think></think>\\boxed{1}",  # empty reasoning
            "<think>a</think>",  # nothing after
            "<think>a</think>x</think>y",  # two closing tags
            "<think>a <think> b</think>1",  # nested opening
            "\\boxed{1}",  # no reasoning section
        ]
    ) == [1.0, 1.0, 0.0, 0.0, 0.0, 0.0, 0.0]


def test_reasoning_quality():
    good = "<think>3+4=7.\nThen 7*2=14.</think>\\boxed{14}"
    loop = "<think>" + "add one. " * 20 + "</think>\\boxed{1}"
    assert reasoning_quality_reward([good, loop, "\\boxed{1}"]) == [1.0, 0.25, 0.0]


def test_degenerate_repetition():
    assert has_degenerate_repetition("so so so so so so so so so so")
    assert not has_degenerate_repetition("so " * 9)
    assert has_degenerate_repetition("x" * 120)
    assert not has_degenerate_repetition(
        "1+" * 30
    )  # one 60-char word: the reference does not flag it
    assert not has_degenerate_repetition("First add 3 and 4, then double: 14.")


def test_article_rewards_as_written():
    comps = ["<think>x</think>\\boxed{4}", "\\boxed{3}", "\\boxed{4}", "\\boxed{4}"]
    # correct: 3.0 - 0.1 * len / 200 (characters)
    got = grpo_lead_reward(comps, answer=["4"] * 4)
    assert got[0] == pytest.approx(3.0 - 0.1 * len(comps[0]) / 200)
    assert got[1] == -2.0
    # one group of 4 (no prompts): 3 correct, d = 1/4, weight 1.25
    assert difficulty_aware_reward(comps, answer=["4"] * 4) == [3.75, -1.25, 3.75, 3.75]
    # two groups by prompt: group a (1 of 2 correct, weight 1.5), group b (2 of 2, weight 1)
    assert difficulty_aware_reward(comps, prompts=["a", "a", "b", "b"], answer=["4"] * 4) == [
        4.5, -1.5, 3.0, 3.0,
    ]  # fmt: skip


def test_length_scaled_accuracy_matches_lead_rewards():
    fn = get_length_scaled_accuracy_reward(alpha=0.05)
    comps = ["\\boxed{4}"] * 3 + ["\\boxed{9}"]
    ids = [[0] * 10, [0] * 20, [0] * 30, [0] * 40]
    got = fn(comps, prompts=["p"] * 4, completion_ids=ids, answer=["4"] * 4)
    # lengths of the correct ones 10, 20, 30: mu 20, sample sigma 10, z = -1, 0, 1
    assert got == pytest.approx([math.exp(0.05), 1.0, math.exp(-0.05), -1.0], abs=1e-6)
    assert fn.__name__ == "length_scaled_accuracy_reward"
    with pytest.raises(ValueError, match="alpha must be >= 0"):
        get_length_scaled_accuracy_reward(alpha=-1)


def test_outcome_classes():
    comps = [
        "<think>ok</think>\\boxed{4}",  # correct
        "<think>ok</think>\\boxed{5}",  # wrong
        "<think>still thinking and then cut",  # truncated: 0
        "<think>" + "again " * 30,  # truncated and repeating: -2
    ]
    assert outcome_reward(comps, answer=["4"] * 4) == [1.0, -1.0, 0.0, -2.0]


def test_extraction_lenient_reaches_every_checking_reward(tmp_path):
    from grpo_lead.configs import GRPOLeadConfig
    from grpo_lead.rewards import CHECKING_REWARDS, WithExtraction

    sentence = ["2 times 3 equals 6."]  # SmolLM2's reply: no box, no marker (issue 23)
    args = GRPOLeadConfig(output_dir=str(tmp_path), bf16=False, extraction="lenient")
    for name in sorted(CHECKING_REWARDS):
        strict, lenient = get_reward(name), get_reward(name, args)
        assert isinstance(lenient, WithExtraction) and lenient.__name__ == strict.__name__
        kwargs = {"prompts": ["p"], "completion_ids": [[1, 2]], "answer": ["6"], **TRL_KWARGS}
        assert strict(completions=sentence, **kwargs) != lenient(completions=sentence, **kwargs)
        assert pickle.loads(pickle.dumps(lenient)).__name__ == strict.__name__
    assert accuracy_reward(sentence, answer=["6"], extraction="lenient") == [1.0]
    assert get_reward("format", args) is format_reward  # reads no answer
    assert get_reward("accuracy", GRPOLeadConfig(output_dir=str(tmp_path), bf16=False)) is (
        accuracy_reward
    )
    with pytest.raises(ValueError, match="extraction must be 'strict' or 'lenient'"):
        GRPOLeadConfig(output_dir=str(tmp_path), bf16=False, extraction="loose")
