"""grpo-lead: GRPO-LEAD (Zhang & Zuo, EMNLP 2025) on Hugging Face TRL.

    from grpo_lead import check_answer, lead_rewards, lead_advantages   # pure pieces
    from grpo_lead import GRPOLeadConfig, GRPOLeadTrainer                # the trainer (imports TRL)

Names are imported on first use, so `import grpo_lead` stays cheap.
"""

from __future__ import annotations

import importlib

__version__ = "0.1.0"

_EXPORTS = {
    # answers: extraction and equivalence of final answers (math-verify, bounded time)
    "check_answer": "grpo_lead.answers",
    "check_answers": "grpo_lead.answers",
    "verify_answer": "grpo_lead.answers",
    "extract_answer": "grpo_lead.answers",
    "Verdict": "grpo_lead.answers",
    # advantages: the LEAD math as pure tensor functions
    "lead_rewards": "grpo_lead.advantages",
    "lead_advantages": "grpo_lead.advantages",
    "logistic_weight": "grpo_lead.advantages",
    "solve_rate": "grpo_lead.advantages",
    "group_normalize": "grpo_lead.advantages",
    "group_filter_mask": "grpo_lead.advantages",
    "article_rewards": "grpo_lead.advantages",
    "article_advantages": "grpo_lead.advantages",
    "lead_batch_advantages": "grpo_lead.advantages",
    "length_shaped_rewards": "grpo_lead.advantages",
    # the LEAD options (defaults: the paper's) and the named presets
    "LeadOptions": "grpo_lead.options",
    "PAPER": "grpo_lead.options",
    "preset": "grpo_lead.options",
    # rewards for TRL
    "accuracy_reward": "grpo_lead.rewards",
    "format_reward": "grpo_lead.rewards",
    "reasoning_quality_reward": "grpo_lead.rewards",
    "grpo_lead_reward": "grpo_lead.rewards",
    "difficulty_aware_reward": "grpo_lead.rewards",
    "get_length_scaled_accuracy_reward": "grpo_lead.rewards",
    "outcome_reward": "grpo_lead.rewards",
    # training
    "GRPOLeadConfig": "grpo_lead.configs",
    "GRPOLeadTrainer": "grpo_lead.trainer",
    # evaluation
    "pass_at_k": "grpo_lead.evaluation",
    "majority_vote": "grpo_lead.evaluation",
}

__all__ = ["__version__", *_EXPORTS]


def __getattr__(name: str):
    if name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name]), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'grpo_lead' has no attribute {name!r}")


def __dir__():
    return sorted(__all__)
