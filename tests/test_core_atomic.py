"""Atomic writes: a write killed before its rename leaves a temp file that the next write of that file removes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from core.io import atomic_path, remove_stale_temps, write_text_atomic

REPO = Path(__file__).resolve().parents[1]


def _writer(target: Path) -> subprocess.Popen:
    """Another process in the middle of an atomic write of `target` (its temp written, not yet renamed)."""
    code = (f"import sys, time; sys.path.insert(0, {str(REPO)!r})\n"
            "from core.io import atomic_path\n"
            f"with atomic_path({str(target)!r}) as tmp:\n"
            "    tmp.write_bytes(b'partial')\n"
            "    print('writing', flush=True)\n"
            "    time.sleep(60)\n")
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)


def _killed_writer(target: Path) -> None:
    proc = _writer(target)
    try:
        assert proc.stdout.readline().strip() == "writing"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)


def test_temps_of_killed_writes_are_removed_by_the_next_write(tmp_path):
    target = tmp_path / "home.npz"
    for _ in range(3):
        _killed_writer(target)
    temps = [p for p in tmp_path.iterdir() if p.name.startswith(".home.")]
    assert len(temps) == 1 and not target.exists()  # each write removed the temp of the one killed before it
    other = tmp_path / "other.npz"
    _killed_writer(other)
    write_text_atomic(target, "complete")
    assert target.read_text() == "complete"
    left = sorted(p.name for p in tmp_path.iterdir())
    assert left[0].startswith(".other.") and left[1:] == ["home.npz"], left  # only this file's temps go


def test_live_writers_and_old_style_temps(tmp_path):
    target = tmp_path / "map.npz"
    with atomic_path(target) as tmp:  # our own write in progress is never removed
        tmp.write_bytes(b"x")
        assert remove_stale_temps(target) == []
    legacy = tmp_path / ".map.abc123.tmp.npz"  # an older version's temp: removed only when old
    legacy.write_bytes(b"x")
    assert remove_stale_temps(target) == []
    old = time.time() - 7200
    os.utime(legacy, (old, old))
    assert remove_stale_temps(target) == [legacy]


def test_a_live_writers_temp_stays_until_it_is_killed(tmp_path):
    """A concurrent write of the same file in another process keeps its temp; once that process is killed,
    the next write removes it."""
    target = tmp_path / "home.npz"
    proc = _writer(target)
    try:
        assert proc.stdout.readline().strip() == "writing"
        write_text_atomic(target, "mine")
        theirs = [p for p in tmp_path.iterdir() if p.name.startswith(f".home.{proc.pid}-")]
        assert len(theirs) == 1 and theirs[0].read_bytes() == b"partial"  # not removed while it writes
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    write_text_atomic(target, "again")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home.npz"] and target.read_text() == "again"


def test_a_temp_whose_process_id_was_reused_is_removed(tmp_path):
    """The writer died long ago and its process id now belongs to a process started after the temp was last
    written: the temp is stale although that id is alive."""
    target = tmp_path / "map.npz"
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        reused = tmp_path / f".map.{proc.pid}-abc123.tmp.npz"
        reused.write_bytes(b"x")
        old = time.time() - 600  # written 10 minutes before this process started
        os.utime(reused, (old, old))
        fresh = tmp_path / f".map.{os.getppid()}-def456.tmp.npz"  # a live writer started before its temp
        fresh.write_bytes(b"y")
        assert remove_stale_temps(target) == [reused]
        assert fresh.exists()
    finally:
        proc.kill()
        proc.wait(timeout=10)
