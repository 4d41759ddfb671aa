"""Multiple-choice and medical QA: MedQA, MedMCQA, PubMedQA and local files in one row layout,
a prompt that lists the options, a checker that reads the chosen letter (or option text),
rewards, and an evaluation per subject / exam step / question type.

- `data`: `load_choices`, `build_choice_prompt` (light: no torch).
- `checker`: `check_choice` (light).
- `metrics`: `summarize_choices` (light).
- `toy`: the toy sums as multiple choice (`make_choice_toy`).
- `rewards`: `choice_accuracy_reward`, `abstain_reward` (imports torch through grpo_lead.rewards).
- `evaluation`: `run_choice_eval`; `cli`: the `grpo-lead eval --task mcq` flags;
  `train`: `grpo-lead train` with ``task: mcq``.
"""

from __future__ import annotations

from grpo_lead.tasks.choice.checker import check_choice, choose, is_abstention
from grpo_lead.tasks.choice.data import (
    CHOICE_INSTRUCTION,
    CHOICE_SETS,
    ChoiceColumns,
    build_choice_prompt,
    letters,
    load_choices,
)
from grpo_lead.tasks.choice.metrics import choice_summary_markdown, summarize_choices
from grpo_lead.tasks.choice.toy import make_choice_toy

__all__ = [
    "CHOICE_INSTRUCTION",
    "CHOICE_SETS",
    "ChoiceColumns",
    "build_choice_prompt",
    "check_choice",
    "choice_summary_markdown",
    "choose",
    "is_abstention",
    "letters",
    "load_choices",
    "make_choice_toy",
    "summarize_choices",
]
