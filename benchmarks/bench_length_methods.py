"""The length-control methods side by side on the toy task (issue 14): every method of
`grpo_lead.toylab.grid.LENGTH_METHODS` at 2-3 knob values, plain GRPO and the warm-up row, on
the three task switches (the new ``mixed`` one first), >= 5 seeds, paired 95% intervals.

    .venv/bin/python benchmarks/bench_length_methods.py [--seeds 5] [--methods ...]
        [--verbosity mixed redundant useful] [--out outputs/length-methods]

= ``grpo-lead ablation --grid length-methods`` plus a copy of the report to benchmarks/results/
(length_methods.md / .json / .png / _levels.png). Resumable: each run is saved when it ends and
reused; a folder keeps the budget it was started with. Every finished run is also packed into
benchmarks/results/length_methods_runs.jsonl.gz (commit it): a new checkout unpacks it first,
so the grid resumes across sessions and machines, and the warm-ups of finished seeds are
skipped. Jobs run switch by switch and, within a switch, method by method over the seeds (the
order of --methods), 2 at a time, one thread each.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from grpo_lead.ablation import run_ablation
from grpo_lead.toylab.grid import grid_methods

ARCHIVE = Path(__file__).resolve().parent / "results" / "length_methods_runs.jsonl.gz"
NAMES = (
    "length_methods.md",
    "length_methods.json",
    "length_methods.png",
    "length_methods_levels.png",
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seeds", type=int, default=5)
    ap.add_argument("--out", default="outputs/length-methods")
    ap.add_argument("--verbosity", nargs="+", default=["mixed", "redundant", "useful"])
    ap.add_argument(
        "--methods", nargs="+", default=["grpo", *grid_methods("length-methods")[1:], "warmup"]
    )
    # the flag's old name, kept so that earlier commands and notes still run; not in --help
    ap.add_argument("--settings", nargs="+", dest="methods", help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument(
        "--archive", default=str(ARCHIVE),
        help="finished runs, committed: unpacked first, each new run packed in (resume anywhere)",
    )  # fmt: skip
    args = ap.parse_args()
    run_ablation(
        args.out, grid="length-methods", seeds=range(args.seeds), verbosities=args.verbosity,
        methods=args.methods, workers=args.workers, archive=args.archive,
    )  # fmt: skip
    results = Path("benchmarks/results")
    results.mkdir(parents=True, exist_ok=True)
    for name in NAMES:
        shutil.copy(Path(args.out) / name, results / name)


if __name__ == "__main__":
    main()
