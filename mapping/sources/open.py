"""`open_capture(path)`: detect an RGB-D capture's format and open the reader for it."""

from __future__ import annotations

import os
from pathlib import Path

from mapping.sources.base import CaptureConfig, CaptureError, FrameSource
from mapping.sources.r3d import R3DFrameSource, is_r3d
from mapping.sources.redwood import RedwoodFrameSource, is_redwood
from mapping.sources.tum import TUMFrameSource, is_tum


def open_capture(path: str | os.PathLike, config: CaptureConfig | None = None) -> FrameSource:
    """Open an RGB-D capture, detecting its format.

    Record3D: a `.r3d` file (or any zip holding `metadata`), or an unzipped folder with `metadata` and
    `rgbd/`. TUM RGB-D: a folder with `rgb.txt` and `depth.txt`. Redwood / ICL-NUIM: a folder with
    `trajectory.log` and colour/depth image folders. Raises CaptureError when the path is absent or of no
    known format.
    """
    config = config or CaptureConfig()
    p = Path(path)
    if not p.exists():
        raise CaptureError(f"capture {p} does not exist")
    if is_r3d(p):
        return R3DFrameSource(p, config)
    if p.is_dir() and is_tum(p):
        return TUMFrameSource(p, config)
    if p.is_dir() and is_redwood(p):
        return RedwoodFrameSource(p, config)
    raise CaptureError(
        f"cannot tell the capture format of {p}: expected a Record3D .r3d file, a TUM folder "
        "(rgb.txt, depth.txt, groundtruth.txt) or a Redwood/ICL folder (color/, depth/, trajectory.log)"
    )
