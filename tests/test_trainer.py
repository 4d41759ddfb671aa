"""GRPOLeadTrainer on a tiny local model: the loss uses the LEAD advantages, weights change,
config validation, and the TRL seams it depends on."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from datasets import Dataset
from trl import GRPOTrainer

from grpo_lead.advantages import lead_advantages, lead_rewards
from grpo_lead.configs import GRPOLeadConfig
from grpo_lead.options import PAPER, preset
from grpo_lead.trainer import GRPOLeadTrainer, lead_batch_advantages


def accuracy_reward(completions, answer, **kwargs):
    """A deterministic stand-in for correctness on a random model: mixed groups by design."""
    return [float(sum(map(ord, c)) % 2 == 0) for c in completions]


def length_bonus(completions, **kwargs):
    return [len(c) / 100 for c in completions]


def make_config(tmp_path, **overrides):
    kwargs = dict(
        output_dir=str(tmp_path / "out"),
        per_device_train_batch_size=8,
        num_generations=4,
        max_completion_length=12,
        max_steps=2,
        learning_rate=1e-2,
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        report_to="none",
        logging_steps=1,
        save_strategy="no",
        temperature=1.0,
        seed=0,
        beta=0.0,
    )
    kwargs.update(overrides)
    return GRPOLeadConfig(**kwargs)


def prompts_dataset(n=8):
    return Dataset.from_list([{"prompt": f"{i}+{i}=", "answer": str(2 * i)} for i in range(n)])


class RecordingTrainer(GRPOLeadTrainer):
    """Keeps each batch the loss sees: local completions, their mask and advantages."""

    def _generate_and_score_completions(self, inputs):
        out = super()._generate_and_score_completions(inputs)
        self.recorded = getattr(self, "recorded", [])
        self.recorded.append(
            {
                "advantages": out["advantages"].clone(),
                "lengths": out["completion_mask"].sum(dim=1).clone(),
                "rewards_per_func": self._lead_rewards_per_func.clone(),
            }
        )
        return out


def test_trainer_uses_lead_advantages_and_changes_weights(tiny_model_dir, tmp_path, monkeypatch):
    import grpo_lead.trainer as T

    released = []
    monkeypatch.setattr(T, "return_freed_memory", lambda: released.append(True))
    cfg = make_config(tmp_path)
    trainer = RecordingTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[accuracy_reward],
        args=cfg,
        train_dataset=prompts_dataset(),
    )
    before = {n: p.detach().clone() for n, p in trainer.model.named_parameters()}
    from trl.kernels import chunked_logprob

    seen, tile = set(), chunked_logprob._forward_tile

    def recording_tile(*args, **kwargs):
        seen.add(chunked_logprob.TOKEN_CHUNK_SIZE)
        return tile(*args, **kwargs)

    chunked_logprob._forward_tile = recording_tile
    try:
        trainer.train()
    finally:
        chunked_logprob._forward_tile = tile
    assert seen == {256}  # CPU: small log-prob tiles while training (trainer.small_logprob_tiles)
    assert released == [True]  # CPU: freed activations go back to the OS
    changed = [n for n, p in trainer.model.named_parameters() if not torch.equal(before[n], p)]
    assert changed, "no parameter changed"
    assert len(trainer.recorded) == 2
    for rec in trainer.recorded:
        correct = rec["rewards_per_func"][:, 0] > 0
        # the core functions, fed the batch's correctness and token lengths
        expected = lead_advantages(lead_rewards(correct, rec["lengths"].float(), 4), correct, 4)
        assert torch.allclose(rec["advantages"], expected, atol=1e-6)
    # the completions table shows the advantages actually used
    logged = list(trainer._logs["advantages"])[-8:]
    assert logged == pytest.approx(trainer.recorded[-1]["advantages"].tolist(), abs=1e-6)
    history = trainer.state.log_history[0]
    for key in (
        "lead/accuracy",
        "lead/solve_rate_p50",
        "lead/frac_groups_all_correct",
        "lead/frac_groups_all_wrong",
        "lead/frac_groups_dropped",
        "lead/mean_weight",
        "lead/reward",
        "lead/reward_std",
    ):
        assert key in history, key
    # TRL's `reward` is what the reward functions returned; `lead/reward` what LEAD optimises
    last = trainer.state.log_history[-2]  # (the last entry is the end-of-run summary)
    assert last["lead/reward"] == pytest.approx(trainer.last_lead_batch.rewards.mean().item())
    assert last["reward"] == pytest.approx(trainer.recorded[-1]["rewards_per_func"].mean().item())


def test_plain_grpo_mode_matches_trl_on_same_rewards(tiny_model_dir, tmp_path):
    """With every LEAD option off, the advantages are GRPO's (sample std, our eps)."""
    cfg = make_config(
        tmp_path,
        length_reward="none",
        incorrect_reward=0.0,
        difficulty_weight="none",
        max_steps=1,
    )
    assert cfg.is_plain_grpo
    trainer = RecordingTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[accuracy_reward, length_bonus],
        args=cfg,
        train_dataset=prompts_dataset(),
    )
    trainer.train()
    rec = trainer.recorded[0]
    total = rec["rewards_per_func"].sum(dim=1).reshape(-1, 4)
    expected = (total - total.mean(1, keepdim=True)) / (total.std(1, keepdim=True) + 1e-6)
    expected = torch.where(total.std(1, keepdim=True) > 0, expected, torch.zeros_like(expected))
    assert torch.allclose(rec["advantages"], expected.reshape(-1), atol=1e-5)


