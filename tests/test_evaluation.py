"""grpo_lead.evaluation: metrics by hand and by brute force, the resumable loop, the CLIs."""

from __future__ import annotations

import itertools
import json
import math
import sys
import types
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from grpo_lead.eval_cli import compare_main, estimate_difficulty_main, eval_main
from grpo_lead.evaluation import (
    EvalError,
    RunOptions,
    choose_backend,
    compare,
    majority_vote,
    pass_at_k,
    pass_k_values,
    summarize,
    vllm_sampling_kwargs,
)
from grpo_lead.evaluation.generation import (
    Completion,
    Request,
    Sampling,
    TransformersGenerator,
    VLLMGenerator,
    request_seed,
    transformers_generate_kwargs,
)
from grpo_lead.evaluation.metrics import summary_markdown
from grpo_lead.tasks.math.data import load_problems
from grpo_lead.tasks.math.evaluation import EvalSettings, estimate_difficulty, run_eval

QUESTIONS = [
    {"id": "q0", "problem": "1+0?", "answer": "1", "level": 1},
    {"id": "q1", "problem": "1+1?", "answer": "2", "level": 1},
    {"id": "q2", "problem": "1+2?", "answer": "3", "level": 2},
    {"id": "q3", "problem": "1+3?", "answer": "4", "level": 2},
]
TINY = Sampling(temperature=0.6, min_p=0.01, max_new_tokens=8)


# ----------------------------------------------------------------------------- pass@k


@pytest.mark.parametrize(
    ("n", "c", "k", "expected"),
    [
        (4, 2, 2, 5 / 6),  # 1 - C(2,2)/C(4,2) = 1 - 1/6
        (4, 1, 2, 1 / 2),  # 1 - C(3,2)/C(4,2) = 1 - 3/6
        (10, 3, 1, 3 / 10),  # 1 - C(7,1)/C(10,1) = 3/10: pass@1 is the mean accuracy
        (5, 0, 3, 0.0),  # 1 - C(5,3)/C(5,3)
        (4, 3, 2, 1.0),  # n - c = 1 < k = 2: every pair holds a correct sample
        (32, 32, 32, 1.0),
        (10_000, 1, 5_000, 0.5),  # 1 - C(9999,5000)/C(10000,5000) = 1 - 5000/10000
    ],
)
def test_pass_at_k_by_hand(n, c, k, expected):
    assert pass_at_k(n, c, k) == pytest.approx(expected, abs=1e-15)


@pytest.mark.parametrize(("n", "c", "k"), [(4, 2, 5), (4, 2, 0), (4, 5, 1), (4, -1, 1), (0, 0, 1)])
def test_pass_at_k_rejects_impossible_arguments(n, c, k):
    with pytest.raises(ValueError):
        pass_at_k(n, c, k)


@settings(max_examples=150, deadline=None)
@given(
    st.integers(1, 8).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n)))
)
def test_pass_at_k_equals_brute_force_over_subsets(nck):
    n, c, k = nck
    # Samples 0..c-1 are the correct ones; count the k-subsets that hold at least one.
    subsets = list(itertools.combinations(range(n), k))
    hit = sum(any(i < c for i in subset) for subset in subsets)
    assert pass_at_k(n, c, k) == pytest.approx(hit / len(subsets), abs=1e-12)


def test_pass_k_values():
    assert pass_k_values(32) == [1, 2, 4, 8, 16, 32]
    assert pass_k_values(6) == [1, 2, 4, 6]
    assert pass_k_values(1) == [1]


# ----------------------------------------------------------------------------- majority vote


def test_majority_vote_groups_equivalent_answers_through_the_checker():
    # "0.5" and "\frac{1}{2}" are one answer with two votes against one "3".
    assert majority_vote(["3", "0.5", "\\frac{1}{2}"]) == "0.5"


def test_majority_vote_none_never_wins():
    assert majority_vote([None, None, None, "3"], equivalent=str.__eq__) == "3"
    assert majority_vote([None, None]) is None
    assert majority_vote([]) is None


def test_majority_vote_ties_go_to_the_earliest_group():
    same = str.__eq__
    assert majority_vote(["a", "b"], equivalent=same) == "a"
    assert majority_vote(["b", "a", "a", "b"], equivalent=same) == "b"
    assert majority_vote(["c", "a", "b", "b", "a"], equivalent=same) == "a"


def test_majority_vote_checks_each_pair_at_most_once():
    calls = []

    def equivalent(a: str, b: str) -> bool:
        calls.append((a, b))
        return a == b

    answers = ["1", "2", "1", "2", "3", "3", "1"]
    assert majority_vote(answers, equivalent=equivalent) == "1"
    assert len(calls) == len(set(calls)) <= 3  # pairs among the distinct "1", "2", "3"


