"""Base-goal choice for the Stretch's side-mounted arm: where to park so the arm reaches a target.

The telescoping arm extends along the base's -y axis (to the robot's right). With the wrist straight
(pitch 0) the grasp centre sits at base-frame (-0.02, -(0.41 + arm), 0.11 + lift); with the wrist pitched
down and turned outwards (yaw ~3 rad) it sits at (-0.03, -(0.17 + arm), lift - 0.14) (values from core.stretch
FK). So a target is reachable from base pose (x, y, theta) when, in the base frame, it lies on that line at
lateral offset 0.41..0.93 m (wrist straight, height 0.11..1.21 m) or 0.17..0.69 m (pitched down, height
-0.14..0.96 m).

Candidates: for every sampled heading and lateral offset (and, with an extent, every sampled point of the
target's footprint), the base pose that puts that point on the arm line. A candidate is feasible when its
cell is traversable, the base rectangle at its heading is clear (footprint.py: the base extends behind
the wheel axis), it lies in the robot's free component, and the arm's line from the base to the target
crosses at most one run of occupied cells (the receptacle under the target), i.e. no wall lies between.
The best-scoring feasible candidates the base can also drive into and out of (room to turn in place, or a
straight approach along its heading from a spot with room; see maneuvers.py) are returned, best first.
Score (higher is better, OK-Robot style): clearance of the base (obstacle proximity), a closeness penalty
that prefers a moderate arm extension over a fully retracted arm pressed against furniture or a fully
extended one, the distance from the robot, and how far the reach point is from the target's centre.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from core.stretch import ANGLED_WRIST_PITCH, STRETCH, T_base_grasp
from core.types import JointState, Pose2D
from mapping.obstacles import FREE
from navigation.footprint import Footprint, poses_clear
from navigation.maneuvers import APPROACH_DISTANCES_M, approach_point, maneuverable
from navigation.occupancy import OccupancyGrid

SightCheck = Callable[[np.ndarray], np.ndarray]
"""Base poses (N, 3) -> (N,) bool: the head camera sees the target from there."""

log = logging.getLogger(__name__)

PITCH_DOWN = STRETCH.limits.wrist_pitch[0]


@dataclass(frozen=True)
class ReachMode:
    """One wrist posture: grasp centre = (forward_m, -(lateral0_m + arm), height0_m + lift) in the base frame."""

    name: str
    wrist_pitch: float
    forward_m: float
    lateral0_m: float
    height0_m: float
    wrist_yaw: float = 0.0

    @classmethod
    def from_fk(cls, name: str, wrist_pitch: float, wrist_yaw: float = 0.0) -> ReachMode:
        p = T_base_grasp(JointState(lift_m=0.0, arm_m=0.0, wrist_yaw=wrist_yaw, wrist_pitch=wrist_pitch))[:3, 3]
        return cls(name, wrist_pitch, float(p[0]), float(-p[1]), float(p[2]), wrist_yaw)

    @classmethod
    def farthest(cls, name: str, wrist_pitch: float, samples: int = 64, limit_margin_rad: float = 0.5) -> ReachMode:
        """The wrist yaw (kept `limit_margin_rad` inside its limits, so the IK can still turn the closing axis
        both ways) that puts the grasp centre farthest out along the arm: pitched down, the gripper turned
        outwards reaches ~5 cm beyond yaw 0."""
        lo, hi = STRETCH.limits.wrist_yaw
        yaws = np.linspace(lo + limit_margin_rad, hi - limit_margin_rad, samples)
        return max((cls.from_fk(name, wrist_pitch, float(y)) for y in yaws), key=lambda m: m.lateral0_m)

    def lateral_range(self) -> tuple[float, float]:
        lo, hi = STRETCH.limits.arm_m
        return self.lateral0_m + lo, self.lateral0_m + hi

    def height_range(self) -> tuple[float, float]:
        lo, hi = STRETCH.limits.lift_m
        return self.height0_m + lo, self.height0_m + hi

    def joints_for(self, lateral_m: float, z_m: float) -> JointState:
        return JointState(lift_m=float(z_m - self.height0_m), arm_m=float(lateral_m - self.lateral0_m),
                          wrist_yaw=self.wrist_yaw, wrist_pitch=self.wrist_pitch)


REACH_MODES = (ReachMode.from_fk("straight", 0.0), ReachMode.farthest("down", PITCH_DOWN),
               ReachMode.from_fk("angled", ANGLED_WRIST_PITCH))
"""Level, pitched down (turned outwards), and pitched 45 degrees down along the arm (grasping's angled
grasps: lateral 0.32..0.84 m, height -0.07..1.03 m). The default modes are the first two; the angled one is
asked for by name (a re-park for an angled grasp, carrying an object held that way)."""


@dataclass(frozen=True)
class BaseGoalConfig:
    heading_samples: int = 48
    lateral_step_m: float = 0.05
    lateral_margin_m: float = 0.04
    """Stay this far inside the arm's extension range."""
    farthest_reach: bool = True
    """The arm's farthest extension (its range less the margin) is a candidate besides the
    `lateral_step_m` grid: an object deep on a counter against a wall is often reachable only there.
    False: the grid alone (as before; regression tests of what re-parking recovers use it)."""
    height_margin_m: float = 0.02
    extent_margin_m: float = 0.08
    """With an extent, reach points stay this far inside the target's footprint."""
    extent_step_m: float = 0.10
    max_extent_points: int = 49
    preferred_extension: float = 0.35
    """Preferred arm extension as a fraction of its range (the closeness penalty is zero there)."""
    preferred_clearance_m: float = 0.45
    w_clearance: float = 1.0
    w_extension: float = 1.0
    w_distance: float = 0.05
    """Per metre from the robot."""
    w_centre: float = 0.5
    """Per metre between the reach point and the target's centre."""
    modes: tuple[str, ...] = ("straight", "down")
    footprint: Footprint | None = Footprint()
    """The parked base's rectangle must be clear too (None: the disc check only)."""
    approach_distances_m: tuple[float, ...] = APPROACH_DISTANCES_M
    """A goal must have room to turn in place or an approach point this far behind it (maneuvers.py)."""
    max_ranked: int = 20
    tight_parking: bool = False
    """Also park where the disc around the base would touch furniture but the base's rectangle (0.18 m to
    each side) keeps its margin, reached by driving straight in along the final heading: the arm side can
    come ~3 cm closer to a table or shelf than the planner's 0.24 m inflation allows. Off by default (paths
    then keep the full robot radius everywhere); the task machine turns it on. Needs `footprint`."""
    arm_heading: float | None = None
    """Park only where the arm (wrist straight) points along this world heading, within
    `arm_heading_tolerance_rad`: a side grasp planned from the object's points comes in along its approach
    direction (the pick's in-place turn and wrist yaw take up the rest). None: any heading."""
    arm_heading_tolerance_rad: float = 0.3
    wall_min_height_m: float = 1.25
    """An obstacle cell this tall (and above the target) on the arm's line is a wall the arm cannot pass;
    lower furniture (a shelf's upper boards) is left to the grasp planner's collision checks."""
    sight_candidates: int = 400
    """With a `sees` check (choose_base_goal), the best this many feasible poses are checked for a view of
    the target; those with one are ranked first."""