def test_missing_correctness_reward_is_a_clear_error(tiny_model_dir, tmp_path):
    with pytest.raises(ValueError, match="correctness_reward='accuracy_reward' is not among"):
        GRPOLeadTrainer(
            model=str(tiny_model_dir),
            reward_funcs=[length_bonus],
            args=make_config(tmp_path),
            train_dataset=prompts_dataset(),
        )


@pytest.mark.parametrize(
    "field, value, message",
    [
        ("length_reward", "cubic", "length_reward must be one of"),
        ("difficulty_weight", "sigmoid", "difficulty_weight must be one of"),
        ("alpha", -0.1, r"alpha must lie in \[0, 10\]"),
        ("alpha", float("inf"), "alpha must be finite"),
        ("alpha", float("nan"), "alpha must be a number, got nan"),
        ("incorrect_reward", float("nan"), "incorrect_reward must be a number, got nan"),
        ("incorrect_reward", float("-inf"), "incorrect_reward must be finite"),
        ("lead_eps", 0.0, "lead_eps must lie in"),
        ("weight_a", 2.0, "weight_a must be <= weight_b"),
        ("weight_x0", 1.5, "weight_x0 must lie in"),
        ("length_reward", "budget", "needs length_budget"),
        ("num_generations", 1, "num_generations must be at least 2"),  # not TRL's words
    ],
)
def test_bad_config_values_name_the_field(tmp_path, field, value, message):
    with pytest.raises(ValueError, match=message):
        make_config(tmp_path, **{field: value})


def test_lead_batch_advantages_composes_rewards_and_filter():
    # two groups of 2; column 0 = correctness, column 1 = a format reward with weight 0.5
    rpf = torch.tensor([[1.0, 1.0], [0.0, 1.0], [0.0, 0.0], [float("nan"), 1.0]])
    batch = lead_batch_advantages(
        rpf,
        reward_weights=torch.tensor([1.0, 0.5]),
        correct_index=0,
        lengths=torch.tensor([5.0, 9.0, 3.0, 4.0]),
        group_size=2,
        options=PAPER.replace(group_filter=True),
    )
    # group 1: lone correct -> 1 + 0.5 = 1.5, wrong -> -1 + 0.5 = -0.5
    # group 2: both wrong (NaN counts wrong) -> -1 + 0 and -1 + 0.5: rewards all <= 0: dropped
    assert batch.rewards.tolist() == pytest.approx([1.5, -0.5, -1.0, -0.5])
    assert batch.correct.tolist() == [True, False, False, False]
    assert batch.keep.tolist() == [True, True, False, False]
    assert batch.advantages[2:].tolist() == [0.0, 0.0]
    assert batch.advantages[0] > 0 > batch.advantages[1]


