"""`grpo-lead eval --task math` (the default): the run the eval command starts for math.

    grpo-lead eval --model deepseek-ai/DeepSeek-R1-Distill-Qwen-7B --data aime24 --out runs/base-aime24

Math adds no flags of its own: its columns, prompt suffix and answer checker are on the eval
command's parser (`grpo_lead.eval_cli`), which every task shares.
"""

from __future__ import annotations

import argparse
from pathlib import Path

__all__ = ["math_eval"]


def math_eval(args: argparse.Namespace) -> int:
    """`grpo-lead eval` on math problems, from parsed arguments; prints the table."""
    from grpo_lead.evaluation.metrics import summary_markdown
    from grpo_lead.evaluation.runner import RunOptions, default_out_dir, settings_from_args
    from grpo_lead.tasks.math.evaluation import EvalSettings, run_eval

    settings = settings_from_args(EvalSettings, args)
    out = Path(args.out) if args.out else default_out_dir("eval", args.model, args.data)
    summary = run_eval(settings, out, options=RunOptions.from_args(args))
    print(summary_markdown(summary, title=f"{args.data}: {args.model}"))
    print(f"wrote {out}")
    return 0
