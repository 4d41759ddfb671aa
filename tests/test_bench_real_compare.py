"""benchmarks/bench_real_compare.py: the warm-up rows, the runs' recipes, the archive and the
report, without a model (the real runs take minutes each; their results are committed)."""

from __future__ import annotations

import json
import random

import bench_real_compare
import pytest


def test_warmup_rows_pose_the_sums_as_train_and_eval_do():
    from grpo_lead.answers import verify_answer
    from grpo_lead.tasks.math.data import LEAD_PROMPT_SUFFIX
    from grpo_lead.toylab.task import make_problems

    rows = bench_real_compare.warmup_rows(40, seed=3)
    problems = make_problems(40, seed=3)
    for row, problem in zip(rows, problems, strict=True):
        # One user turn (the template adds its default system prompt, as in train and eval).
        assert [m["role"] for m in row["prompt"]] == ["user"]
        question = row["prompt"][0]["content"]
        assert question.endswith(LEAD_PROMPT_SUFFIX)
        assert "+" not in question and question.startswith("What is ")
        assert row["level"] == problem["level"]
        (turn,) = row["completion"]
        assert turn["role"] == "assistant"
        # A slipped trace ends in a wrong answer, an unslipped one in the sum.
        ok = verify_answer(turn["content"], problem["answer"]).correct
        assert ok != row["slipped"]
    assert {r["style"] for r in rows} == {"concise", "medium", "verbose"}


@pytest.mark.parametrize("name", ["grpo", "lead", "dler-48"])
def test_each_method_recipe_parses_as_grpo_lead_train_reads_it(name, tmp_path):
    from grpo_lead.train import parse_train_args

    recipe = bench_real_compare.method_recipe(
        name, "some/model", tmp_path / "t.jsonl", steps=7, seed=2
    )
    recipe["output_dir"] = str(tmp_path / "run")
    script, training, model = parse_train_args([], recipe=recipe)
    assert (training.max_steps, training.seed, training.num_generations) == (7, 2, 8)
    assert training.max_completion_length == 96 and not training.bf16
    assert model.model_name_or_path == "some/model" and script.difficulty_column == "level"
    expected = {
        "grpo": ("none", 0.0, "none"),
        "lead": ("paper", -1.0, "logistic"),
        "dler-48": ("budget", 0.0, "none"),
    }[name]
    assert (training.length_reward, training.incorrect_reward, training.difficulty_weight) == (
        expected
    )
    if name == "dler-48":
        assert training.length_budget == 48.0 and training.epsilon_high == 0.28


def test_jobs_go_seed_by_seed_after_the_warm_start():
    jobs = bench_real_compare.jobs(["grpo", "lead"], seeds=2)
    assert [j["job"] for j in jobs] == ["warmup", "grpo-s0", "lead-s0", "grpo-s1", "lead-s1"]


def _samples(rng, accuracy, length, n=24, k=2):
    rows = []
    for i in range(n):
        level = 1 + i % 4
        for _ in range(k):
            ok = rng.random() < accuracy
            rows.append({"id": f"p{i}", "difficulty": level, "correct": ok,
                         "num_tokens": length + 5 * level + rng.randint(-3, 3),
                         "finished": True, "style": "concise" if length < 40 else "verbose"})  # fmt: skip
    return rows


