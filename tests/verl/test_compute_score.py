"""`compute_score` for verl: the answer-checker table, the outcome classes, verl's loader."""

from __future__ import annotations

import os

import pytest
import verl
from checker_cases import CASES, XFAIL_CASES
from hydra import compose, initialize_config_dir

from grpo_lead.integrations.verl import OUTCOME_CODES, compute_score


def expected_score(output: str, verdict: str) -> float:
    # A reasoning block opened and never closed is a format failure (truncated) whatever its box
    # says (none of the table's truncated outputs repeats itself); otherwise the checker decides.
    if "<think>" in output and "</think>" not in output:
        return OUTCOME_CODES["format_failure"]
    return OUTCOME_CODES["correct"] if verdict == "match" else OUTCOME_CODES["wrong"]


@pytest.mark.parametrize(("reference", "output", "verdict"), CASES + XFAIL_CASES)
def test_checker_table(reference, output, verdict):
    result = compute_score("math", output, reference, extra_info={"index": 0})
    want = expected_score(output, verdict)
    assert result["score"] == want
    assert result["acc"] == float(want > 0)
    assert isinstance(result["pred"], str)


@pytest.mark.parametrize(
    ("output", "score", "pred"),
    [
        ("<think>2+2=4</think> So $\\boxed{4}$.", 1.0, "4"),
        ("<think>2+2=5</think> So $\\boxed{5}$.", -1.0, "5"),
        ("<think>2+2 is, let me think about it", 0.0, ""),  # truncated: format failure
        ("<think>" + "and again " * 40, -2.0, ""),  # truncated in a loop: repetition
        ("", -1.0, ""),  # an empty response is a wrong answer
    ],
)
def test_outcome_classes(output, score, pred):
    assert compute_score("math", output, "4") == {
        "score": score,
        "acc": float(score > 0),
        "pred": pred,
    }


def test_ground_truth_may_be_a_number():
    assert compute_score("aime", "\\boxed{73}", 73)["score"] == 1.0


@pytest.mark.parametrize("ground_truth", [None, "", "  "])
def test_missing_ground_truth_is_an_error_naming_the_field(ground_truth):
    with pytest.raises(ValueError, match="reward_model.ground_truth"):
        compute_score("gsm8k", "\\boxed{4}", ground_truth)


def test_verl_loads_it_from_the_documented_config_keys():
    from verl.trainer.ppo.reward import get_custom_reward_fn

    config_dir = os.path.join(os.path.dirname(verl.__file__), "trainer", "config")
    with initialize_config_dir(config_dir=config_dir, version_base=None):
        cfg = compose(
            config_name="ppo_trainer",
            overrides=[
                "reward.custom_reward_function.path=pkg://grpo_lead.integrations.verl",
                "reward.custom_reward_function.name=compute_score",
            ],
        )
    fn = get_custom_reward_fn(cfg)
    # as verl's NaiveRewardManager calls it (keywords; extra_info with num_turns etc.)
    out = fn(
        data_source="deepscaler",
        solution_str="</think>\\boxed{\\frac{1}{2}}",
        ground_truth="0.5",
        extra_info={"index": 3, "num_turns": None, "rollout_reward_scores": {}},
    )
    assert out == {"score": 1.0, "acc": 1.0, "pred": "\\frac{1}{2}"}


def test_pred_feeds_verls_majority_vote_metric():
    from verl.trainer.ppo.metric_utils import process_validation_metrics

    outputs = ["\\boxed{4}", "\\boxed{4}", "\\boxed{5}", "\\boxed{4}"]
    scores = [compute_score("math", o, "4") for o in outputs]
    infos = {k: [s[k] for s in scores] for k in ("score", "acc", "pred")}
    metrics = process_validation_metrics(["math"] * 4, ["q"] * 4, infos)
    acc = metrics["math"]["acc"]
    assert acc["mean@4"] == 0.75
    assert any(k.startswith("maj@") for k in acc)
