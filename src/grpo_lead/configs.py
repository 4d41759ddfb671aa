"""Configuration: `GRPOLeadConfig` extends TRL's `GRPOConfig` with the LEAD options, and
`LeadScriptArguments` holds what the `train` command needs besides (data, rewards, resume).

Every TRL option still works (vLLM colocate/server, `loss_type`, `epsilon_high`, `beta`,
`num_iterations`, `report_to`, ...). Invalid LEAD values are rejected at construction with a
message that names the field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trl import GRPOConfig

from grpo_lead.advantages import DIFFICULTY_WEIGHTS, LENGTH_REWARDS


@dataclass
class GRPOLeadConfig(GRPOConfig):
    """`trl.GRPOConfig` plus GRPO-LEAD's three mechanisms (defaults: the paper's)."""

    length_reward: str = field(
        default="paper",
        metadata={
            "help": "Length term of the reward of correct answers: 'paper' (exp(-alpha z), z the token "
            "length standardised among the group's correct answers), 'linear' (the article's "
            "1 - length_coef * L / ref_length) or 'none' (1 for every correct answer).",
            "choices": sorted(LENGTH_REWARDS),
        },
    )
    alpha: float = field(default=0.05, metadata={"help": "alpha of exp(-alpha z) (paper: 0.05)."})
    length_coef: float = field(
        default=0.1, metadata={"help": "lambda of the 'linear' length term (article: 0.1)."}
    )
    ref_length: float = field(
        default=200.0, metadata={"help": "L_ref of the 'linear' length term (article: 200)."}
    )
    incorrect_reward: float = field(
        default=-1.0,
        metadata={
            "help": "Reward of a wrong answer, whatever its group did (paper: -1; 0 = plain GRPO)."
        },
    )
    difficulty_weight: str = field(
        default="logistic",
        metadata={
            "help": "Advantage reweighting by the group's solve rate rho: 'logistic' (paper: A*w(rho) if "
            "A>0 else A*w(1-rho)), 'linear' (the article's (1 + d) A, d = 1 - rho) or 'none'.",
            "choices": sorted(DIFFICULTY_WEIGHTS),
        },
    )
    weight_a: float = field(
        default=0.4, metadata={"help": "A of w(x) = A + (B-A)/(1+exp(k(x-x0)))."}
    )
    weight_b: float = field(default=1.5, metadata={"help": "B of the logistic weight."})
    weight_k: float = field(
        default=10.0, metadata={"help": "k (steepness) of the logistic weight."}
    )
    weight_x0: float = field(
        default=0.75, metadata={"help": "x0 (midpoint) of the logistic weight."}
    )
    lead_eps: float = field(
        default=1e-6, metadata={"help": "eps added to the group std (reference code: 1e-6)."}
    )
    group_filter: bool = field(
        default=False,
        metadata={
            "help": "The reference code's rejection sampling: groups whose rewards are all <= 0, or all "
            "exactly 1, get advantage 0 (all-correct groups with a length signal still train)."
        },
    )
    correctness_reward: str = field(
        default="accuracy_reward",
        metadata={
            "help": "Name of the reward function whose output decides correctness (> 0 = correct). Its "
            "column is replaced by the LEAD reward; other reward functions add with their weights."
        },
    )
    format_failure_reward: float | None = field(
        default=None,
        metadata={
            "help": "Reference code's outcome class: reward of an answer whose <think> never closes "
            "(truncated), e.g. 0. None = off (such an answer is simply correct or wrong)."
        },
    )
    repetition_reward: float = field(
        default=-2.0,
        metadata={
            "help": "Reward of a format failure with degenerate repetition (ref. code -2; stage 2 -1.5)."
        },
    )

    def __post_init__(self):
        super().__post_init__()
        self._validate_lead()

    def _validate_lead(self) -> None:
        if self.length_reward not in LENGTH_REWARDS:
            raise ValueError(
                f"length_reward must be one of {sorted(LENGTH_REWARDS)}, got {self.length_reward!r}"
            )
        if self.difficulty_weight not in DIFFICULTY_WEIGHTS:
            raise ValueError(
                f"difficulty_weight must be one of {sorted(DIFFICULTY_WEIGHTS)}, got {self.difficulty_weight!r}"
            )
        if not self.alpha >= 0:
            raise ValueError(f"alpha must be >= 0, got {self.alpha}")
        if not self.ref_length > 0:
            raise ValueError(f"ref_length must be > 0, got {self.ref_length}")
        if not 0 < self.weight_a <= self.weight_b:
            raise ValueError(
                f"weight_a and weight_b must satisfy 0 < weight_a <= weight_b, got {self.weight_a}, {self.weight_b}"
            )
        if not self.weight_k > 0:
            raise ValueError(f"weight_k must be > 0, got {self.weight_k}")
        if not 0 <= self.weight_x0 <= 1:
            raise ValueError(f"weight_x0 must lie in [0, 1] (a solve rate), got {self.weight_x0}")
        if not self.lead_eps > 0:
            raise ValueError(f"lead_eps must be > 0, got {self.lead_eps}")
        if self.scale_rewards not in ("group", "none"):
            raise ValueError(
                f"scale_rewards={self.scale_rewards!r} is not supported by GRPOLeadTrainer (LEAD "
                "normalises per group): use 'group' or 'none'"
            )
        if self.multi_objective_aggregation != "sum_then_normalize":
            raise ValueError(
                "multi_objective_aggregation must be 'sum_then_normalize' with GRPOLeadTrainer, got "
                f"{self.multi_objective_aggregation!r}"
            )

    @property
    def is_plain_grpo(self) -> bool:
        """True when every LEAD mechanism is off (LEAD reduces to GRPO with a 0/1 reward)."""
        return (
            self.length_reward == "none"
            and self.incorrect_reward == 0.0
            and self.difficulty_weight == "none"
            and not self.group_filter
            and self.format_failure_reward is None
        )


@dataclass
class LeadScriptArguments:
    """What `grpo-lead train` needs besides the model and training configs."""

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
        default="\nLet's think step by step and output the final answer within \\boxed{}.",
        metadata={"help": "Appended to every question (the paper's prompt)."},
    )
    chat_template: bool = field(
        default=True,
        metadata={
            "help": "Conversational prompts through the tokenizer's chat template (else plain text)."
        },
    )
    system_prompt: str | None = field(default=None, metadata={"help": "Optional system message."})
    reward_funcs: list[str] = field(
        default_factory=lambda: ["accuracy"],
        metadata={
            "help": "Reward functions by name (grpo_lead.rewards.REWARDS), e.g. accuracy format."
        },
    )
    trainer: str = field(
        default="lead",
        metadata={
            "help": "'lead' (GRPOLeadTrainer) or 'grpo' (stock trl.GRPOTrainer, for baselines)."
        },
    )
    resume: bool = field(
        default=False,
        metadata={
            "help": "Resume from the last checkpoint in output_dir (model, optimizer, scheduler, RNG)."
        },
    )

    def __post_init__(self):
        if self.trainer not in ("lead", "grpo"):
            raise ValueError(f"trainer must be 'lead' or 'grpo', got {self.trainer!r}")
        if isinstance(self.reward_funcs, str):
            self.reward_funcs = [self.reward_funcs]
        if not self.reward_funcs:
            raise ValueError("reward_funcs must name at least one reward function")
