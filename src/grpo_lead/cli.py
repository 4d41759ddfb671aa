"""`grpo-lead`: one command, one sub-command per job. Each sub-command owns its flags
(`grpo-lead <command> --help`); heavy imports happen only for the command that runs."""

from __future__ import annotations

import importlib
import logging
import sys

COMMANDS = {
    "train": ("grpo_lead.train", "train_main", "train with GRPO-LEAD from a YAML recipe"),
    "eval": ("grpo_lead.eval_cli", "eval_main", "pass@1 over k samples, cons@k, lengths"),
    "estimate-difficulty": (
        "grpo_lead.eval_cli",
        "estimate_difficulty_main",
        "solve rate per problem; filter like the paper",
    ),
    "compare": ("grpo_lead.eval_cli", "compare_main", "summaries side by side, with a plot"),
    "demo": ("grpo_lead.demo", "demo_main", "the CPU demo: GRPO-LEAD on a toy task"),
    "ablation": (
        "grpo_lead.ablation",
        "ablation_main",
        "the paper's ablation on the toy task, with CIs",
    ),
    "export": ("grpo_lead.export", "export_main", "checkpoint -> servable HF folder (LoRA merged)"),
    "serve": (
        "grpo_lead.serve.cli",
        "serve_main",
        "OpenAI-compatible server (vLLM on GPU, transformers on CPU)",
    ),
    "verl-data": (
        "grpo_lead.integrations.verl_data",
        "verl_data_main",
        "problems -> the parquet layout verl's trainer reads",
    ),
    "import-gguf": (
        "grpo_lead.import_gguf",
        "import_gguf_main",
        "a GGUF file (e.g. SmolLM2's) -> a Hugging Face folder",
    ),
}


class UsageError(ValueError):
    """A bad command line; the message is one line, ending with where the options are listed."""


class OneLineUsage:
    """Mixin for an `argparse.ArgumentParser` (or TRL's `TrlParser`): a usage error raises
    `UsageError` with one line instead of printing the whole usage (221 lines for `train`)."""

    prog: str

    def error(self, message: str):
        raise UsageError(f"{message} ({self.prog} --help lists the options)")


USAGE = "usage: grpo-lead <command> [options]\n\ncommands:\n" + "\n".join(
    f"  {name:<20} {help_}" for name, (_, _, help_) in COMMANDS.items()
)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    if argv[0] in ("-V", "--version"):
        from grpo_lead import __version__

        print(__version__)
        return 0
    name, rest = argv[0], argv[1:]
    if name == "demo" and "--ablation" in rest:  # `grpo-lead demo --ablation ...` = the ablation
        name, rest = "ablation", [a for a in rest if a != "--ablation"]
    if name not in COMMANDS:
        print(f"error: unknown command {name!r} (grpo-lead --help lists them)", file=sys.stderr)
        return 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    # our INFO lines, not a dependency's (matplotlib's "generated new fontManager" on a first run)
    for noisy in ("matplotlib", "PIL", "httpx", "urllib3", "filelock"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    module, func, _ = COMMANDS[name]
    return int(getattr(importlib.import_module(module), func)(rest) or 0)


if __name__ == "__main__":
    sys.exit(main())
