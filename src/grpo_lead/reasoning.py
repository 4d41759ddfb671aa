"""Reasoning text: `<think>` splitting, format failure and degenerate repetition, in one place.

Pure and stdlib-only: the answer checker, the rewards, the trainer and the server (the AWS
Lambda handler ships this file without torch) all read reasoning text through it.

Conventions, and why:
1. The text inside `<think>...</think>` is the *reasoning*, the rest is the *content*. R1-style
   chat templates end the generation prompt with `<think>`, so the model's output starts inside
   the reasoning and holds only the closing tag: `prompt_opens_think` tells so from the prompt.
2. For the server, a reasoning that never closes (cut off by `max_tokens`) is all reasoning and
   no content, as vLLM's `deepseek_r1` parser does; a text with no tag at all is all content.
3. For answers, the region searched is the text after the *last* `</think>` (the reasoning
   before it is a draft; upstream DeepScaleR scores the text after it too). A completion that
   opens `<think>` and never closes it searches its whole text, boxed answers only.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "OUTCOMES",
    "THINK_CLOSE",
    "THINK_OPEN",
    "ReasoningSplitter",
    "answer_region",
    "has_degenerate_repetition",
    "is_format_failure",
    "is_well_formed",
    "outcome",
    "prompt_opens_think",
    "split_reasoning",
    "think_part",
    "with_prompt_think",
]

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"


# --------------------------------------------------------------------------------------------
# Whole texts: the answer's region, the reasoning part, well-formedness
# --------------------------------------------------------------------------------------------


def answer_region(text: str) -> tuple[str, bool]:
    """(text to search for the answer, boxed_only) of a completion.

    After the last `</think>` when there is one; else the whole text, and `boxed_only` is True
    when the completion opened `<think>` and never closed it (truncated inside the reasoning).
    """
    close = text.rfind(THINK_CLOSE)
    if close >= 0:
        return text[close + len(THINK_CLOSE) :], False
    return text, THINK_OPEN in text


def is_well_formed(text: str) -> bool:
    """`<think> reasoning </think> answer` (the opening tag may sit in the prompt): non-empty
    reasoning, exactly one closing tag and a non-empty answer after it."""
    if text.count(THINK_CLOSE) != 1:
        return False
    think, answer = text.split(THINK_CLOSE)
    think = think.lstrip()
    if think.startswith(THINK_OPEN):
        think = think[len(THINK_OPEN) :]
    return THINK_OPEN not in think and bool(think.strip()) and bool(answer.strip())


def think_part(text: str) -> str:
    """The reasoning: inside <think>...</think>, else the text before the last \\boxed."""
    if THINK_CLOSE in text:
        return text.split(THINK_CLOSE, 1)[0].split(THINK_OPEN, 1)[-1]
    if THINK_OPEN in text:
        return text.split(THINK_OPEN, 1)[1]
    box = text.rfind("\\boxed")
    return text[:box] if box >= 0 else text


def is_format_failure(
    text: str, *, prompt_opens_think: bool = False, truncated: bool = False
) -> bool:
    """The reference code's format failure: a completion that was cut off (``truncated``: it
    hit the length limit without EOS, which the trainer knows), or whose reasoning block was
    opened and never closed.

    The block is open when the prompt opened it (``prompt_opens_think``: R1-Distill templates
    end the prompt with ``<think>\\n``, so their completions hold only ``</think>``) or when
    the completion opens it. A completion with no reasoning block at all (a plain or Qwen
    instruct template) fails only when truncated.

    >>> is_format_failure("2+2=4</think>\\boxed{4}", prompt_opens_think=True)
    False
    >>> is_format_failure("2+2=4, and then", prompt_opens_think=True)  # EOS inside the block
    True
    >>> is_format_failure("\\boxed{4}", truncated=True)
    True
    """
    if truncated:
        return True
    opened = prompt_opens_think or THINK_OPEN in text
    return opened and THINK_CLOSE not in text


OUTCOMES = ("correct", "wrong", "format_failure", "repetition")


def outcome(text: str, *, correct: bool, prompt_opens_think: bool, truncated: bool) -> str:
    """The one outcome of a completion, as the reference code scores it: a format failure
    (``is_format_failure``) is ``"repetition"`` when it also loops
    (``has_degenerate_repetition``), else ``"format_failure"``; a finished completion is
    ``"correct"`` or ``"wrong"`` by ``correct`` (the answer checker's verdict).

    >>> outcome("x</think>\\boxed{4}", correct=True, prompt_opens_think=True, truncated=False)
    'correct'
    >>> outcome("x</think>\\boxed{4}", correct=True, prompt_opens_think=True, truncated=True)
    'format_failure'
    """
    if is_format_failure(text, prompt_opens_think=prompt_opens_think, truncated=truncated):
        return "repetition" if has_degenerate_repetition(text) else "format_failure"
    return "correct" if correct else "wrong"


def has_degenerate_repetition(
    text: str, *, min_repeats: int = 10, max_ngram: int = 30, max_word_chars: int = 120
) -> bool:
    """The reference code's degenerate-output test (GRPO-LEAD's ``deepscaler_reward_fn``):
    one "word" (a run of non-space characters) of at least ``max_word_chars`` characters, or,
    for some n <= ``max_ngram``, the words cut into consecutive n-word chunks from the first
    word on with ``min_repeats`` equal chunks in a row.

    Words are whitespace-separated, as there: a long number (``10000000000``), a separator line
    (``----------``) or a 60-character ``1+1+...+1`` is one short word, not a loop (from 120
    characters on, one word is a loop).

    >>> has_degenerate_repetition("so we wait. " * 10)
    True
    >>> has_degenerate_repetition("x = 10000000000 and ---------- then ..........")
    False
    """
    words = text.split()
    if any(len(w) >= max_word_chars for w in words):
        return True
    for n in range(1, max_ngram + 1):
        chunks = len(words) // n  # the reference's chunks words[0:n], words[n:2n], ...
        if chunks < min_repeats:
            break  # fewer chunks still for a larger n
        run = 1
        for k in range(1, chunks):
            if words[k * n : (k + 1) * n] == words[(k - 1) * n : k * n]:
                run += 1
                if run >= min_repeats:
                    return True
            else:
                run = 1
    return False


def with_prompt_think(text: str, *, prompt_opens_think: bool) -> str:
    """The completion as the answer checker must read it: with the ``<think>`` the prompt
    opened put back in front (so a completion cut off inside the reasoning counts only a boxed
    answer, and the answer is read after ``</think>``).

    >>> with_prompt_think("2+2=4</think>4", prompt_opens_think=True)
    '<think>2+2=4</think>4'
    """
    if prompt_opens_think and not text.lstrip().startswith(THINK_OPEN):
        return THINK_OPEN + text
    return text


# --------------------------------------------------------------------------------------------
# Prompts and streams (the server)
# --------------------------------------------------------------------------------------------


def prompt_opens_think(prompt: str) -> bool:
    """True when a rendered prompt ends inside an open `<think>` (R1-style templates)."""
    tail = prompt.rstrip()
    return tail.endswith(THINK_OPEN)


def split_reasoning(text: str, *, opened_in_prompt: bool = False) -> tuple[str | None, str]:
    """(reasoning or None, content) of a whole generated text.

    >>> split_reasoning("<think>2+2=4</think> \\\\boxed{4}")
    ('2+2=4', ' \\\\boxed{4}')
    >>> split_reasoning("2+2=4</think>4", opened_in_prompt=True)
    ('2+2=4', '4')
    >>> split_reasoning("no tags")
    (None, 'no tags')
    """
    splitter = ReasoningSplitter(opened_in_prompt=opened_in_prompt)
    reasoning, content = splitter.feed(text)
    tail_reasoning, tail_content = splitter.flush()
    reasoning += tail_reasoning
    content += tail_content
    return (reasoning if splitter.saw_reasoning else None), content


def _partial_tag_suffix(text: str, tag: str) -> int:
    """Length of the longest suffix of `text` that is a proper prefix of `tag`."""
    for size in range(min(len(tag) - 1, len(text)), 0, -1):
        if tag.startswith(text[-size:]):
            return size
    return 0


@dataclass
class ReasoningSplitter:
    """Incremental `<think>` splitter for streamed text: `feed(delta) -> (reasoning, content)`.

    A tag cut across two deltas is held back until it can be told apart from text; `flush()`
    releases what is held at the end of the stream. Only the first `<think>` block counts: tags
    after it are content (a model quoting the tag must not flip the state back).
    """

    opened_in_prompt: bool = False

    def __post_init__(self) -> None:
        self.state = "think" if self.opened_in_prompt else "start"
        self.saw_reasoning = self.opened_in_prompt
        self.closed = False
        self._held = ""

    def feed(self, delta: str) -> tuple[str, str]:
        text, self._held = self._held + delta, ""
        reasoning, content = "", ""
        while text:
            if self.state == "start":
                stripped = text.lstrip()
                if stripped.startswith(THINK_OPEN):
                    self.state, self.saw_reasoning = "think", True
                    text = stripped[len(THINK_OPEN) :]
                elif THINK_OPEN.startswith(stripped):  # maybe the start of the tag
                    self._held = text
                    return reasoning, content
                else:
                    self.state = "content"
            elif self.state == "think":
                end = text.find(THINK_CLOSE)
                if end >= 0:
                    reasoning += text[:end]
                    text = text[end + len(THINK_CLOSE) :]
                    self.state, self.closed = "content", True
                else:
                    keep = _partial_tag_suffix(text, THINK_CLOSE)
                    reasoning += text[: len(text) - keep]
                    self._held = text[len(text) - keep :]
                    return reasoning, content
            else:
                content += text
                text = ""
        return reasoning, content

    def flush(self) -> tuple[str, str]:
        held, self._held = self._held, ""
        if self.state == "think":
            return held, ""
        return "", held
