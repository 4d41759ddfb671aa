"""Configuration: `GRPOLeadConfig` extends TRL's `GRPOConfig` with the LEAD options, and
`LeadScriptArguments` holds what the `train` command needs besides (data, rewards, resume).

Every TRL option still works (vLLM colocate/server, `loss_type`, `epsilon_high`, `beta`,
`num_iterations`, `report_to`, ...). Invalid LEAD values are rejected at construction with a
message that names the field.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, fields
from typing import Any

from trl import GRPOConfig

from grpo_lead.advantages import DIFFICULTY_WEIGHTS, LENGTH_REWARDS
from grpo_lead.answers import EXTRACTION_MODES, check_extraction
from grpo_lead.options import PAPER, LeadOptions, lead_option_names
from grpo_lead.protocol import LEAD_PROMPT_SUFFIX

# GRPOLeadConfig field -> LeadOptions field, where the names differ (TRL owns scale_rewards; a
# bare `eps` would read as a TRL option). Every other LEAD field has the LeadOptions name.
_RENAMED = {"lead_eps": "eps", "scale_rewards": "scale"}


# Float fields of TRL's config where inf means "no limit".
_MAY_BE_INFINITE = {"vllm_server_timeout"}


def _lead(name: str, help: str, **metadata) -> Any:
    """A LEAD field whose default is the paper's (`grpo_lead.options.PAPER`), written once."""
    return field(
        default=getattr(PAPER, _RENAMED.get(name, name)), metadata={"help": help, **metadata}
    )


