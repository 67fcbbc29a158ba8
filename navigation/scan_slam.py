"""A planar scan map built while the robot drives: the map side of localising during a scan (no map yet).

The first scan fixes the map frame (the odometry frame where the scan starts, or a registration); every
later scan is first tracked against the map of the scans before it (navigation.localization.Localizer.track
with recover=False) and then added at its corrected pose. Points are kept once per `cell_m` cell, so the
map grows with the area seen, not with the number of scans; the likelihood fields (navigation.scan_matching
.ScanMap) are rebuilt lazily after an addition.
"""

from __future__ import annotations

import numpy as np

from core.types import LaserScan, Pose2D
from navigation.localization import compose, scan_points
from navigation.scan_matching import ScanMap, ScanMatchConfig, transform


class GrowingScanMap:
    """Scan endpoints in the map frame, deduplicated on a `cell_m` grid, and the sensor positions (free)."""

    def __init__(self, config: ScanMatchConfig = ScanMatchConfig(), cell_m: float = 0.025) -> None:
        self.config = config
        self.cell_m = cell_m
        self._cells: set[tuple[int, int]] = set()
        self._points: list[np.ndarray] = []
        self._free: list[np.ndarray] = []
        self._map: ScanMap | None = None
        self.scans = 0

    def __len__(self) -> int:
        return len(self._cells)

    def add(self, scan: LaserScan, map_T_odom: Pose2D) -> int:
        """Add a scan taken at `scan.pose` (odometry frame) with the map's current `map_T_odom`; returns the
        number of new cells."""
        sensor = compose(map_T_odom, scan.pose)
        xy = transform(scan_points(scan), sensor)
        keys = np.floor(xy / self.cell_m).astype(np.int64)
        new = [i for i, k in enumerate(map(tuple, keys)) if k not in self._cells]
        fresh = [tuple(keys[i]) for i in new]
        self._cells.update(fresh)
        if new:
            self._points.append(xy[new])
        self._free.append(sensor.xy[None])
        self.scans += 1
        self._map = None
        return len(new)

    def scan_map(self) -> ScanMap | None:
        """The likelihood fields of what has been added (None before enough points)."""
        if self._map is None and len(self._cells) >= 10:
            # Every cell away from obstacles may hold the sensor: free_xy would only be the few stops so far.
            self._map = ScanMap(np.concatenate(self._points), None, self.config)
        return self._map

    def points(self) -> np.ndarray:
        return np.concatenate(self._points) if self._points else np.zeros((0, 2))
