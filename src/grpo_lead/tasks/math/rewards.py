"""The math task's reward table: `grpo_lead.rewards.REWARDS`, the rewards of the paper and of
TRL that check a math answer (``accuracy``, ``format``, ``reasoning_quality``, ...), as it is.

`grpo_lead.rewards` stays the shared reward library (the trainer, the toy lab and the other
tasks' tables build on it); a task's table is what its recipes' ``reward_funcs`` may name.
"""

from __future__ import annotations

from grpo_lead.rewards import REWARDS

__all__ = ["REWARDS"]
