"""The ablation: paired bootstrap statistics by hand, and one tiny seed end to end."""

from __future__ import annotations

import json

import pytest

from grpo_lead.ablation import METHODS, run_ablation
from grpo_lead.toylab.report import (
    markdown_contrasts_table,
    markdown_levels_table,
    markdown_table,
)
from grpo_lead.toylab.stats import bootstrap, contrasts


def rows(pattern, lengths):
    # one seed: problem i at level 1 + i % 2, one sample each
    return [
        {"id": str(i), "sample": 0, "difficulty": 1 + i % 2, "correct": c, "num_tokens": n}
        for i, (c, n) in enumerate(zip(pattern, lengths, strict=True))
    ]


def test_bootstrap_point_estimates_by_hand():
    grpo = {0: rows([1, 1, 0, 0], [10, 20, 30, 40])}
    lead = {0: rows([1, 1, 1, 0], [5, 5, 8, 12])}
    st = bootstrap({"grpo": grpo, "lead": lead}, n=200)
    # grpo: 2/4 right; correct lengths 10, 20 -> 15; wrong 30, 40 -> 35
    assert st["grpo"]["accuracy"]["mean"] == 0.5
    assert st["grpo"]["length_correct"]["mean"] == 15
    assert st["grpo"]["length_wrong"]["mean"] == 35
    # level 1 = problems 0, 2; lead gets both right, grpo one
    assert st["lead"]["accuracy_L1"]["mean"] == 1.0 and st["grpo"]["accuracy_L1"]["mean"] == 0.5
    # lead: correct lengths 5, 5, 8 -> 6; diff to grpo -9
    assert st["lead"]["length_correct"]["diff"] == pytest.approx(-9)
    # paired: a setting against itself differs by exactly 0 in every replicate
    assert st["grpo"]["accuracy"]["diff_lo"] == st["grpo"]["accuracy"]["diff_hi"] == 0
    for m in st["lead"].values():
        assert m["lo"] <= m["mean"] <= m["hi"] or m["mean"] != m["mean"]


def test_bootstrap_paired_difference_is_tighter_than_unpaired():
    # lead = grpo + 6 more right answers on a 40-problem set: the paired interval excludes 0
    base = [i % 2 for i in range(40)]
    better = [1 if i in (0, 2, 4, 6, 8, 10) else c for i, c in enumerate(base)]
    grpo = {s: rows(base, [20] * 40) for s in range(3)}
    lead = {s: rows(better, [20] * 40) for s in range(3)}
    st = bootstrap({"grpo": grpo, "lead": lead}, n=300)
    d = st["lead"]["accuracy"]
    assert d["diff"] == pytest.approx(6 / 40)
    assert 0 < d["diff_lo"] <= d["diff"] <= d["diff_hi"]
    assert d["lo"] < d["mean"] - 0.05  # the level itself is uncertain; the paired gain is not
    assert d["diff_hi"] - d["diff_lo"] < d["hi"] - d["lo"]


def test_bootstrap_problems_are_crossed_with_seeds():
    # Every seed answers the same problems; with 4 identical seeds the problems' variance must not
    # shrink (a per-seed problem draw would halve the interval: sqrt(4)).
    pattern = [i % 3 == 0 for i in range(60)]
    one = bootstrap({"grpo": {0: rows(pattern, [10] * 60)}}, n=400)["grpo"]["accuracy"]
    four = bootstrap({"grpo": {s: rows(pattern, [10] * 60) for s in range(4)}}, n=400)
    four = four["grpo"]["accuracy"]
    assert four["mean"] == pytest.approx(one["mean"])
    width_one, width_four = one["hi"] - one["lo"], four["hi"] - four["lo"]
    assert width_one > 0.15
    assert 0.8 < width_four / width_one < 1.25


