"""The toy lab: a synthetic math task and a tiny model on which GRPO-LEAD trains on a laptop CPU.

The demo (`grpo_lead.demo`) and the ablation (`grpo_lead.ablation`) are thin commands over it:

- `task`: the problems (sums of 2-5 numbers, level = operands - 1) and the warm-up traces.
- `model`: the character-level tokenizer and the 0.45M-parameter Qwen2, built locally.
- `settings`: `LabSettings`, every budget knob of a toy run (task size, warm-up, RL, evaluation).
- `warmup`: the supervised warm-up loop, and `prepare` (task files + warm-up model of one seed).
- `grid`: the settings tables (the paper's ablation, the length methods): every row a `Method`
  (LEAD options, TRL options, extra rewards, trainer), the one place a setting is spelt out.
- `rl`: `train_setting`, which trains one row (GRPO, LEAD, its ablations, a TRL length
  baseline, a length method) from a warm-up model.
- `evaluate`: held-out problems scored through `grpo_lead.evaluation` (generation + metrics).
- `stats`: the bootstrap over seeds and problems, paired contrasts.
- `report`: tables, sample answers and plots.
- `files`: JSON-lines files.

Importing the package loads no model code; torch, transformers and TRL load on use.
"""