def test_archive_round_trip_and_report(tmp_path):

    rng = random.Random(0)
    runs = {}
    for job in bench_real_compare.jobs(["grpo", "lead"], seeds=2):
        length = {"warmup": 60, "grpo": 55, "lead": 35}[job["method"]]
        history = [{"completions/mean_length": length + 10 - i, "lead/accuracy": 0.5, "step": i}
                   for i in range(5)]  # fmt: skip
        record = {**job, "warmup_hash": "abc", "steps": 5, "history": history,
                  "samples": _samples(rng, 0.6, length)}  # fmt: skip
        runs[f"{job['job']}@abc"] = record
    # A run of another warm start is never paired with these.
    runs["lead-s2@zzz"] = {**runs["lead-s1@abc"], "job": "lead-s2", "seed": 2, "warmup_hash": "zzz"}
    archive = tmp_path / "runs.jsonl.gz"
    bench_real_compare.save_archive(archive, runs)
    assert bench_real_compare.load_archive(archive) == runs
    summary = bench_real_compare.report(
        bench_real_compare.load_archive(archive), ["grpo", "lead"], "abc", tmp_path
    )
    assert summary["seeds"] == [0, 1]
    stats = summary["stats"]
    assert stats["grpo"]["length_correct"]["diff"] == 0
    lead = stats["lead"]["length_correct"]
    assert lead["diff_hi"] < 0 and lead["diff"] == pytest.approx(-20, abs=3)
    by_level = summary["length_correct_by_level"]
    assert set(by_level) == {"1", "2", "3", "4"}
    assert by_level["4"]["lead"]["mean"] > by_level["1"]["lead"]["mean"]
    md = (tmp_path / "real_compare.md").read_text()
    assert "| GRPO-LEAD |" in md and "| warm start |" in md and "L4" in md
    assert "| GRPO-LEAD | 100% | 0% | 0% | 0% |" in md and "| GRPO | 0% | 0% | 100% | 0% |" in md
    assert (tmp_path / "real_compare.png").stat().st_size > 10_000
    assert (tmp_path / "real_compare_curves.png").stat().st_size > 10_000
    curves = bench_real_compare.curves(runs, ["grpo", "lead"], "abc", [0, 1])
    assert curves["completions/mean_length"]["lead"] == [45, 44, 43, 42, 41]
    assert json.loads((tmp_path / "real_compare.json").read_text())["warmup_hash"] == "abc"


def test_report_waits_for_a_seed_every_method_finished(tmp_path):

    rng = random.Random(1)
    runs = {
        f"{j}@h": {"job": j, "method": j.split("-s")[0], "seed": 0, "warmup_hash": "h",
                   "steps": 5, "samples": _samples(rng, 0.5, 40)}
        for j in ("warmup", "grpo-s0")
    }  # fmt: skip
    assert bench_real_compare.report(runs, ["grpo", "lead"], "h", tmp_path) is None


def _harder(rng, accuracy, length, n=8, k=2):
    """Rows of the extra set: levels 5 and 6."""
    return [{"id": f"h{i}", "difficulty": 5 + i % 2, "correct": rng.random() < accuracy,
             "num_tokens": length + 30 + rng.randint(-3, 3), "finished": True, "style": "other"}
            for i in range(n) for _ in range(k)]  # fmt: skip


def test_the_levels_past_training_come_from_the_seeds_that_have_them(tmp_path):
    """The redundant task's extra set lands after its main runs: the report's harder columns
    pool the seeds whose every run has them, and the rest of the report is as without them."""
    rng = random.Random(2)
    task = bench_real_compare.TASKS["redundant"]
    assert task.levels == (1, 2, 3, 4, 5, 6)
    runs = {}
    for job in bench_real_compare.jobs(["grpo", "lead"], seeds=2):
        length = {"warmup": 60, "grpo": 55, "lead": 35}[job["method"]]
        runs[f"{job['job']}@h"] = {**job, "warmup_hash": "h", "steps": 5,
                                   "history": [], "samples": _samples(rng, 0.6, length)}  # fmt: skip
    before = bench_real_compare.report(runs, ["grpo", "lead"], "h", tmp_path, task)
    md_before = (tmp_path / "real_compare.md").read_text()
    assert "harder_levels" not in before and "L5" not in md_before
    assert not bench_real_compare.complete(runs["grpo-s0@h"], task)
    # Seed 0 of every run (the warm start's record serves every seed) gets the extra rows.
    for job in ("warmup", "grpo-s0", "lead-s0"):
        accuracy = {"warmup": 0.5, "grpo-s0": 0.9, "lead-s0": 0.1}[job]
        runs[f"{job}@h"]["samples"] += _harder(rng, accuracy, 50)
    assert bench_real_compare.complete(runs["grpo-s0@h"], task)
    after = bench_real_compare.report(runs, ["grpo", "lead"], "h", tmp_path, task)
    md = (tmp_path / "real_compare.md").read_text()
    assert after["seeds"] == [0, 1] and after["harder_levels"] == [5, 6]
    assert after["harder_seeds"] == [0]
    assert after["stats"] == before["stats"]  # the training levels: as before
    assert after["stats_harder"]["lead"]["accuracy"]["diff"] < -0.4
    assert "L5-6 acc %" in md and "up to 128 new tokens, seeds 0)" in md
    assert "| setting | L1 c/m/v |" in md and "L6 c/m/v" in md  # the styles past the range
    assert "L1 c/m/v" not in md_before
    assert set(after["length_correct_by_level"]) == {"1", "2", "3", "4", "5", "6"}
    # The style shares stay those of the main eval set (the extra rows are all "other").
    style = [line for line in md.splitlines() if line.startswith("| GRPO-LEAD | 100% | ")]
    assert style == [
        line for line in md_before.splitlines() if line.startswith("| GRPO-LEAD | 100% | ")
    ]
    assert (tmp_path / "real_compare_pareto.png").stat().st_size > 10_000


