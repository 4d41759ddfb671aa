"""The paper's ablation on the toy task: what each LEAD mechanism does, with its noise.

A thin command over the toy lab (`grpo_lead.toylab`). From the same warm-up model, seeds,
problems and RL budget, it trains one model per RL method of `toylab.rl.METHODS`:

1. ``grpo``: plain GRPO (0/1 reward, group normalisation);
2. ``+length``: the length-dependent reward exp(-alpha z) among correct answers (wrong: 0);
3. ``+difficulty``: and the logistic difficulty weight;
4. ``lead``: and the explicit -1 for wrong answers (= GRPO-LEAD);
5. ``lead-no-difficulty``: GRPO-LEAD without the difficulty weight;
6. ``trl-length``: a strong length baseline built only from TRL's own options, with the stock
   ``GRPOTrainer``: batch-level reward scaling (``scale_rewards="batch"``), DAPO's soft overlong
   punishment, truncated completions masked (``mask_truncated_completions``) and clip-higher
   -- the ingredients behind the largest published length cuts (DAPO, DLER);

and evaluates the warm-up model itself (``warmup``: no RL, the paper's "base" row). Each method
is evaluated on the demo's held-out problems (the same for every seed); the figures
(accuracy overall and per level, mean length of correct and of wrong answers) get 95% intervals
from a bootstrap over seeds and problems (`toylab.stats`), and every method's difference to
``grpo`` is bootstrapped *paired* (same seeds, same problems). Both task switches (``--verbosity
redundant|useful``) run. Runs are independent jobs on a process pool (one thread each), each
saved as it finishes, so an interrupted ablation resumes where it stopped.

The same runner runs any grid of `toylab.grid` (a method table: name -> options): ``--grid
length-methods`` is the length-control methods benchmark (docs/length-methods.md: every method at 2-3 knob
values, on the three task switches, the new ``mixed`` one first), reported by
`toylab.report.length_methods_report` with the Pareto front and the per-level floors.

    grpo-lead ablation [--seeds 5] [--verbosity redundant useful] [--out outputs/ablation]
    grpo-lead ablation --grid length-methods [--methods grpo lead-a0.05 ...]
"""

from __future__ import annotations

from collections.abc import Sequence

from grpo_lead.toylab.grid import GRIDS
from grpo_lead.toylab.rl import METHODS as RL_METHODS
from grpo_lead.toylab.runner import run_ablation
from grpo_lead.toylab.runs import AblationSettings, pack_runs, unpack_runs
from grpo_lead.toylab.task import VERBOSITIES

__all__ = [
    "METHODS",
    "AblationSettings",
    "ablation_main",
    "pack_runs",
    "run_ablation",
    "unpack_runs",
]

# "warmup" is the warm-up model evaluated without RL (the paper's "base" row); the others are
# RL methods (`toylab.grid.PAPER_METHODS`).
METHODS: tuple[str, ...] = ("warmup", *RL_METHODS)


def ablation_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead ablation`: run (or resume) the ablation and print its table."""
    import argparse
    import sys

    from grpo_lead.cli import OneLineUsage, UsageError

    class Parser(OneLineUsage, argparse.ArgumentParser):
        pass

    ap = Parser(prog="grpo-lead ablation", description=__doc__.splitlines()[0])
    ap.add_argument("--grid", default="paper", choices=list(GRIDS), help="the methods table")
    ap.add_argument(
        "--out", default=None, help="default outputs/ablation or outputs/length-methods"
    )
    ap.add_argument(
        "--seeds", type=int, default=5, help="number of seeds (0..N-1); >= 5 for the claim"
    )
    ap.add_argument(
        "--verbosity", nargs="+", default=None, choices=list(VERBOSITIES),
        help="task switches (default: redundant useful; length-methods: mixed redundant useful)",
    )  # fmt: skip
    ap.add_argument(
        "--methods", nargs="+", default=None,
        help="methods of the grid (default: all, with the warm-up row); unknown ones refused",
    )  # fmt: skip
    # the flag's old name, kept so that earlier commands and notes still run; not in --help
    ap.add_argument("--settings", nargs="+", dest="methods", help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=2, help="parallel runs (one thread each)")
    ap.add_argument("--quick", action="store_true", help="a tiny budget, for tests")
    ap.add_argument(
        "--rl-steps", type=int, default=None, help="RL steps of every run (default 60; quick 2)"
    )
    ap.add_argument(
        "--archive", default=None,
        help="a .jsonl.gz of finished runs: unpacked first, every new run packed into it",
    )  # fmt: skip
    ap.add_argument("--no-progress", action="store_true")
    try:
        args = ap.parse_args(argv)
        for flag, value in (("--seeds", args.seeds), ("--workers", args.workers)):
            if value < 1:
                ap.error(f"{flag} must be >= 1, got {value}")
        run_ablation(
            args.out,
            rl_steps=args.rl_steps,
            seeds=range(args.seeds),
            verbosities=args.verbosity,
            methods=args.methods,
            grid=args.grid,
            workers=args.workers,
            quick=args.quick,
            progress=not args.no_progress,
            archive=args.archive,
        )
    except (UsageError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
