"""grpo_lead.reasoning: the reference's repetition test, format failures on the paper's models'
chat templates, outcomes, and the one splitter the other modules share."""

from __future__ import annotations

import doctest

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grpo_lead import reasoning
from grpo_lead.answers import extract_answer
from grpo_lead.reasoning import (
    OUTCOMES,
    has_degenerate_repetition,
    is_format_failure,
    outcome,
    prompt_opens_think,
    with_prompt_think,
)

# ---------------------------------------------------------------------------------------------
# The reference's definition, copied verbatim from aeroplanepaper/GRPO-LEAD @ 9344bef,
# deepscaler/rewards/math_reward.py (docstrings shortened); deepscaler_reward_fn flags a
# completion when `best_count >= 10` or `len(largest_word) >= 120`.
# ---------------------------------------------------------------------------------------------


def max_continuous_ngram(text: str, max_ngram: int = 30):
    # Preprocess: convert text to lowercase and extract words (ignoring punctuation)
    # words = re.findall(r'\w+', text.lower())
    words = text.split()
    if not words:
        return (None, 0, 0)

    best_ngram = None
    best_count = 0
    best_n = 0

    # Consider each n-gram size from 1 to max_ngram.
    for n in range(1, max_ngram + 1):
        if len(words) < n:
            continue
        # Partition words into non-overlapping segments of length n.
        segments = [tuple(words[i : i + n]) for i in range(0, len(words) - n + 1, n)]
        if not segments:
            continue

        current_count = 1
        for i in range(1, len(segments)):
            if segments[i] == segments[i - 1]:
                current_count += 1
            else:
                if current_count > best_count and current_count >= 2:
                    best_count = current_count
                    best_ngram = segments[i - 1]
                    best_n = n
                current_count = 1
        # Check the last chain
        if current_count > best_count and current_count >= 2:
            best_count = current_count
            best_ngram = segments[-1]
            best_n = n

    if best_count < 2:
        return (None, 0, 0)
    return (best_ngram, best_count, best_n)


def find_largest_word(text: str) -> str:
    # First, extract alphanumeric words
    words = text.split()
    if not words:
        return ""
    return max(words, key=len)


def reference_flags(text: str) -> bool:
    """deepscaler_reward_fn's -2 branch."""
    _, best_count, _ = max_continuous_ngram(text, max_ngram=30)
    return best_count >= 10 or len(find_largest_word(text)) >= 120


def test_doctests():
    assert doctest.testmod(reasoning).failed == 0


def _loop(unit_words: int, repeats: int) -> str:
    unit = " ".join(f"w{i}" for i in range(unit_words))
    return "Let me check again. " + " ".join([unit] * repeats) + " So the answer is 3."


@pytest.mark.parametrize(
    ("text", "flagged"),
    [
        # loops of 9-30-word units, which the old test (n <= 8 words) missed
        (" ".join(["a b c d e f g h i"] * 10), True),  # 9-word unit, 10 times
        (" ".join([" ".join(f"t{i}" for i in range(30))] * 10), True),  # 30-word unit
        (" ".join([" ".join(f"t{i}" for i in range(31))] * 10), False),  # 31 words: too long
        (" ".join(["a b c d e f g h i"] * 9), False),  # 9 times only
        ("wait " * 10, True),
        ("wait " * 9, False),
        ("x" * 120, True),  # one "word" of 120 characters
        ("x" * 119, False),
        # numbers and separators, which the old character-level test flagged
        ("The product is 10000000000, so", False),  # ten zeros in a number
        ("Part 1\n----------\nPart 2", False),
        ("and so on .......... until", False),
        ("1+" * 29 + "1 = 30", False),  # a 59-character sum
        ("$$" + "1+" * 30 + "1$$", False),
        ("=" * 60, False),
    ],
)
def test_repetition_matches_the_reference(text, flagged):
    assert reference_flags(text) is flagged  # the expectation is the reference's own
    assert has_degenerate_repetition(text) is flagged


def test_unaligned_loops_follow_the_reference():
    # the reference cuts chunks from the first word on: a loop that starts off the chunk
    # grid of its unit length can be missed there, and is missed here the same way
    for lead in range(0, 12):
        for unit in (3, 7, 12, 25):
            text = " ".join(f"p{i}" for i in range(lead)) + " "
            text += " ".join([" ".join(f"u{j}" for j in range(unit))] * 11)
            assert has_degenerate_repetition(text) == reference_flags(text), (lead, unit)


WORDS = st.sampled_from(["a", "b", "so", "wait", "0", "x" * 60, "=", "1+1"])


@settings(max_examples=300, deadline=None)
@given(
    prefix=st.lists(WORDS, max_size=8),
    unit=st.lists(WORDS, min_size=1, max_size=12),
    repeats=st.integers(0, 14),
    suffix=st.lists(WORDS, max_size=8),
    glue=st.sampled_from([" ", "\n", "  \t"]),
)
def test_repetition_equals_the_reference_on_random_text(prefix, unit, repeats, suffix, glue):
    text = glue.join(prefix + unit * repeats + suffix)
    assert has_degenerate_repetition(text) == reference_flags(text)


def test_repetition_is_fast_on_long_text():
    import time

    text = " ".join(f"w{i % 997}" for i in range(100_000))  # ~0.6 MB, no loop
    t0 = time.perf_counter()
    assert has_degenerate_repetition(text) is False
    ours = time.perf_counter() - t0
    t0 = time.perf_counter()
    assert reference_flags(text) is False
    reference = time.perf_counter() - t0
    assert ours < 2 * reference + 0.2, (ours, reference)  # both are O(30 * words)


