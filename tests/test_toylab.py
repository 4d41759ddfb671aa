"""The toy lab: the task (problems, traces, warm-up data), the warm-up, the RL settings."""

from __future__ import annotations

import random
import re
import statistics

import pytest

from grpo_lead.answers import check_answer, extract_answer
from grpo_lead.tasks.math.data import build_prompt
from grpo_lead.toylab.task import (
    LEVELS,
    STYLE_WEIGHTS,
    STYLES,
    TOY_PROMPT_SUFFIX,
    VERBOSITIES,
    make_problems,
    make_sft_dataset,
    make_trace,
    slip_rate,
)

TRACE_RE = re.compile(r"<think>(?P<think>.*)</think>\n\\boxed\{(?P<answer>\d+)\}", re.DOTALL)
STEP_RE = re.compile(r"(\d+)\+(\d+)=(\d+)")


def _trace(problem, style, verbosity, slip, seed=0):
    return make_trace(problem, style=style, rng=random.Random(seed), verbosity=verbosity, slip=slip)


# -- problems ----------------------------------------------------------------------------------


def test_problems_are_deterministic_per_seed():
    assert make_problems(50, seed=3) == make_problems(50, seed=3)
    assert make_problems(50, seed=3) != make_problems(50, seed=4)


def test_problems_shape_and_answers():
    problems = make_problems(40, seed=0)
    assert [p["level"] for p in problems[:8]] == [1, 2, 3, 4, 1, 2, 3, 4]  # levels cycled
    for p in problems:
        assert len(p["operands"]) == p["level"] + 1
        assert all(1 <= x <= 5 for x in p["operands"])
        assert p["answer"] == str(sum(p["operands"]))
        assert p["question"] == "What is " + "+".join(map(str, p["operands"])) + "?"
        assert p["prompt"] == build_prompt(p["question"], suffix=TOY_PROMPT_SUFFIX)


def test_problems_other_levels_and_suffix():
    from grpo_lead.tasks.math.data import LEAD_PROMPT_SUFFIX

    problems = make_problems(6, seed=0, levels=(2, 5), suffix=LEAD_PROMPT_SUFFIX)
    assert [p["level"] for p in problems] == [2, 5, 2, 5, 2, 5]
    assert all(p["prompt"].endswith(LEAD_PROMPT_SUFFIX) for p in problems)


@pytest.mark.parametrize("levels", [(0,), (7,), ()])
def test_problems_reject_bad_levels(levels):
    with pytest.raises(ValueError):
        make_problems(4, seed=0, levels=levels)


# -- traces ------------------------------------------------------------------------------------


@pytest.mark.parametrize("verbosity", VERBOSITIES)
@pytest.mark.parametrize("style", STYLES)
def test_traces_parse_and_slips_are_wrong(verbosity, style):
    for i, problem in enumerate(make_problems(40, seed=1)):
        good = _trace(problem, style, verbosity, slip=False, seed=i)
        bad = _trace(problem, style, verbosity, slip=True, seed=i)
        for text in (good, bad):
            assert TRACE_RE.fullmatch(text), text
        assert extract_answer(good) == problem["answer"]
        assert check_answer(good, problem["answer"]), good
        assert not check_answer(bad, problem["answer"]), bad


def test_slip_is_one_step_off_by_one_or_two_and_carried():
    problem = make_problems(4, seed=2)[3]  # level 4: five operands
    for seed in range(30):
        think = TRACE_RE.fullmatch(_trace(problem, "concise", "redundant", True, seed))["think"]
        steps = [tuple(map(int, m)) for m in STEP_RE.findall(think)]
        errors = [c - (a + b) for a, b, c in steps]
        assert sum(e != 0 for e in errors) == 1 and {abs(e) for e in errors} - {0} <= {1, 2}
        # carried: each step starts from the previous running sum
        assert all(steps[j][0] == steps[j - 1][2] for j in range(1, len(steps)))


