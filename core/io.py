"""Atomic file writing: a temp file in the destination folder, renamed over the target when complete.

Temp files are named `.{stem}.{pid}-{random}.tmp{suffix}`; a write killed before its rename (SIGKILL, power
loss) leaves one behind, and the next write of the same file removes those whose process is gone (or whose
process id now belongs to a process started after the temp was last written: the id was reused).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike, suffix: str | None = None) -> Iterator[Path]:
    """Yield a temporary path next to `path`; on success it replaces `path`, on error it is removed.

    Writers that take a file name (numpy, open3d, PIL, rerun) write to the yielded path. The temp name keeps
    the target's suffix (or `suffix`) so libraries that pick a format from the extension still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    suf = suffix if suffix is not None else "".join(path.suffixes)
    remove_stale_temps(path, suf)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.{os.getpid()}-", suffix=f".tmp{suf}", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp_path, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise


_PID_REUSE_MARGIN_S = 2.0  # the boot time in /proc/stat has a resolution of one second


def _process_started_at(pid: int) -> float | None:
    """Unix time the process `pid` started (Linux /proc); None where that cannot be read."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        with open("/proc/stat") as fh:
            btime = next(int(line.split()[1]) for line in fh if line.startswith("btime "))
        ticks = int(stat[stat.rindex(")") + 2:].split()[19])  # field 22, starttime (after pid and comm)
        return btime + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _writer_alive(pid: int, written_at: float) -> bool:
    """Whether the process that wrote a temp last modified at `written_at` may still be writing it: `pid`
    is alive and started before that (a process started later only reuses the id of a dead writer)."""
    if pid != os.getpid():  # this process: another thread of it may be writing (unless the id was reused)
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        except (PermissionError, OSError, OverflowError):
            pass  # alive, someone else's
    started = _process_started_at(pid)
    return started is None or started <= written_at + _PID_REUSE_MARGIN_S


def remove_stale_temps(path: str | os.PathLike, suffix: str | None = None, legacy_age_s: float = 3600.0) -> list[Path]:
    """Remove temp files of `path` left by interrupted writes (their process is gone, or its id was reused by
    a process started after the temp was last written); returns those removed. A live writer's temp stays.

    Temps without a process id (written by older versions) are removed once older than `legacy_age_s`.
    """
    path = Path(path)
    suf = suffix if suffix is not None else "".join(path.suffixes)
    pattern = re.compile(rf"^\.{re.escape(path.stem)}\.(?:(\d+)-)?[A-Za-z0-9_]+\.tmp{re.escape(suf)}$")
    removed = []
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(f".{path.stem}.")]
    except OSError:
        return removed
    now = time.time()
    for p in candidates:
        m = pattern.match(p.name)
        if m is None:
            continue
        try:
            mtime = p.stat().st_mtime
            stale = not _writer_alive(int(m.group(1)), mtime) if m.group(1) else now - mtime > legacy_age_s
            if stale and p.is_file():
                p.unlink()
                removed.append(p)
        except OSError:
            continue
    return removed


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> None:
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_json_atomic(path: str | os.PathLike, obj, indent: int | None = 2) -> None:
    write_text_atomic(path, json.dumps(obj, indent=indent, sort_keys=False) + "\n")


def check_output_folder(path: str | os.PathLike | None, option: str | None = None) -> None:
    """Refuse an output file whose folder does not exist (writers would otherwise create folders the user
    never asked for). InputError naming the folder; None passes."""
    if path is None:
        return
    from core.errors import InputError

    parent = Path(path).expanduser().parent
    if not parent.is_dir():
        what = f" for {option}" if option else f" for {path}"
        raise InputError(f"the folder {parent} does not exist{what}; create it first (mkdir -p {parent})")
