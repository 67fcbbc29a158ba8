"""Record3D metadata is read with bounds: a huge (highly compressible) metadata member is refused unread."""

from __future__ import annotations

import sys
import tracemalloc
import zipfile
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from capture_fixtures import write_r3d  # noqa: E402

from mapping.sources import CaptureError, open_capture  # noqa: E402


def _with_metadata(src: Path, dst: Path, write_metadata) -> Path:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            if info.filename == "metadata":
                member = zipfile.ZipInfo("metadata")
                member.compress_type = zipfile.ZIP_DEFLATED
                with zout.open(member, "w", force_zip64=True) as fh:
                    write_metadata(fh)
            else:
                zout.writestr(info.filename, zin.read(info))
    return dst


def test_metadata_of_100_mb_of_spaces_is_refused_without_reading_it(tmp_path):
    good = write_r3d(tmp_path / "good.r3d")
    spaces = b" " * (1 << 20)

    def bomb(fh):
        for _ in range(100):
            fh.write(spaces)
        fh.write(b"{}")

    bad = _with_metadata(good, tmp_path / "bad.r3d", bomb)
    assert bad.stat().st_size < 2 << 20
    tracemalloc.start()
    try:
        with pytest.raises(CaptureError, match="metadata is 104.9 MB, more than the 67 MB") as info:
            with open_capture(bad) as src:
                next(iter(src))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert "\n" not in str(info.value) and peak < 30 << 20


def test_deeply_nested_metadata_is_refused(tmp_path):
    good = write_r3d(tmp_path / "good.r3d")
    bad = _with_metadata(good, tmp_path / "deep.r3d", lambda fh: fh.write(b"[" * 50_000 + b"]" * 50_000))
    with pytest.raises(CaptureError, match="nested more than"):
        with open_capture(bad) as src:
            next(iter(src))