@dataclass
class BaseGoal:
    pose: Pose2D
    score: float
    reach_xyz: np.ndarray  # (3,) world point the grasp centre goes to
    joints: JointState  # lift / arm / wrist pitch that put the grasp centre on reach_xyz
    mode: str
    clearance_m: float
    lateral_m: float


@dataclass
class BaseGoalCandidates:
    """Every candidate considered: poses (K, 3) [x, y, theta], scores (K,), reach points (K, 3), and
    feasibility flags (K,) for each check."""

    poses: np.ndarray
    scores: np.ndarray
    reach_xyz: np.ndarray
    lateral_m: np.ndarray
    mode_index: np.ndarray
    traversable: np.ndarray
    connected: np.ndarray
    arm_clear: np.ndarray
    footprint_clear: np.ndarray
    tight: np.ndarray | None = None
    """Closer to furniture than the planner's disc allows, but the base rectangle fits (parked side-on,
    reached by a straight approach)."""

    @property
    def feasible(self) -> np.ndarray:
        standable = self.traversable if self.tight is None else (self.traversable | self.tight)
        return standable & self.connected & self.arm_clear & self.footprint_clear

    def __len__(self) -> int:
        return len(self.scores)


@dataclass
class BaseGoalResult:
    success: bool
    reason: str
    goal: BaseGoal | None = None
    candidates: BaseGoalCandidates | None = None
    ranked: list[BaseGoal] = field(default_factory=list)


