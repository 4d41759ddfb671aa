"""Moved: the multiple-choice task is `grpo_lead.tasks.choice`. This name stays importable for
code written against the earlier docs (``from grpo_lead.choice import make_choice_toy``)."""

from grpo_lead.tasks.choice import *  # noqa: F403
from grpo_lead.tasks.choice import __all__  # noqa: F401
