"""Evaluation of a toy model on held-out problems, through `grpo_lead.evaluation`.

1. The held-out problems come from a fixed seed (`EVAL_SEED`): the same set for every run seed.
2. `samples` answers a problem are drawn by `evaluation.generation.TransformersGenerator` at the
   RL temperature, from one random stream seeded with the run seed (`stream_seed`), in batches
   of `BATCH_SIZE` sequences: the same seed gives the same samples.
3. Answers are scored by `answers.check_answers` and summarised by `evaluation.metrics.summarize`
   (pass@1 overall and per level, mean length in tokens, EOS included, of correct and of wrong
   answers).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from grpo_lead.toylab.task import make_problems

__all__ = ["BATCH_SIZE", "EVAL_SEED", "evaluate_model", "held_out_problems"]

EVAL_SEED = 12345  # the held-out problems: the same set for every run seed
BATCH_SIZE = 128  # sequences generated together


def held_out_problems(n: int) -> list[dict[str, Any]]:
    """The `n` held-out problems (levels cycled, fixed seed)."""
    return make_problems(n, seed=EVAL_SEED)


def evaluate_model(
    model_dir: str | Path,
    problems: Sequence[dict[str, Any]],
    *,
    samples: int,
    max_new_tokens: int,
    temperature: float = 1.0,
    seed: int = 0,
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """`samples` answers per problem, scored; returns (`summarize` output, per-sample records).

    A record holds the problem (``id`` = its index, ``difficulty`` = its level, ``question``,
    ``answer``), the ``sample`` index, the ``completion`` text, the ``extracted`` answer, the
    verdict ``correct``, ``num_tokens`` (EOS included) and ``finished`` (ended before the limit).
    """
    from grpo_lead.answers import check_answers
    from grpo_lead.evaluation.generation import Request, Sampling, TransformersGenerator
    from grpo_lead.evaluation.metrics import summarize

    generator = TransformersGenerator(
        str(model_dir),
        Sampling(temperature=temperature, min_p=0.0, max_new_tokens=max_new_tokens),
        chat_template=False,  # the toy prompts are plain text, as in training
        batch_size=BATCH_SIZE,
        stream_seed=seed,
    )
    requests = [Request(prompt=p["prompt"], n=samples, seed=seed) for p in problems]
    completions = [c for per_problem in generator.generate(requests) for c in per_problem]
    references = [p["answer"] for p in problems for _ in range(samples)]
    verdicts = check_answers([c.text for c in completions], references)
    records = []
    for i, (completion, verdict) in enumerate(zip(completions, verdicts, strict=True)):
        problem = problems[i // samples]
        records.append(
            {
                "id": str(i // samples),
                "sample": i % samples,
                "difficulty": float(problem["level"]),
                "question": problem["question"],
                "answer": problem["answer"],
                "completion": completion.text,
                "extracted": verdict.extracted,
                "correct": verdict.correct,
                "num_tokens": completion.num_tokens,
                "finished": completion.finished,
            }
        )
    return summarize(records, samples), records