@pytest.mark.parametrize("slip", [False, True])
def test_redundant_styles_share_the_useful_steps(slip):
    """'redundant': every style starts with the same running sums; the extra words that follow
    only repeat the total, so dropping them cannot drop a useful step."""
    for i, problem in enumerate(make_problems(20, seed=5)):
        traces = {s: _trace(problem, s, "redundant", slip, seed=i) for s in STYLES}
        sums = {s: STEP_RE.findall(t) for s, t in traces.items()}
        assert len(sums["concise"]) == problem["level"]
        assert sums["medium"] == sums["concise"]
        concise_think = TRACE_RE.fullmatch(traces["concise"])["think"]
        for s in ("medium", "verbose"):
            m = TRACE_RE.fullmatch(traces[s])
            assert m["think"].startswith(concise_think + "\n")
            # every number the extra words state is the final total
            extra = m["think"].replace(concise_think, "")
            extra = extra.replace("+".join(map(str, problem["operands"])), "")
            assert set(re.findall(r"\d+", extra)) == {m["answer"]}


def test_useful_styles_differ_in_computation():
    """'useful': concise writes the total at once, medium and verbose the running sums."""
    for i, problem in enumerate(make_problems(20, seed=6)):
        concise = _trace(problem, "concise", "useful", False, seed=i)
        medium = _trace(problem, "medium", "useful", False, seed=i)
        verbose = _trace(problem, "verbose", "useful", False, seed=i)
        expr = "+".join(map(str, problem["operands"]))
        assert TRACE_RE.fullmatch(concise)["think"] == f"{expr}={problem['answer']}"
        assert len(STEP_RE.findall(medium)) == problem["level"]
        partials = re.findall(r"add \d+: (\d+)", verbose)
        assert partials == [c for _, _, c in STEP_RE.findall(medium)]


@pytest.mark.parametrize("verbosity", VERBOSITIES)
def test_styles_get_longer(verbosity):
    problems = make_problems(40, seed=7)
    mean = {
        s: statistics.mean(len(_trace(p, s, verbosity, False)) for p in problems) for s in STYLES
    }
    assert mean["concise"] < mean["medium"] < mean["verbose"]
    assert mean["verbose"] > 1.8 * mean["concise"]


def test_trace_rejects_unknown_style_and_verbosity():
    problem = make_problems(1, seed=0)[0]
    with pytest.raises(ValueError, match="style"):
        _trace(problem, "chatty", "redundant", False)
    with pytest.raises(ValueError, match="verbosity"):
        _trace(problem, "concise", "chatty", False)


# -- warm-up data ------------------------------------------------------------------------------


def test_sft_dataset_is_deterministic_and_balanced():
    rows = make_sft_dataset(4000, seed=0)
    assert rows == make_sft_dataset(4000, seed=0)
    assert rows != make_sft_dataset(4000, seed=1)
    assert make_sft_dataset(50, seed=0, verbosity="useful") != rows[:50]
    for style, weight in STYLE_WEIGHTS.items():
        share = sum(r["style"] == style for r in rows) / len(rows)
        assert abs(share - weight) < 0.03, (style, share)
    for level in LEVELS:
        at = [r for r in rows if r["level"] == level]
        rate = sum(r["slipped"] for r in at) / len(at)
        assert abs(rate - slip_rate(level)) < 0.04, (level, rate)
    # slips grow with the level
    assert [slip_rate(lv) for lv in LEVELS] == sorted(slip_rate(lv) for lv in LEVELS)


def test_sft_dataset_rows_are_consistent():
    for row in make_sft_dataset(200, seed=2):
        assert check_answer(row["completion"], row["answer"]) == (not row["slipped"])
        assert set(row) >= {"prompt", "completion", "answer", "level", "style", "slipped"}


def test_sft_dataset_style_weights():
    rows = make_sft_dataset(100, seed=0, style_weights={"concise": 1.0})
    assert {r["style"] for r in rows} == {"concise"}
    with pytest.raises(ValueError, match="unknown styles"):
        make_sft_dataset(10, seed=0, style_weights={"chatty": 1.0})


# -- warm-up -----------------------------------------------------------------------------------


