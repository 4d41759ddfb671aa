"""Evaluation of reasoning models the way the paper (Zhang & Zuo, EMNLP 2025) measures them,
for any task: this package knows no task (each task's evaluation lives in its package under
`grpo_lead.tasks`, the command lines in `grpo_lead.eval_cli`).

- `metrics`: pure pass@1, unbiased pass@k, cons@k (majority vote through the answer checker),
  lengths, per difficulty bucket.
- `generation`: k samples per prompt with vLLM (GPU) or transformers (CPU or GPU).
- `runner`: the resumable loop every task's evaluation shares (`collect_samples`), the settings
  every run measures (`RunSettings`, which a task's settings extend) and `settings_from_args`.
- `compare`: runs side by side, accuracy against length.

Importing this package loads no model code: torch, transformers and vLLM are imported on use.
"""

from __future__ import annotations

from grpo_lead.evaluation.compare import compare
from grpo_lead.evaluation.errors import EvalError
from grpo_lead.evaluation.generation import choose_backend, vllm_sampling_kwargs
from grpo_lead.evaluation.metrics import majority_vote, pass_at_k, pass_k_values, summarize
from grpo_lead.evaluation.runner import RunOptions, RunSettings, settings_from_args

__all__ = [
    "EvalError",
    "RunOptions",
    "RunSettings",
    "choose_backend",
    "compare",
    "majority_vote",
    "pass_at_k",
    "pass_k_values",
    "settings_from_args",
    "summarize",
    "vllm_sampling_kwargs",
]