def _footprint_points(target_xyz: np.ndarray, extent: np.ndarray | None, cfg: BaseGoalConfig) -> np.ndarray:
    t = np.asarray(target_xyz, np.float64)[:3]
    if extent is None:
        return t[None]
    half = np.maximum(np.asarray(extent, np.float64)[:2] / 2 - cfg.extent_margin_m, 0.0)
    # At most ~max_extent_points reach points over the footprint.
    step = max(cfg.extent_step_m, math.sqrt(4 * half[0] * half[1] / cfg.max_extent_points))
    axes = []
    for h, c in zip(half, t[:2], strict=True):
        n = int(math.floor(h / step))
        axes.append(c + np.linspace(-n * step, n * step, 2 * n + 1) if n else np.array([c]))
    gx, gy = np.meshgrid(*axes)
    pts = np.stack([gx.ravel(), gy.ravel(), np.full(gx.size, t[2])], axis=1)
    return pts


def _arm_line_clear(grid: OccupancyGrid, base_xy: np.ndarray, reach_xy: np.ndarray,
                    target_z: float | None = None, over_margin_m: float = 0.15,
                    wall_min_height_m: float = 1.25) -> np.ndarray:
    """(K,) True when the line base -> reach point enters occupied/unknown space at most once and (where
    the grid knows obstacle heights) crosses no wall: nothing at least `wall_min_height_m` tall that also
    rises above the target by `over_margin_m`. A wall between base and target is caught even when unknown
    space joins it to the receptacle; a shelf's boards above an object inside it are not walls."""
    step = grid.resolution_m / 2
    n = max(int(math.ceil(np.linalg.norm(reach_xy - base_xy, axis=1).max() / step)), 1) + 1
    t = np.linspace(0.0, 1.0, n)
    pts = base_xy[:, None, :] + t[None, :, None] * (reach_xy - base_xy)[:, None, :]
    rc = grid.world_to_cell(pts.reshape(-1, 2))
    ok = grid.in_bounds(rc)
    free = np.zeros(len(rc), bool)
    free[ok] = grid.state[rc[ok, 0], rc[ok, 1]] == FREE
    free = free.reshape(len(base_xy), n)
    free[:, 0] = True  # the base stands on free floor
    entries = (free[:, :-1] & ~free[:, 1:]).sum(axis=1)
    clear = entries <= 1
    if target_z is not None and grid.max_height_m is not None:
        height = np.full(len(rc), np.nan, np.float32)
        height[ok] = grid.max_height_m[rc[ok, 0], rc[ok, 1]]
        tall = ((height > target_z + over_margin_m) & (height >= wall_min_height_m)).reshape(len(base_xy), n)
        clear &= ~tall.any(axis=1)
    return clear


