"""Math problems, the answer in ``\\boxed{}`` checked by `grpo_lead.answers`: the default task.

- `data`: `load_problems`, `BENCHMARKS`, `build_prompt` (light: no torch).
- `train`: the script arguments and `build_train_dataset` (`grpo-lead train`).
- `rewards`: the task's reward table (`grpo_lead.rewards.REWARDS`).
- `evaluation`: `EvalSettings`, `run_eval`, `estimate_difficulty`; `cli`: `math_eval`, the run
  `grpo-lead eval` starts for math.
"""
