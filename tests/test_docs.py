"""The documentation site (mkdocs.yml, docs/) builds strictly: no broken link or anchor, no page
left out of the navigation; the README is its home page and links to every page."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PAGES = sorted(p.name for p in (REPO / "docs").glob("*.md"))


def test_the_site_builds_strictly(tmp_path):
    site = tmp_path / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        env=os.environ | {"NO_MKDOCS_2_WARNING": "1"},  # the theme's banner, not a warning
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "Aborted" not in result.stderr
    home = (site / "index.html").read_text()
    assert "Quick start: two commands" in home  # the README
    for page in PAGES:
        assert (site / page.removesuffix(".md") / "index.html").exists(), page
    # the figures the pages show are in the site
    for figure in re.findall(r"\]\(\.\./benchmarks/results/([\w.-]+\.png)\)", _docs_text()):
        assert (site / "results" / figure).exists(), figure


def _docs_text() -> str:
    return "\n".join((REPO / "docs" / page).read_text() for page in PAGES)


def test_the_readme_links_to_every_page():
    linked = set(re.findall(r"\]\(docs/([\w-]+\.md)", (REPO / "README.md").read_text()))
    assert linked == set(PAGES)


def _options_table_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "options_table", REPO / "docs" / "options_table.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_option_tables_are_generated_from_the_dataclasses():
    """docs/training.md's LEAD option, GRPOLeadConfig and preset tables are what
    docs/options_table.py prints from the code: a new field, a changed default or preset fails."""
    from grpo_lead.options import PRESETS, lead_option_names

    tables = _options_table_module()
    page = (REPO / "docs" / "training.md").read_text()
    assert tables.page_tables(page) == tables.tables(), "run: python docs/options_table.py --write"
    shown = tables.page_tables(page)
    for name in (*lead_option_names(), *PRESETS, "correctness_reward", "extraction"):
        assert f"| `{name}" in shown or f"(`LeadOptions.{name}`)" in shown, name
    # the dler preset's row names everything it sets (issue 33: incorrect_reward and the weight)
    dler = next(line for line in shown.splitlines() if line.startswith("| `dler`"))
    assert "`incorrect_reward: 0`" in dler and "`difficulty_weight: none`" in dler


def test_the_option_table_sees_a_changed_default(monkeypatch):
    import grpo_lead.options as options

    tables = _options_table_module()
    before = tables.tables()
    monkeypatch.setattr(tables, "PAPER", options.PAPER.replace(alpha=0.07))
    assert tables.tables() != before and "| `alpha` | 0.07 |" in tables.tables()


def test_every_benchmark_script_saves_under_benchmarks_results():
    """docs/benchmarks.md: every script saves its figures under benchmarks/results/ (issue 33:
    bench_serve.py saved nothing without --json)."""
    for script in sorted((REPO / "benchmarks").glob("bench_*.py")):
        source = script.read_text()
        assert re.search(r"benchmarks/results/|\"results\"|/ \"results\"", source), script.name
    import bench_serve

    assert "benchmarks/results/serve.json" in (REPO / "benchmarks" / "bench_serve.py").read_text()
    assert bench_serve.__doc__ and "benchmarks/results/serve.json" in bench_serve.__doc__
