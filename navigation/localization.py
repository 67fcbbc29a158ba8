"""Where the robot is in a saved map: global relocalisation and tracking from planar scans.

A scan (`core.types.LaserScan`: the lidar's, or a head-camera depth sweep cut to the same form) gives 2D
points in the sensor frame and the sensor's pose in the robot's odometry frame. The localiser estimates
`map_T_odom`, the transform that takes the odometry frame into the map; the corrected base pose that
navigation and grasping use is map_T_odom * odometry pose.

- `relocalise(scan)`: no initial guess. Coarse correlative search over every free map cell and heading
  (navigation.scan_matching), the best distinct hypotheses refined by a fine search and open3d ICP. The
  answer is `localised` only when the best pose explains enough of the scan (inlier fraction >=
  `min_inliers`) and no distinct hypothesis (more than `distinct_m` / `distinct_deg` away) scores within
  `ambiguity_ratio` of it; otherwise it says why (`ambiguous` with both poses, or `no match`), and the
  caller turns or moves a little and tries again.
- `track(scan)`: at a waypoint, the odometry prediction seeds a local search + ICP; the matched pose is fused
  with the prediction (inverse-variance weights: odometry variance grows with the distance and rotation
  driven since the last fix). An inlier fraction below `lost_inliers` marks the track lost and triggers a
  global relocalisation (a robot carried elsewhere: the kidnapped robot).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from core.errors import InputError
from core.types import LaserScan, Pose2D
from navigation.scan_matching import Match, ScanMap, ScanMatchConfig


def pose_from_matrix(T: np.ndarray) -> Pose2D:
    return Pose2D(float(T[0, 3]), float(T[1, 3]), float(math.atan2(T[1, 0], T[0, 0])))


def compose(a: Pose2D, b: Pose2D) -> Pose2D:
    """a * b (b expressed in a's frame)."""
    return pose_from_matrix(a.as_matrix() @ b.as_matrix())


def inverse(a: Pose2D) -> Pose2D:
    return pose_from_matrix(np.linalg.inv(a.as_matrix()))


def scan_points(scan: LaserScan) -> np.ndarray:
    """(N, 2) endpoints of the valid returns in the sensor frame."""
    ok = np.isfinite(scan.ranges_m) & (scan.ranges_m > 0)
    a, r = scan.angles_rad[ok], scan.ranges_m[ok]
    return np.stack([r * np.cos(a), r * np.sin(a)], axis=1)


@dataclass(frozen=True)
class LocalizerConfig:
    """Decision thresholds of the localiser (the matcher's own settings are in `match`)."""

    match: ScanMatchConfig = field(default_factory=ScanMatchConfig)
    hypotheses: int = 12
    """Distinct coarse hypotheses refined by the fine search and ICP."""
    min_inliers: float = 0.55
    """A relocalisation is accepted when at least this fraction of scan points lies near map points."""
    ambiguity_ratio: float = 0.92
    """Ambiguous when a distinct hypothesis scores at least this fraction of the best."""
    distinct_m: float = 0.5
    distinct_deg: float = 20.0
    min_points: int = 30
    """Fewer valid scan returns than this: no answer (the sensor sees nothing)."""
    lost_inliers: float = 0.35
    """Tracking: below this inlier fraction the track is lost and the robot relocalises."""
    track_radius_m: float = 0.35
    track_angle_deg: float = 8.0
    match_sigma_m: float = 0.02
    match_sigma_deg: float = 0.7
    odom_sigma_frac: float = 0.05
    """Odometry position sigma per metre driven since the last fix (prior for the fusion)."""
    odom_sigma_deg_per_rad: float = 3.0


@dataclass(frozen=True)
class Localization:
    """The answer of a relocalisation or a tracking step."""

    localised: bool
    base_pose: Pose2D | None
    """The robot's base in the map (None when not localised)."""
    map_T_odom: Pose2D | None
    confidence: float
    """Inlier fraction of the chosen pose (0..1)."""
    reason: str = ""
    """Why not localised ("ambiguous: ...", "no match ...", "too few returns ..."), or "" when localised."""
    alternatives: tuple[Pose2D, ...] = ()
    """Base poses of the competing hypotheses when ambiguous."""
    seconds: float = 0.0
    relocalised: bool = False
    """Tracking only: the track was lost and a global relocalisation answered."""

    def to_dict(self) -> dict:
        return {"localised": self.localised, "pose": self.base_pose.to_list() if self.base_pose else None,
                "map_T_odom": self.map_T_odom.to_list() if self.map_T_odom else None,
                "confidence": round(self.confidence, 4), "reason": self.reason,
                "alternatives": [p.to_list() for p in self.alternatives], "seconds": round(self.seconds, 4),
                "relocalised": self.relocalised}


class Localizer:
    """Relocalises and tracks the robot in one map (`ScanMap`)."""

    def __init__(self, scan_map: ScanMap, config: LocalizerConfig = LocalizerConfig()) -> None:
        self.map = scan_map
        self.config = config
        self.map_T_odom: Pose2D | None = None
        self._last_fix_odom: Pose2D | None = None

    def set_fix(self, map_T_odom: Pose2D, odom_base: Pose2D) -> None:
        """Start tracking from a known transform (a map being built from here, or a user's registration)."""
        self.map_T_odom, self._last_fix_odom = map_T_odom, odom_base

    def corrected(self, odom_pose: Pose2D) -> Pose2D | None:
        """The base pose in the map for an odometry pose (None before the first fix)."""
        return None if self.map_T_odom is None else compose(self.map_T_odom, odom_pose)

    def _answer(self, m: Match, scan: LaserScan, odom_base: Pose2D, t0: float, **kw) -> Localization:
        map_T_odom = compose(m.pose, inverse(scan.pose))
        return Localization(True, compose(map_T_odom, odom_base), map_T_odom, m.inliers,
                            seconds=time.perf_counter() - t0, **kw)

    def relocalise(self, scan: LaserScan, odom_base: Pose2D | None = None) -> Localization:
        """Global relocalisation with no prior. `odom_base`: the base pose in the odometry frame at the scan
        (default: derived from the scan's sensor pose is not possible, so the scan pose itself)."""
        t0 = time.perf_counter()
        cfg = self.config
        odom_base = scan.pose if odom_base is None else odom_base
        pts = scan_points(scan)
        if len(pts) < cfg.min_points:
            return Localization(False, None, None, 0.0, f"too few returns ({len(pts)} < {cfg.min_points})",
                                seconds=time.perf_counter() - t0)
        cands = self.map.global_candidates(pts, keep=cfg.hypotheses, separation_m=cfg.distinct_m,
                                           separation_rad=math.radians(cfg.distinct_deg))
        refined = [self.map.refine_icp(pts, self.map.local_search(pts, c).pose) for c in cands]
        refined.sort(key=lambda m: m.score, reverse=True)
        best = refined[0]
        rivals = [m for m in refined[1:] if m.pose.distance_to(best.pose) > cfg.distinct_m
                  or m.pose.heading_error(best.pose) > math.radians(cfg.distinct_deg)]
        sensor_to_base = compose(inverse(scan.pose), odom_base)
        if best.inliers < cfg.min_inliers:
            return Localization(False, None, None, best.inliers,
                                f"no match: {best.inliers:.0%} of the scan near the map (< {cfg.min_inliers:.0%})",
                                seconds=time.perf_counter() - t0)
        close = [m for m in rivals if m.score >= cfg.ambiguity_ratio * best.score]
        if close:
            alts = tuple(compose(m.pose, sensor_to_base) for m in [best, *close])
            return Localization(False, None, None, best.inliers,
                                f"ambiguous: {len(close) + 1} distinct poses explain the scan alike "
                                f"(second scores {close[0].score / best.score:.0%} of the best)",
                                alternatives=alts, seconds=time.perf_counter() - t0)
        ans = self._answer(best, scan, odom_base, t0)
        self.map_T_odom, self._last_fix_odom = ans.map_T_odom, odom_base
        return ans

    def track(self, scan: LaserScan, odom_base: Pose2D, recover: bool = True) -> Localization:
        """Correct the odometry at a waypoint; relocalise globally when the track is lost (or never found).

        recover=False (a map still being built, navigation.scan_slam): a lost track keeps the odometry
        (answer not localised, `map_T_odom` unchanged) instead of a global search in a partial map."""
        t0 = time.perf_counter()
        cfg = self.config
        if self.map_T_odom is None:
            return self._relocalised(scan, odom_base)
        pts = scan_points(scan)
        if len(pts) < cfg.min_points:
            return Localization(False, self.corrected(odom_base), self.map_T_odom, 0.0,
                                f"too few returns ({len(pts)}): odometry only", seconds=time.perf_counter() - t0)
        predicted = compose(self.map_T_odom, scan.pose)  # sensor pose in the map
        m = self.map.local_search(pts, predicted, cfg.track_radius_m, cfg.track_angle_deg)
        m = self.map.refine_icp(pts, m.pose)
        if m.inliers < cfg.lost_inliers:
            if not recover:
                return Localization(False, self.corrected(odom_base), self.map_T_odom, m.inliers,
                                    f"track lost ({m.inliers:.0%} of the scan near the map): odometry only",
                                    seconds=time.perf_counter() - t0)
            return self._relocalised(scan, odom_base)
        # inverse-variance fusion of the match with the odometry prediction
        last = self._last_fix_odom or odom_base
        driven = last.distance_to(odom_base)
        turned = last.heading_error(odom_base)
        var_o = (cfg.odom_sigma_frac * driven) ** 2 + 1e-6
        var_ot = math.radians(cfg.odom_sigma_deg_per_rad * turned + 0.05 * driven) ** 2 + 1e-8
        w = var_o / (var_o + cfg.match_sigma_m ** 2)
        wt = var_ot / (var_ot + math.radians(cfg.match_sigma_deg) ** 2)
        dth = math.remainder(m.pose.theta - predicted.theta, 2 * math.pi)
        fused = Pose2D(predicted.x + w * (m.pose.x - predicted.x), predicted.y + w * (m.pose.y - predicted.y),
                       math.remainder(predicted.theta + wt * dth, 2 * math.pi))
        ans = self._answer(Match(fused, m.score, m.inliers), scan, odom_base, t0)
        self.map_T_odom, self._last_fix_odom = ans.map_T_odom, odom_base
        return ans

    def _relocalised(self, scan: LaserScan, odom_base: Pose2D) -> Localization:
        ans = self.relocalise(scan, odom_base)
        return Localization(ans.localised, ans.base_pose, ans.map_T_odom, ans.confidence,
                            ans.reason or "track lost: relocalised", ans.alternatives, ans.seconds, relocalised=True)


SCAN_BAND_M = (0.10, 0.30)
"""Map voxels at these heights above the floor are what a lidar at 0.17 m (and a depth sweep cut to the
same band) sees: wall bases, furniture sides and legs. It starts 10 cm up: the floor of a map fused from
stereo depth reaches several centimetres above z = 0 at a few metres' range, and those voxels would make
every scan fit everywhere."""
SCAN_MIN_HITS = 3
"""Voxels hit by fewer depth points are left out (speckle of noisy depth)."""


def scan_map_from_points(xyz: np.ndarray, config: ScanMatchConfig | None = None,
                         band_m: tuple[float, float] = SCAN_BAND_M, floor_max_m: float = 0.05,
                         counts: np.ndarray | None = None, min_hits: int = SCAN_MIN_HITS) -> ScanMap:
    """A ScanMap from a map's 3D occupancy points (world frame, floor at z = 0); `counts` (per point, e.g. the
    voxels' depth-point counts) drop band points hit fewer than `min_hits` times."""
    xyz = np.asarray(xyz, dtype=np.float64).reshape(-1, 3)
    if len(xyz) == 0:
        raise InputError("the map is empty: no occupied voxels to localise against")
    z = xyz[:, 2]
    band = (z >= band_m[0]) & (z <= band_m[1])
    if counts is not None:
        band &= np.asarray(counts).reshape(-1) >= min_hits
    obst = xyz[band, :2]
    floor = xyz[z <= floor_max_m, :2]
    return ScanMap(obst, floor if len(floor) else None, config or ScanMatchConfig())


def merge_scans(scans: list[LaserScan]) -> LaserScan:
    """Scans taken at a few nearby poses as one scan in the first scan's sensor frame (their relative poses
    from odometry): after an "ambiguous" answer the robot moves a little and relocalises with all views."""
    if not scans:
        raise InputError("no scans to merge")
    ref = inverse(scans[0].pose)
    pts = []
    for s in scans:
        rel = compose(ref, s.pose)
        p = scan_points(s)
        c, si = math.cos(rel.theta), math.sin(rel.theta)
        pts.append(p @ np.array([[c, si], [-si, c]]) + np.array([rel.x, rel.y]))
    xy = np.concatenate(pts)
    ang = np.arctan2(xy[:, 1], xy[:, 0])
    order = np.argsort(ang, kind="stable")
    return LaserScan(angles_rad=ang[order], ranges_m=np.hypot(xy[order, 0], xy[order, 1]), pose=scans[0].pose,
                     height_m=scans[0].height_m, timestamp=scans[-1].timestamp, min_m=scans[0].min_m,
                     max_m=scans[0].max_m)
