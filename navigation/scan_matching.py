"""Matching a planar scan (2D points in the sensor frame) against a map's 2D obstacle points.

The map side (`ScanMap`) is a likelihood field: the distance from every grid cell to the nearest map
obstacle point (`scipy.ndimage.distance_transform_edt`) turned into a score exp(-d^2 / 2 sigma^2), plus a
coarser copy (max-pooled over the coarse step, then blurred) for the global search, and the cells where the
sensor may stand (floor the map saw, away from obstacles).

Global search (`global_candidates`): every (x, y) candidate cell at the coarse step times every heading at
the coarse angular step is scored in one vectorised sum over the subsampled scan; the best distinct
hypotheses are refined by a local fine search (`local_search`) and then by ICP (open3d point-to-point on the
points lifted to z = 0; `refine_icp`). The score of a pose is the mean likelihood of its scan points; the
inlier fraction (scan points within `inlier_m` of a map point) is what confidence is measured in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from core.errors import InputError
from core.types import Pose2D


@dataclass(frozen=True)
class ScanMatchConfig:
    """Resolutions and tolerances of the scan-to-map matcher."""

    resolution_m: float = 0.05
    """Cell size of the fine likelihood field."""
    sigma_m: float = 0.07
    """Width of the fine likelihood (scan point to nearest map point)."""
    coarse_step_m: float = 0.20
    """Spacing of the global search's position candidates (and the coarse field's pooling window)."""
    coarse_sigma_m: float = 0.20
    """Width of the coarse likelihood used by the global search."""
    coarse_angle_deg: float = 3.0
    """Heading step of the global search."""
    coarse_points: int = 90
    """Scan points used by the global search (evenly subsampled)."""
    fine_points: int = 240
    """Scan points used by the fine search and the scores."""
    fine_angle_deg: float = 1.0
    fine_step_m: float = 0.05
    fine_radius_m: float = 0.20
    fine_angle_radius_deg: float = 4.0
    inlier_m: float = 0.10
    """A scan point within this of a map point counts as an inlier."""
    min_clearance_m: float = 0.15
    """Candidate sensor positions lie at least this far from every map obstacle point."""
    icp_max_corr_m: float = 0.25
    icp_iterations: int = 30


@dataclass(frozen=True)
class Match:
    """A sensor pose in the map with its mean likelihood score and inlier fraction."""

    pose: Pose2D
    score: float
    inliers: float


def transform(points: np.ndarray, pose: Pose2D) -> np.ndarray:
    c, s = math.cos(pose.theta), math.sin(pose.theta)
    return points @ np.array([[c, s], [-s, c]]) + np.array([pose.x, pose.y])


def subsample(points: np.ndarray, n: int) -> np.ndarray:
    if len(points) <= n:
        return points
    return points[np.linspace(0, len(points) - 1, n).round().astype(np.int64)]


class ScanMap:
    """A map's 2D obstacle points as likelihood fields, with the free cells a sensor may stand on.

    `free_xy` (K, 2) are floor positions seen in the map (None: every cell away from obstacles counts).
    """

    def __init__(self, obstacle_xy: np.ndarray, free_xy: np.ndarray | None = None,
                 config: ScanMatchConfig = ScanMatchConfig(), padding_m: float = 1.0) -> None:
        pts = np.asarray(obstacle_xy, dtype=np.float64).reshape(-1, 2)
        pts = pts[np.isfinite(pts).all(axis=1)]
        if len(pts) < 10:
            raise InputError(f"the map has {len(pts)} obstacle points at scan height: nothing to localise against")
        self.config = config
        self.points = pts
        res = config.resolution_m
        lo, hi = pts.min(axis=0) - padding_m, pts.max(axis=0) + padding_m
        self.origin = lo
        self.shape = tuple((np.ceil((hi - lo) / res)).astype(int)[::-1])  # rows (y), cols (x)
        occ = np.zeros(self.shape, dtype=bool)
        rc = self._cells(pts)
        occ[rc[:, 0], rc[:, 1]] = True
        self.dist_m = ndimage.distance_transform_edt(~occ).astype(np.float32) * res
        self.fine = np.exp(-0.5 * (self.dist_m / config.sigma_m) ** 2).astype(np.float32)
        k = max(1, int(round(config.coarse_step_m / res)))
        coarse = np.exp(-0.5 * (self.dist_m / config.coarse_sigma_m) ** 2)
        self.coarse = ndimage.maximum_filter(coarse, size=k).astype(np.float32)
        clear = self.dist_m >= config.min_clearance_m
        if free_xy is not None:
            seen = np.zeros(self.shape, dtype=bool)
            frc = self._cells(np.asarray(free_xy, dtype=np.float64).reshape(-1, 2))
            ok = self._inside(frc)
            seen[frc[ok, 0], frc[ok, 1]] = True
            clear &= ndimage.binary_dilation(seen, iterations=1)
        rows, cols = np.nonzero(clear[::k, ::k])
        cand = np.stack([rows * k, cols * k], axis=1)
        self.candidates_xy = self.origin + (cand[:, ::-1] + 0.5) * res
        if len(self.candidates_xy) == 0:
            raise InputError("the map has no free floor away from obstacles: nowhere to localise")

    def _cells(self, xy: np.ndarray) -> np.ndarray:
        return np.floor((xy - self.origin) / self.config.resolution_m).astype(np.int64)[..., ::-1]

    def _inside(self, rc: np.ndarray) -> np.ndarray:
        return (rc[..., 0] >= 0) & (rc[..., 0] < self.shape[0]) & (rc[..., 1] >= 0) & (rc[..., 1] < self.shape[1])

    def _lookup(self, field: np.ndarray, xy: np.ndarray) -> np.ndarray:
        rc = self._cells(xy)
        ok = self._inside(rc)
        rc = np.where(ok[..., None], rc, 0)
        return np.where(ok, field[rc[..., 0], rc[..., 1]], 0.0)

    # --- scoring -----------------------------------------------------------------------------------
    def score(self, scan_xy: np.ndarray, pose: Pose2D) -> Match:
        pts = transform(subsample(scan_xy, self.config.fine_points), pose)
        lik = self._lookup(self.fine, pts)
        d = self._lookup(self.dist_m, pts)
        inl = (d <= self.config.inlier_m) & self._inside(self._cells(pts))
        return Match(pose, float(lik.mean()), float(inl.mean()))

    def _grid_scores(self, field: np.ndarray, scan_xy: np.ndarray, xy: np.ndarray, thetas: np.ndarray,
                     chunk: int = 4_000_000) -> np.ndarray:
        """(len(thetas), len(xy)) mean likelihood of the scan at every (heading, position)."""
        c, s = np.cos(thetas), np.sin(thetas)
        rx = c[:, None] * scan_xy[None, :, 0] - s[:, None] * scan_xy[None, :, 1]  # (T, N)
        ry = s[:, None] * scan_xy[None, :, 0] + c[:, None] * scan_xy[None, :, 1]
        res = self.config.resolution_m
        out = np.empty((len(thetas), len(xy)), dtype=np.float32)
        step = max(1, chunk // max(1, len(thetas) * len(scan_xy)))
        for i in range(0, len(xy), step):
            p = xy[i:i + step]
            col = np.floor((p[None, :, None, 0] + rx[:, None, :] - self.origin[0]) / res).astype(np.int32)
            row = np.floor((p[None, :, None, 1] + ry[:, None, :] - self.origin[1]) / res).astype(np.int32)
            np.clip(col, 0, self.shape[1] - 1, out=col)
            np.clip(row, 0, self.shape[0] - 1, out=row)
            out[:, i:i + step] = field[row, col].mean(axis=2)
        return out

    # --- search ------------------------------------------------------------------------------------
    def global_candidates(self, scan_xy: np.ndarray, keep: int = 12, separation_m: float = 0.5,
                          separation_rad: float = math.radians(20.0)) -> list[Pose2D]:
        """The `keep` best distinct sensor poses of the coarse global search (no initial guess)."""
        cfg = self.config
        pts = subsample(scan_xy, cfg.coarse_points)
        thetas = np.radians(np.arange(0.0, 360.0, cfg.coarse_angle_deg))
        scores = self._grid_scores(self.coarse, pts, self.candidates_xy, thetas)
        order = np.argsort(scores, axis=None)[::-1]
        picked: list[Pose2D] = []
        for flat in order[: 20000]:
            t, i = divmod(int(flat), scores.shape[1])
            p = Pose2D(float(self.candidates_xy[i, 0]), float(self.candidates_xy[i, 1]), float(thetas[t]))
            if all(p.distance_to(q) > separation_m or abs(p.heading_error(q)) > separation_rad for q in picked):
                picked.append(p)
                if len(picked) >= keep:
                    break
        return picked

    def local_search(self, scan_xy: np.ndarray, guess: Pose2D, radius_m: float | None = None,
                     angle_radius_deg: float | None = None) -> Match:
        """Best pose on a fine (x, y, theta) lattice around `guess`."""
        cfg = self.config
        r = cfg.fine_radius_m if radius_m is None else radius_m
        a = cfg.fine_angle_radius_deg if angle_radius_deg is None else angle_radius_deg
        offs = np.arange(-r, r + 1e-9, cfg.fine_step_m)
        dx, dy = np.meshgrid(offs, offs)
        xy = np.stack([guess.x + dx.ravel(), guess.y + dy.ravel()], axis=1)
        thetas = guess.theta + np.radians(np.arange(-a, a + 1e-9, cfg.fine_angle_deg))
        pts = subsample(scan_xy, cfg.fine_points)
        scores = self._grid_scores(self.fine, pts, xy, thetas)
        t, i = np.unravel_index(int(np.argmax(scores)), scores.shape)
        best = Pose2D(float(xy[i, 0]), float(xy[i, 1]), float(math.remainder(thetas[t], 2 * math.pi)))
        return self.score(scan_xy, best)

    def refine_icp(self, scan_xy: np.ndarray, guess: Pose2D) -> Match:
        """open3d point-to-point ICP (planar: z = 0) from `guess`; kept only when it scores no worse."""
        import open3d as o3d

        cfg = self.config
        src = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(
            np.c_[subsample(scan_xy, cfg.fine_points), np.zeros(min(len(scan_xy), cfg.fine_points))]))
        near = self.points[np.linalg.norm(self.points - guess.xy, axis=1) < 15.0]
        dst = o3d.geometry.PointCloud(o3d.utility.Vector3dVector(np.c_[near, np.zeros(len(near))]))
        T0 = guess.as_matrix()
        reg = o3d.pipelines.registration.registration_icp(
            src, dst, cfg.icp_max_corr_m, T0, o3d.pipelines.registration.TransformationEstimationPointToPoint(),
            o3d.pipelines.registration.ICPConvergenceCriteria(max_iteration=cfg.icp_iterations))
        T = np.asarray(reg.transformation)
        pose = Pose2D(float(T[0, 3]), float(T[1, 3]), float(math.atan2(T[1, 0], T[0, 0])))
        before, after = self.score(scan_xy, guess), self.score(scan_xy, pose)
        return after if after.score >= before.score else before