def choose_base_goal(
    grid: OccupancyGrid,
    start: Pose2D,
    target_xyz: np.ndarray,
    extent: np.ndarray | None = None,
    config: BaseGoalConfig = BaseGoalConfig(),
    start_component: int | None = None,
    z_span: tuple[float, float] | None = None,
    sees: SightCheck | None = None,
) -> BaseGoalResult:
    """Pick the best base pose from which the arm reaches `target_xyz` (see the module docstring).

    `start_component`: the free component label of the (snapped) start; by default the start's own cell.
    `z_span`: (low, high) heights the grasp centre may take on the target (an object's vertical extent):
    each reach mode then aims at the height in the span nearest the target's that its lift range allows.
    A top-down grasp holds a short object on a high counter below its top, where the pitched-down wrist
    still reaches, though the object's centre is just above that wrist's range (held-out apartment 2202).
    `sees`: base poses (N, 3) -> (N,) bool, whether the head camera would see the target from there (the
    pick segments it in that view): of the best `config.sight_candidates` feasible poses, those that see it
    come first, in score order; when none does, the order is the score's.
    """
    target = np.asarray(target_xyz, np.float64).reshape(3)
    modes = [m for m in REACH_MODES if m.name in config.modes]
    z = float(target[2])
    span = (z, z) if z_span is None else (min(float(z_span[0]), z), max(float(z_span[1]), z))
    usable, mode_z = [], {}
    for mi, m in enumerate(modes):
        lo, hi = m.height_range()
        lo, hi = max(lo + config.height_margin_m, span[0]), min(hi - config.height_margin_m, span[1])
        if lo <= hi:
            usable.append(mi)
            mode_z[mi] = min(max(z, lo), hi)
    if not usable:
        ranges = ", ".join(f"{m.height_range()[0]:.2f}-{m.height_range()[1]:.2f} m ({m.name})" for m in modes)
        where = f"{z:.2f} m" if span[0] == span[1] else f"{span[0]:.2f}-{span[1]:.2f} m"
        return BaseGoalResult(False, f"target height {where} is outside the arm's reach ({ranges})")

    pts = _footprint_points(target, extent, config)
    thetas = np.linspace(-math.pi, math.pi, config.heading_samples, endpoint=False)
    if config.arm_heading is not None:  # the arm extends along the base's -y: heading = theta - pi/2
        tol = config.arm_heading_tolerance_rad
        n = max(3, int(round(config.heading_samples * tol / math.pi)) | 1)
        thetas = config.arm_heading + math.pi / 2 + np.linspace(-tol, tol, n)
    rows = []
    for mi in usable:
        m = modes[mi]
        lo, hi = m.lateral_range()
        lats = _samples(lo + config.lateral_margin_m, hi - config.lateral_margin_m, config.lateral_step_m,
                        config.farthest_reach)
        P, T, L = np.meshgrid(np.arange(len(pts)), thetas, lats, indexing="ij")
        P, T, L = P.ravel(), T.ravel(), L.ravel()
        c, s = np.cos(T), np.sin(T)
        # world reach point = base + R(theta) @ (forward, -lateral)
        off_x = c * m.forward_m + s * L
        off_y = s * m.forward_m - c * L
        bx, by = pts[P, 0] - off_x, pts[P, 1] - off_y
        ext = (L - lo) / (hi - lo)
        reach = pts[P].copy()
        reach[:, 2] = mode_z[mi]
        rows.append((bx, by, T, L, reach, np.full(len(P), mi), ext))
    bx, by, th, lat, reach, mode_idx, ext = (np.concatenate([r[k] for r in rows]) for k in range(7))
    base_xy = np.stack([bx, by], axis=1)

    trav = grid.is_traversable(base_xy)
    comp = grid.component_of(base_xy)
    if start_component is None:
        start_component = int(grid.component_of(start.xy)[0])
    connected = (comp == start_component) & (start_component > 0)
    reachable_free = connected.copy()  # traversable and in the robot's component
    clearance = grid.clearance_at(base_xy).astype(np.float64)
    tight = None
    if config.footprint is not None and config.tight_parking:
        fp = config.footprint
        tight = ~trav & (clearance >= fp.half_width_m + fp.margin_m)
        connected |= tight  # checked below: its straight approach must start in the robot's component
    standable = trav if tight is None else (trav | tight)
    arm_clear = np.zeros(len(bx), bool)
    fp_clear = np.zeros(len(bx), bool)
    idx = np.nonzero(standable)[0]
    if len(idx):
        arm_clear[idx] = _arm_line_clear(grid, base_xy[idx], reach[idx, :2], float(target[2]),
                                         wall_min_height_m=config.wall_min_height_m)
        fp_clear[idx] = True if config.footprint is None else poses_clear(grid, base_xy[idx], th[idx], config.footprint)
    dist = np.linalg.norm(base_xy - start.xy, axis=1)
    off_centre = np.linalg.norm(reach[:, :2] - target[:2], axis=1)
    score = (
        config.w_clearance * np.minimum(clearance, config.preferred_clearance_m) / config.preferred_clearance_m
        - config.w_extension * np.abs(ext - config.preferred_extension)
        - config.w_distance * dist
        - config.w_centre * off_centre
    )
    cands = BaseGoalCandidates(
        poses=np.stack([bx, by, th], axis=1), scores=score, reach_xyz=reach, lateral_m=lat,
        mode_index=mode_idx, traversable=trav, connected=connected, arm_clear=arm_clear,
        footprint_clear=fp_clear, tight=tight,
    )
    feasible = cands.feasible
    if config.footprint is not None and not (reachable_free & arm_clear & fp_clear).any():
        # Only tight poses remain: they count when their straight approach starts in the robot's component.
        tight_ok = [i for i in np.nonzero(feasible)[0][np.argsort(-score[feasible], kind="stable")][:200]
                    if _tight_entry(grid, cands, int(i), config, start_component)]
        if not tight_ok:
            feasible = np.zeros_like(feasible)
    if not feasible.any():
        if not (standable & arm_clear & fp_clear).any():
            reason = (f"no free base pose within arm reach of the target ({target[0]:.2f}, {target[1]:.2f}, "
                      f"{target[2]:.2f}): every pose that reaches it is blocked or behind a wall")
        elif not (trav & arm_clear & fp_clear).any():
            reason = (f"base poses within arm reach of the target ({target[0]:.2f}, {target[1]:.2f}, "
                      f"{target[2]:.2f}) exist only side-on against furniture, with no straight way in "
                      "from where the robot can turn")
        else:
            reason = (f"base poses within arm reach of the target ({target[0]:.2f}, {target[1]:.2f}, "
                      f"{target[2]:.2f}) exist, but none is connected to the robot's position")
        return BaseGoalResult(False, reason, candidates=cands)
    order = np.nonzero(feasible)[0][np.argsort(-score[feasible], kind="stable")]
    if sees is not None and len(order):
        top = order[: config.sight_candidates]
        seen = np.asarray(sees(cands.poses[top]), bool)
        if seen.any():
            order = np.concatenate([top[seen], top[~seen], order[len(top):]])
    ranked = []
    if config.footprint is not None:
        # Best first, keep goals the base can drive into and out of (room to turn, or a straight approach).
        for i in order[: 20 * config.max_ranked]:
            goal = _goal(cands, int(i), modes, clearance)
            if tight is not None and tight[i]:  # only reachable straight in, from the robot's component
                ok = _tight_entry(grid, cands, int(i), config, start_component)
            else:
                ok = maneuverable(grid, goal.pose, config.approach_distances_m, config.footprint)
            if ok:
                ranked.append(goal)
                if len(ranked) >= config.max_ranked:
                    break
        if not ranked:
            return BaseGoalResult(
                False, f"base poses within arm reach of the target ({target[0]:.2f}, {target[1]:.2f}, "
                f"{target[2]:.2f}) exist, but none has room for the base to turn there or a straight approach",
                candidates=cands)
    else:
        ranked = [_goal(cands, int(i), modes, clearance) for i in order[: config.max_ranked]]
    return BaseGoalResult(True, "ok", ranked[0], cands, ranked)


