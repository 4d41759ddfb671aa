"""Runs kept across sessions: one gzip file of JSON lines, a record per finished run.

The toy grids (`grpo_lead.ablation`: the paper's ablation, the length methods) and the
real-model benchmark (benchmarks/bench_real_compare.py) keep their finished runs in such a file,
committed next to their reports, so that a run longer than one machine's life resumes elsewhere
and every report can be regenerated from the runs it reports. What they share is here:

1. `RunArchive`: where the file is, whose it is (named in errors), a record's key and the
   fields every record must hold, and the two line layouts in use (neither may change: the
   committed archives load as they are):
   - ``header=True`` (the toy grids): line 1 is ``{"settings": {...}}``, the budget every run
     of the file shares; then one compact line a run (``separators=(",", ":")``);
   - ``header=False`` (the real-model benchmark): a line a run, keys sorted (each record holds
     its own settings: `pending` compares them).
   Records are written sorted by key, so the same runs give the same bytes (gzip's time stamp
   is 0).
2. `RunArchive.load`: the header (or None) and the records by key; a folder, a file cut short,
   a file that is not gzip or a line that is not a record is one `ValueError` naming the file
   and the line.
3. `RunArchive.save`: atomic (a temporary file, then a rename): a kill leaves the old file or
   the new one, never half of one.
4. `pending`: the jobs whose run the archive lacks or holds with other settings;
   `changed_settings`: what differs between the settings a folder or a file was made with and
   the settings of this call.
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Callable, Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

__all__ = [
    "RunArchive",
    "changed_settings",
    "json_lines",
    "pending",
    "write_atomic",
]

J = TypeVar("J")


@dataclass(frozen=True)
class RunArchive:
    """A runs archive: `path`, `owner` (named in errors), `key(record)`, the fields every
    record must hold, and its layout (`header`: a settings line first; else keys sorted)."""

    path: Path
    owner: str
    key: Callable[[dict[str, Any]], Hashable]
    required: tuple[str, ...] = ()
    header: bool = False

    def _foreign(self, line: int, reason: object) -> ValueError:
        return ValueError(
            f"{self.path}: not a runs archive of {self.owner} at line {line} ({reason})"
        )

    def _check_line(self, at: int, row: Any) -> None:
        if self.header and at == 1:
            if not isinstance(row, dict) or not isinstance(row.get("settings"), dict):
                raise self._foreign(at, "no settings line")
            return
        missing = [k for k in self.required if not isinstance(row, dict) or k not in row]
        if missing or not isinstance(row, dict):
            raise self._foreign(at, f"no {', '.join(missing)}" if missing else "not a record")

    def load(self) -> tuple[dict[str, Any] | None, dict[Hashable, dict[str, Any]]]:
        """(the settings line or None, the records by key); (None, {}) where there is no file."""
        if self.path.is_dir():
            raise ValueError(f"--archive {self.path} is a folder; give a .jsonl.gz file")
        if not self.path.exists():
            return None, {}
        settings: dict[str, Any] | None = None
        runs: dict[Hashable, dict[str, Any]] = {}
        at = 1  # the line being read
        try:
            with gzip.open(self.path, "rt", encoding="utf-8") as f:
                for line in f:
                    try:
                        row = json.loads(line.rstrip("\n"))
                    except json.JSONDecodeError as exc:
                        raise self._foreign(at, f"{exc.msg} at column {exc.colno}") from None
                    self._check_line(at, row)
                    if self.header and at == 1:
                        settings = row["settings"]
                    else:
                        runs[self.key(row)] = row
                    at += 1
        except EOFError:  # a copy or a download cut short
            raise ValueError(
                f"{self.path}: a runs archive cut short (its end is missing)"
            ) from None
        except (OSError, UnicodeDecodeError, zlib.error) as exc:
            raise self._foreign(at, exc) from None
        if self.header and settings is None:
            raise self._foreign(1, "no settings line")
        return settings, runs

    def save(self, runs: Mapping[Hashable, dict[str, Any]], settings: dict | None = None) -> None:
        """Write `runs` (sorted by key) after the settings line when the layout has one;
        atomically, and the same runs give the same bytes."""
        if self.header:
            lines = [json.dumps({"settings": settings})]
            lines += [json.dumps(runs[k], separators=(",", ":")) for k in sorted(runs)]
        else:
            lines = [json.dumps(runs[k], sort_keys=True) for k in sorted(runs)]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(self.path.name + ".tmp")
        with gzip.GzipFile(tmp, "wb", mtime=0) as f:
            f.write("".join(line + "\n" for line in lines).encode())
        os.replace(tmp, self.path)

    def check_writable(self) -> None:
        """Refuse, before any run, a path that could not be written after the first one."""
        if self.path.is_dir():
            raise ValueError(f"--archive {self.path} is a folder; give a .jsonl.gz file")
        folder = self.path.parent
        while not folder.exists() and folder != folder.parent:
            folder = folder.parent
        if not folder.is_dir() or not os.access(folder, os.W_OK | os.X_OK):
            raise ValueError(
                f"--archive {self.path}: cannot write there ({folder} is not a writable folder)"
            )


def pending(
    jobs: Iterable[J],
    runs: Mapping[Hashable, dict[str, Any]],
    key: Callable[[J], Hashable],
    same: Callable[[dict[str, Any]], bool] = lambda record: True,
) -> list[J]:
    """The jobs (in order) whose record `runs` lacks or holds made with other settings (`same`
    says whether a record was made with this call's)."""
    return [j for j in jobs if key(j) not in runs or not same(runs[key(j)])]


def changed_settings(before: Mapping[str, Any], now: Mapping[str, Any]) -> dict[str, tuple]:
    """`{name: (value before, value now)}` for every setting of `now` that `before` does not
    hold with the same value."""
    return {k: (before.get(k), v) for k, v in now.items() if before.get(k) != v}


def json_lines(lines: Sequence[str]) -> list[Any]:
    """Each line's JSON value; a line that is not JSON is a ValueError naming the file's line
    (json's own message names a line of the one-line document: always line 1)."""
    rows = []
    for number, line in enumerate(lines, 1):
        try:
            rows.append(json.loads(line))
        except json.JSONDecodeError as exc:
            raise ValueError(f"line {number}: {exc.msg} at column {exc.colno}") from None
    return rows


def write_atomic(path: Path, text: str) -> None:
    """Write `text` to `path` so that a kill leaves the old file or the new, never half."""
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