# ----------------------------------------------------------------------------- summarize


def records_of(qid, difficulty, extracted, correct, tokens):
    return [
        {"id": qid, "sample": i, "extracted": e, "correct": c, "num_tokens": t,
         "difficulty": difficulty, "finished": e is not None}
        for i, (e, c, t) in enumerate(zip(extracted, correct, tokens))
    ]  # fmt: skip


def test_summarize_by_hand():
    records = records_of("a", 1.0, ["1", "1", "2", None], [1, 1, 0, 0], [10, 20, 30, 40])
    records += records_of("b", 2.0, ["7", "8", "8", None], [1, 0, 0, 0], [5, 15, 25, 35])
    summary = summarize(records, 4, equivalent=str.__eq__)
    overall = summary["overall"]
    # a: c=2 of 4, majority "1" (correct); b: c=1 of 4, majority "8" (wrong).
    assert overall["pass@1"] == pytest.approx((2 / 4 + 1 / 4) / 2)  # 0.375
    assert overall["cons@4"] == pytest.approx(0.5)
    assert overall["pass@2"] == pytest.approx((5 / 6 + 1 / 2) / 2)  # see test_pass_at_k_by_hand
    assert overall["pass@4"] == pytest.approx(1.0)
    assert overall["mean_length"] == pytest.approx(180 / 8)  # (100 + 80) tokens / 8 samples
    assert overall["mean_length_correct"] == pytest.approx(35 / 3)  # 10, 20, 5
    assert overall["mean_length_wrong"] == pytest.approx(29.0)  # 30, 40, 15, 25, 35
    assert (overall["num_questions"], overall["num_samples"]) == (2, 8)
    assert (overall["num_correct"], overall["num_wrong"], overall["num_no_answer"]) == (3, 5, 2)
    assert overall["num_truncated"] == 2
    buckets = summary["by_difficulty"]
    assert list(buckets) == ["1", "2"]
    assert buckets["1"]["pass@1"] == 0.5 and buckets["1"]["cons@4"] == 1.0
    assert buckets["2"]["pass@1"] == 0.25 and buckets["2"]["cons@4"] == 0.0
    table = summary_markdown(summary)
    assert "| overall | 0.375 | 0.500 |" in table and "| difficulty 2 |" in table


def test_summarize_edge_cases():
    # No correct answer: correct lengths are None; no difficulty: no buckets.
    summary = summarize(records_of("a", None, [None, "2"], [0, 0], [3, 5]), 2)
    assert summary["overall"]["mean_length_correct"] is None
    assert summary["overall"]["cons@2"] == 0.0
    assert summary["by_difficulty"] == {}
    # Many distinct difficulties are binned.
    many = [r for i in range(20) for r in records_of(f"q{i}", i / 19, ["1"], [1], [1])]
    assert len(summarize(many, 1, equivalent=str.__eq__)["by_difficulty"]) == 5


# ----------------------------------------------------------------------------- backends


def test_choose_backend():
    assert choose_backend("auto", vllm_available=True, cuda_available=True)[0] == "vllm"
    name, reason = choose_backend("auto", vllm_available=False, cuda_available=True)
    assert name == "transformers" and "vllm is not installed" in reason
    name, reason = choose_backend("auto", vllm_available=True, cuda_available=False)
    assert name == "transformers" and "no CUDA GPU" in reason
    assert choose_backend("transformers")[0] == "transformers"
    assert choose_backend("vllm", vllm_available=True, cuda_available=True)[0] == "vllm"
    with pytest.raises(EvalError, match="vllm is not installed"):
        choose_backend("vllm", vllm_available=False, cuda_available=True)
    with pytest.raises(EvalError, match="no CUDA GPU"):
        choose_backend("vllm", vllm_available=True, cuda_available=False)
    with pytest.raises(EvalError, match="unknown backend"):
        choose_backend("tgi")


def test_sampling_requests():
    sampling = Sampling(temperature=0.6, min_p=0.01, max_new_tokens=14000)
    kwargs = vllm_sampling_kwargs(sampling, n=32, seed=7)
    assert {k: kwargs[k] for k in ("n", "temperature", "min_p", "max_tokens", "seed")} == {
        "n": 32, "temperature": 0.6, "min_p": 0.01, "max_tokens": 14000, "seed": 7,
    }  # fmt: skip
    hf = transformers_generate_kwargs(sampling)
    assert (hf["do_sample"], hf["temperature"], hf["min_p"], hf["top_k"]) == (True, 0.6, 0.01, 0)
    greedy = transformers_generate_kwargs(Sampling(0.0, 0.01, 5))
    assert greedy["do_sample"] is False and "temperature" not in greedy
    assert request_seed(0, "q1", 0) == request_seed(0, "q1", 0) != request_seed(0, "q1", 1)