def test_trl_seams_are_where_we_expect():
    """Fails when TRL moves the private methods GRPOLeadTrainer overrides."""
    calc = inspect.signature(GRPOTrainer._calculate_rewards)
    assert list(calc.parameters) == [
        "self",
        "inputs",
        "prompts",
        "completions",
        "completion_ids_list",
    ]
    gen = inspect.signature(GRPOTrainer._generate_and_score_completions)
    assert list(gen.parameters) == ["self", "inputs"]
    src = inspect.getsource(GRPOTrainer._generate_and_score_completions)
    assert "self._calculate_rewards(" in src and '"advantages": advantages' in src
    assert 'self._logs["advantages"].extend' in src


def test_lead_batch_advantages_outcome_classes():
    # one group of 4: correct, wrong, truncated, truncated + looping (reference code classes)
    rpf = torch.tensor([[1.0], [0.0], [0.0], [0.0]])
    flags = dict(
        format_failure=torch.tensor([False, False, True, True]),
        repetition=torch.tensor([False, False, False, True]),
    )
    on = lead_batch_advantages(
        rpf, reward_weights=torch.ones(1), correct_index=0, lengths=torch.full((4,), 9.0),
        group_size=4, options=preset("reference", skip_length_term_below=None), **flags,
    )  # fmt: skip
    assert on.rewards.tolist() == [1.0, -1.0, 0.0, -2.0]
    off = lead_batch_advantages(
        rpf, reward_weights=torch.ones(1), correct_index=0, lengths=torch.full((4,), 9.0),
        group_size=4, options=PAPER, **flags,
    )  # fmt: skip
    assert off.rewards.tolist() == [1.0, -1.0, -1.0, -1.0]  # option off: flags ignored


def every_fourth_group_wrong(completions, answer, **kwargs):
    """Groups whose answer is a multiple of 4 are all wrong; the others mixed by parity."""
    return [
        0.0 if int(a) % 4 == 0 else float(sum(map(ord, c)) % 2 == 0)
        for c, a in zip(completions, answer, strict=True)
    ]


class MaskRecordingTrainer(GRPOLeadTrainer):
    def _generate_and_score_completions(self, inputs):
        out = super()._generate_and_score_completions(inputs)
        self.recorded = getattr(self, "recorded", [])
        self.recorded.append(
            {
                "mask": out["completion_mask"].clone(),
                "num_items": out["num_items_in_batch"].clone(),
                "keep": self.last_lead_batch.keep.clone(),
                "advantages": out["advantages"].clone(),
                "ids": out["completion_ids"].clone(),
                "flags": self._lead_flags.clone(),
                "batch": self.last_lead_batch,
            }
        )
        return out


def test_group_filter_takes_dropped_rows_out_of_the_loss(tiny_model_dir, tmp_path):
    cfg = make_config(
        tmp_path,
        group_filter=True,
        max_steps=1,
        per_device_train_batch_size=16,
        correctness_reward="every_fourth_group_wrong",
    )
    trainer = MaskRecordingTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[every_fourth_group_wrong],
        args=cfg,
        train_dataset=prompts_dataset(4),  # answers 0, 4 (always wrong: dropped), 2, 6 (mixed)
    )
    trainer.train()
    rec = trainer.recorded[0]
    dropped = ~rec["keep"]
    assert dropped.any() and rec["keep"].any(), "the batch must hold dropped and kept groups"
    # a dropped row has no token in the loss and no share of its normaliser
    assert rec["mask"][dropped].sum() == 0
    assert rec["mask"][rec["keep"]].sum(dim=1).min() > 0
    assert rec["num_items"].item() == rec["mask"].sum().item()
    assert (rec["advantages"][dropped] == 0).all()


def always_correct(completions, **kwargs):
    return [1.0] * len(completions)


