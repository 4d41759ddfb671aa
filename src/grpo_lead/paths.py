"""Paths: whether an output path can be (made) a folder, and what a local input holds."""

from __future__ import annotations

import hashlib
from pathlib import Path


def folder_problem(path: str | Path) -> str | None:
    """Why ``path`` cannot be a folder to write into, or None: it is a file, or a path above it
    is (``mkdir`` would raise ``[Errno 17]`` or ``[Errno 20]`` after the work was done)."""
    path = Path(path).expanduser()
    if path.exists():
        return None if path.is_dir() else f"{path} is a file, not a folder"
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else f"{parent} is a file, not a folder"
    return None


def out_problem(path: str | Path, flag: str = "--out") -> str | None:
    """`folder_problem` said with the flag: "--out X is a file; give a folder", or "--out X/y:
    X is a file, not a folder"; None when ``path`` can be a folder."""
    problem = folder_problem(path)
    if problem is None:
        return None
    if not Path(path).expanduser().exists():
        return f"{flag} {path}: {problem}"
    return f"{flag} {path} is a file; give a folder"


WHOLE_FILE_BYTES = 64 << 20  # files up to this size are hashed whole
SAMPLES = 16  # a larger file: its size and this many 64 KiB pieces spread over it
PIECE = 64 << 10


def content_hash(path: str | Path) -> str | None:
    """A short sha256 of a file's or a folder's content (hidden files left out), or None when
    ``path`` is not local (a hub id, a benchmark name). A file over 64 MiB (model weights) is
    hashed by its size and 16 pieces spread over it: training changes every weight, so a
    retrained model differs in each piece, and a 15 GB model hashes in milliseconds."""
    path = Path(path).expanduser()
    if path.is_file():
        files = [path]
    elif path.is_dir():
        files = sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    else:
        return None
    h = hashlib.sha256()
    for file in files:
        h.update(str(file.relative_to(path) if file != path else file.name).encode() + b"\0")
        _update_with_file(h, file)
    return h.hexdigest()[:16]


def _update_with_file(h, file: Path) -> None:
    size = file.stat().st_size
    h.update(size.to_bytes(8, "little"))
    with file.open("rb") as f:
        if size <= WHOLE_FILE_BYTES:
            while block := f.read(1 << 20):
                h.update(block)
            return
        for i in range(SAMPLES):
            f.seek((size - PIECE) * i // (SAMPLES - 1))
            h.update(f.read(PIECE))