def test_every_trace_character_is_in_the_vocabulary():
    from grpo_lead.toylab.model import build_tokenizer

    tokenizer = build_tokenizer()
    text = "".join(r["prompt"] + r["completion"] for r in make_sft_dataset(400, seed=0))
    text += "".join(
        r["prompt"] + r["completion"] for r in make_sft_dataset(400, seed=0, verbosity="useful")
    )
    ids = tokenizer(text, add_special_tokens=False)["input_ids"]
    assert tokenizer.unk_token_id not in ids
    assert tokenizer.decode(ids) == text


def test_encoded_examples_mask_the_prompt():
    from grpo_lead.toylab.model import build_tokenizer
    from grpo_lead.toylab.warmup import _collate, encode_examples

    tokenizer = build_tokenizer()
    rows = make_sft_dataset(3, seed=0)
    encoded = encode_examples(tokenizer, rows)
    batch = _collate(encoded, tokenizer.pad_token_id)
    for i, (row, (ids, prompt_len)) in enumerate(zip(rows, encoded)):
        assert prompt_len == len(row["prompt"])  # one token per character
        assert ids[-1] == tokenizer.eos_token_id
        labels = batch["labels"][i]
        assert (labels[:prompt_len] == -100).all()
        target = labels[prompt_len : len(ids)].tolist()
        assert tokenizer.decode(target[:-1]) == row["completion"]
        assert (labels[len(ids) :] == -100).all()
        assert batch["attention_mask"][i].sum().item() == len(ids)


def test_right_padded_batches_need_no_padding_mask():
    """The warm-up drops the padding mask: with right padding the causal mask alone gives the
    real tokens the same logits, hence the same loss."""
    import torch

    from grpo_lead.toylab.model import build_model, build_tokenizer
    from grpo_lead.toylab.warmup import _collate, encode_examples

    tokenizer = build_tokenizer()
    model = build_model(tokenizer, hidden_size=32, num_layers=2, num_heads=2, intermediate_size=64)
    batch = _collate(
        encode_examples(tokenizer, make_sft_dataset(6, seed=1)), tokenizer.pad_token_id
    )
    assert (batch["attention_mask"] == 0).any()  # the rows differ in length: padding is there
    with torch.no_grad():
        masked = model(**batch).loss
        unmasked = model(input_ids=batch["input_ids"], labels=batch["labels"]).loss
    torch.testing.assert_close(unmasked, masked)


def test_warmup_rejects_bad_arguments(tmp_path):
    from grpo_lead.toylab.warmup import warmup

    with pytest.raises(ValueError):
        warmup([], tmp_path / "m", steps=1)
    with pytest.raises(ValueError):
        warmup(make_sft_dataset(2, seed=0), tmp_path / "m", steps=0)


@pytest.mark.slow
def test_short_warmup_learns_the_format(tmp_path):
    """~20 s: 100 steps at batch 16 and the saved model's answers mostly end in a box."""
    from transformers import AutoModelForCausalLM

    from grpo_lead.hf import load_tokenizer
    from grpo_lead.toylab.evaluate import evaluate_model
    from grpo_lead.toylab.warmup import warmup

    result = warmup(
        make_sft_dataset(1000, seed=0),
        tmp_path / "warm",
        steps=100,
        batch_size=16,
        lr=5e-3,
        progress=False,
    )
    assert result["final_loss"] < 0.6
    tokenizer = load_tokenizer(tmp_path / "warm")
    assert tokenizer.padding_side == "left"
    AutoModelForCausalLM.from_pretrained(tmp_path / "warm")  # loads as a HF folder
    problems = make_problems(24, seed=11)
    summary, records = evaluate_model(
        tmp_path / "warm", problems, samples=1, max_new_tokens=110, seed=0
    )
    texts = [r["completion"] for r in records]
    boxed = [extract_answer(text) is not None for text in texts]
    assert sum(boxed) / len(boxed) >= 0.6, texts
    assert all(text.startswith("<think>") for text in texts[:4])
    assert summary["overall"]["num_samples"] == 24
    # the same seed draws the same answers
    _, again = evaluate_model(tmp_path / "warm", problems, samples=1, max_new_tokens=110, seed=0)
    assert [r["completion"] for r in again] == texts