def test_truncation_is_decided_from_eos_and_is_never_correct(tiny_model_dir, tmp_path):
    """A random tiny model rarely ends within 12 tokens: its truncated completions are format
    failures (reward 0) even though the correctness reward says 1, and they count as wrong in
    the solve rate: one outcome decision everywhere."""
    cfg = make_config(
        tmp_path, format_failure_reward=0.0, max_steps=1, correctness_reward="always_correct"
    )
    trainer = MaskRecordingTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[always_correct],
        args=cfg,
        train_dataset=prompts_dataset(),
    )
    trainer.train()
    rec = trainer.recorded[0]
    eos = trainer.eos_token_ids
    ended = torch.tensor(
        [bool(set(row.tolist()) & set(eos)) for row in rec["ids"]]
    )  # the local rows hold an EOS somewhere iff they ended
    truncated = rec["flags"][:, 1] > 0
    assert truncated.any(), "the check would be vacuous"
    assert torch.equal(truncated, ~ended)
    batch = rec["batch"]
    assert not batch.correct[truncated].any()
    assert batch.rewards[truncated].tolist() == [0.0] * int(truncated.sum())
    assert batch.correct[~truncated].all()
    assert torch.allclose(batch.solve_rate, (~truncated).float().reshape(-1, 4).mean(1))


def test_no_dependency_deprecation_warnings_on_a_training_step(tiny_model_dir, tmp_path):
    """A user's first run shows our output: TRL's default gradient_checkpointing=True made
    transformers 5 warn on every config, and TRL reads the deprecated is_gradient_checkpointing."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:  # the filters a run has
        cfg = make_config(tmp_path, max_steps=1, gradient_checkpointing=True)
        trainer = GRPOLeadTrainer(
            model=str(tiny_model_dir),
            reward_funcs=[accuracy_reward],
            args=cfg,
            train_dataset=prompts_dataset(),
        )
        trainer.train()
    deprecations = [str(w.message) for w in caught if "deprecated" in str(w.message)]
    assert deprecations == []


R1_TEMPLATE = (Path(__file__).parent / "data" / "r1_distill_chat_template.jinja").read_text()
QWEN_TEMPLATE = (  # Qwen2.5-Instruct's generation prompt: no reasoning block opened
    "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@pytest.mark.parametrize(
    "template, opens", [(R1_TEMPLATE, True), (QWEN_TEMPLATE, False), (None, False)]
)
def test_truncation_and_think_block_follow_the_chat_template(tiny_model_dir, template, opens):
    """DeepSeek-R1-Distill's real template ends the prompt with <think>\\n, so a completion
    holds only </think>: a finished one is no format failure, one that never closes is, and a
    truncated one is whatever its text (the reference code scores it 0, not -1)."""
    from types import SimpleNamespace

    from grpo_lead.hf import load_tokenizer

    tok = load_tokenizer(tiny_model_dir)
    tok.chat_template = template
    eos = tok.eos_token_id
    fake = SimpleNamespace(_tokenizer=tok, _template_opens_think=None, eos_token_ids=[eos])
    fake._prompt_opens_think = lambda p: GRPOLeadTrainer._prompt_opens_think(fake, p)
    conversation = [{"role": "user", "content": "What is 2+2?"}]
    assert GRPOLeadTrainer._prompt_opens_think(fake, conversation) is opens
    flags = lambda ids, text: GRPOLeadTrainer._outcome_flags(fake, ids, text, conversation)  # noqa: E731
    assert flags([5, eos], "2+2=4.</think>\\boxed{4}") == (False, False)
    assert flags([5, 6], "2+2=4.</think>\\boxed{4}") == (True, False)  # no EOS: truncated
    # ended, but the reasoning block the prompt opened never closed: a format failure only
    # where the template opened it
    assert flags([5, eos], "2+2 is 4, so \\boxed{4}") == (opens, False)
    loop = " ".join(["so 2+2 is 4"] * 12)  # a 4-word unit 12 times in a row
    assert flags([5, 6], loop) == (True, True)


def test_accuracy_reads_a_text_prompt_that_opens_think():
    from grpo_lead.rewards import accuracy_reward

    prompt = "<｜begin▁of▁sentence｜><｜User｜>What is 2+2?<｜Assistant｜><think>\n"
    cut = "2+2... the answer is 4 but let me re-check"  # cut off inside the reasoning
    done = "2+2=4.</think>The answer is 4."
    scores = accuracy_reward([cut, done], prompts=[prompt, prompt], answer=["4", "4"])
    assert scores == [0.0, 1.0]  # inside an open reasoning block only a box counts


def _logged_lead_metrics(correct, lengths, group_size):
    """`GRPOLeadTrainer._log_lead_metrics` on one batch, then averaged as TRL's `log` does."""
    import math
    import types
    from collections import defaultdict

    correct = torch.tensor(correct)
    lengths = torch.tensor(lengths, dtype=torch.float32)
    batch = lead_batch_advantages(
        correct.float().unsqueeze(1),
        reward_weights=torch.ones(1),
        correct_index=0,
        lengths=lengths,
        group_size=group_size,
        options=PAPER,
    )
    fake = types.SimpleNamespace(_metrics=defaultdict(lambda: defaultdict(list)))
    GRPOLeadTrainer._log_lead_metrics(fake, "train", batch, lengths, group_size)
    logged = {}
    for key, values in fake._metrics["train"].items():  # TRL 1.16 `GRPOTrainer.log`
        valid = [v for v in values if not math.isnan(v)]
        logged[key] = sum(valid) / len(valid) if valid else None
    return logged, batch


