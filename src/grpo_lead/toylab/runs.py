"""A toy grid's finished runs: its work folder, and the archive that carries them elsewhere.

A grid (`grpo_lead.ablation`) works in one folder: ``settings.json`` (its budget,
`AblationSettings`), and a records file per run, ``<verbosity>/seed<N>/<method>.jsonl`` (one
line per evaluated sample: `RECORD_KEYS` and the run's seconds), written atomically.

- `claim_folder`: record the budget in a folder; refuse one started with another budget.
- `pack_runs` / `unpack_runs`: every finished run of a folder into one small ``.jsonl.gz``
  (`toylab.archive.RunArchive`: a settings line, then a line per run with its records column by
  column, keyed by switch, seed and method), merged with what it held; and back into a folder.
- `check_records`: every records file whole (a kill inside a write by an older version, a full
  disk), before hours of runs rather than after.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from grpo_lead.toylab.archive import RunArchive, changed_settings, json_lines, write_atomic
from grpo_lead.toylab.task import VERBOSITIES

logger = logging.getLogger(__name__)

__all__ = [
    "METHOD_KEY",
    "RECORD_KEYS",
    "AblationSettings",
    "archive_of",
    "check_records",
    "claim_folder",
    "pack_runs",
    "read_records",
    "record_files",
    "same_budget",
    "unpack_runs",
    "unusable",
]

# The fields of a run's records kept (with the run's seconds): enough for the statistics.
RECORD_KEYS = ("id", "sample", "difficulty", "correct", "num_tokens")
# The key of a run's method (its grid row's name) in an archive's run lines. "setting" is the
# name the committed archives (benchmarks/results/*_runs.jsonl.gz) were written with: kept, so
# that they load and save byte for byte ("settings" in their first line is the budget).
METHOD_KEY = "setting"


@dataclass(frozen=True)
class AblationSettings:
    """Budget of every run (smaller than the demo's, to fit 60 runs on 2 cores)."""

    rl_steps: int = 60
    warmup_steps: int = 500
    eval_problems: int = 200
    eval_samples: int = 4
    soft_punish_cache: int = 96  # TRL baseline: penalty from L_max - 96 tokens up to L_max
    bootstrap: int = 1000
    grid: str = "paper"  # the method table (`toylab.grid.GRIDS`)

    @classmethod
    def quick(cls, grid: str = "paper") -> AblationSettings:
        return cls(
            rl_steps=2, warmup_steps=30, eval_problems=8, eval_samples=2, bootstrap=50, grid=grid
        )


def archive_of(path: str | Path) -> RunArchive:
    """The runs archive of a grid at `path`: a settings line, then a run a line."""
    return RunArchive(
        Path(path),
        owner="grpo-lead ablation",
        key=lambda r: (r["verbosity"], r["seed"], r[METHOD_KEY]),
        required=("verbosity", "seed", METHOD_KEY),
        header=True,
    )


def claim_folder(out: Path, s: AblationSettings) -> None:
    """Record the budget in `out`; refuse a folder started with another one (its runs would
    mix budgets). A folder with no run nor warm-up yet is fresh, whatever settings it holds
    (a call refused after writing them, by an older version)."""
    saved = out / "settings.json"
    if saved.exists() and any(out.glob("*/seed*")):
        before = {**asdict(AblationSettings()), **json.loads(saved.read_text())}
        changed = changed_settings(before, asdict(s))
        if changed:
            what = ", ".join(f"{k}: {a} there, {b} now" for k, (a, b) in changed.items())
            raise ValueError(
                f"{out} holds runs made with other settings ({what}): use another --out"
            )
    out.mkdir(parents=True, exist_ok=True)
    saved.write_text(json.dumps(asdict(s), indent=1))


def same_budget(head: dict[str, Any], budget: dict[str, Any], archive: Path, out: Path) -> None:
    """Refuse an archive whose runs were made with another budget than `out`'s."""
    changed = changed_settings({**asdict(AblationSettings()), **head}, budget)
    if changed:
        what = ", ".join(f"{k}: {a} there, {b} in {out}" for k, (a, b) in changed.items())
        raise ValueError(f"{archive} holds runs made with other settings ({what})")


def read_records(path: Path) -> list[dict] | None:
    """A run's records, or None when the file is cut or garbled (a kill inside a write by an
    older version, a full disk): every line a JSON object with the record keys."""
    try:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    except (OSError, ValueError):
        return None
    keys = (*RECORD_KEYS, "seconds")
    if not rows or not all(isinstance(r, dict) and all(k in r for k in keys) for r in rows):
        return None
    return rows


def write_records(path: Path, rows: list[dict]) -> None:
    """A run's records file, written atomically."""
    write_atomic(path, "".join(json.dumps(r) + "\n" for r in rows))


def unusable(path: Path) -> ValueError:
    """The error of a cut or garbled records file with no copy in an archive."""
    where = ""
    try:
        json_lines(path.read_text(encoding="utf-8").splitlines())
    except ValueError as exc:
        where = f" ({exc})"
    except OSError:
        pass
    return ValueError(
        f"{path}: a cut or garbled run record{where}, and no archive holds that run: delete it "
        "to run it again (or pass the --archive that holds it)"
    )


def record_files(out: Path) -> Iterator[tuple[str, int, str, Path]]:
    """Every finished run in `out`: (verbosity, seed, method, path)."""
    for path in sorted(out.glob("*/seed*/*.jsonl")):
        verbosity, seed_dir = path.parent.parent.name, path.parent.name
        if verbosity in VERBOSITIES and seed_dir[4:].isdigit() and path.stem != "problems":
            yield verbosity, int(seed_dir[4:]), path.stem, path


def check_records(out: Path) -> None:
    """Raise `unusable` for the first cut or garbled records file of `out`."""
    for *_, path in record_files(out):
        if read_records(path) is None:
            raise unusable(path)


def pack_runs(out: str | Path, archive: str | Path) -> int:
    """Keep every finished run of `out` in one small gzipped file (a line per run: its switch,
    seed, method, seconds and its records column by column), merged with the runs `archive`
    already holds, so a grid longer than one machine's life resumes elsewhere (`unpack_runs`).
    Written atomically; returns the number of runs it holds."""
    out, store = Path(out), archive_of(archive)
    budget = json.loads((out / "settings.json").read_text())
    head, runs = store.load()
    if head is not None:
        same_budget(head, budget, store.path, out)
    for verbosity, seed, method, path in record_files(out):
        rows = read_records(path)
        if rows is None:
            if (verbosity, seed, method) in runs:
                continue  # the archive's intact copy is kept
            raise unusable(path)
        runs[(verbosity, seed, method)] = {
            "verbosity": verbosity, "seed": seed, METHOD_KEY: method,
            "seconds": rows[0]["seconds"] if rows else 0.0,
            **{k: [r[k] for r in rows] for k in RECORD_KEYS},
        }  # fmt: skip
    store.save(runs, settings=budget)
    return len(runs)


def unpack_runs(archive: str | Path, out: str | Path) -> int:
    """Write `archive`'s runs into `out` as the records files a run writes (atomically),
    skipping runs `out` already has intact (a cut or garbled record is replaced by the
    archive's copy); `out` takes the archive's budget (refused if it was started with another).
    Returns the number of runs written."""
    store, out = archive_of(archive), Path(out)
    head, runs = store.load()
    if head is None:  # no file
        raise ValueError(f"{store.path}: no such runs archive")
    saved = out / "settings.json"
    if saved.exists():
        same_budget(head, json.loads(saved.read_text()), store.path, out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        saved.write_text(json.dumps({**asdict(AblationSettings()), **head}, indent=1))
    written = 0
    for run in runs.values():
        path = out / run["verbosity"] / f"seed{run['seed']}" / f"{run[METHOD_KEY]}.jsonl"
        if path.exists() and read_records(path) is not None:
            continue
        if path.exists():
            logger.warning("%s is cut or garbled: replaced by the copy in %s", path, store.path)
        path.parent.mkdir(parents=True, exist_ok=True)
        rows = zip(*(run[k] for k in RECORD_KEYS), strict=True)
        write_records(
            path,
            [{**dict(zip(RECORD_KEYS, row)), "seconds": run["seconds"]} for row in rows],
        )
        written += 1
    return written