def test_vllm_generator_builds_token_prompts_and_sampling_params(tiny_model, monkeypatch):
    seen = {}

    class FakeLLM:
        def __init__(self, **kwargs):
            seen["llm"] = kwargs

        def generate(self, prompts, params, use_tqdm):
            seen["prompts"], seen["params"] = prompts, params
            out = types.SimpleNamespace(
                text="\\boxed{1}", token_ids=[5, 6, 2], finish_reason="stop"
            )
            return [types.SimpleNamespace(outputs=[out] * p.kwargs["n"]) for p in params]

    class FakeSamplingParams:
        def __init__(self, **kwargs):
            self.kwargs = kwargs

    fake = types.ModuleType("vllm")
    fake.LLM, fake.SamplingParams = FakeLLM, FakeSamplingParams
    monkeypatch.setitem(sys.modules, "vllm", fake)
    generator = VLLMGenerator(str(tiny_model), TINY, seed=3)
    prompt = generator.format_prompt("hi")
    assert prompt == "user: hi\nassistant: "  # the tiny tokenizer's chat template
    result = generator.generate([Request(prompt, 2, 11), Request(prompt, 1, 12)])
    assert seen["llm"]["model"] == str(tiny_model) and seen["llm"]["seed"] == 3
    assert [len(r) for r in result] == [2, 1]
    assert result[0][0] == Completion("\\boxed{1}", 3, True)
    assert seen["prompts"][0]["prompt_token_ids"] == generator.formatter.encode(prompt)
    assert [p.kwargs["seed"] for p in seen["params"]] == [11, 12]
    assert seen["params"][0].kwargs == vllm_sampling_kwargs(TINY, n=2, seed=11)


# ----------------------------------------------------------------------------- run_eval


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory):
    from helpers import tiny_model as build  # a module's own copy: some tests here change it

    return build(tmp_path_factory.mktemp("tiny") / "model")


@pytest.fixture(scope="module")
def tiny_generator(tiny_model):
    return TransformersGenerator(str(tiny_model), TINY, batch_size=6)


def test_stream_seed_draws_every_batch_from_one_stream(tiny_model):
    """The toy lab's protocol: torch seeded once per call, request seeds ignored."""
    sampling = Sampling(temperature=1.0, min_p=0.0, max_new_tokens=6)

    def draw(stream_seed, request_seed):
        generator = TransformersGenerator(
            str(tiny_model), sampling, chat_template=False, batch_size=4, stream_seed=stream_seed
        )
        return generator.generate([Request("What is 1+2?", 3, request_seed)] * 2)

    first = draw(7, 1)
    assert [len(c) for c in first] == [3, 3]
    assert draw(7, 99) == first  # same stream, whatever the requests' seeds
    assert draw(8, 1) != first  # a random tiny model: another stream draws other tokens
    # per-batch seeding (the default) follows the requests' seeds instead
    assert draw(None, 1) == draw(None, 1) != draw(None, 2)


@pytest.fixture
def questions_file(tmp_path):
    path = tmp_path / "questions.jsonl"
    path.write_text("".join(json.dumps(q) + "\n" for q in QUESTIONS))
    return path


class Counting:
    """Wraps a generator and records every request it serves."""

    def __init__(self, inner):
        self.inner, self.requests = inner, []
        self.name, self.batch_size = inner.name, inner.batch_size

    def format_prompt(self, prompt):
        return self.inner.format_prompt(prompt)

    def generate(self, requests):
        self.requests.extend(requests)
        return self.inner.generate(requests)


class Scripted:
    """A fake backend: question i answers correctly in the first `right[i]` samples."""

    name, batch_size = "scripted", 64

    def __init__(self, right: dict[str, int]):
        self.right = right

    def format_prompt(self, prompt):
        return prompt

    def generate(self, requests):
        out = []
        for r in requests:
            problem = next(q for q in QUESTIONS if r.prompt.startswith(q["problem"]))
            good = self.right[problem["id"]]
            texts = [f"\\boxed{{{problem['answer'] if i < good else 99}}}" for i in range(r.n)]
            out.append([Completion(t, len(t), True) for t in texts])
        return out


def settings_for(tiny_model, questions_file, **overrides) -> EvalSettings:
    values = dict(model=str(tiny_model), data=str(questions_file), k=3, max_new_tokens=8)
    return EvalSettings(**{**values, **overrides})


def read_samples(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]


def quiet(**kwargs) -> RunOptions:
    return RunOptions(progress=False, num_workers=1, **kwargs)