@dataclass
class GRPOLeadConfig(GRPOConfig):
    """`trl.GRPOConfig` plus GRPO-LEAD's options (defaults: the paper's; see `LeadOptions`)."""

    length_reward: str = _lead(
        "length_reward",
        "Reward of answers by length (grpo_lead.advantages.LENGTH_REWARDS): 'paper' (exp(-alpha z) "
        "among the group's correct answers), 'linear' (the article's 1 - length_coef * L / "
        "ref_length), 'budget' (DLER: 0 beyond length_budget), 'kimi' (Kimi 1.5's group min-max), "
        "'alp' (ALP: - alp_beta * L * max(rho, 1/G)), 'cosine' (Yeo et al., as TRL's) or 'none'.",
        choices=sorted(LENGTH_REWARDS),
    )
    alpha: float = _lead("alpha", "alpha of exp(-alpha z) (paper: 0.05; 0..10).")
    length_coef: float = _lead("length_coef", "lambda of the 'linear' length term (article: 0.1).")
    ref_length: float = _lead("ref_length", "L_ref of the 'linear' length term (article: 200).")
    skip_length_term_below: float | None = _lead(
        "skip_length_term_below",
        "No length term in a group whose 3 shortest answers average <= this many tokens (the "
        "reference code's gate: 4000). None = off (the paper's text).",
    )
    length_budget: float | None = _lead(
        "length_budget", "Token budget of length_reward='budget' (DLER's truncation penalty)."
    )
    budget_penalty_reward: float = _lead(
        "budget_penalty_reward", "Reward of a correct answer beyond length_budget (DLER: 0)."
    )
    kimi_weight: float = _lead("kimi_weight", "Weight of Kimi 1.5's length reward.")
    alp_beta: float = _lead("alp_beta", "beta of ALP's per-token penalty.")
    cosine_max_len: float = _lead("cosine_max_len", "L_max of the cosine length reward (tokens).")
    soft_punish_cache: int | None = _lead(
        "soft_punish_cache",
        "L_cache of the 'soft_overlong' reward (TRL's DAPO soft overlong punishment): the penalty "
        "ramps from max_completion_length - L_cache. None = a fifth of max_completion_length "
        "(DAPO: 4096 of 20480).",
    )
    length_term_min_solve_rate: float | None = _lead(
        "length_term_min_solve_rate",
        "No length term in a group whose solve rate is below this (the 'lead-solved' preset: 1.0, "
        "only groups the model solves every time are pushed shorter). None = off (the paper).",
    )
    incorrect_reward: float = _lead(
        "incorrect_reward",
        "Reward of a wrong answer, whatever its group did (paper: -1; 0 = plain GRPO; -100..0).",
    )
    difficulty_weight: str = _lead(
        "difficulty_weight",
        "Advantage reweighting by the group's solve rate rho: 'logistic' (paper: A*w(rho) if A>0 "
        "else A*w(1-rho)), 'linear' (the article's (1 + d) A, d = 1 - rho) or 'none'.",
        choices=sorted(DIFFICULTY_WEIGHTS),
    )
    weight_a: float = _lead("weight_a", "A of w(x) = A + (B-A)/(1+exp(k(x-x0))) (paper: 0.4).")
    weight_b: float = _lead("weight_b", "B of the logistic weight (paper: 1.5).")
    weight_k: float = _lead("weight_k", "k (steepness) of the logistic weight (paper: 10).")
    weight_x0: float = _lead("weight_x0", "x0 (midpoint) of the logistic weight (paper: 0.75).")
    lead_eps: float = _lead("lead_eps", "eps added to the group std (reference code: 1e-6).")
    group_filter: bool = _lead(
        "group_filter",
        "The reference code's rejection sampling: groups whose rewards are all <= 0, or all "
        "exactly 1, leave the loss (all-correct groups with a length signal still train).",
    )
    dot: bool = _lead(
        "dot",
        "DOT, Dynamic Outlier Truncation (arXiv 2601.03969): in groups solved at least "
        "dot_success_threshold of the time, a completion at least dot_margin tokens beyond "
        "int(mean + dot_alpha * stdev) of its group's lengths is cut there (no gradient past the "
        "cut) and its rewards are computed again on the cut text.",
    )
    dot_success_threshold: float = _lead(
        "dot_success_threshold", "Solve rate from which DOT cuts a group (paper: 1.0)."
    )
    dot_alpha: float = _lead(
        "dot_alpha",
        "alpha of DOT's threshold mean + alpha * stdev (paper: 3 at G = 32; at G = 8 no answer "
        "can exceed 2.47, so choose below that).",
    )
    dot_margin: float = _lead(
        "dot_margin",
        "DOT cuts only answers at least this many tokens past the threshold (paper: 32); a value "
        "in (0, 1) is a share of the answer's length, at least 16 tokens.",
    )
    correctness_reward: str = field(
        default="accuracy_reward",
        metadata={
            "help": "Name of the reward function whose output decides correctness (> 0 = correct). Its "
            "column is replaced by the LEAD reward; other reward functions add with their weights."
        },
    )
    extraction: str = field(
        default="strict",
        metadata={
            "help": "How the rewards that check answers read them (grpo_lead.answers): 'strict' (the "
            "paper's: a boxed or marked answer only) or 'lenient' (where none is found, "
            "math-verify's last expression in the reply: '2 times 3 equals 6.' -> 6), for models "
            "that never box their answers.",
            "choices": list(EXTRACTION_MODES),
        },
    )
    format_failure_reward: float | None = _lead(
        "format_failure_reward",
        "Reference code's outcome class: reward of a format failure (truncated: the completion hit "
        "max_completion_length without EOS, or its reasoning block never closes), e.g. 0. Such an "
        "answer is never correct. None = off.",
    )
    repetition_reward: float = _lead(
        "repetition_reward",
        "Reward of a format failure with degenerate repetition (ref. code -2; stage 2 -1.5).",
    )

    def __post_init__(self):
        self._use_activation_checkpointing()
        self._scale_rewards_from_text()
        self._validate_trl()
        derived = self.generation_batch_size is None and self.steps_per_generation is None
        try:
            super().__post_init__()
        except ValueError as exc:
            raise ValueError(self._group_batch_message(str(exc), derived)) from None
        self._validate_lead()

    def _validate_trl(self) -> None:
        """TRL's own fields, checked before TRL (and torch) meet them: every float finite (``inf``
        trained to an all-NaN model), and the few values whose TRL or transformers message names
        a field the user never set (``max_new_tokens``; ``generation_batch_size``: see
        `_group_batch_message`)."""
        for f in fields(GRPOConfig):
            value = getattr(self, f.name)
            values = value if isinstance(value, list | tuple) else [value]
            for item in values:
                if isinstance(item, float) and not math.isfinite(item):
                    if f.name in _MAY_BE_INFINITE and item == math.inf:
                        continue
                    raise ValueError(f"{f.name} must be a finite number, got {item}")
        for name in ("learning_rate", "weight_decay", "adam_epsilon", "beta"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.max_completion_length is not None and self.max_completion_length < 1:
            raise ValueError(
                f"max_completion_length must be at least 1 token, got {self.max_completion_length}"
            )
        if self.num_generations is not None and self.num_generations < 2:
            raise ValueError(
                f"num_generations must be at least 2 (GRPO compares the answers of a group), "
                f"got {self.num_generations}"
            )

    def _group_batch_message(self, message: str, derived: bool) -> str:
        """TRL's "generation_batch_size (8) must be divisible by num_generations (3)" in the
        terms of the flags a user set, when TRL derived that size from them (``derived``)."""
        if not (derived and "must be divisible by num_generations" in message):
            return message
        processes = self.world_size  # TRL's own count (its check ran after it was known)
        return (
            f"per_device_train_batch_size {self.per_device_train_batch_size} x "
            f"gradient_accumulation_steps {self.gradient_accumulation_steps} x {processes} "
            f"process(es) = {self.generation_batch_size} completions a step, not a multiple of "
            f"num_generations {self.num_generations}: change one of them"
        )

    def _use_activation_checkpointing(self) -> None:
        """transformers 5 renamed ``gradient_checkpointing`` to ``activation_checkpointing`` and
        warns on every config that sets the old name, which TRL's GRPOConfig does by default:
        hand the value to the new name first, so a user sees our output, not that warning.
        Older transformers have only the old name and are left alone."""
        for old, new in (
            ("gradient_checkpointing", "activation_checkpointing"),
            ("gradient_checkpointing_kwargs", "activation_checkpointing_kwargs"),
        ):
            if hasattr(self, new) and getattr(self, new) is None:
                setattr(self, new, getattr(self, old))
                setattr(self, old, None)

    def _scale_rewards_from_text(self) -> None:
        """``--scale_rewards True`` / ``False`` (TRL documents booleans; a flag or YAML string
        arrives as text): the booleans TRL maps to "group" / "none"."""
        text = self.scale_rewards
        if isinstance(text, str) and text.strip().lower() in ("true", "false"):
            self.scale_rewards = text.strip().lower() == "true"

    def _validate_lead(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and math.isnan(value):
                raise ValueError(f"{f.name} must be a number, got nan")
        try:
            self.lead_options()
        except ValueError as e:
            msg = str(e)
            for ours, theirs in _RENAMED.items():
                if msg.startswith(f"{theirs} "):
                    msg = ours + msg[len(theirs) :]
            raise ValueError(msg) from None
        check_extraction(self.extraction)
        if self.multi_objective_aggregation != "sum_then_normalize":
            raise ValueError(
                "multi_objective_aggregation must be 'sum_then_normalize' with GRPOLeadTrainer, got "
                f"{self.multi_objective_aggregation!r}"
            )

    def lead_options(self) -> LeadOptions:
        """The LEAD options of this config: the one place where config fields become options."""
        names = lead_option_names()
        inverse = {v: k for k, v in _RENAMED.items()}
        return LeadOptions(**{n: getattr(self, inverse.get(n, n)) for n in names})

    @staticmethod
    def options_kwargs(options: LeadOptions) -> dict[str, Any]:
        """`GRPOLeadConfig` keyword arguments that set every LEAD option to ``options`` (the
        inverse of `lead_options`): ``GRPOLeadConfig(**GRPOLeadConfig.options_kwargs(preset("grpo")),
        output_dir=...)``."""
        inverse = {v: k for k, v in _RENAMED.items()}
        return {inverse.get(n, n): getattr(options, n) for n in lead_option_names()}

    @property
    def is_plain_grpo(self) -> bool:
        """True when every LEAD mechanism is off (LEAD reduces to GRPO with a 0/1 reward)."""
        return self.lead_options().is_plain_grpo


@dataclass
class LeadScriptArguments:
    """What `grpo-lead train` needs besides the model and training configs."""

    task: str = field(
        default="math",
        metadata={
            "help": "The task (grpo_lead.tasks.TASKS): 'math' (default) or 'mcq' (multiple choice: "
            "`--task mcq --help` lists its options). A recipe's `task:` key does the same."
        },
    )
    dataset: str = field(
        default="deepscaler",
        metadata={
            "help": "Training data: a benchmark/training set name (deepscaler, math500, gsm8k, ...), a "
            "local .jsonl/.json/.parquet/.csv file, or a Hugging Face dataset id."
        },
    )
    dataset_split: str | None = field(default=None, metadata={"help": "Split of a hub dataset."})
    question_column: str | None = field(
        default=None, metadata={"help": "Column with the question."}
    )
    answer_column: str | None = field(
        default=None, metadata={"help": "Column with the reference answer."}
    )
    difficulty_column: str | None = field(
        default=None, metadata={"help": "Optional column with a difficulty or solve rate."}
    )
    max_train_samples: int | None = field(
        default=None, metadata={"help": "Use the first N problems."}
    )
    prompt_suffix: str = field(
        default=LEAD_PROMPT_SUFFIX,
        metadata={"help": "Appended to every question (the paper's prompt)."},
    )
    chat_template: bool = field(
        default=True,
        metadata={
            "help": "Conversational prompts through the tokenizer's chat template (else plain text)."
        },
    )
    system_prompt: str | None = field(
        default=None,
        metadata={
            "help": "System message. Default: none of ours, but a chat template may add its own "
            "(SmolLM2's: 'You are a helpful AI assistant named SmolLM, trained by Hugging Face'); "
            "the first prompt the model sees is logged. '' (system_prompt: '' in YAML) sends an "
            "empty system message, which replaces such a default."
        },
    )
    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy"],
        metadata={
            "help": "Reward functions by name (grpo_lead.rewards.REWARDS and REWARD_BUILDERS), e.g. "
            "accuracy format soft_overlong."
        },
    )
    trainer: str = field(
        default="lead",
        metadata={
            "help": "'lead' (GRPOLeadTrainer) or 'grpo' (stock trl.GRPOTrainer, for baselines)."
        },
    )
    threads: int | None = field(
        default=None,
        metadata={
            "help": "torch CPU threads (default: the CPUs this process may use, less the load "
            "already on them; OMP_NUM_THREADS when set)."
        },
    )
    resume: bool = field(
        default=False,
        metadata={
            "help": "Resume from the last checkpoint in output_dir (model, optimizer, scheduler, RNG)."
        },
    )
    overwrite_output_dir: bool = field(
        default=False,
        metadata={
            "help": "Train into an output_dir that holds a finished run or files of your own, "
            "writing over them (without it such a folder is refused)."
        },
    )

    def __post_init__(self):
        if self.trainer not in ("lead", "grpo"):
            raise ValueError(f"trainer must be 'lead' or 'grpo', got {self.trainer!r}")
        if isinstance(self.reward_funcs, str):
            self.reward_funcs = [self.reward_funcs]
        if not self.reward_funcs:
            raise ValueError("reward_funcs must name at least one reward function")
        if self.threads is not None and self.threads < 1:
            raise ValueError(f"threads must be at least 1, got {self.threads}")
