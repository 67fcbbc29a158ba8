"""Small mask utilities shared by the pipelines."""

from __future__ import annotations

import numpy as np


def mask_box(mask: np.ndarray) -> tuple[float, float, float, float] | None:
    """Pixel box (x0, y0, x1, y1) enclosing a bool mask (x1/y1 exclusive), None when empty."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    if len(rows) == 0:
        return None
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)


def usable_pixels(mask: np.ndarray, depth_m: np.ndarray | None, require_depth: bool) -> int:
    """Pixels of a mask that count towards the minimum size: those with valid depth when `require_depth`."""
    if require_depth and depth_m is not None:
        return int(np.count_nonzero(mask & (depth_m > 0) & np.isfinite(depth_m)))
    return int(np.count_nonzero(mask))


def has_valid_depth(depth_m: np.ndarray) -> bool:
    return bool(np.any((depth_m > 0) & np.isfinite(depth_m)))
