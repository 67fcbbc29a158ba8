"""Atomic file writing: a temp file in the destination folder, renamed over the target when complete.

Temp files are named `.{stem}.{pid}-{random}.tmp{suffix}`; a write killed before its rename (SIGKILL, power
loss) leaves one behind, and the next write of the same file removes those whose process is gone.
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


def _process_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True  # another thread of this process may be writing
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError, OverflowError):
        return True
    return True


def remove_stale_temps(path: str | os.PathLike, suffix: str | None = None, legacy_age_s: float = 3600.0) -> list[Path]:
    """Remove temp files of `path` left by interrupted writes (their process is gone); returns those removed.

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
            stale = (not _process_alive(int(m.group(1)))) if m.group(1) else now - p.stat().st_mtime > legacy_age_s
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