# -- RL settings ---------------------------------------------------------------------------------


def test_the_paper_rows_name_the_ablation_steps():
    from grpo_lead.options import PAPER
    from grpo_lead.toylab.rl import METHODS, row

    def mechanisms(name):
        o = row(name).options
        return o.length_reward, o.incorrect_reward, o.difficulty_weight

    assert mechanisms("grpo") == ("none", 0.0, "none")
    assert mechanisms("lead") == ("paper", -1.0, "logistic")
    # each ablation step adds one mechanism to the one before
    assert mechanisms("+length") == ("paper", 0.0, "none")
    assert mechanisms("+difficulty") == ("paper", 0.0, "logistic")
    assert mechanisms("lead-no-difficulty") == ("paper", -1.0, "none")
    # everything else is the paper's (alpha, weights, eps, no filter)
    assert row("lead").options == PAPER
    assert "length_reward" not in row("trl-length").config_kwargs()  # the stock trainer's options
    assert len(set(METHODS)) == 6
    with pytest.raises(ValueError, match="unknown RL method 'lead2'"):
        row("lead2")


def test_the_ablations_window_reaches_only_the_stock_trainers_row():
    from grpo_lead.toylab.rl import row

    assert row("trl-length", soft_punish_cache=50).options.soft_punish_cache == 50
    assert row("lead", soft_punish_cache=50) == row("lead")  # as before: TRL baseline only


def test_every_setting_builds_its_config_and_rewards(tmp_path):
    from trl import GRPOConfig

    from grpo_lead.configs import GRPOLeadConfig
    from grpo_lead.rewards import get_reward
    from grpo_lead.toylab.rl import METHODS, rl_config_kwargs, row
    from grpo_lead.toylab.settings import LabSettings

    s = LabSettings()
    for name in METHODS:
        method = row(name)
        cls = GRPOConfig if method.trainer == "trl" else GRPOLeadConfig
        config = cls(**rl_config_kwargs(s, tmp_path, seed=3), **method.config_kwargs())
        assert config.per_device_train_batch_size == s.prompts_per_step * s.num_generations
        assert (config.max_steps, config.seed) == (s.rl_steps, 3)
        for key, value in method.config_kwargs().items():
            assert getattr(config, key) == value, (name, key)
        if method.trainer == "trl":
            # build_trainer's soft overlong reward: from 128 - 96 = 32 tokens, -1 at 128:
            # 80 tokens -> (32 - 80) / 96 = -0.5
            (punish,) = [get_reward(r, config, options=method.options) for r in method.rewards]
            assert punish(completion_ids=[[0] * 32, [0] * 80, [0] * 128]) == [0.0, -0.5, -1.0]


def test_prepare_writes_the_task_files_and_the_warmup_model(tmp_path):
    from grpo_lead.toylab.files import read_jsonl
    from grpo_lead.toylab.settings import LabSettings
    from grpo_lead.toylab.warmup import prepare

    s = LabSettings.quick(sft_examples=40, warmup_steps=2, warmup_batch_size=4, rl_steps=2)
    result = prepare(
        s,
        seed=5,
        model_dir=tmp_path / "warm",
        problems_path=tmp_path / "p.jsonl",
        sft_path=tmp_path / "sft.jsonl",
    )
    problems = read_jsonl(tmp_path / "p.jsonl")
    assert len(problems) == 2 * s.prompts_per_step
    assert problems == make_problems(16, seed=5 + 1000)  # RL problems: seed + 1000
    assert read_jsonl(tmp_path / "sft.jsonl") == make_sft_dataset(40, seed=5)
    assert (tmp_path / "warm" / "config.json").exists() and result["steps"] == 2


# -- sampling ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_lm(tmp_path_factory):
    from transformers import AutoModelForCausalLM

    from grpo_lead.hf import load_tokenizer
    from grpo_lead.toylab.model import save_tiny_model

    folder = save_tiny_model(tmp_path_factory.mktemp("lm") / "m", hidden_size=32, num_layers=2,
                             num_heads=2, intermediate_size=64)  # fmt: skip
    tokenizer = load_tokenizer(folder)
    tokenizer.padding_side = "left"
    return AutoModelForCausalLM.from_pretrained(folder).eval(), tokenizer


