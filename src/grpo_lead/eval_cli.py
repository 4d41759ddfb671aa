"""Command lines: `grpo-lead eval`, `grpo-lead estimate-difficulty`, `grpo-lead compare`.

Each `*_main(argv)` parses its arguments, runs, prints a markdown table and returns an exit
code: 0 on success, 2 with a one-line `error: ...` on stderr for bad flags, bad data or a
refused output folder, 130 when interrupted (rerun the same command to resume).

`grpo-lead eval` has the flags every task shares (the math task's columns, prompt suffix and
answer checker among them), then --task and each task's own flags from the task table
(`grpo_lead.tasks`); the run is the task's. `estimate-difficulty` runs math problems
(`grpo_lead.tasks.math.evaluation.estimate_difficulty`); `compare` reads any task's summaries.

    grpo-lead eval --model deepseek-ai/DeepSeek-R1-Distill-Qwen-7B --data aime24 --out runs/base-aime24
    grpo-lead estimate-difficulty --model M --data deepscaler -k 8 --out runs/difficulty
    grpo-lead compare runs/base-aime24 runs/lead-aime24 --out runs/compare
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from grpo_lead.answers import EXTRACTION_MODES
from grpo_lead.cli import OneLineUsage, UsageError
from grpo_lead.evaluation.errors import EvalError
from grpo_lead.evaluation.generation import BACKENDS, DTYPES
from grpo_lead.protocol import EVAL_K, EVAL_MAX_NEW_TOKENS, EVAL_TEMPERATURE, LEAD_PROMPT_SUFFIX
from grpo_lead.reader import DataError
from grpo_lead.tasks.math.data import BENCHMARKS, SYSTEM_PROMPT_HELP
from grpo_lead.threads import THREADS_HELP, set_torch_threads, threads_arg

EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class _Parser(OneLineUsage, argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting, for one-line errors."""


def _run_arguments(
    parser: argparse.ArgumentParser, *, k: int, temperature: float, tokens: int, folder: str
):
    """Flags shared by eval and estimate-difficulty; ``folder``: the command's folder under
    outputs/ (`default_out_dir`)."""
    names = ", ".join(BENCHMARKS)
    parser.add_argument("--model", required=True, help="local model folder or hub id")
    parser.add_argument(
        "--data",
        required=True,
        help=f"benchmark ({names}), a .jsonl/.json/.parquet/.csv file or a hub dataset id",
    )
    parser.add_argument(
        "-k", "--k", type=int, default=k, help=f"samples per question (default {k})"
    )
    parser.add_argument(
        "--temperature", type=float, default=temperature, help=f"default {temperature}"
    )
    parser.add_argument("--min-p", type=float, default=0.01, help="default 0.01")
    parser.add_argument("--max-new-tokens", type=int, default=tokens, help=f"default {tokens}")
    parser.add_argument(
        "--out",
        help=f"output folder (default outputs/{folder}/<model folder name>/<data file stem>)",
    )
    parser.add_argument(
        "--backend",
        choices=BACKENDS,
        default="auto",
        help="auto: vllm on a CUDA GPU when installed, else transformers",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        help="sequences per generation call (default 32 transformers, 2048 vllm)",
    )
    parser.add_argument("--limit", type=int, help="only the first N questions")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--split", help="dataset split (hub datasets)")
    _prompt_and_check_arguments(parser)


def _prompt_and_check_arguments(parser: argparse.ArgumentParser) -> None:
    """The columns, the prompt, the answer checker and the machine (threads, progress)."""
    for column in ("question", "answer", "difficulty", "id"):
        parser.add_argument(
            f"--{column}-column", help=f"{column} column (auto-detected if omitted)"
        )
    parser.add_argument(
        "--dtype", choices=DTYPES, default="auto", help="auto: bfloat16 on GPU, float32 on CPU"
    )
    parser.add_argument(
        "--no-chat-template",
        dest="chat_template",
        action="store_false",
        help="plain prompts even if the tokenizer has a chat template",
    )
    parser.add_argument("--system-prompt", help=SYSTEM_PROMPT_HELP)
    parser.add_argument(
        "--prompt-suffix",
        default=LEAD_PROMPT_SUFFIX,
        help="appended to each question (default: the paper's)",
    )
    parser.add_argument("--tensor-parallel-size", type=int, default=1, help="vllm GPUs per model")
    parser.add_argument("--num-workers", type=int, help="answer-checker processes")
    parser.add_argument("--check-timeout", type=float, default=5.0, help="seconds per answer check")
    parser.add_argument(
        "--extraction",
        choices=EXTRACTION_MODES,
        default="strict",
        help="strict (default, the paper's): a boxed or marked answer only; lenient: where none "
        "is found, math-verify's last expression in the reply ('2 times 3 equals 6.' -> 6), for "
        "models that never box (math answers; --task mcq ignores it)",
    )
    parser.add_argument(
        "--no-progress", dest="progress", action="store_false", help="no progress bar"
    )
    parser.add_argument("--threads", type=threads_arg, help=THREADS_HELP)


