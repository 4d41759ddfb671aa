"""The length-methods benchmark: the mixed task switch and its floors, the method table, the
Pareto front by hand, the difficulty-aware-against-budget table, one tiny seed end to end."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import pytest

from grpo_lead.toylab.grid import LENGTH_METHODS, PAPER_METHODS, grid_methods, run_options
from grpo_lead.toylab.lengths import versus_pairs
from grpo_lead.toylab.report import markdown_versus_table
from grpo_lead.toylab.stats import contrasts, pareto_front
from grpo_lead.toylab.task import (
    LEVELS,
    STYLES,
    level_floors,
    make_problems,
    make_sft_dataset,
    make_trace,
    slip_rate,
    trace_tokens,
)

# -- the mixed switch ---------------------------------------------------------------------------


def test_trace_tokens_count_what_the_tokenizer_counts():
    from grpo_lead.toylab.model import build_tokenizer

    tok = build_tokenizer()
    rng = random.Random(0)
    for p in make_problems(8, seed=3):
        for style in STYLES:
            text = make_trace(p, style=style, rng=rng, verbosity="mixed")
            ids = tok(text, add_special_tokens=False)["input_ids"]
            assert trace_tokens(text) == len(ids) + 1  # + EOS


def test_mixed_slips_depend_on_style_only_on_hard_levels():
    for level in (1, 2):
        assert {slip_rate(level, st, "mixed") for st in STYLES} == {slip_rate(level)}
    # level 4: base 0.45; concise +0.35, medium +0.15, verbose +0
    assert slip_rate(4, "concise", "mixed") == pytest.approx(0.80)
    assert slip_rate(4, "medium", "mixed") == pytest.approx(0.60)
    assert slip_rate(4, "verbose", "mixed") == pytest.approx(0.45)
    # the other switches ignore the style (their data are unchanged)
    for v in ("redundant", "useful"):
        assert all(slip_rate(lv, st, v) == slip_rate(lv) for lv in LEVELS for st in STYLES)
    with pytest.raises(ValueError, match="mixed switch needs a style"):
        slip_rate(3, None, "mixed")


def test_mixed_warmup_data_slip_more_in_short_hard_traces():
    rows = make_sft_dataset(4000, seed=0, verbosity="mixed")

    def rate(level, style):
        at = [r for r in rows if r["level"] == level and r["style"] == style]
        return sum(r["slipped"] for r in at) / len(at)

    assert rate(4, "concise") > rate(4, "verbose") + 0.2
    assert abs(rate(1, "concise") - rate(1, "verbose")) < 0.06


def test_floors_of_every_switch():
    floors = {v: level_floors(v) for v in ("redundant", "useful", "mixed")}
    # redundant: the concise style (running sums) everywhere; its mean over the levels is the
    # 42.0 tokens of FINDINGS.md
    red = floors["redundant"]
    assert {f["floor_style"] for f in red.values()} == {"concise"}
    assert sum(f["floor_tokens"] for f in red.values()) / 4 == pytest.approx(42.0, abs=0.05)
    # useful: every style is written as reliably: the traces' floor is the answer at once (35.1)
    use = floors["useful"]
    assert sum(f["floor_tokens"] for f in use.values()) / 4 == pytest.approx(35.1, abs=0.05)
    # mixed: short on the easy levels, the verbose (named) steps on the hard ones
    mix = floors["mixed"]
    assert [mix[lv]["floor_style"] for lv in LEVELS] == ["concise", "concise", "verbose", "verbose"]
    assert mix[2]["floor_tokens"] < 40 < 75 < mix[3]["floor_tokens"] < mix[4]["floor_tokens"]
    # the floor is the shortest style among those with the best accuracy
    for f in mix.values():
        best = max(f["accuracy"].values())
        assert f["accuracy"][f["floor_style"]] == best
        assert all(
            f["tokens"][st] >= f["floor_tokens"] for st in STYLES if f["accuracy"][st] == best
        )


# -- the method table ---------------------------------------------------------------------------


def test_every_length_method_has_rows_and_builds_a_config(tmp_path):
    from grpo_lead.advantages import LENGTH_REWARDS
    from grpo_lead.configs import GRPOLeadConfig

    used = {m.options.length_reward for m in LENGTH_METHODS.values()}
    assert used == set(LENGTH_REWARDS)  # every registered length reward has a row
    families = {}
    for m in LENGTH_METHODS.values():
        families.setdefault(m.family, []).append(m)
    for family in ("LEAD", "LEAD w/o weight", "ALP", "Kimi 1.5", "cosine", "linear (article)"):
        assert len(families[family]) >= 2, family
    assert len(families["DLER"]) == len(families["DAPO soft overlong"]) == 3
    kinds = {m.kind for m in LENGTH_METHODS.values()}
    assert {"budget", "relative", "difficulty-aware", "none"} == kinds
    for name in grid_methods("length-methods"):
        method = run_options("length-methods", name)["method"]
        assert method is LENGTH_METHODS[name]
        config = GRPOLeadConfig(
            output_dir=str(tmp_path), use_cpu=True, max_completion_length=128,
            **method.config_kwargs(),
        )  # fmt: skip
        assert config.lead_options() == method.options, name
    soft = LENGTH_METHODS["overlong-48"]
    # TRL's soft punishment ramps from 128 - L_cache = 48 tokens: a LEAD option now
    assert soft.rewards == ("soft_overlong",) and soft.options.soft_punish_cache == 80
    assert soft.config_kwargs()["soft_punish_cache"] == 80
    dler = LENGTH_METHODS["dler-64"].config_kwargs()
    assert dler["epsilon_high"] == 0.28 and dler["scale_rewards"] == "batch"
    assert dler["length_budget"] == 64 and dler["group_filter"] is True
    assert run_options("paper", "lead") == {"method": PAPER_METHODS["lead"]}
    with pytest.raises(ValueError, match="unknown method 'lead' in grid 'length-methods'"):
        run_options("length-methods", "lead")
    with pytest.raises(ValueError, match="unknown grid"):
        grid_methods("nope")


def test_a_lead_option_in_the_trl_options_is_refused():
    from grpo_lead.options import preset
    from grpo_lead.toylab import grid

    bad = grid.Method("x", "", "none", preset("grpo"), {"scale_rewards": "batch"})
    with pytest.raises(ValueError, match=r"x: \['scale_rewards'\] are LEAD options"):
        bad.config_kwargs()
    with pytest.raises(ValueError, match="stock TRL trainer runs plain GRPO options only"):
        grid.Method("y", "", "none", preset("lead"), trainer="trl")
    with pytest.raises(ValueError, match="kind must be one of"):
        grid.Method("x", "", "fixed", preset("grpo"))


def test_the_paper_grid_is_method_rows_too():
    from grpo_lead.ablation import AblationSettings
    from grpo_lead.toylab import grid
    from grpo_lead.toylab.rl import METHODS
    from grpo_lead.toylab.settings import LabSettings

    assert tuple(PAPER_METHODS) == METHODS == grid_methods("paper")
    trl = PAPER_METHODS["trl-length"]
    assert trl.trainer == "trl" and trl.rewards == ("soft_overlong",)
    # the stock trainer's options: what the baseline always ran with
    assert trl.config_kwargs() == {
        "scale_rewards": "batch", "mask_truncated_completions": True, "epsilon_high": 0.28
    }  # fmt: skip
    # penalty from 32 tokens up to the limit: 128 - 32 = 96, the ablation's recorded budget
    assert trl.options.soft_punish_cache == 96 == AblationSettings().soft_punish_cache
    assert grid.MAX_COMPLETION_LENGTH == LabSettings().max_completion_length == 128
    assert {m.trainer for k, m in PAPER_METHODS.items() if k != "trl-length"} == {"lead"}


def test_clip_higher_is_written_once():
    # 0.28 (DAPO's and DLER's clip-higher) is spelt out in one place in the package
    src = Path(__file__).resolve().parents[1] / "src" / "grpo_lead"
    hits = [p.name for p in src.rglob("*.py") for _ in re.findall(r"\b0\.28\b", p.read_text())]
    assert hits == ["grid.py"]


# -- Pareto front and the question ---------------------------------------------------------------


def test_pareto_front_by_hand():
    points = {
        "short": (30.0, 0.60),
        "mid": (45.0, 0.80),
        "mid-worse": (45.0, 0.75),  # same length as mid, less accurate: dominated
        "long-worse": (60.0, 0.78),  # longer and less accurate than mid: dominated
        "long-best": (70.0, 0.85),
        "tie": (45.0, 0.80),  # equal to mid: neither dominates the other
    }
    assert pareto_front(points) == ["short", "mid", "tie", "long-best"]
    assert pareto_front({"a": (10.0, 0.5)}) == ["a"]
    assert pareto_front({"a": (10.0, 0.5), "b": (9.0, 0.5)}) == ["b"]


def _rows(correct, lengths, levels):
    return [
        {"id": str(i), "sample": 0, "difficulty": lv, "correct": c, "num_tokens": n}
        for i, (c, n, lv) in enumerate(zip(correct, lengths, levels, strict=True))
    ]


def test_versus_table_by_hand():
    # 40 problems, levels 1..4; the aware setting gets every level-4 problem right at the same
    # mean length, the budget gets them all wrong; levels 1-3 equal.
    levels = [1 + i % 4 for i in range(40)]
    base = [1 if lv < 4 else 0 for lv in levels]
    budget = {s: _rows(base, [40] * 40, levels) for s in range(3)}
    aware = {s: _rows([1] * 40, [40] * 40, levels) for s in range(3)}
    assert versus_pairs(["grpo", "alp-0.01", "dler-64", "kimi-1"]) == (
        ("alp-0.01", "dler-64", "alp-0.01 vs dler-64"),
    )
    rows = contrasts(
        {"dler-64": budget, "alp-0.01": aware},
        n=100,
        steps=versus_pairs(["alp-0.01", "dler-64"]),
        metrics=("accuracy", "length"),
    )
    m = rows[0]["metrics"]
    assert m["accuracy_L4"]["diff"] == 1.0 and m["length"]["diff"] == 0  # +100 points, same length
    table = markdown_versus_table(rows, "x", {"alp-0.01": "ALP", "dler-64": "DLER"})
    assert "| ALP | DLER | **+100.0 [+100.0, +100.0]** | +0.0 [+0.0, +0.0] | **yes** |" in table


# -- end to end ----------------------------------------------------------------------------------


def test_grid_refuses_methods_of_another_grid(tmp_path, capsys):
    from grpo_lead.ablation import ablation_main

    code = ablation_main(
        ["--grid", "length-methods", "--out", str(tmp_path), "--methods", "grpo", "lead",
         "--quick", "--no-progress"]
    )  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert "grid 'length-methods'" in err and "\n" not in err
    assert not (tmp_path / "settings.json").exists()


@pytest.mark.slow
def test_one_tiny_seed_of_the_length_grid(tmp_path):
    from grpo_lead.ablation import run_ablation

    out = tmp_path / "lm"
    methods = ["grpo", "alp-0.01", "overlong-64+lead", "warmup"]
    archive = tmp_path / "runs.jsonl.gz"
    result = run_ablation(
        out, grid="length-methods", seeds=[0], verbosities=["mixed"], methods=methods,
        quick=True, progress=False, archive=archive,
    )  # fmt: skip
    for name in ("length_methods.md", "length_methods.json", "length_methods.png"):
        assert (out / name).stat().st_size > 0
    assert (out / "length_methods_levels.png").stat().st_size > 0
    report = (out / "length_methods.md").read_text()
    assert "| ALP (beta 0.01) |" in report and "*floor (shortest style keeping accuracy)*" in report
    assert "| ALP (beta 0.01) | soft overlong + LEAD (from 64) |" in report  # the question
    assert "| RL itself (GRPO against the warm-up) | `grpo` - `warmup` |" in report
    saved = json.loads((out / "length_methods.json").read_text())
    assert set(saved["stats"]["mixed"]) == set(methods)
    assert saved["pareto_front"]["mixed"] and saved["settings"]["grid"] == "length-methods"
    # the paired steps whose two methods ran: RL itself only (no lead-nodw, alp+lead ... here)
    assert [r["step"] for r in saved["within"]["mixed"]] == ["RL itself (GRPO against the warm-up)"]
    assert saved["floors"]["mixed"]["4"] > saved["floors"]["mixed"]["1"]
    for m in saved["stats"]["mixed"].values():
        assert 0 <= m["accuracy"]["mean"] <= 1 and m["length"]["mean"] > 0
    # the soft overlong reward reached the trainer: its column is in the log
    log = json.loads((out / "mixed/seed0/runs/overlong-64+lead/log_history.json").read_text())
    assert any(k.startswith("rewards/soft_overlong") for row in log for k in row)
    # resumable: a second call trains nothing and returns the same figures
    again = run_ablation(
        out, grid="length-methods", seeds=[0], verbosities=["mixed"], methods=methods,
        quick=True, progress=False,
    )  # fmt: skip
    assert json.dumps(again["stats"]) == json.dumps(result["stats"])
    assert again["seconds_this_call"] < result["seconds_this_call"]
    # and elsewhere (a new checkout): the archive holds every run, so nothing is trained, not
    # even the warm-up, and the figures are the same
    elsewhere = run_ablation(
        tmp_path / "elsewhere", grid="length-methods", seeds=[0], verbosities=["mixed"],
        methods=methods, quick=True, progress=False, archive=archive,
    )  # fmt: skip
    assert json.dumps(elsewhere["stats"]) == json.dumps(result["stats"])
    assert not (tmp_path / "elsewhere" / "mixed" / "seed0" / "warmup").exists()


@pytest.mark.slow
def test_the_committed_report_is_what_its_archive_gives(tmp_path):
    """benchmarks/results/length_methods.md is regenerated from the committed runs archive,
    byte for byte (the settings it ran: the grid's rows before DOT and the two presets joined)."""
    from grpo_lead.ablation import AblationSettings, unpack_runs
    from grpo_lead.toylab.runner import _summary

    results = Path(__file__).resolve().parent.parent / "benchmarks" / "results"
    assert unpack_runs(results / "length_methods_runs.jsonl.gz", tmp_path) == 390
    rows = list(grid_methods("length-methods")[1:])
    stem, report, figures, _ = _summary(
        tmp_path, ["mixed", "redundant", "useful"], range(5), ["grpo", *rows, "warmup"],
        AblationSettings(grid="length-methods"),
    )  # fmt: skip
    assert stem == "length_methods"
    assert report + "\n" == (results / "length_methods.md").read_text()
    committed = json.loads((results / "length_methods.json").read_text())
    kept = {
        k: v for k, v in committed.items() if k not in ("seeds", "settings", "seconds_this_call")
    }
    assert json.dumps(figures) == json.dumps(kept)  # NaN-safe
