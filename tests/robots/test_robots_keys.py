"""Robot keys: written private from the start, never overwritten, parsed strictly, refused when readable by others."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
import threading

import pytest

from core.errors import InputError
from robots import keys


def test_new_key_is_private_from_the_start_and_loadable(tmp_path, monkeypatch):
    target = tmp_path / "sub" / "robot.key"
    seen_modes = []
    real_open = os.open

    def spy_open(path, flags, mode=0o777, *a, **kw):
        fd = real_open(path, flags, mode, *a, **kw)
        if flags & os.O_CREAT:
            seen_modes.append(stat.S_IMODE(os.fstat(fd).st_mode))
        return fd

    old = os.umask(0o000)
    try:
        monkeypatch.setattr(keys.os, "open", spy_open)
        keys.write_new_key(target)
    finally:
        os.umask(old)
    assert seen_modes == [0o600], "the key file existed with a wider mode before its contents were written"
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["robot.key"]  # no temp file left
    key = keys.load_key(target)
    assert len(key.server_public) == 40 and key.server_public != key.client_public
    with pytest.raises(InputError, match="already exists"):
        keys.write_new_key(target)


def test_concurrent_writers_never_overwrite(tmp_path):
    target = tmp_path / "robot.key"
    errors = []

    def write():
        try:
            keys.write_new_key(target)
        except InputError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(errors) == 3 and keys.load_key(target)


def test_bad_key_files_are_one_clear_error(tmp_path, monkeypatch):
    f = tmp_path / "robot.key"
    with pytest.raises(InputError, match="no robot key at .*--new-key"):
        keys.load_key(f)
    monkeypatch.setenv(keys.KEY_FILE_ENV, str(f))
    with pytest.raises(InputError, match=str(f)):
        keys.load_key()
    for text, message in (("0123456789abcdef0123456789abcdef\n", "old shared-secret"),
                          ("server-secret: abc\nclient-secret: def\n", "not a Z85 CURVE key"),
                          ("server-secret: " + "x" * 40 + "\n", "lacks client-secret")):
        f.write_text(text)
        f.chmod(0o600)
        with pytest.raises(InputError, match=message):
            keys.load_key(f)
    keys.write_new_key(tmp_path / "good.key")
    (tmp_path / "good.key").chmod(0o644)
    with pytest.raises(InputError, match="readable by others.*chmod 600"):
        keys.load_key(tmp_path / "good.key")


def test_a_killed_key_writes_temp_is_removed_by_the_next_write(tmp_path):
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait(timeout=10)
    target = tmp_path / "robot.key"
    stale = tmp_path / f".robot.{dead.pid}-0a1b2c.tmp.key"  # what a SIGKILLed write_new_key leaves
    stale.write_text("partial")
    keys.write_new_key(target)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["robot.key"]
