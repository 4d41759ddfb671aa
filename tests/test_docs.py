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