# ---------------------------------------------------------------------------------------------
# Format failures on the paper's models: the reasoning block opened by the prompt
# ---------------------------------------------------------------------------------------------

QUESTION = "What is 2+2?\nLet's think step by step and output the final answer within \\boxed{}."
# The generation prompt DeepSeek-R1-Distill-Qwen-7B/14B's chat template builds (their
# tokenizer_config.json, add_generation_prompt=True): the prompt ends inside <think>.
R1_DISTILL = f"<｜begin▁of▁sentence｜>You are a helpful assistant.<｜User｜>{QUESTION}<｜Assistant｜><think>\n"
# Qwen2.5-Instruct's: no reasoning block; the model may open one itself.
QWEN = (
    "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful "
    f"assistant.<|im_end|>\n<|im_start|>user\n{QUESTION}<|im_end|>\n<|im_start|>assistant\n"
)
PLAIN = QUESTION  # a base model without a chat template


def test_which_prompts_open_the_think_block():
    assert prompt_opens_think(R1_DISTILL)
    assert not prompt_opens_think(QWEN)
    assert not prompt_opens_think(PLAIN)
    # Qwen3 with thinking switched off closes an empty block in the prompt
    assert not prompt_opens_think(QWEN + "<think>\n\n</think>\n\n")


# (prompt, completion, truncated) -> format failure
FORMAT_CASES = [
    (R1_DISTILL, "2+2=4.\n</think>\n\nSo $\\boxed{4}$.", False, False),
    (R1_DISTILL, "2+2=4. Let me check: 2+2", True, True),  # cut off inside the reasoning
    (R1_DISTILL, "2+2=4 so \\boxed{4}", False, True),  # EOS inside the block: never closed
    (R1_DISTILL, "2+2=4.\n</think>\n\nSo $\\boxed{4", True, True),  # cut off in the answer
    (QWEN, "2+2=4, so the answer is $\\boxed{4}$.", False, False),
    (QWEN, "2+2=4, so the answer is", True, True),
    (QWEN, "<think>2+2=4</think>\\boxed{4}", False, False),  # opened and closed by the model
    (QWEN, "<think>2+2=4, and", False, True),  # opened, never closed
    (PLAIN, " 2+2=4. \\boxed{4}", False, False),
    (PLAIN, " 2+2=4. 2+2=4. 2+2", True, True),
]


@pytest.mark.parametrize(("prompt", "completion", "truncated", "failure"), FORMAT_CASES)
def test_format_failure_from_prompt_and_truncation(prompt, completion, truncated, failure):
    opened = prompt_opens_think(prompt)
    assert is_format_failure(completion, prompt_opens_think=opened, truncated=truncated) is failure


def test_r1_distill_truncation_was_misjudged_before():
    # the old test looked for <think> in the completion: an R1-Distill completion cut off
    # inside its reasoning holds no tag at all, so it was scored as a wrong answer (-1)
    # instead of the reference's format failure (0)
    completion = "2+2=4. Let me check: 2+2"
    assert is_format_failure(completion) is False  # what the completion alone shows
    assert is_format_failure(completion, prompt_opens_think=True) is True
    assert (
        outcome(completion, correct=False, prompt_opens_think=True, truncated=True)
        == "format_failure"
    )


@pytest.mark.parametrize(
    ("completion", "correct", "opened", "truncated", "expected"),
    [
        ("2+2=4</think>\\boxed{4}", True, True, False, "correct"),
        ("2+2=5</think>\\boxed{5}", False, True, False, "wrong"),
        ("2+2=4</think>\\boxed{4}", True, True, True, "format_failure"),  # a box, but cut off
        ("2+2=4 " + "wait, " * 12, False, True, True, "repetition"),
        ("wait, " * 12 + "</think>\\boxed{4}", False, True, False, "wrong"),  # finished: no -2
        ("\\boxed{4}", True, False, False, "correct"),
    ],
)
def test_outcome_is_decided_once(completion, correct, opened, truncated, expected):
    got = outcome(completion, correct=correct, prompt_opens_think=opened, truncated=truncated)
    assert got == expected
    assert got in OUTCOMES


def test_with_prompt_think_gives_the_checker_the_generated_text():
    cut = "so the answer is 4, let me verify 2+2"  # R1-Distill, cut off in the reasoning
    assert extract_answer(cut) == "4"  # read alone, a marker inside the reasoning counts
    assert extract_answer(with_prompt_think(cut, prompt_opens_think=True)) is None  # boxes only
    done = "2+2=4</think>The answer is 4."
    assert extract_answer(with_prompt_think(done, prompt_opens_think=True)) == "4"
    assert with_prompt_think("<think>a</think>b", prompt_opens_think=True) == "<think>a</think>b"
    assert with_prompt_think("a", prompt_opens_think=False) == "a"


def test_one_splitter_for_every_module():
    from grpo_lead import rewards
    from grpo_lead.answers import extraction
    from grpo_lead.serve import reasoning as serve_reasoning

    assert rewards.is_format_failure is reasoning.is_format_failure
    assert rewards.has_degenerate_repetition is reasoning.has_degenerate_repetition
    assert serve_reasoning.split_reasoning is reasoning.split_reasoning
    assert serve_reasoning.prompt_opens_think is reasoning.prompt_opens_think
    assert extraction.answer_region is reasoning.answer_region