def test_a_run_made_again_for_the_extra_set_keeps_its_archived_record_when_its_eval_is_the_same():
    task = bench_real_compare.TASKS["redundant"]
    rng = random.Random(3)
    main = _samples(rng, 0.7, 40)
    old = {"job": "grpo-s0", "train_seconds": 1187.4, "eval_seconds": 119.5,
           "history": [{"step": 1, "step_time": 34.6}], "samples": main}  # fmt: skip
    extra = _harder(rng, 0.5, 40)
    # Evaluated again (its model on disk) or retrained bit for bit: the same main rows.
    again = {**old, "train_seconds": 0.0, "eval_seconds": 3.0, "samples": main + extra,
             "history": [{"step": 1, "step_time": 40.0}], "extra_eval_seconds": 80.0}  # fmt: skip
    kept = bench_real_compare.extended(old, again, task)
    assert kept == {**old, "samples": main + extra, "extra_eval_seconds": 80.0}
    retrained = {**again, "train_seconds": 1200.0}
    assert bench_real_compare.extended(old, retrained, task)["retrain_seconds"] == 1200.0
    # A model that is not the archived one: its run replaces the record whole.
    flipped = [{**r, "correct": not r["correct"]} if i == 0 else r for i, r in enumerate(main)]
    other = {**retrained, "samples": flipped + extra}
    assert bench_real_compare.extended(old, other, task) is other
    assert bench_real_compare.extended(None, again, task) is again


def test_run_all_extends_the_archived_runs_that_lack_the_extra_levels(tmp_path, monkeypatch):
    task = bench_real_compare.TASKS["redundant"]
    rng = random.Random(4)
    main = {j: _samples(rng, 0.7, 40) for j in ("warmup", "grpo-s0", "lead-s0")}
    rl = bench_real_compare.RL
    archive = tmp_path / "runs.jsonl.gz"
    runs = {f"{j}@h": {"job": j, "method": j.split("-s")[0], "seed": 0, "warmup_hash": "h",
                       "steps": 5, "rl": rl, "train_seconds": 9.0, "samples": main[j]}
            for j in main}  # fmt: skip
    runs["lead-s0@h"]["samples"] = main["lead-s0"] + _harder(rng, 0.5, 40)  # already complete
    bench_real_compare.save_archive(archive, runs)
    ran = []

    def fake_run_job(job, ctx):
        ran.append(job["job"])
        return {**job, "warmup_hash": "h", "steps": 5, "rl": rl, "train_seconds": 0.0,
                "eval_seconds": 3.0, "samples": main[job["job"]] + _harder(rng, 0.5, 40), "extra_eval_seconds": 7.0}  # fmt: skip

    monkeypatch.setattr(bench_real_compare, "run_job", fake_run_job)
    ctx = {"archive": archive, "warmup_hash": "h", "steps": 5, "task": task}
    bench_real_compare.run_all(ctx, bench_real_compare.jobs(["grpo", "lead"], 1), workers=1)
    assert ran == ["warmup", "grpo-s0"]
    after = bench_real_compare.load_archive(archive)
    assert all(bench_real_compare.complete(r, task) for r in after.values())
    assert after["grpo-s0@h"]["train_seconds"] == 9.0  # the archived run's, kept
    assert after["lead-s0@h"] == runs["lead-s0@h"]


