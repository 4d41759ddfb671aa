"""The toy lab: a synthetic math task and a tiny model on which GRPO-LEAD trains on a laptop CPU.

The demo (`grpo_lead.demo`) and the ablation (`grpo_lead.ablation`) are thin commands over it:

- `task`: the problems (sums of 2-5 numbers, level = operands - 1) and the warm-up traces.
- `model`: the character-level tokenizer and the 0.45M-parameter Qwen2, built locally.
- `settings`: `LabSettings`, every budget knob of a toy run (task size, warm-up, RL, evaluation).
- `warmup`: the supervised warm-up loop, and `prepare` (task files + warm-up model of one seed).
- `grid`: the method tables (the paper's ablation, the length methods): every row a `Method`
  (LEAD options, TRL options, extra rewards, trainer), the one place a method is spelt out.
- `rl`: `train_method`, which trains one row (GRPO, LEAD, its ablations, a TRL length
  baseline, a length method) from a warm-up model.
- `evaluate`: held-out problems scored through `grpo_lead.evaluation` (generation + metrics).
- `stats`: the bootstrap over seeds and problems, paired contrasts.
- `report`: tables, sample answers and plots.
- `files`: JSON-lines files.
- `archive`: `RunArchive`, the gzip file of finished runs a grid or a benchmark keeps (load with
  errors naming the file and line, atomic save, settings compared); `jobs`: `run_jobs`, the
  pool that runs the jobs an archive lacks and hands each record back as it lands. The toy
  grids and benchmarks/bench_real_compare.py share both.
- `runs`: a toy grid's work folder (its budget, a records file per run) and its archive;
  `runner`: `run_ablation`, every job of a grid, then its report.

Importing the package loads no model code; torch, transformers and TRL load on use.
"""