def _main(
    parser: argparse.ArgumentParser,
    argv: Sequence[str] | None,
    body: Callable[[argparse.Namespace], int],
) -> int:
    """Parse and run; boundary errors become one line on stderr and exit code 2."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (usage errors raise _UsageError instead)
        return exc.code if isinstance(exc.code, int) else 0
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        if hasattr(args, "threads"):
            set_torch_threads(args.threads, log=False)  # the generator logs the number
        return body(args)
    except (DataError, EvalError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("interrupted: rerun the same command to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


EVAL_HELP = """`grpo-lead eval`: sample k answers per question, score them, summarise: pass@1 over
k samples, cons@k, pass@k, lengths, per difficulty (resumable: rerun the same command)."""


def eval_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead eval`: sample k answers per question, score, summarise (resumable).

    The flags every task shares, then --task and each task's own flags, from the task table
    (`grpo_lead.tasks.TASKS`); the run is the chosen task's (its row's ``evaluate``)."""
    from grpo_lead.tasks import DEFAULT_TASK, TASKS

    parser = _Parser(prog="grpo-lead eval", description=EVAL_HELP)
    _run_arguments(
        parser, k=EVAL_K, temperature=EVAL_TEMPERATURE, tokens=EVAL_MAX_NEW_TOKENS, folder="eval"
    )
    parser.add_argument(
        "--task",
        choices=list(TASKS),
        default=DEFAULT_TASK,
        help="; ".join(f"{name}: {task.help}" for name, task in TASKS.items()),
    )
    for task in TASKS.values():
        task.add_eval_arguments(parser)
    return _main(parser, argv, lambda args: TASKS[args.task].run_eval(args))


def estimate_difficulty_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead estimate-difficulty`: each problem's solve rate over k samples (defaults: the
    paper's rollouts, k=8 at temperature 0.8, 8k tokens) and the problems to keep."""
    parser = _Parser(
        prog="grpo-lead estimate-difficulty", description=estimate_difficulty_main.__doc__
    )
    _run_arguments(parser, k=8, temperature=0.8, tokens=8192, folder="difficulty")
    parser.add_argument(
        "--min-solve-rate",
        type=float,
        default=0.0,
        help="keep solve_rate > this (default 0 drops never-solved problems; -1 keeps them)",
    )
    parser.add_argument(
        "--max-solve-rate", type=float, default=0.75, help="keep solve_rate <= this (default 0.75)"
    )
    return _main(parser, argv, _estimate_difficulty)


def _estimate_difficulty(args: argparse.Namespace) -> int:
    from grpo_lead.evaluation.runner import RunOptions, default_out_dir, settings_from_args
    from grpo_lead.tasks.math.evaluation import EvalSettings, estimate_difficulty

    settings = settings_from_args(EvalSettings, args)
    out = Path(args.out) if args.out else default_out_dir("difficulty", args.model, args.data)
    result = estimate_difficulty(
        settings,
        out,
        min_solve_rate=args.min_solve_rate,
        max_solve_rate=args.max_solve_rate,
        options=RunOptions.from_args(args),
    )
    print(
        f"kept {result['num_kept']} of {result['num_problems']} problems "
        f"({args.min_solve_rate:g} < solve_rate <= {args.max_solve_rate:g})"
    )
    print(f"wrote {result['solve_rates']} and {result['filtered']}")
    return 0


def compare_main(argv: Sequence[str] | None = None) -> int:
    """`grpo-lead compare`: runs side by side (markdown) and pass@1 against length (PNG)."""
    parser = _Parser(prog="grpo-lead compare", description=compare_main.__doc__)
    parser.add_argument("summaries", nargs="+", help="summary.json files or eval output folders")
    parser.add_argument(
        "--out", default="outputs/compare", help="folder for compare.md and compare.png"
    )
    parser.add_argument("--labels", nargs="+", help="one label per summary (default: folder names)")
    return _main(parser, argv, _compare)


def _compare(args: argparse.Namespace) -> int:
    from grpo_lead.evaluation.compare import COMPARE_PNG_FILE, compare

    print(compare(args.summaries, args.out, labels=args.labels))
    print(f"wrote {Path(args.out) / COMPARE_PNG_FILE}")
    return 0