def test_undefined_lead_means_are_logged_as_trl_logs_them():
    # all wrong: no correct length, no nonzero advantage -> both undefined -> None, not 0
    logged, _ = _logged_lead_metrics([False] * 4, [5, 6, 7, 8], 4)
    assert logged["lead/length_correct"] is None and logged["lead/mean_weight"] is None
    assert logged["lead/length_wrong"] == 6.5
    # a mixed group: both defined; the LEAD reward (-1 wrong, exp(-alpha z) right) is logged
    logged, batch = _logged_lead_metrics([True, True, False, False], [4, 8, 6, 6], 4)
    assert logged["lead/length_correct"] == 6.0 and logged["lead/mean_weight"] > 0
    assert logged["lead/reward"] == pytest.approx(batch.rewards.mean().item())
    assert logged["lead/reward"] != pytest.approx(0.5)  # not the 0/1 accuracy
    assert logged["lead/reward_std"] == pytest.approx(batch.rewards.std().item())


@pytest.mark.parametrize("checkpointing", [False, True])
def test_a_real_model_without_checkpointing_is_warned(
    tiny_model_dir, tmp_path, caplog, monkeypatch, checkpointing
):
    import grpo_lead.trainer as T

    monkeypatch.setattr(T, "CHECKPOINTING_PAYS_FROM_PARAMS", 1)  # the tiny model counts as real
    GRPOLeadTrainer(
        model=str(tiny_model_dir),
        reward_funcs=[accuracy_reward],
        args=make_config(tmp_path, gradient_checkpointing=checkpointing),
        train_dataset=prompts_dataset(),
    )
    warned = "gradient_checkpointing is off" in caplog.text
    assert warned != checkpointing


def test_small_logprob_tiles_give_the_same_values_in_small_tiles(monkeypatch):
    from trl.kernels import chunked_logprob as K

    from grpo_lead.trainer import CPU_LOGPROB_TOKEN_CHUNK, small_logprob_tiles

    rows = []
    tile = K._forward_tile
    monkeypatch.setattr(
        K, "_forward_tile", lambda t, *a, **k: rows.append(t.shape[0]) or tile(t, *a, **k)
    )
    torch.manual_seed(0)
    n, h, v = 700, 16, 300  # 700 token rows: over CPU_LOGPROB_TOKEN_CHUNK, under TRL's 4,096
    hidden0, weight0, targets = torch.randn(n, h), torch.randn(v, h), torch.randint(0, v, (n,))

    def logprobs_and_grads():
        hidden = hidden0.clone().requires_grad_()
        weight = weight0.clone().requires_grad_()
        out = K.ChunkedLogProbFunction.apply(
            hidden, weight, None, targets, 1.0, 128, None, 1.0, ("entropy",)
        )
        (out[0].sum() + out[1].sum()).backward()
        return out[0].detach(), out[1].detach(), hidden.grad, weight.grad

    default = logprobs_and_grads()
    assert max(rows) == n  # TRL's tiles: every token row at once
    rows.clear()
    with small_logprob_tiles(torch.device("cpu")):
        assert K.TOKEN_CHUNK_SIZE == CPU_LOGPROB_TOKEN_CHUNK
        small = logprobs_and_grads()
    assert max(rows) == CPU_LOGPROB_TOKEN_CHUNK and K.TOKEN_CHUNK_SIZE == 4096  # restored
    for a, b in zip(default, small, strict=True):
        assert torch.allclose(a, b, atol=1e-5, rtol=1e-5)
    monkeypatch.setattr(K, "_use_triton", lambda device: True)  # a GPU keeps TRL's tiles
    with small_logprob_tiles(torch.device("cpu")):
        assert K.TOKEN_CHUNK_SIZE == 4096