def test_contrasts_are_the_paired_steps_of_the_ablation():
    base = [i % 2 for i in range(40)]
    records = {
        "grpo": {0: rows(base, [30] * 40)},
        "+length": {0: rows(base, [20] * 40)},  # same answers, 10 tokens shorter
        "lead": {0: rows([1] * 40, [20] * 40)},  # every answer right, same length as +length
    }
    steps = contrasts(records, n=200)
    # only steps whose two settings ran: +length - grpo; lead's partners are missing
    assert [(r["setting"], r["against"]) for r in steps] == [("+length", "grpo")]
    m = steps[0]["metrics"]
    assert m["length_correct"]["diff"] == m["length_correct"]["diff_lo"] == -10
    assert m["accuracy"]["diff"] == 0 and "accuracy_L2" in m  # the hardest level rides along
    table = markdown_contrasts_table(steps, "x")
    assert "| length reward | `+length` - `grpo` | +0.0 [+0.0, +0.0] |" in table
    assert "**-10.0 [-10.0, -10.0]**" in table  # an interval that excludes 0 is bold


def test_markdown_table_has_every_setting():
    grpo = {0: rows([1, 0], [10, 20])}
    st = bootstrap({"grpo": grpo, "lead": grpo}, n=20)
    table = markdown_table(st, "x")
    assert "| GRPO |" in table and "+ explicit penalty (LEAD)" in table


def test_levels_table_has_every_level_in_order_with_the_values():
    # 12 problems at levels 1..12 % 4 + 1 -> 1, 2, 3, 4 ...; lead gets every level-3 one right
    pattern = [0] * 12
    better = [1 if 1 + i % 4 == 3 else 0 for i in range(12)]
    lvl = [{**r, "difficulty": 1 + i % 4} for i, r in enumerate(rows(pattern, [9] * 12))]
    lvl_b = [{**r, "difficulty": 1 + i % 4} for i, r in enumerate(rows(better, [9] * 12))]
    st = bootstrap({"grpo": {0: lvl}, "lead": {0: lvl_b}}, n=50)
    table = markdown_levels_table(st, "x").splitlines()
    assert table[2] == "| setting | level 1 % | level 2 % | level 3 % | level 4 % |"
    lead_row = table[-1].split(" | ")
    assert lead_row[3].startswith("100.0 [100.0, 100.0] (+100.0")
    assert lead_row[1].startswith("0.0 [0.0, 0.0] (+0.0")


def test_bad_methods_are_refused(tmp_path):
    with pytest.raises(ValueError, match="must include 'grpo'"):
        run_ablation(tmp_path, methods=["lead"], quick=True, progress=False)


@pytest.mark.parametrize("flag", ["--methods", "--settings"])
def test_settings_is_a_hidden_alias_of_methods(flag, tmp_path, capsys):
    from grpo_lead.ablation import ablation_main

    # the flag's old name still runs (earlier commands and notes) and is checked the same way
    assert ablation_main(["--out", str(tmp_path), flag, "lead", "--quick"]) == 2
    err = capsys.readouterr().err
    assert "methods must include 'grpo'" in err and "got ['lead']" in err
    with pytest.raises(SystemExit):
        ablation_main(["--help"])
    shown = capsys.readouterr().out
    assert "--methods" in shown and "--settings" not in shown


