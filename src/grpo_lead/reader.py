"""Rows from a source, for every task: a local .jsonl/.json/.parquet/.csv file or a Hub dataset.

`read_source(source, split=..., named=...)` returns a `Source`: a display name, the raw rows
(dicts), a location label per row ("line 3" in JSON Lines, else "row 3") and the named set's
spec when `source` is a key of `named`. The task modules (`grpo_lead.tasks.math.data`
for math, `grpo_lead.tasks.choice.data` for multiple choice) keep only what is theirs: which
columns hold what, and how a row becomes a record.

Once, for every task: a UTF-8 byte-order mark (Excel, Notepad) is dropped; a file that is not
UTF-8, a line that is not JSON, a directory, a missing file, a corrupt parquet file or a Hub
failure raise `DataError` with one line naming the file (and the line). Also shared:
`pick_column` (the column for a role: given, else the first candidate present),
`check_unique_ids`, `first_line` (an exception's first line, for one-line messages) and
`to_conversation` (a prompt as chat messages).
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

logger = logging.getLogger(__name__)

__all__ = [
    "FILE_SUFFIXES",
    "DataError",
    "HubSet",
    "Source",
    "check_unique_ids",
    "first_line",
    "pick_column",
    "read_file",
    "read_hub",
    "read_source",
    "to_conversation",
]

FILE_SUFFIXES = (".jsonl", ".json", ".parquet", ".csv")


class DataError(ValueError):
    """Unusable input data: the message is one line naming the file, column or row."""


class HubSet(Protocol):
    """What a named set says about where it lives (`BenchmarkSpec`, `ChoiceSet`)."""

    hub_id: str
    split: str
    config: str | None


@dataclass(frozen=True)
class Source:
    """Rows read from a source, before any task reads their columns."""

    name: str  # the named set, the file's path or the Hub id
    rows: list[dict[str, Any]]
    locations: list[str]  # one label per row: "line 3" (JSON Lines) or "row 3"
    spec: Any = None  # the named set's spec when the source is one, else None


def read_source(
    source: str, *, split: str | None = None, named: Mapping[str, HubSet] | None = None
) -> Source:
    """A named set of `named` (from the Hub, its split unless `split`), a local file (by its
    suffix, or because it exists), else a Hub dataset id. Raises `DataError`."""
    named = named or {}
    if source in named:
        spec = named[source]
        rows = read_hub(spec.hub_id, spec.config, split or spec.split)
        return Source(source, rows, _row_labels(len(rows)), spec)
    path = Path(source).expanduser()
    if path.suffix.lower() in FILE_SUFFIXES or path.exists():
        rows, locations = read_file(path)
        return Source(str(path), rows, locations)
    rows = read_hub(source, None, split)
    return Source(source, rows, _row_labels(len(rows)))


def _row_labels(n: int) -> list[str]:
    return [f"row {i + 1}" for i in range(n)]


def read_file(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """(rows, a location label per row) of a local .jsonl/.json/.parquet/.csv file."""
    if not path.exists():
        raise DataError(f"{path}: file not found")
    if path.is_dir():
        raise DataError(f"{path}: is a directory, expected a .jsonl/.json/.parquet/.csv file")
    readers: dict[str, Callable[[Path], tuple[list[dict[str, Any]], list[str]]]] = {
        ".jsonl": _read_jsonl,
        ".json": _read_json,
        ".parquet": _read_parquet,
        ".csv": _read_csv,
    }
    reader = readers.get(path.suffix.lower())
    if reader is None:
        raise DataError(f"{path}: unsupported file type {path.suffix!r} (use {FILE_SUFFIXES})")
    return reader(path)


def _read_text(path: Path) -> str:
    """The file as text: UTF-8, with or without a byte-order mark (Excel, Notepad)."""
    data = path.read_bytes()
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise DataError(
            f"{path}: line {line} is not UTF-8 (byte {exc.start}); save the file as UTF-8"
        ) from None


def _read_jsonl(path: Path, text: str | None = None) -> tuple[list[dict[str, Any]], list[str]]:
    rows, locations = [], []
    text = _read_text(path) if text is None else text
    for number, line in enumerate(text.split("\n"), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise DataError(f"{path}: line {number} is not valid JSON ({exc.msg})") from None
        rows.append(_as_record(path, row, f"line {number}"))
        locations.append(f"line {number}")
    return rows, locations


def _read_json(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    text = _read_text(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return _read_jsonl(path, text)  # JSON Lines saved as .json
    if isinstance(data, dict):
        lists = [v for v in data.values() if isinstance(v, list)]
        if len(lists) != 1:
            raise DataError(f"{path}: expected a list of records or an object holding one list")
        data = lists[0]
    if not isinstance(data, list):
        raise DataError(f"{path}: expected a list of records, got {type(data).__name__}")
    labels = _row_labels(len(data))
    return [_as_record(path, row, where) for row, where in zip(data, labels)], labels


def _read_parquet(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    import pyarrow.parquet as pq

    try:
        rows = pq.read_table(path).to_pylist()
    except Exception as exc:  # pyarrow raises several types for corrupt files
        raise DataError(f"{path}: cannot read parquet ({first_line(exc)})") from None
    return rows, _row_labels(len(rows))


def _read_csv(path: Path) -> tuple[list[dict[str, Any]], list[str]]:
    """Rows of a CSV file; one that is not valid CSV is a `DataError` naming the line where
    the bad row starts (an unclosed quote would swallow the rest of the file into one field)."""
    reader = csv.DictReader(io.StringIO(_read_text(path), newline=""), strict=True)
    rows: list[dict[str, Any]] = []
    start = 1
    try:
        if reader.fieldnames is not None:  # reads the header
            start = reader.line_num + 1
        for row in reader:
            rows.append(row)
            start = reader.line_num + 1
    except csv.Error as exc:
        what = "a quoted field is never closed" if "end of data" in str(exc) else str(exc)
        raise DataError(f"{path}: line {start}: not valid CSV ({what})") from None
    return rows, _row_labels(len(rows))


def _as_record(path: Path, row: Any, where: str) -> dict[str, Any]:
    if not isinstance(row, dict):
        raise DataError(f"{path}: {where} is a JSON {type(row).__name__}, expected an object")
    return row


def read_hub(hub_id: str, config: str | None, split: str | None) -> list[dict[str, Any]]:
    """Rows of a Hub dataset split; with no split, "test" if present, else "train", else the
    first."""
    import datasets

    try:
        loaded = datasets.load_dataset(hub_id, config, split=split)
    except Exception as exc:  # network, missing repo, bad split: all one-line DataErrors
        where = hub_id + (f" ({config})" if config else "") + (f" split {split}" if split else "")
        raise DataError(
            f"cannot load {where}: not a local file or a loadable hub dataset ({first_line(exc)})"
        ) from None
    if isinstance(loaded, datasets.DatasetDict):
        names = list(loaded)
        chosen = next((s for s in ("test", "train") if s in loaded), names[0])
        logger.info("%s: no split given, using %r of %s", hub_id, chosen, names)
        loaded = loaded[chosen]
    return loaded.to_list()


def cell_text(value: Any) -> str:
    """A cell as stripped text; integral floats lose their ".0" (AIME answers as floats)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def first_line(exc: BaseException) -> str:
    """An exception's first line (at most 200 characters), else its type's name."""
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def pick_column(
    name: str,
    available: list[str],
    role: str,
    chosen: str | None,
    candidates: Iterable[str],
    *,
    required: bool,
    must_exist: bool = True,
) -> str | None:
    """The column for `role`: `chosen` (given or a layout's) when set, else the first of
    `candidates` the data has. A one-line `DataError` names the data, the role and the
    available columns when a required one is missing or a chosen one is not there."""
    column = chosen
    if column is None:
        column = next((c for c in candidates if c in available), None)
        if column is None and required:
            raise DataError(
                f"{name}: no {role} column found (tried {list(candidates)}); "
                f"available columns: {available}; pass --{role}-column"
            )
    elif must_exist and column not in available:
        raise DataError(
            f"{name}: {role} column {column!r} not found; available columns: {available}"
        )
    return column


def check_unique_ids(name: str, records: list[dict[str, Any]], column: str | None) -> None:
    """Refuse two records with one ``id`` (the samples of an evaluation are keyed by it)."""
    seen: set[str] = set()
    for record in records:
        if record["id"] in seen:
            where = f" in column {column!r}" if column else ""
            raise DataError(
                f"{name}: duplicate id {record['id']!r}{where}; ids must be unique "
                "(grpo-lead eval: --id-column names another column)"
            )
        seen.add(record["id"])


def to_conversation(prompt: str, system_prompt: str | None = None) -> list[dict[str, str]]:
    """Chat messages for a prompt: a system message unless `system_prompt` is None, then the
    user message. An empty `system_prompt` is an empty system message: a chat template that
    adds a default system prompt to a chat without one (SmolLM2, Qwen2.5) then adds none."""
    messages = [] if system_prompt is None else [{"role": "system", "content": system_prompt}]
    return [*messages, {"role": "user", "content": prompt}]
