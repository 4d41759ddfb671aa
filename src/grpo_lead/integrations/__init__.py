"""Bridges from grpo-lead's pure pieces to other training frameworks.

- `grpo_lead.integrations.verl`: the ``grpo_lead`` advantage estimator and a ``compute_score``
  for verl (loaded by ``import verl`` through the ``verl.plugins`` entry point; needs
  ``pip install -e ".[verl]"``).
- `grpo_lead.integrations.verl_data`: ``grpo-lead verl-data``, problems -> verl's parquet layout
  (needs no verl).
"""
