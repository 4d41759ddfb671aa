"""The paper's evaluation protocol and prompt (Zhang & Zuo, EMNLP 2025, arXiv 2504.09696;
docs/evaluation.md), written once: eval, export, serve and the Lambda handler import them.

A leaf module (no imports), so the lightest entry points (the Lambda handler) can read it.
"""

from __future__ import annotations

__all__ = [
    "EVAL_K",
    "EVAL_MAX_NEW_TOKENS",
    "EVAL_MIN_P",
    "EVAL_TEMPERATURE",
    "LEAD_PROMPT_SUFFIX",
]

EVAL_K = 32  # samples per question (pass@1 over k, cons@k)
EVAL_TEMPERATURE = 0.6
EVAL_MIN_P = 0.01
EVAL_MAX_NEW_TOKENS = 14_000
# The paper's prompt: the question, then this suffix
LEAD_PROMPT_SUFFIX = "\nLet's think step by step and output the final answer within \\boxed{}."