def _samples(lo: float, hi: float, step: float, with_hi: bool = True) -> np.ndarray:
    """lo, lo + step, ... and (`with_hi`) hi itself, whatever the step."""
    if hi < lo:
        return np.zeros(0)
    out = np.arange(lo, hi + 1e-9, step)
    return out if not with_hi or hi - out[-1] < 1e-6 else np.append(out, hi)


def _tight_entry(grid: OccupancyGrid, c: BaseGoalCandidates, i: int, config: BaseGoalConfig,
                 start_component: int) -> bool:
    """A tight pose's straight approach exists and starts in the robot's free component."""
    x, y, th = c.poses[i]
    ap = approach_point(grid, Pose2D(float(x), float(y), float(th)), config.approach_distances_m, config.footprint)
    return ap is not None and int(grid.component_of(ap)[0]) == start_component


def _goal(c: BaseGoalCandidates, i: int, modes: list[ReachMode], clearance: np.ndarray) -> BaseGoal:
    m = modes[int(c.mode_index[i])]
    x, y, th = c.poses[i]
    return BaseGoal(
        pose=Pose2D(float(x), float(y), float(math.atan2(math.sin(th), math.cos(th)))),
        score=float(c.scores[i]),
        reach_xyz=c.reach_xyz[i].copy(),
        joints=m.joints_for(float(c.lateral_m[i]), float(c.reach_xyz[i, 2])),
        mode=m.name,
        clearance_m=float(clearance[i]),
        lateral_m=float(c.lateral_m[i]),
    )
