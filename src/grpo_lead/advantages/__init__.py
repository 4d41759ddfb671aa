"""GRPO-LEAD's group-level math as pure tensor functions (no trainer, no TRL imports).

The modules, from the bottom up (each imports only the ones above it in this list):

1. `groups`: the shape convention (flat (N,) tensors, N = num_groups * G, groups consecutive),
   the solve rate and GRPO's group normalisation;
2. `paper`: the paper's three mechanisms and constants (Zhang & Zuo, EMNLP 2025, arXiv
   2504.09696) and `lead_advantages`, the paper's fixed path;
3. `article`: the article's simplified forms; `outcomes`: the reference code's outcome classes
   and group filter; `length_methods`: the field's other length rewards (DLER, Kimi, ALP, cosine);
4. `registry`: length rewards and difficulty weights by name (the names `LeadOptions` checks);
5. `batch`: `lead_batch_advantages`, what the trainers call, with every `LeadOptions` choice.

Every public name is re-exported here: ``from grpo_lead.advantages import lead_rewards``.
"""

from grpo_lead.advantages.article import (
    article_advantages,
    article_rewards,
    linear_difficulty_weight,
)
from grpo_lead.advantages.batch import LeadBatch, lead_batch_advantages
from grpo_lead.advantages.groups import as_float, by_group, group_normalize, solve_rate
from grpo_lead.advantages.length_methods import (
    alp_rewards,
    budget_rewards,
    cosine_rewards,
    kimi_rewards,
)
from grpo_lead.advantages.outcomes import apply_outcome_overrides, group_filter_mask
from grpo_lead.advantages.paper import (
    MAX_EXPONENT,
    lead_advantages,
    lead_rewards,
    logistic_difficulty_weight,
    logistic_weight,
)
from grpo_lead.advantages.registry import (
    DIFFICULTY_WEIGHTS,
    LENGTH_REWARDS,
    difficulty_weighted_advantages,
    length_shaped_rewards,
    options_read,
    register_difficulty_weight,
    register_length_reward,
)

__all__ = [
    "DIFFICULTY_WEIGHTS",
    "LENGTH_REWARDS",
    "MAX_EXPONENT",
    "LeadBatch",
    "alp_rewards",
    "apply_outcome_overrides",
    "article_advantages",
    "article_rewards",
    "as_float",
    "budget_rewards",
    "by_group",
    "cosine_rewards",
    "difficulty_weighted_advantages",
    "group_filter_mask",
    "group_normalize",
    "kimi_rewards",
    "lead_advantages",
    "lead_batch_advantages",
    "lead_rewards",
    "length_shaped_rewards",
    "linear_difficulty_weight",
    "logistic_difficulty_weight",
    "logistic_weight",
    "options_read",
    "register_difficulty_weight",
    "register_length_reward",
    "solve_rate",
]
