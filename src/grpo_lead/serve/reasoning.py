"""Reasoning and answer apart for the server: field names, the answer, the raw text.

Pure and stdlib-only (the AWS Lambda handler ships it without torch). The `<think>` splitting
itself (`split_reasoning`, `ReasoningSplitter`, `prompt_opens_think`) lives in
`grpo_lead.reasoning` and is re-exported here.

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
from typing import Any

from grpo_lead.reasoning import (  # noqa: F401 - re-exported: the server's names
    THINK_CLOSE,
    THINK_OPEN,
    ReasoningSplitter,
    prompt_opens_think,
    split_reasoning,
)

REASONING_FIELDS = ("reasoning", "reasoning_content")


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
