"""The Stretch base footprint as a rectangle, for heading-aware checks (poses and turns in place).

The planner treats the robot as a disc of `STRETCH.base_radius_m` around the base origin (midway between
the drive wheels), which covers the base when it drives straight. But the base box is not centred on that
origin: core.stretch's `STRETCH.base_x_m` / `base_y_m` (the SE3 URDF's base_link collision box) span
x in [-0.286, 0.058] m (the body extends behind the wheel axis) and y in [-0.18, 0.18] m, so a turn in
place sweeps a circle of radius ~0.34 m. These checks catch a parked pose whose back overlaps an obstacle,
a turn that swings the back into furniture, or a straight drive whose box sweeps over an obstacle.

A footprint point collides when its cell's clearance is below `margin_m` (blocked cells have 0).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from functools import lru_cache

import numpy as np

from core.stretch import STRETCH
from core.types import wrap_angle
from navigation.occupancy import OccupancyGrid


@dataclass(frozen=True)
class Footprint:
    """Base-frame rectangle [x_min, x_max] x [y_min, y_max] (m); defaults: core.stretch's base box. `parts`:
    more rectangles ((x_min, x_max, y_min, y_max) each) that move with the base, such as a held object
    sticking out on the arm side; the footprint is their union with the base's."""

    x_min: float = STRETCH.base_x_m[0]
    x_max: float = STRETCH.base_x_m[1]
    y_min: float = STRETCH.base_y_m[0]
    y_max: float = STRETCH.base_y_m[1]
    margin_m: float = 0.03
    sample_m: float = 0.025
    turn_step_rad: float = math.radians(5.0)
    parts: tuple[tuple[float, float, float, float], ...] = ()

    def rectangles(self) -> tuple[tuple[float, float, float, float], ...]:
        """The base's rectangle, then the parts'."""
        return ((self.x_min, self.x_max, self.y_min, self.y_max), *self.parts)

    @property
    def turn_radius_m(self) -> float:
        """Radius of the circle a turn in place sweeps."""
        return float(max(math.hypot(x, y) for x0, x1, y0, y1 in self.rectangles() for x in (x0, x1) for y in (y0, y1)))

    @property
    def half_width_m(self) -> float:
        """The largest distance of the footprint from the base's heading line (either side)."""
        return float(max(max(-y0, y1) for _, _, y0, y1 in self.rectangles()))

    def outline(self) -> np.ndarray:
        """(P, 2) base-frame points along the rectangles' edges, `sample_m` apart (computed once per footprint)."""
        return _outline(self)

    def including(self, xy_base: np.ndarray) -> Footprint:
        """This footprint with one more part: the smallest rectangle covering the base-frame points `xy_base`
        (P, 2), e.g. the held object while the robot carries it, so parking poses, turns in place and
        straight drives are checked for both. A part, not a grown base rectangle: a rectangle around the base
        and an object beside its front corner also covers the empty corner behind it, which made turns next
        to a bed look blocked that were clear (10615:0)."""
        pts = np.asarray(xy_base, np.float64).reshape(-1, 2)
        if len(pts) == 0:
            return self
        lo, hi = pts.min(axis=0), pts.max(axis=0)
        if any(x0 <= lo[0] and hi[0] <= x1 and y0 <= lo[1] and hi[1] <= y1 for x0, x1, y0, y1 in self.rectangles()):
            return self  # inside the footprint already
        return replace(self, parts=(*self.parts, (float(lo[0]), float(hi[0]), float(lo[1]), float(hi[1]))))


@lru_cache(maxsize=16)
def _outline(fp: Footprint) -> np.ndarray:
    def edge(a, b):
        n = max(int(math.ceil(np.linalg.norm(np.subtract(b, a)) / fp.sample_m)), 1)
        t = np.arange(n)[:, None] / n
        return np.asarray(a) + t * (np.asarray(b) - np.asarray(a))

    out = []
    for x0, x1, y0, y1 in fp.rectangles():
        c = [(x0, y0), (x1, y0), (x1, y1), (x0, y1)]
        out += [edge(c[i], c[(i + 1) % 4]) for i in range(4)]
    out = np.concatenate(out)
    out.setflags(write=False)
    return out


def _points_world(fp: Footprint, xy: np.ndarray, theta: np.ndarray) -> np.ndarray:
    """(K, P, 2) outline points for K poses."""
    o = fp.outline()
    c, s = np.cos(theta)[:, None], np.sin(theta)[:, None]
    wx = xy[:, 0:1] + c * o[None, :, 0] - s * o[None, :, 1]
    wy = xy[:, 1:2] + s * o[None, :, 0] + c * o[None, :, 1]
    return np.stack([wx, wy], axis=-1)


def poses_clear(grid: OccupancyGrid, xy: np.ndarray, theta: np.ndarray, fp: Footprint = Footprint()) -> np.ndarray:
    """(K,) bool: the footprint outline at each pose (xy (K, 2), theta (K,)) is clear of obstacles."""
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    theta = np.asarray(theta, np.float64).reshape(-1)
    if len(xy) == 0:
        return np.zeros(0, bool)
    pts = _points_world(fp, xy, theta)
    c = grid.clearance_at(pts.reshape(-1, 2)).reshape(pts.shape[:2])
    return (c >= fp.margin_m).all(axis=1)


def outline_clearance(grid: OccupancyGrid, xy: np.ndarray, theta: float, fp: Footprint = Footprint()) -> float:
    """The smallest clearance (m) of the footprint outline at one pose: below `fp.margin_m` the pose touches."""
    pts = _points_world(fp, np.asarray(xy, np.float64).reshape(1, 2), np.array([float(theta)]))
    return float(grid.clearance_at(pts.reshape(-1, 2)).min())


def leaving(grid: OccupancyGrid, xy: np.ndarray, theta: float, fp: Footprint = Footprint(),
            slack_m: float = 0.005, floor_m: float = 0.01) -> Footprint:
    """The footprint to check a move that leaves the pose (xy, theta) with. A pose reached in the real world
    (after a pick nudged the base, or a stop a little off the goal) can already sit inside the margin of an
    obstacle without touching it; every move from there would then count as blocked, even backing straight
    out. The returned footprint relaxes the margin to the pose's own outline clearance less `slack_m`, so a
    move may not come any closer to anything than the robot already is; never below `floor_m`, and `fp`
    itself when the pose is clear of the margin or already overlaps an obstacle."""
    have = outline_clearance(grid, xy, theta, fp)
    if have >= fp.margin_m or have - slack_m < floor_m:
        return fp
    return replace(fp, margin_m=have - slack_m)


def turn_clear(grid: OccupancyGrid, xy: np.ndarray, theta_from: float, theta_to: float,
               fp: Footprint = Footprint()) -> bool:
    """True when turning in place at xy from theta_from to theta_to (the short way) stays clear."""
    delta = wrap_angle(theta_to - theta_from)
    n = max(int(math.ceil(abs(delta) / fp.turn_step_rad)), 1)
    thetas = theta_from + delta * np.arange(n + 1) / n
    return bool(poses_clear(grid, np.repeat(np.asarray(xy, np.float64).reshape(1, 2), n + 1, axis=0), thetas, fp).all())