def test_the_runs_share_the_recipe_less_its_lead_options():
    import yaml

    from grpo_lead.options import lead_option_names

    recipe = yaml.safe_load(bench_real_compare.RECIPE.read_text())
    assert (
        bench_real_compare.RL["learning_rate"] == recipe["learning_rate"]
        and bench_real_compare.RL["save_strategy"] == "no"
    )
    assert not set(bench_real_compare.RL) & {*lead_option_names(), *bench_real_compare.PER_RUN}
    assert recipe["length_reward"] == "paper"  # the recipe itself is GRPO-LEAD


def test_the_style_of_an_answer_follows_the_warm_up_traces():
    import random as rnd

    from grpo_lead.toylab.task import make_problems, make_trace

    rng = rnd.Random(0)
    for problem in make_problems(8, seed=1):
        for style in ("concise", "medium", "verbose"):
            trace = make_trace(problem, style=style, rng=rng, slip=False)
            assert bench_real_compare.trace_style(trace) == style
    assert bench_real_compare.trace_style("The answer is 7.") == "other"


def _bench(*args, tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    script = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_real_compare.py"
    return subprocess.run(
        [sys.executable, str(script), "--model", str(tmp_path / "no-model"), "--out",
         str(tmp_path / "out"), *args], capture_output=True, text=True, timeout=120,
    )  # fmt: skip


@pytest.mark.parametrize(("flag", "value"), [("--seeds", "0"), ("--seeds", "-2"), ("-k", "0")])
def test_counts_below_one_are_refused_before_any_work(tmp_path, flag, value):
    done = _bench(flag, value, tmp_path=tmp_path)
    assert done.returncode == 2
    assert f"{flag} must be >= 1, got {value}" in done.stderr
    assert not (tmp_path / "out").exists()  # no warm-up was started


def test_an_archive_that_is_a_folder_or_foreign_is_one_error_line(tmp_path):
    import gzip

    folder = tmp_path / "runs"
    folder.mkdir()
    done = _bench("--archive", str(folder), tmp_path=tmp_path)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.strip() == f"error: --archive {folder} is a folder; give a .jsonl.gz file"
    foreign = tmp_path / "foreign.jsonl.gz"
    with gzip.open(foreign, "wt") as f:
        f.write(
            '{"job": "grpo-s0", "method": "grpo", "seed": 0, "warmup_hash": "x", "samples": []}\n'
        )
        f.write('{"something": "else"}\n')
    done = _bench("--archive", str(foreign), tmp_path=tmp_path)
    assert "Traceback" not in done.stderr and done.returncode == 1
    assert f"error: {foreign}: not a runs archive of bench_real_compare at line 2" in done.stderr
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(gzip.compress(b'{"job": "a"}\n' * 50)[:30])
    done = _bench("--archive", str(cut), tmp_path=tmp_path)
    assert "Traceback" not in done.stderr and str(cut) in done.stderr and done.returncode == 1
    plain = tmp_path / "plain.jsonl.gz"
    plain.write_text("not gzip at all\n")
    done = _bench("--archive", str(plain), tmp_path=tmp_path)
    assert "Traceback" not in done.stderr and "not a runs archive" in done.stderr


@pytest.mark.parametrize(
    ("task", "methods"),
    [("redundant", None), ("steps", None)],
)
def test_the_committed_reports_are_what_their_archives_give(tmp_path, task, methods):
    """Each committed report (md and json) is regenerated from its committed archive, byte for
    byte: the figures in the docs come from the runs kept, nothing else."""
    t = bench_real_compare.TASKS[task]
    runs = bench_real_compare.load_archive(t.archive)
    start = bench_real_compare.main_start(runs)
    names = methods or list(bench_real_compare.TASK_METHODS[task])
    assert bench_real_compare.report(runs, names, start, tmp_path, t) is not None
    for suffix in (".md", ".json"):
        name = t.prefix + suffix
        assert (tmp_path / name).read_bytes() == (bench_real_compare.RESULTS / name).read_bytes()
