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

import re
from dataclasses import dataclass

__all__ = [
    "THINK_CLOSE",
    "THINK_OPEN",
    "ReasoningSplitter",
    "answer_region",
    "has_degenerate_repetition",
    "is_format_failure",
    "is_well_formed",
    "prompt_opens_think",
    "split_reasoning",
    "think_part",
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


def is_format_failure(text: str) -> bool:
    """The reference code's format failure: reasoning opened but never closed (truncated)."""
    return THINK_OPEN in text and THINK_CLOSE not in text


def has_degenerate_repetition(
    text: str, *, min_repeats: int = 10, max_word_chars: int = 120
) -> bool:
    """The reference code's degenerate-output test: some n-gram (n <= 8 words, or <= 20
    characters for text without spaces) repeated ``min_repeats`` times in a row, or one "word"
    of at least ``max_word_chars`` characters."""
    words = text.split()
    if any(len(w) >= max_word_chars for w in words):
        return True
    for n in range(1, 9):
        run = 1
        for i in range(n, len(words) - n + 1, n):
            run = run + 1 if words[i : i + n] == words[i - n : i] else 1
            if run >= min_repeats:
                return True
    # Character-level loops ("1+1+1+1+...") that contain no spaces.
    return re.search(rf"(.{{1,20}}?)\1{{{min_repeats - 1},}}", text, re.DOTALL) is not None


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