FREED_SCRIPT = """
import gc
from pathlib import Path

import torch

from grpo_lead.trainer import return_freed_memory


def rss_mb():
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1e3


assert return_freed_memory()  # Linux, glibc
big = torch.ones(20_000_000 // 4)  # a 20 MB free first: glibc raises its own threshold to it
del big
base = rss_mb()
blocks = [torch.ones(2_000_000 // 4) for _ in range(150)]  # 150 x 2 MB activations
grown = rss_mb() - base
del blocks
gc.collect()
print(grown, rss_mb() - base)
"""


def test_freed_activations_go_back_to_the_os():
    # in a fresh process: the test process's heap holds freed pages of earlier tests, which
    # the 150 blocks may reuse without growing RSS
    proc = subprocess.run(
        [sys.executable, "-c", FREED_SCRIPT], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    grown, kept = map(float, proc.stdout.split())
    assert grown > 250  # the 300 MB were resident
    assert kept < 50  # returned, not kept in the heap


def scored(completions, completion_ids, **kwargs):
    """Always correct; records the lengths of the ids of each call (in ``scored.calls``)."""
    scored.calls.append([len(i) for i in completion_ids])
    return [1.0] * len(completions)


class DotRecordingTrainer(GRPOLeadTrainer):
    """Records, per generation batch, the ids' lengths each reward call saw and the batch."""

    def _generate_and_score_completions(self, inputs):
        scored.calls = []
        out = super()._generate_and_score_completions(inputs)
        self.recorded = getattr(self, "recorded", [])
        self.recorded.append({"calls": scored.calls, "mask": out["completion_mask"].clone(),
                              "num_items": out["num_items_in_batch"].clone(),
                              "flags": self._lead_flags.clone()})  # fmt: skip
        return out


def test_dot_cuts_outliers_out_of_the_loss_and_scores_the_cut_text(tiny_model_dir, tmp_path):
    """DOT on the trainer: in all-correct groups (`scored`), alpha 0 and a 1-token margin
    cut every completion longer than its group's int(mean) there. The cut rows' masks end at
    the cut, the normaliser is recounted, the rewards are computed again on the cut ids (TRL's
    ``_calculate_rewards`` called a second time with them), and LEAD's lengths are the kept ones."""
    from grpo_lead.advantages.dot import dot_cuts

    cfg = make_config(
        tmp_path, max_steps=2, correctness_reward="scored", dot=True, dot_alpha=0.0,
        dot_margin=1, num_generations=8, per_device_train_batch_size=16, max_completion_length=16,
        temperature=2.0,
    )  # fmt: skip
    trainer = DotRecordingTrainer(
        model=str(tiny_model_dir), reward_funcs=[scored], args=cfg,
        train_dataset=prompts_dataset(),
    )  # fmt: skip
    trainer.train()
    cut_any = False
    for rec in trainer.recorded:
        calls = rec["calls"]
        expected = dot_cuts(torch.ones(16, dtype=torch.bool), torch.tensor(calls[0]), 8,
                            alpha=0.0, margin=1)  # fmt: skip
        assert len(calls) == 1 + int(expected.cut.any())  # scored again only after a cut
        assert rec["mask"].sum(1).tolist() == expected.lengths.tolist()
        assert rec["num_items"].item() == rec["mask"].sum().item()
        assert rec["flags"][:, 0].tolist() == expected.lengths.float().tolist()
        if expected.cut.any():
            cut_any = True
            assert calls[1] == expected.lengths.tolist()  # the second scoring saw the cut ids
    assert cut_any, "no step cut anything: the test would be vacuous"
    logged = [e for e in trainer.state.log_history if "dot/frac_completions_cut" in e]
    assert logged and any(e["dot/frac_completions_cut"] > 0 for e in logged)