def test_demo_ablation_flag_runs_the_ablation_command(tmp_path, capsys):
    from grpo_lead.cli import main

    # `grpo-lead demo --ablation` hands the rest to `grpo-lead ablation`, whose check refuses
    # this before any work
    assert main(["demo", "--ablation", "--out", str(tmp_path), "--methods", "lead", "--quick"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "must include 'grpo'" in err
    assert "\n" not in err
    assert not (tmp_path / "settings.json").exists()
    import logging  # the command logs ours at INFO, not matplotlib's first-run font-cache line

    assert logging.getLogger("matplotlib.font_manager").getEffectiveLevel() == logging.WARNING


def test_a_folder_keeps_its_budget(tmp_path, capsys, no_runs):
    from dataclasses import asdict

    from grpo_lead.ablation import AblationSettings, ablation_main

    out = tmp_path / "abl"
    out.mkdir()
    (out / "settings.json").write_text(json.dumps(asdict(AblationSettings.quick())))
    (out / "keep.jsonl").write_text("x\n")
    (out / "redundant" / "seed0").mkdir(parents=True)  # a warm-up begun: not a fresh folder
    code = ablation_main(["--out", str(out), "--quick", "--rl-steps", "7", "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "rl_steps: 2 there, 7 now" in err and str(out) in err and "\n" not in err
    assert json.loads((out / "settings.json").read_text())["rl_steps"] == 2  # untouched
    assert (out / "keep.jsonl").read_text() == "x\n"
    with pytest.raises(ValueError, match="rl_steps must be >= 1"):
        run_ablation(tmp_path / "other", rl_steps=0, quick=True, progress=False)


def fake_folder(out, runs, budget=None):
    """A grid folder with finished runs (verbosity, seed, setting) and its budget."""
    from dataclasses import asdict

    from grpo_lead.ablation import AblationSettings

    out.mkdir(parents=True, exist_ok=True)
    (out / "settings.json").write_text(json.dumps(budget or asdict(AblationSettings.quick())))
    for i, (v, sd, st) in enumerate(runs):
        recs = [{**r, "seconds": 10.5 + i} for r in rows([1, 0, 1], [30 + i, 64, 41])]
        path = out / v / f"seed{sd}" / f"{st}.jsonl"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(json.dumps(r) + "\n" for r in recs))
    v, sd, _ = runs[0]
    (out / v / f"seed{sd}" / "problems.jsonl").write_text('{"not": "a run"}\n')


def test_runs_archive_round_trips_every_record_file_byte_for_byte(tmp_path):
    from grpo_lead.ablation import pack_runs, unpack_runs

    runs = [("mixed", 0, "grpo"), ("mixed", 0, "alp-0.01"), ("mixed", 3, "grpo"),
            ("redundant", 1, "overlong-64+lead")]  # fmt: skip
    fake_folder(tmp_path / "a", runs)
    archive = tmp_path / "runs.jsonl.gz"
    assert pack_runs(tmp_path / "a", archive) == 4  # problems.jsonl is not a run
    first = archive.read_bytes()
    assert pack_runs(tmp_path / "a", archive) == 4 and archive.read_bytes() == first  # stable
    assert unpack_runs(archive, tmp_path / "b") == 4
    for v, sd, st in runs:
        rel = f"{v}/seed{sd}/{st}.jsonl"
        assert (tmp_path / "b" / rel).read_text() == (tmp_path / "a" / rel).read_text()
    a_set = json.loads((tmp_path / "a" / "settings.json").read_text())
    assert json.loads((tmp_path / "b" / "settings.json").read_text()) == a_set
    assert unpack_runs(archive, tmp_path / "b") == 0  # present runs are not rewritten
    # a new run in another folder merges with what the archive holds
    fake_folder(tmp_path / "c", [("useful", 2, "grpo")])
    assert pack_runs(tmp_path / "c", archive) == 5


def test_runs_archive_refuses_another_budget_and_a_bad_file(tmp_path):
    from dataclasses import asdict

    from grpo_lead.ablation import AblationSettings, pack_runs, unpack_runs

    fake_folder(tmp_path / "a", [("mixed", 0, "grpo")])
    archive = tmp_path / "runs.jsonl.gz"
    pack_runs(tmp_path / "a", archive)
    other = {**asdict(AblationSettings.quick()), "rl_steps": 9}
    fake_folder(tmp_path / "b", [("mixed", 1, "grpo")], budget=other)
    with pytest.raises(ValueError, match="rl_steps: 2 there, 9 in"):
        unpack_runs(archive, tmp_path / "b")
    with pytest.raises(ValueError, match="rl_steps: 2 there, 9 in"):
        pack_runs(tmp_path / "b", archive)
    assert not (tmp_path / "b" / "mixed" / "seed0").exists()  # nothing written
    bad = tmp_path / "bad.jsonl.gz"
    bad.write_text("not gzip")
    with pytest.raises(ValueError, match="bad.jsonl.gz: not a runs archive"):
        unpack_runs(bad, tmp_path / "b")


def test_job_order_leaves_out_finished_runs_and_their_warm_ups(tmp_path):
    from grpo_lead.toylab.runner import _job_order

    fake_folder(tmp_path, [("mixed", 0, "grpo"), ("mixed", 0, "lead"), ("mixed", 1, "grpo")])
    jobs = [("mixed", 0), ("mixed", 1)]
    order = _job_order(jobs, ["grpo", "lead"], tmp_path)
    assert order == [("warmup", "mixed", 1, None), ("run", "mixed", 1, "lead")]
    full = _job_order(jobs, ["grpo", "lead"])
    assert len(full) == 6 and full[:2] == [
        ("warmup", "mixed", 0, None),
        ("warmup", "mixed", 1, None),
    ]


# -- bad input: one line, exit 2, before any run, nothing left behind (issue 24) ---------------


@pytest.fixture
def no_runs(monkeypatch):
    """Fail the test if the ablation gets as far as running a job."""
    import grpo_lead.toylab.runner as runner

    def refuse(*args, **kwargs):
        raise AssertionError("a job was started")

    monkeypatch.setattr(runner, "_run_jobs", refuse)


def _refused(capsys, argv) -> str:
    from grpo_lead.ablation import ablation_main

    assert ablation_main([*argv, "--quick", "--no-progress"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "Traceback" not in err
    return err


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["--seeds", "0"], "--seeds must be >= 1, got 0"),  # was: IndexError
        (["--workers", "0"], "--workers must be >= 1"),
        (["--grid", "nope"], "invalid choice: 'nope'"),  # was: the whole usage
        (["--seeds", "five"], "--seeds: invalid int value"),
    ],
)
def test_bad_flags_are_one_line_and_write_nothing(tmp_path, capsys, no_runs, argv, named):
    out = tmp_path / "abl"
    err = _refused(capsys, ["--out", str(out), *argv])
    assert named in err
    assert not out.exists()
    with pytest.raises(ValueError, match="seeds must be one or more"):
        run_ablation(out, seeds=[], quick=True, progress=False)


def test_a_cut_archive_is_named(tmp_path, capsys, no_runs):
    from grpo_lead.ablation import pack_runs, unpack_runs

    fake_folder(tmp_path / "a", [("mixed", 0, "grpo"), ("mixed", 1, "grpo")])
    archive = tmp_path / "runs.jsonl.gz"
    pack_runs(tmp_path / "a", archive)
    archive.write_bytes(archive.read_bytes()[:-30])  # a copy cut short: was EOFError
    with pytest.raises(ValueError, match="runs.jsonl.gz: a runs archive cut short"):
        unpack_runs(archive, tmp_path / "b")
    out = tmp_path / "c"
    err = _refused(capsys, ["--out", str(out), "--archive", str(archive)])
    assert f"{archive}: a runs archive cut short" in err and not out.exists()


def test_an_unwritable_archive_is_refused_before_the_first_run(tmp_path, capsys, no_runs):
    # was: found when the first run finished (after its training), settings.json left behind
    a_file = tmp_path / "notes.txt"
    a_file.write_text("x")
    out = tmp_path / "abl"
    for archive in (a_file / "runs.jsonl.gz", tmp_path):
        err = _refused(capsys, ["--out", str(out), "--archive", str(archive)])
        assert f"--archive {archive}" in err
        assert not out.exists()  # nothing written: the corrected call starts fresh


def test_a_folder_with_settings_but_no_runs_is_fresh(tmp_path):
    # what a refused call of an older version left: its settings, no run
    from dataclasses import asdict, replace

    from grpo_lead.ablation import AblationSettings
    from grpo_lead.toylab.runs import claim_folder

    out = tmp_path / "abl"
    out.mkdir()
    (out / "settings.json").write_text(json.dumps(asdict(AblationSettings.quick())))
    now = replace(AblationSettings.quick(), rl_steps=7)
    claim_folder(out, now)
    assert json.loads((out / "settings.json").read_text())["rl_steps"] == 7
    (out / "mixed" / "seed0").mkdir(parents=True)  # a warm-up or a run: no longer fresh
    with pytest.raises(ValueError, match="rl_steps: 7 there, 2 now"):
        claim_folder(out, AblationSettings.quick())


def _cut_record(path) -> None:
    """What a kill inside a non-atomic write leaves: the first 26 characters."""
    path.write_text(path.read_text()[:26])


def test_a_cut_record_is_replaced_by_the_archive_copy(tmp_path, caplog):
    from grpo_lead.ablation import pack_runs, unpack_runs

    runs = [("mixed", 0, "grpo"), ("mixed", 1, "grpo")]
    fake_folder(tmp_path / "a", runs)
    archive = tmp_path / "runs.jsonl.gz"
    pack_runs(tmp_path / "a", archive)
    record = tmp_path / "a" / "mixed" / "seed1" / "grpo.jsonl"
    good = record.read_text()
    _cut_record(record)
    assert pack_runs(tmp_path / "a", archive) == 2  # the archive keeps its intact copy
    assert unpack_runs(archive, tmp_path / "a") == 1  # and gives it back
    assert record.read_text() == good
    assert "grpo.jsonl is cut or garbled: replaced by the copy" in caplog.text
    assert not list((tmp_path / "a").rglob("*.tmp"))


def test_a_cut_record_without_a_copy_is_named_before_any_run(tmp_path, capsys, no_runs):
    from grpo_lead.ablation import pack_runs

    out = tmp_path / "abl"
    fake_folder(out, [("redundant", 0, "grpo")])
    record = out / "redundant" / "seed0" / "grpo.jsonl"
    _cut_record(record)  # was: "Unterminated string ... line 1 column 26", no file named
    with pytest.raises(ValueError, match="grpo.jsonl: a cut or garbled run record"):
        pack_runs(out, tmp_path / "runs.jsonl.gz")
    err = _refused(capsys, ["--out", str(out), "--verbosity", "redundant", "--seeds", "1"])
    assert f"{record}: a cut or garbled run record" in err


@pytest.mark.slow
def test_one_tiny_seed_runs_and_writes_sane_files(tmp_path):
    out = tmp_path / "ablation"
    result = run_ablation(
        out, seeds=[0], verbosities=["redundant"], methods=list(METHODS), quick=True,
        progress=False,
    )  # fmt: skip
    for name in ("ablation.md", "ablation.json", "ablation.png"):
        assert (out / name).stat().st_size > 0
    report = (out / "ablation.md").read_text()
    assert "**verbosity = redundant**" in report and "level 1 %" in report
    assert report.count("| + explicit penalty (LEAD) |") == 2  # main and per-level tables
    assert "| explicit -1 for wrong answers | `lead` - `+difficulty` |" in report
    stats = json.loads((out / "ablation.json").read_text())["stats"]["redundant"]
    assert set(stats) == set(METHODS)
    seed_dir = out / "redundant" / "seed0"
    assert (seed_dir / "warmup.jsonl").exists()  # the warm-up row: evaluated, not trained
    assert not (seed_dir / "models" / "warmup").exists()
    assert (seed_dir / "models" / "lead" / "config.json").exists()
    for m in stats.values():
        assert 0 <= m["accuracy"]["mean"] <= 1
        assert m["length_wrong"]["mean"] > 0 or m["length_correct"]["mean"] > 0
    assert result["seeds"] == [0]
    assert len(result["contrasts"]["redundant"]) == 6
    # resumable: a second call trains nothing and returns the same figures
    again = run_ablation(
        out, seeds=[0], verbosities=["redundant"], methods=list(METHODS), quick=True,
        progress=False,
    )  # fmt: skip
    assert json.dumps(again["stats"]) == json.dumps(result["stats"])  # NaN-safe comparison


def test_a_bad_cut_names_the_files_line_not_jsons(tmp_path):
    # Before: json's "line 1 column 26": the line of a one-line document, not of the file
    # (issue 32, item 15)
    import gzip

    from grpo_lead.ablation import pack_runs, unpack_runs

    out = tmp_path / "abl"
    fake_folder(out, [("redundant", 0, "grpo")])
    record = out / "redundant" / "seed0" / "grpo.jsonl"
    lines = record.read_text().splitlines()
    record.write_text(lines[0] + "\n" + lines[1][:26] + "\n" + lines[2] + "\n")
    with pytest.raises(ValueError) as info:
        pack_runs(out, tmp_path / "runs.jsonl.gz")
    assert "a cut or garbled run record (line 2: Unterminated string" in str(info.value)
    archive = tmp_path / "cut.jsonl.gz"
    fake_folder(tmp_path / "a", [("mixed", 0, "grpo"), ("mixed", 1, "grpo")])
    pack_runs(tmp_path / "a", archive)
    text = gzip.decompress(archive.read_bytes()).decode().splitlines()
    archive.write_bytes(gzip.compress(("\n".join([*text[:2], text[2][:40]]) + "\n").encode()))
    with pytest.raises(ValueError) as info:
        unpack_runs(archive, tmp_path / "b")
    assert "not a runs archive of grpo-lead ablation at line 3 (" in str(info.value), info.value
