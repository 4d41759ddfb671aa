"""toylab.archive (the runs archive the grids and the real-model benchmark share) and
toylab.jobs (the scheduler that fills it): the committed archives load as they are, bad files
are one line naming the file and the line, and jobs land one by one."""

from __future__ import annotations

import gzip
import threading
import time
from pathlib import Path

import pytest

from grpo_lead.toylab.archive import RunArchive, changed_settings, pending
from grpo_lead.toylab.jobs import run_jobs
from grpo_lead.toylab.runs import archive_of

RESULTS = Path(__file__).resolve().parent.parent / "benchmarks" / "results"


def plain(path) -> RunArchive:
    return RunArchive(path, owner="a test", key=lambda r: r["job"], required=("job",))


@pytest.mark.parametrize(
    "name",
    ["length_methods_runs.jsonl.gz", "real_compare_runs.jsonl.gz", "real_steps_runs.jsonl.gz"],
)
def test_the_committed_archives_load_and_save_to_the_same_lines(tmp_path, name):
    # the layouts are the committed files': saving what was loaded gives back every line
    committed = RESULTS / name
    if name.startswith("length"):
        store, copy = archive_of(committed), archive_of(tmp_path / name)
    else:
        import bench_real_compare

        store, copy = (bench_real_compare.archive_at(p) for p in (committed, tmp_path / name))
    settings, runs = store.load()
    assert runs and (settings is not None) == name.startswith("length")
    copy.save(runs, settings=settings)
    assert gzip.decompress(copy.path.read_bytes()) == gzip.decompress(committed.read_bytes())


def test_save_is_stable_sorted_and_atomic(tmp_path):
    store = plain(tmp_path / "runs.jsonl.gz")
    assert store.load() == (None, {})  # no file yet
    store.save({"b": {"job": "b", "x": 2}, "a": {"x": 1, "job": "a"}})
    first = store.path.read_bytes()
    store.save({"a": {"x": 1, "job": "a"}, "b": {"job": "b", "x": 2}})
    assert store.path.read_bytes() == first  # same runs, same bytes (gzip time stamp 0)
    lines = gzip.decompress(first).decode().splitlines()
    assert lines == ['{"job": "a", "x": 1}', '{"job": "b", "x": 2}']  # sorted keys and runs
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    ("content", "named"),
    [
        (b'{"job": "a"}\n{"other": 1}\n', "at line 2 (no job)"),
        (b'{"job": "a"}\n{"job": "b"}\n{"job": "c\n', "at line 3 (Unterminated string"),
        (b'{"job": "a"}\n[1, 2]\n', "at line 2 (no job)"),
    ],
)
def test_a_foreign_line_is_one_error_naming_the_file_and_line(tmp_path, content, named):
    store = plain(tmp_path / "runs.jsonl.gz")
    store.path.write_bytes(gzip.compress(content))
    with pytest.raises(ValueError) as info:
        store.load()
    message = str(info.value)
    assert message.startswith(f"{store.path}: not a runs archive of a test ") and named in message
    assert "\n" not in message


def test_a_cut_a_plain_and_a_folder_archive_are_named(tmp_path):
    store = plain(tmp_path / "runs.jsonl.gz")
    store.path.write_bytes(gzip.compress(b'{"job": "a"}\n' * 50)[:-10])
    with pytest.raises(ValueError, match="runs.jsonl.gz: a runs archive cut short"):
        store.load()
    store.path.write_text("not gzip\n")
    with pytest.raises(ValueError, match=r"runs.jsonl.gz: not a runs archive of a test at line 1"):
        store.load()
    with pytest.raises(ValueError, match="is a folder; give a .jsonl.gz file"):
        plain(tmp_path).load()
    with pytest.raises(ValueError, match="is a folder"):
        plain(tmp_path).check_writable()


def test_a_header_archive_needs_its_settings_line(tmp_path):
    store = archive_of(tmp_path / "runs.jsonl.gz")
    store.path.write_bytes(gzip.compress(b'{"verbosity": "mixed", "seed": 0, "setting": "g"}\n'))
    with pytest.raises(ValueError, match="at line 1 \\(no settings line\\)"):
        store.load()
    store.save({}, settings={"rl_steps": 2})
    assert store.load() == ({"rl_steps": 2}, {})


def test_pending_and_changed_settings():
    runs = {"a": {"steps": 3}, "b": {"steps": 2}}
    jobs = ["a", "b", "c"]
    assert pending(jobs, runs, key=lambda j: j) == ["c"]
    assert pending(jobs, runs, key=lambda j: j, same=lambda r: r["steps"] == 3) == ["b", "c"]
    assert changed_settings({"x": 1, "y": 2}, {"x": 1, "y": 3, "z": 0}) == {
        "y": (2, 3),
        "z": (None, 0),
    }


def test_jobs_land_one_by_one_in_order_among_the_ready_ones():
    seen = []
    run_jobs(
        ["w1", "r1", "w2", "r2"],
        lambda j: j.upper(),
        workers=1,
        ready=lambda j, finished: j[0] == "w" or f"w{j[1]}" in finished,
        on_done=lambda j, result: seen.append((j, result)),
    )
    assert seen == [("w1", "W1"), ("r1", "R1"), ("w2", "W2"), ("r2", "R2")]


def test_a_failed_job_stops_new_ones_and_raises_after_the_running_end():
    started, saved = [], []
    lock = threading.Lock()

    def work(j):
        with lock:
            started.append(j)
        if j == "bad":
            raise RuntimeError("boom")
        time.sleep(0.3)  # still running when "bad" fails
        return j

    with pytest.raises(RuntimeError, match="boom"):
        run_jobs(["slow", "bad", "later"], work, workers=2, on_done=lambda j, r: saved.append(j))
    assert sorted(started) == ["bad", "slow"] and saved == ["slow"]  # "later" never started