def test_run_eval_end_to_end_writes_every_file(
    tiny_model, tiny_generator, questions_file, tmp_path
):
    out = tmp_path / "run"
    summary = run_eval(
        settings_for(tiny_model, questions_file), out, options=quiet(), generator=tiny_generator
    )
    assert {p.name for p in out.iterdir()} == {
        "run.json",
        "samples.jsonl",
        "summary.json",
        "summary.md",
    }
    samples = read_samples(out)
    assert len(samples) == 12 == len({(s["id"], s["sample"]) for s in samples})
    first = samples[0]
    assert first["prompt"].startswith("user: 1+0?\nLet's think step by step")
    assert (
        1 <= first["num_tokens"] <= 8 and first["difficulty"] == 1.0 and first["reference"] == "1"
    )
    assert set(first) >= {"text", "extracted", "correct", "reason", "finished"}
    assert json.loads((out / "summary.json").read_text()) == summary
    assert summary["overall"]["num_samples"] == 12 and set(summary["by_difficulty"]) == {"1", "2"}
    assert "| overall |" in (out / "summary.md").read_text()


def test_resume_generates_only_missing_questions(
    tiny_model, tiny_generator, questions_file, tmp_path
):
    out, settings = tmp_path / "run", settings_for(tiny_model, questions_file)
    first = Counting(tiny_generator)
    run_eval(settings, out, options=quiet(limit=2), generator=first)
    assert sorted(r.n for r in first.requests) == [3, 3]
    second = Counting(tiny_generator)
    run_eval(settings, out, options=quiet(), generator=second)
    assert [r.n for r in second.requests] == [3, 3]  # q2 and q3 only
    assert all(r.prompt.startswith(("user: 1+2?", "user: 1+3?")) for r in second.requests)
    samples = read_samples(out)
    assert len(samples) == 12 == len({(s["id"], s["sample"]) for s in samples})


