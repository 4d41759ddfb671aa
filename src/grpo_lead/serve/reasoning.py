"""Reasoning and answer apart: `<think>...</think>` parsing for whole texts and for streams.

Pure and stdlib-only (the AWS Lambda handler ships it without torch).

Conventions, and why:
1. The text inside `<think>...</think>` is the *reasoning*, the rest is the *content*. R1-style
   chat templates end the generation prompt with `<think>`, so the model's output starts inside
   the reasoning and holds only the closing tag: `opened_in_prompt=True` says so.
2. A reasoning that never closes (cut off by `max_tokens`) is all reasoning and no content, as
   vLLM's `deepseek_r1` parser does. A text with no tag at all is all content.
3. The reasoning goes out under both field names clients use: `reasoning` (vLLM >= 0.16) and
   `reasoning_content` (older vLLM, `transformers serve`); `message_reasoning` reads either.
4. The final answer is `grpo_lead.answers.extract_answer` applied to the *raw* text (with the
   prompt's `<think>` put back in front), so it is exactly what `check_answer` scores.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

THINK_OPEN = "<think>"
THINK_CLOSE = "</think>"
REASONING_FIELDS = ("reasoning", "reasoning_content")


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


def raw_text(reasoning: str | None, content: str, *, closed: bool = True) -> str:
    """The generated text back from its parts (for answer extraction): `<think>r</think>c`."""
    if reasoning is None:
        return content
    return f"{THINK_OPEN}{reasoning}{THINK_CLOSE if closed else ''}{content}"


def final_answer(text: str, *, opened_in_prompt: bool = False) -> str | None:
    """The answer `check_answer` would extract from this generated text (None: no answer)."""
    from grpo_lead.answers import extract_answer  # stdlib-only module

    return extract_answer((THINK_OPEN if opened_in_prompt else "") + text)


def message_reasoning(message: Any) -> str | None:
    """The reasoning of a chat message or stream delta under either field name.

    Works on dicts and on `openai` client objects (which keep unknown fields as attributes).
    """
    for name in REASONING_FIELDS:
        value = message.get(name) if isinstance(message, Mapping) else getattr(message, name, None)
        if value is not None:
            return value
    return None


def with_reasoning_fields(target: dict[str, Any], reasoning: str | None) -> dict[str, Any]:
    """Set both reasoning field names on a message/delta dict (only when there is reasoning)."""
    if reasoning is not None:
        for name in REASONING_FIELDS:
            target[name] = reasoning
    return target


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
