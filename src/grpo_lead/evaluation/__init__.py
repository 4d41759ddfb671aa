"""Evaluation of math reasoning models the way the paper (Zhang & Zuo, EMNLP 2025) measures them.

- `metrics`: pure pass@1, unbiased pass@k, cons@k (majority vote through the answer checker),
  lengths, per difficulty bucket.
- `generation`: k samples per prompt with vLLM (GPU) or transformers (CPU or GPU).
- `runner`: `run_eval` (resumable output folder) and `estimate_difficulty` (solve rates and the
  paper's filter).
- `compare`: runs side by side, accuracy against length.
- `cli`: `eval_main`, `estimate_difficulty_main`, `compare_main` for `grpo-lead ...`;
  `grpo-lead eval` passes `eval_main` the task table (`grpo_lead.tasks.TASKS`): this package
  knows no task but math.

Importing this package loads no model code: torch, transformers and vLLM are imported on use.
"""

from __future__ import annotations

from grpo_lead.evaluation.cli import compare_main, estimate_difficulty_main, eval_main
from grpo_lead.evaluation.compare import compare
from grpo_lead.evaluation.errors import EvalError
from grpo_lead.evaluation.generation import choose_backend, vllm_sampling_kwargs
from grpo_lead.evaluation.metrics import majority_vote, pass_at_k, pass_k_values, summarize
from grpo_lead.evaluation.runner import EvalSettings, RunOptions, estimate_difficulty, run_eval

__all__ = [
    "EvalError",
    "EvalSettings",
    "RunOptions",
    "choose_backend",
    "compare",
    "compare_main",
    "estimate_difficulty",
    "estimate_difficulty_main",
    "eval_main",
    "majority_vote",
    "pass_at_k",
    "pass_k_values",
    "run_eval",
    "summarize",
    "vllm_sampling_kwargs",
]