def test_resume_after_a_cut_last_line(tiny_model, tiny_generator, questions_file, tmp_path):
    out, settings = tmp_path / "run", settings_for(tiny_model, questions_file)
    run_eval(settings, out, options=quiet(), generator=tiny_generator)
    path = out / "samples.jsonl"
    text = path.read_text()
    path.write_text(text[: len(text) - len(text.splitlines()[-1]) // 2 - 1])  # killed mid-line
    again = Counting(tiny_generator)
    summary = run_eval(settings, out, options=quiet(), generator=again)
    assert [(r.n, r.prompt.startswith("user: 1+3?")) for r in again.requests] == [(1, True)]
    samples = read_samples(out)  # every line parses again
    assert len(samples) == 12 == len({(s["id"], s["sample"]) for s in samples})
    assert summary["overall"]["num_samples"] == 12


def test_a_finished_run_loads_no_model(tiny_model, tiny_generator, questions_file, tmp_path):
    out, settings = tmp_path / "run", settings_for(tiny_model, questions_file, k=2)
    run_eval(settings, out, options=quiet(limit=2), generator=tiny_generator)

    class Refuses(Counting):
        def generate(self, requests):
            raise AssertionError("nothing should be generated")

    summary = run_eval(settings, out, options=quiet(limit=2), generator=Refuses(tiny_generator))
    assert summary["overall"]["num_questions"] == 2


def test_other_settings_in_the_same_folder_are_refused(
    tiny_model, questions_file, tmp_path, capsys
):
    out = tmp_path / "run"
    run_eval(settings_for(tiny_model, questions_file), out, options=quiet(), generator=Scripted(
        {"q0": 3, "q1": 3, "q2": 3, "q3": 3}))  # fmt: skip
    with pytest.raises(EvalError, match=r"other settings \(k 3 != 4\)"):
        run_eval(settings_for(tiny_model, questions_file, k=4), out, options=quiet())
    argv = ["--model", str(tiny_model), "--data", str(questions_file), "--out", str(out)]
    assert eval_main([*argv, "-k", "3", "--max-new-tokens", "8", "--temperature", "1.0"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "temperature 0.6 != 1.0" in err and "\n" not in err


def test_a_data_file_edited_in_place_is_not_resumed_from_old_samples(
    tiny_model, questions_file, tmp_path
):
    # Before: same --data path and --out, a question and answer edited: the rerun reported the
    # old samples against the old reference, exit 0 (issue 32, item 3)
    out, settings = tmp_path / "run", settings_for(tiny_model, questions_file)
    run_eval(settings, out, options=quiet(), generator=Scripted(dict.fromkeys(
        ("q0", "q1", "q2", "q3"), 3)))  # fmt: skip
    rows = [json.loads(line) for line in questions_file.read_text().splitlines()]
    rows[0] |= {"question": "1+9?", "answer": "10"}
    questions_file.write_text("".join(json.dumps(r) + "\n" for r in rows))
    with pytest.raises(EvalError, match=r"other settings \(data_sha256 '[0-9a-f]{16}' != "):
        run_eval(settings, out, options=quiet())


def test_a_model_retrained_into_its_folder_is_not_resumed_from_old_samples(
    tiny_model, questions_file, tmp_path
):
    import shutil

    model = tmp_path / "model"
    shutil.copytree(tiny_model, model)
    out, settings = tmp_path / "run", settings_for(model, questions_file)
    run_eval(settings, out, options=quiet(), generator=Scripted(dict.fromkeys(
        ("q0", "q1", "q2", "q3"), 3)))  # fmt: skip
    weights = next(model.glob("*.safetensors"))
    data = bytearray(weights.read_bytes())
    data[-4:] = bytes(4) if data[-4:] != bytes(4) else b"\x01\x02\x03\x04"
    weights.write_bytes(bytes(data))
    with pytest.raises(EvalError, match=r"model_sha256"):
        run_eval(settings, out, options=quiet())


def test_a_run_from_before_the_hashes_still_resumes(
    tiny_model, tiny_generator, questions_file, tmp_path
):
    out, settings = tmp_path / "run", settings_for(tiny_model, questions_file, k=2)
    run_eval(settings, out, options=quiet(limit=2), generator=tiny_generator)
    run = json.loads((out / "run.json").read_text())
    assert {"data_sha256", "model_sha256"} <= set(run["settings"])
    for key in ("data_sha256", "model_sha256"):
        del run["settings"][key]
    (out / "run.json").write_text(json.dumps(run))
    again = Counting(tiny_generator)
    run_eval(settings, out, options=quiet(), generator=again)
    assert [r.n for r in again.requests] == [2, 2]  # q2 and q3 only


def test_scores_and_cons_through_the_real_checker(tiny_model, questions_file, tmp_path):
    # q0 all right, q1 2 of 3 right (majority right), q2 1 of 3 (majority wrong), q3 none.
    generator = Scripted({"q0": 3, "q1": 2, "q2": 1, "q3": 0})
    summary = run_eval(
        settings_for(tiny_model, questions_file),
        tmp_path / "run",
        options=quiet(),
        generator=generator,
    )
    overall = summary["overall"]
    assert overall["pass@1"] == pytest.approx((3 + 2 + 1 + 0) / 12)
    assert overall["cons@3"] == pytest.approx(2 / 4)
    assert overall["pass@2"] == pytest.approx(
        (1 + 1 + (1 - math.comb(2, 2) / math.comb(3, 2)) + 0) / 4
    )


# ----------------------------------------------------------------------------- estimate_difficulty


def test_estimate_difficulty_writes_rates_and_keeps_the_papers_band(
    tiny_model, questions_file, tmp_path
):
    # Solve rates 0, 1/4, 3/4, 1 -> the paper's band 0 < rate <= 0.75 keeps q1 and q2.
    generator = Scripted({"q0": 0, "q1": 1, "q2": 3, "q3": 4})
    result = estimate_difficulty(
        settings_for(tiny_model, questions_file, k=4),
        tmp_path / "d",
        options=quiet(),
        generator=generator,
    )
    rates = [json.loads(line) for line in Path(result["solve_rates"]).read_text().splitlines()]
    assert [(r["id"], r["solve_rate"]) for r in rates] == [
        ("q0", 0.0),
        ("q1", 0.25),
        ("q2", 0.75),
        ("q3", 1.0),
    ]
    kept = [json.loads(line)["id"] for line in Path(result["filtered"]).read_text().splitlines()]
    assert kept == ["q1", "q2"] and (result["num_problems"], result["num_kept"]) == (4, 2)
    reloaded = load_problems(result["filtered"])  # the filtered file is training data as is
    assert reloaded["id"] == ["q1", "q2"] and reloaded["difficulty"] == [1.0, 2.0]
    wider = estimate_difficulty(
        settings_for(tiny_model, questions_file, k=4), tmp_path / "d", min_solve_rate=-1,
        max_solve_rate=1, options=quiet(), generator=generator,
    )  # fmt: skip
    assert wider["num_kept"] == 4


# ----------------------------------------------------------------------------- CLIs


def test_eval_main_end_to_end(tiny_model, questions_file, tmp_path, capsys):
    out = tmp_path / "cli"
    argv = ["--model", str(tiny_model), "--data", str(questions_file), "-k", "2"]
    argv += ["--max-new-tokens", "4", "--limit", "2", "--no-progress"]
    assert eval_main([*argv, "--out", str(out)]) == 0
    assert "| overall |" in capsys.readouterr().out
    assert len(read_samples(out)) == 4
    assert json.loads((out / "run.json").read_text())["settings"]["min_p"] == 0.01
    assert estimate_difficulty_main([*argv, "--out", str(tmp_path / "d")]) == 0
    assert "kept 0 of 2 problems" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--data", "missing.jsonl"], "missing.jsonl: file not found"),
        (["--question-column", "text"], "question column 'text' not found; available columns"),
        (["-k", "many"], "invalid int value: 'many'"),
        (["-k", "0"], "k must be at least 1"),
        (["--backend", "tgi"], "invalid choice: 'tgi'"),
    ],
)
def test_eval_main_bad_input_is_one_line_and_exit_2(
    tiny_model, questions_file, tmp_path, capsys, extra, expected
):
    argv = ["--model", str(tiny_model), "--data", str(questions_file), "--out", str(tmp_path / "o")]
    assert eval_main([*argv, *extra]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and expected in err and "\n" not in err


def test_eval_main_forced_vllm_without_it_is_refused(
    tiny_model, questions_file, tmp_path, capsys, monkeypatch
):
    monkeypatch.setitem(sys.modules, "vllm", None)  # not importable, whatever is installed
    import importlib.util

    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    argv = ["--model", str(tiny_model), "--data", str(questions_file), "--out", str(tmp_path / "o")]
    assert eval_main([*argv, "--backend", "vllm"]) == 2
    assert "--backend vllm cannot run: vllm is not installed" in capsys.readouterr().err


def test_compare_writes_table_and_png(tiny_model, questions_file, tmp_path, capsys):
    runs = []
    for name, right in [("base", 1), ("lead", 2)]:
        generator = Scripted(dict.fromkeys(("q0", "q1", "q2", "q3"), right))
        run_eval(
            settings_for(tiny_model, questions_file),
            tmp_path / name,
            options=quiet(),
            generator=generator,
        )
        runs.append(tmp_path / name)
    table = compare(runs, tmp_path / "cmp")
    assert "| base | questions |" in table and "| lead | questions |" in table
    assert (tmp_path / "cmp" / "compare.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert (tmp_path / "cmp" / "compare.md").read_text() == table
    assert (
        compare_main(
            [str(runs[0] / "summary.json"), "--out", str(tmp_path / "c2"), "--labels", "x"]
        )
        == 0
    )
    assert "| x |" in capsys.readouterr().out
    assert compare_main([str(tmp_path / "nope"), "--out", str(tmp_path / "c3")]) == 2
    assert capsys.readouterr().err.startswith("error: ")


def test_a_failed_start_leaves_the_folder_reusable(tiny_model, questions_file, tmp_path, capsys):
    # a typo in --model fails before any sample: the corrected command into the same --out runs
    out = tmp_path / "run"
    argv = ["--data", str(questions_file), "-k", "2", "--max-new-tokens", "4", "--limit", "1"]
    argv += ["--no-progress", "--num-workers", "1", "--out", str(out)]
    assert eval_main(["--model", str(tmp_path / "no-such-model"), *argv]) == 2
    assert "no-such-model" in capsys.readouterr().err
    assert eval_main(["--model", str(tiny_model), *argv]) == 0
    stored = json.loads((out / "run.json").read_text())["settings"]
    assert stored["model"] == str(tiny_model.resolve()) and len(read_samples(out)) == 2


def test_a_folder_with_samples_still_refuses_other_settings(tiny_model, questions_file, tmp_path):
    out = tmp_path / "run"
    run_eval(settings_for(tiny_model, questions_file), out, options=quiet(limit=1), generator=Scripted(
        {"q0": 3}))  # fmt: skip
    with pytest.raises(EvalError, match="other settings"):
        run_eval(settings_for(tiny_model, questions_file, model="other"), out, options=quiet())


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (["--check-timeout", "0"], "check-timeout must be > 0, got 0.0"),
        (["--check-timeout", "nan"], "check-timeout must be > 0, got nan"),
        (["--num-workers", "0"], "num-workers must be at least 1, got 0"),
        (["--tensor-parallel-size", "0"], "tensor-parallel-size must be at least 1, got 0"),
    ],
)
def test_eval_arguments_are_checked_before_the_model_loads(
    questions_file, tmp_path, capsys, monkeypatch, extra, expected
):
    import grpo_lead.evaluation.runner as runner

    def no_model(*args, **kwargs):
        raise AssertionError("the model was loaded before the arguments were checked")

    monkeypatch.setattr(runner, "load_generator", no_model)
    out = tmp_path / "o"
    argv = ["--model", "m", "--data", str(questions_file), "--out", str(out), *extra]
    assert eval_main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err == f"error: {expected}"
    assert not out.exists()  # nothing written for a refused command


def test_eval_with_a_non_utf8_data_file_is_one_line(tmp_path, capsys):
    data = tmp_path / "latin1.jsonl"
    data.write_bytes('{"problem": "r\xe9sum\xe9", "answer": "1"}\n'.encode("latin-1"))
    assert eval_main(["--model", "m", "--data", str(data), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "line 1 is not UTF-8" in err and "\n" not in err


@pytest.mark.parametrize("problem", ["no k", "out is a file"])
def test_compare_bad_input_is_one_line(tiny_model, questions_file, tmp_path, capsys, problem):
    run = tmp_path / "base"
    run_eval(settings_for(tiny_model, questions_file), run, options=quiet(limit=1), generator=Scripted(
        {"q0": 1}))  # fmt: skip
    out = tmp_path / "cmp"
    if problem == "no k":
        summary = json.loads((run / "summary.json").read_text())
        del summary["k"]
        (run / "summary.json").write_text(json.dumps(summary))
        expected = "not a summary.json written by grpo-lead eval"
    else:
        out.write_text("a file")
        expected = f"--out {out} is a file"
    assert compare_main([str(run), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and expected in err and "\n" not in err, err


def test_a_wrong_type_says_where_the_options_are(tmp_path, capsys):
    assert eval_main(["--model", "m", "--data", "d.jsonl", "--check-timeout", "abc"]) == 2
    assert capsys.readouterr().err == (
        "error: argument --check-timeout: invalid float value: 'abc' "
        "(grpo-lead eval --help lists the options)\n"
    )


def test_eval_out_pointing_at_a_file_is_one_line(questions_file, tmp_path, capsys):
    out = tmp_path / "o"
    out.write_text("a file")
    assert eval_main(["--model", "m", "--data", str(questions_file), "--out", str(out)]) == 2
    assert capsys.readouterr().err == f"error: --out {out} is a file; give a folder\n"
    assert out.read_text() == "a file"


class Sentences(Scripted):
    """A small instruct model's replies: the sum said in words, never boxed or marked."""

    def generate(self, requests):
        out = []
        for r in requests:
            problem = next(q for q in QUESTIONS if r.prompt.startswith(q["problem"]))
            x, y = problem["problem"][:-1].split("+")
            text = f"{x} plus {y} equals {problem['answer']}."  # "1 plus 2 equals 3."
            out.append([Completion(text, len(text), True) for _ in range(r.n)])
        return out


def test_extraction_lenient_scores_unmarked_sentences(tiny_model, questions_file, tmp_path):
    generator = Sentences({})
    strict = run_eval(
        settings_for(tiny_model, questions_file), tmp_path / "s", options=quiet(),
        generator=generator)  # fmt: skip
    assert strict["overall"]["pass@1"] == 0.0  # strict: a sentence states no answer
    lenient = settings_for(tiny_model, questions_file, extraction="lenient")
    summary = run_eval(lenient, tmp_path / "l", options=quiet(), generator=generator)
    assert summary["overall"]["pass@1"] == 1.0
    assert summary["settings"]["extraction"] == "lenient"
    assert {s["extracted"] for s in read_samples(tmp_path / "l")} == {"1", "2", "3", "4"}
    # a run is resumed with the mode it was started with
    with pytest.raises(EvalError, match=r"extraction 'strict' != 'lenient'"):
        run_eval(lenient, tmp_path / "s", options=quiet(), generator=generator)


def test_extraction_flag_and_runs_from_before_it(tiny_model, questions_file, tmp_path, capsys):
    argv = ["--model", str(tiny_model), "--data", str(questions_file), "--out", str(tmp_path)]
    assert eval_main([*argv, "--extraction", "loose"]) == 2
    assert "--extraction" in capsys.readouterr().err
    out = tmp_path / "old"
    settings = settings_for(tiny_model, questions_file)
    run_eval(settings, out, options=quiet(), generator=Sentences({}))
    run = json.loads((out / "run.json").read_text())
    del run["settings"]["extraction"]  # written before the option existed: strict
    (out / "run.json").write_text(json.dumps(run))
    assert run_eval(settings, out, options=quiet(), generator=Sentences({}))["overall"]
    with pytest.raises(EvalError, match="extraction must be"):
        run_eval(settings_for(tiny_model, questions_file, extraction="x"), tmp_path / "x")


@pytest.mark.parametrize(
    ("row", "column"),
    [
        ({"question": "Drug?", "options": {"A": "x", "B": "y"}, "answer_idx": "B", "answer": "y",
          "meta_info": "step1"}, "options"),  # MedQA
        ({"question": "Drug?", "opa": "x", "opb": "y", "opc": "z", "opd": "w", "cop": 1}, "opa"),
    ],
)  # fmt: skip
def test_a_multiple_choice_file_is_not_scored_as_math(tmp_path, capsys, row, column):
    from grpo_lead.cli import main

    data = tmp_path / "medqa.jsonl"
    data.write_text(json.dumps(row) + "\n", encoding="utf-8")
    argv = ["eval", "--model", "m", "--data", str(data), "--out", str(tmp_path / "o")]
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "--task mcq" in err and repr(column) in err and str(data) in err


@pytest.mark.parametrize("task", ["math", "mcq"])
def test_a_prompt_longer_than_the_context_is_refused_before_generation(
    tiny_model, tmp_path, capsys, monkeypatch, task
):
    from grpo_lead.cli import main
    from grpo_lead.evaluation.generation import TransformersGenerator

    def no_generation(self, requests):
        raise AssertionError("generation started")

    monkeypatch.setattr(TransformersGenerator, "generate", no_generation)
    long = "7 + " * 600 + "1?"  # 2,402 characters; the tiny model has 1,024 positions
    rows = [
        {"id": "short", "question": "1 + 1?", "answer": "2"},
        {"id": "huge", "question": long, "answer": "3"},
    ]
    if task == "mcq":
        rows = [{**r, "options": ["2", "3"], "answer": "A"} for r in rows]
    data = tmp_path / "q.jsonl"
    data.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    out = tmp_path / "o"
    argv = [
        "eval",
        "--task",
        task,
        "--model",
        str(tiny_model),
        "--data",
        str(data),
        "--out",
        str(out),
    ]
    assert main([*argv, "-k", "1", "--no-progress"]) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(errors) == 1  # above it: the model's loading bar
    assert "question 'huge'" in errors[0] and "the model's context is 1024" in errors[0]
    assert not (out / "samples.jsonl").exists() or not (out / "samples.jsonl").read_text()


def test_a_system_prompt_that_fills_the_context_is_blamed_not_the_question(
    tiny_model, questions_file, tmp_path, capsys, monkeypatch
):
    # Before: "question 'q0': the prompt has ... tokens" for a 100k-character --system-prompt
    # (issue 32, item 15)
    from grpo_lead.cli import main
    from grpo_lead.evaluation.generation import TransformersGenerator

    def no_generation(self, requests):
        raise AssertionError("generation started")

    monkeypatch.setattr(TransformersGenerator, "generate", no_generation)
    argv = ["eval", "--model", str(tiny_model), "--data", str(questions_file), "-k", "1"]
    argv += ["--out", str(tmp_path / "o"), "--no-progress", "--system-prompt", "s" * 100_000]
    assert main(argv) == 2
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("error")]
    assert len(errors) == 1 and errors[0].startswith("error: --system-prompt: "), errors
    assert "question" not in errors[0].replace("no question at all", ""), errors[0]


def test_a_huge_first_prompt_is_logged_clipped(tiny_model, tmp_path, caplog, monkeypatch):
    # Before: a 1 MB question was logged whole before it was refused (issue 32, item 15)
    import logging

    from grpo_lead.cli import main
    from grpo_lead.evaluation.generation import TransformersGenerator

    monkeypatch.setattr(TransformersGenerator, "generate", lambda self, requests: 1 / 0)
    data = tmp_path / "q.jsonl"
    data.write_text(json.dumps({"id": "big", "question": "7 + " * 250_000 + "1?", "answer": "3"}))
    argv = ["eval", "--model", str(tiny_model), "--data", str(data), "-k", "1", "--no-progress"]
    with caplog.at_level(logging.INFO):
        assert main([*argv, "--out", str(tmp_path / "o")]) == 2
    shown = [r.getMessage() for r in caplog.records if "the model sees" in r.getMessage()]
    assert len(shown) == 1 and len(shown[0]) < 3000 and "characters ...]" in shown[0]


@pytest.mark.parametrize("value", ["NaN", float("nan"), 1.5, True, None])
def test_compare_refuses_a_pass_at_1_that_is_not_a_number(
    tiny_model, questions_file, tmp_path, capsys, value
):
    # Before: a pass@1 of "NaN" (a string) was drawn and ranked (issue 32, item 15)
    run = tmp_path / "base"
    run_eval(settings_for(tiny_model, questions_file), run, options=quiet(limit=1), generator=Scripted(
        {"q0": 1}))  # fmt: skip
    summary = json.loads((run / "summary.json").read_text())
    summary["overall"]["pass@1"] = value
    (run / "summary.json").write_text(json.dumps(summary))
    assert compare_main([str(run), "--out", str(tmp_path / "cmp")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"error: {run / 'summary.json'}: overall pass@1 is "), err
    assert "\n" not in err and not (tmp_path / "cmp").exists()
