"""mkdocs hooks (mkdocs.yml): the repository's README.md is the site's home page, and the figures
that the benchmarks save under benchmarks/results/ are served beside the pages. The Markdown keeps
the links that work on GitHub (`docs/serving.md` from the README, `../benchmarks/results/x.png`
from a page); the site rewrites them to where the files land."""

from __future__ import annotations

from pathlib import Path

from mkdocs.structure.files import File

REPO = Path(__file__).resolve().parents[1]
FIGURES = REPO / "benchmarks" / "results"


def on_files(files, config):
    def add(path: str, src_dir: Path) -> None:
        files.append(File(path, str(src_dir), config["site_dir"], config["use_directory_urls"]))

    add("README.md", REPO)  # the home page (index.html)
    for figure in sorted(FIGURES.glob("*.png")):
        add(f"results/{figure.name}", FIGURES.parent)
    return files


def on_page_markdown(markdown, page, config, files):
    if page.file.src_uri == "README.md":
        markdown = markdown.replace("](docs/", "](")
        return markdown.replace("](benchmarks/results/", "](results/")
    return markdown.replace("](../benchmarks/results/", "](results/")