def test_sample_at_a_tiny_temperature_is_greedy_generate(tiny_lm):
    """Rows that end leave the batch and its KV cache; the others go on exactly as in
    `generate` (greedy: a temperature of 1e-6 makes the draw the argmax)."""
    import torch

    from grpo_lead.toylab.sampling import sample

    model, tokenizer = tiny_lm
    enc = tokenizer(["What is 1+2?", "What is 3+4+5+1?", "Hi"], return_tensors="pt", padding=True)
    inputs = {"input_ids": enc["input_ids"], "attention_mask": enc["attention_mask"]}
    width = enc["input_ids"].shape[1]

    def greedy(eos: int):
        with torch.no_grad():
            return model.generate(**inputs, max_new_tokens=12, do_sample=False, pad_token_id=0,
                                  eos_token_id=eos)  # fmt: skip

    # end rows early: call "EOS" a token that greedy decoding emits in row 0 at step 3
    stop = int(greedy(tokenizer.eos_token_id)[0, width + 3])
    expected = greedy(stop)  # rows padded with 0 after their `stop`, as wide as the longest
    ours = sample(model, inputs["input_ids"], inputs["attention_mask"], max_new_tokens=12,
                  temperature=1e-6, eos_token_ids=[stop], pad_token_id=0)  # fmt: skip
    assert torch.equal(ours, expected)
    ends = [
        (row == stop).nonzero()[0].item() if (row == stop).any() else 12 for row in ours[:, width:]
    ]
    assert len(set(ends)) > 1  # the rows ended at different steps: some left the batch early


def test_sample_draws_from_the_softmax_at_the_temperature(tiny_lm):
    import torch

    from grpo_lead.toylab.sampling import sample

    model, tokenizer = tiny_lm
    enc = tokenizer(["What is 1+2?"] * 4000, return_tensors="pt", padding=True)
    with torch.no_grad():
        logits = model(**{k: v[:1] for k, v in enc.items()}).logits[0, -1]  # (V,)
    probs = torch.softmax(logits / 2.0, dim=-1)
    torch.manual_seed(0)
    first = sample(model, enc["input_ids"], enc["attention_mask"], max_new_tokens=1,
                   temperature=2.0, eos_token_ids=[2], pad_token_id=0)[:, -1]  # fmt: skip
    freq = torch.bincount(first, minlength=len(probs)).float() / len(first)
    # 4000 draws: each frequency within ~4 standard errors of its probability
    assert torch.all((freq - probs).abs() <= 4 * (probs * (1 - probs) / 4000).sqrt() + 1e-3)


def test_install_routes_only_plain_sampling(tiny_lm, monkeypatch):
    from transformers import GenerationConfig

    from grpo_lead.toylab import sampling

    model, tokenizer = tiny_lm
    calls = []
    monkeypatch.setattr(sampling, "sample", lambda *a, **k: calls.append(k) or "ours")
    monkeypatch.setattr(model, "generate", lambda *a, **k: "transformers")
    sampling.install(model)
    plain = GenerationConfig(do_sample=True, temperature=0.7, top_k=0, top_p=1.0,
                             max_new_tokens=5, eos_token_id=[2], pad_token_id=0)  # fmt: skip
    enc = {"input_ids": None, "attention_mask": None}
    assert model.generate(**enc, generation_config=plain) == "ours"
    assert calls[0]["temperature"] == 0.7 and calls[0]["eos_token_ids"] == [2]
    for other in ({"top_p": 0.9}, {"top_k": 50}, {"min_p": 0.1}, {"repetition_penalty": 1.2},
                  {"do_sample": False}):  # fmt: skip
        config = GenerationConfig(**{**plain.to_diff_dict(), **other})
        assert model.generate(**enc, generation_config=config) == "transformers", other
    assert len(calls) == 1
