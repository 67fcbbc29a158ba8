"""The navigation facade: map grid + robot pose + goal (a pose or a 3D target) -> waypoints for the base.

    nav = Navigator(NavigationConfig())
    result = nav.plan_to_target(obstacle_grid, Pose2D(0, 0, 0), target_xyz=[2.0, 1.0, 0.8])
    if result.success:
        for wp in result.waypoints: robot.move_base_to(wp)
    else:
        log.warning(result.reason)    # or result.raise_for_failure() -> NavigationError (an OvmmError)
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field

import numpy as np

from core.errors import OvmmError
from core.types import Pose2D
from mapping.obstacles import ObstacleGrid
from navigation.base_goal import BaseGoal, BaseGoalCandidates, BaseGoalConfig, SightCheck, choose_base_goal
from navigation.footprint import Footprint, leaving
from navigation.maneuvers import (
    APPROACH_DISTANCES_M,
    approach_point,
    clear_start_turn,
    escape_point,
    turn_checks,
)
from navigation.occupancy import OccupancyConfig, OccupancyGrid, occupancy_from_obstacle_grid
from navigation.planner import GridPlanner, PlannerConfig
from navigation.smoothing import shortcut, to_waypoints

log = logging.getLogger(__name__)


class NavigationError(OvmmError):
    """No path or no base pose: the goal is unreachable (the message says why)."""


@dataclass(frozen=True)
class NavigationConfig:
    occupancy: OccupancyConfig = field(default_factory=OccupancyConfig)
    planner: PlannerConfig = field(default_factory=PlannerConfig)
    base_goal: BaseGoalConfig = field(default_factory=BaseGoalConfig)
    max_goal_attempts: int = 5
    """plan_to_target tries this many of the best base goals until one has a path."""
    smooth: bool = True
    footprint: Footprint = field(default_factory=Footprint)
    """The base rectangle for heading-aware checks (parking, turns in place)."""
    approach_distances_m: tuple[float, ...] = APPROACH_DISTANCES_M
    """Try a waypoint this far behind the goal on its heading line, so the final turn happens in the open
    (empty: drive straight to the goal and turn there)."""
    escape_distances_m: tuple[float, ...] = tuple(round(0.1 * k, 2) for k in range(1, 26))
    """Straight drives (ahead or back) tried to get out of a spot where the base cannot turn: up to 2.5 m,
    as far as an approach may have come in."""
    snap_drive_min_m: float = 0.05
    """A start the planner snapped out of blocked space by at most this much (a pose a pick or a stop left
    a few cm inside an obstacle's inflation) is not driven to the snapped point first: a differential base
    would turn on the spot, up to 90 degrees, to move a few cm sideways, and that turn is what touches. The
    first leg starts where the robot stands; further snaps are driven to first."""


@dataclass
class NavigationResult:
    success: bool
    reason: str
    start: Pose2D
    goal: Pose2D | None = None
    waypoints: list[Pose2D] = field(default_factory=list)
    path_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # planned polyline
    smoothed_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))  # start + waypoint positions
    base_goal: BaseGoal | None = None
    candidates: BaseGoalCandidates | None = None
    method: str = ""
    timing_s: dict[str, float] = field(default_factory=dict)
    blocked_turns: list[int] = field(default_factory=list)
    """Turns whose footprint sweep touches obstacles: waypoint indices, -1 = the turn at the start."""

    @property
    def length_m(self) -> float:
        pts = self.smoothed_xy if len(self.smoothed_xy) >= 2 else self.path_xy
        if len(pts) < 2:
            return 0.0
        return float(np.linalg.norm(np.diff(pts, axis=0), axis=1).sum())

    def raise_for_failure(self) -> NavigationResult:
        if not self.success:
            raise NavigationError(self.reason)
        return self

    def to_dict(self) -> dict:
        """JSON-ready summary (format "ovmm-nav-plan" version 1)."""
        bg = self.base_goal
        return {
            "format": "ovmm-nav-plan",
            "version": 1,
            "success": self.success,
            "reason": self.reason,
            "start": self.start.to_list(),
            "goal": None if self.goal is None else self.goal.to_list(),
            "waypoints": [w.to_list() for w in self.waypoints],
            "length_m": self.length_m,
            "method": self.method,
            "blocked_turns": list(self.blocked_turns),
            "timing_s": dict(self.timing_s),
            "base_goal": None if bg is None else {
                "pose": bg.pose.to_list(), "score": bg.score, "reach_xyz": [float(v) for v in bg.reach_xyz],
                "mode": bg.mode, "lift_m": bg.joints.lift_m, "arm_m": bg.joints.arm_m,
                "wrist_pitch": bg.joints.wrist_pitch, "clearance_m": bg.clearance_m,
            },
        }


class Navigator:
    """Plans base motions on map grids; keeps per-map graphs cached between calls."""

    def __init__(self, config: NavigationConfig = NavigationConfig(), planner: GridPlanner | None = None):
        """`planner`: share another navigator's (same planner config) and its cached graphs."""
        self.config = config
        self.planner = planner if planner is not None and planner.config == config.planner else GridPlanner(config.planner)

    def occupancy(self, grid: ObstacleGrid | OccupancyGrid, start: Pose2D | None = None) -> OccupancyGrid:
        if isinstance(grid, OccupancyGrid):
            return grid
        return occupancy_from_obstacle_grid(grid, self.config.occupancy, start)

    def plan_to_pose(self, grid: ObstacleGrid | OccupancyGrid, start: Pose2D, goal: Pose2D) -> NavigationResult:
        t0 = time.perf_counter()
        occ = self.occupancy(grid, start)
        t1 = time.perf_counter()
        result = self._path(occ, start, goal)
        result.timing_s = {"occupancy": t1 - t0, "plan": result.timing_s.get("plan", 0.0),
                           "smooth": result.timing_s.get("smooth", 0.0), "total": time.perf_counter() - t0}
        return result

    def _path(self, occ: OccupancyGrid, start: Pose2D, goal: Pose2D, allow_escape: bool = True,
              use_approach: bool = False) -> NavigationResult:
        cfg = self.config
        fp = cfg.footprint
        t0 = time.perf_counter()
        approach = None
        tight = not occ.is_traversable(goal.xy)[0] and bool(cfg.approach_distances_m) and \
            float(occ.clearance_at(goal.xy)[0]) >= fp.half_width_m + fp.margin_m
        if (use_approach or tight) and cfg.approach_distances_m:
            # A tight goal (side-on to furniture, closer than the disc allows) is only entered straight.
            approach = approach_point(occ, goal, cfg.approach_distances_m, fp)
        path = self.planner.plan(occ, start.xy, goal.xy if approach is None else approach)
        if not path.success and approach is not None and not tight:
            approach, path = None, self.planner.plan(occ, start.xy, goal.xy)
        t1 = time.perf_counter()
        if not path.success:
            return NavigationResult(False, path.reason, start, goal, timing_s={"plan": t1 - t0})
        pts = path.points_xy
        if cfg.smooth:
            smoothed = shortcut(occ, pts, cfg.planner.cost.preferred_clearance_m,
                                turn_clearance_m=fp.turn_radius_m + fp.margin_m)
        else:
            smoothed = pts
        if approach is not None:  # drive the last stretch already facing the final heading
            smoothed = np.concatenate([smoothed, goal.xy[None]])
            pts = np.concatenate([pts, goal.xy[None]])
        waypoints = to_waypoints(smoothed, goal.theta)
        if approach is not None and len(waypoints) >= 2:
            # Face the final heading at the approach point: the last stretch is driven straight (backing
            # up when the approach point lies ahead of the goal).
            a = waypoints[-2]
            waypoints[-2] = Pose2D(a.x, a.y, goal.theta)
        snap_m = 0.0 if path.start_xy is None else float(np.linalg.norm(path.start_xy - start.xy))
        snapped = snap_m > cfg.snap_drive_min_m
        if 1e-9 < snap_m <= cfg.snap_drive_min_m:  # the first leg starts where the robot stands
            smoothed = np.concatenate([start.xy[None], smoothed[1:]])
        elif snapped:
            # The start was snapped out of blocked space: drive to the snapped point first.
            smoothed = np.concatenate([start.xy[None], smoothed])
            waypoints = [Pose2D(float(smoothed[1, 0]), float(smoothed[1, 1]), start.theta), *waypoints]
        if not waypoints:  # already there: just turn
            waypoints = [Pose2D(start.x, start.y, goal.theta)]
        result = NavigationResult(
            True, path.reason, start, waypoints[-1], waypoints, pts, smoothed, method=path.method,
            timing_s={"plan": t1 - t0, "smooth": time.perf_counter() - t1},
        )
        result.blocked_turns = [k for k, ok in turn_checks(occ, start, waypoints, fp) if not ok]
        if not use_approach and len(waypoints) - 1 in result.blocked_turns and cfg.approach_distances_m:
            # The final turn would swing the base into obstacles: arrive already facing the heading.
            alt = self._path(occ, start, goal, allow_escape, use_approach=True)
            if alt.success and len(alt.waypoints) - 1 not in alt.blocked_turns:
                alt.timing_s["plan"] += result.timing_s["plan"]
                return alt
        if snapped and 0 in result.blocked_turns:
            from_snap = self._from_snapped(occ, start, goal, waypoints[0], allow_escape, use_approach)
            if from_snap is not None:
                from_snap.timing_s["plan"] += result.timing_s["plan"]
                return from_snap
        if -1 in result.blocked_turns:
            turned = self._turn_first(occ, start, result)
            if turned is not None:
                return turned
        if allow_escape and -1 in result.blocked_turns and cfg.escape_distances_m:
            escaped = self._escape(occ, start, goal, waypoints[0].xy)
            if escaped is not None:
                escaped.timing_s["plan"] += result.timing_s["plan"]
                return escaped
        if result.blocked_turns:
            log.info("turns at waypoints %s sweep the base footprint into obstacles", result.blocked_turns)
        return result

    def _turn_first(self, occ: OccupancyGrid, start: Pose2D, result: NavigationResult) -> NavigationResult | None:
        """The turn at the start sweeps into obstacles: turn in place first where that is clear (the other
        way round, or to back up), as waypoints at the start that only change the heading."""
        first = result.waypoints[0]
        if np.hypot(*(first.xy - start.xy)) <= 0.01:
            return None
        fp = self.config.footprint
        leave = leaving(occ, start.xy, start.theta, fp)  # a start already inside the margin may turn away
        headings = clear_start_turn(occ, start, first.xy, leave)
        if headings is None:
            return None
        turns = [Pose2D(start.x, start.y, h) for h in headings]
        waypoints = [*turns, *result.waypoints]
        at_start = dict(turn_checks(occ, start, waypoints, leave))
        blocked = [k for k, ok in turn_checks(occ, start, waypoints, fp)
                   if not ok and not (k < len(turns) and at_start[k])]
        if any(k < len(turns) for k in blocked):  # still a touching turn before the first drive
            return None
        result.waypoints, result.blocked_turns = waypoints, blocked
        result.reason += " (after turning in place the clear way)"
        return result

    def _from_snapped(self, occ: OccupancyGrid, start: Pose2D, goal: Pose2D, snap: Pose2D, allow_escape: bool,
                      use_approach: bool) -> NavigationResult | None:
        """The start was snapped out of blocked space and the turn at the snapped point touches: plan on from
        the snapped pose itself, so that turn is the start turn of that plan and gets turned the clear way or
        backed out of (`_turn_first`, `_escape`), then drive to the snapped point first."""
        sub = self._path(occ, snap, goal, allow_escape, use_approach)
        if not sub.success or -1 in sub.blocked_turns:
            return None
        sub.start, sub.waypoints = start, [snap, *sub.waypoints]
        sub.blocked_turns = [k for k, ok in turn_checks(occ, start, sub.waypoints, self.config.footprint) if not ok]
        sub.path_xy = np.concatenate([start.xy[None], sub.path_xy])
        sub.smoothed_xy = np.concatenate([start.xy[None], sub.smoothed_xy])
        sub.reason += " (from the start snapped out of blocked space)"
        if -1 in sub.blocked_turns:  # the turn to drive to the snapped point
            sub = self._turn_first(occ, start, sub)
        if sub is None or any(np.hypot(*(sub.waypoints[k].xy - snap.xy)) <= 0.01 for k in sub.blocked_turns):
            return None  # still a touching turn where the robot stands
        return sub

    def _escape(self, occ: OccupancyGrid, start: Pose2D, goal: Pose2D, toward: np.ndarray) -> NavigationResult | None:
        """The robot cannot turn where it stands: first drive straight ahead/back to a spot with room."""
        cfg = self.config
        e = escape_point(occ, start, toward, cfg.escape_distances_m, cfg.footprint,
                         leave_fp=leaving(occ, start.xy, start.theta, cfg.footprint))
        if e is None:
            return None
        first = Pose2D(float(e[0]), float(e[1]), start.theta)
        sub = self._path(occ, first, goal, allow_escape=False, use_approach=True)
        if not sub.success or -1 in sub.blocked_turns:
            return None
        sub.start = start
        sub.waypoints = [first, *sub.waypoints]
        sub.path_xy = np.concatenate([start.xy[None], sub.path_xy])
        sub.smoothed_xy = np.concatenate([start.xy[None], sub.smoothed_xy])
        sub.blocked_turns = [k + 1 for k in sub.blocked_turns]
        sub.reason += " (after backing out to turn)"
        return sub

    def plan_to_target(
        self,
        grid: ObstacleGrid | OccupancyGrid,
        start: Pose2D,
        target_xyz: np.ndarray,
        extent: np.ndarray | None = None,
        z_span: tuple[float, float] | None = None,
        sees: SightCheck | None = None,
    ) -> NavigationResult:
        """Choose a base pose from which the arm reaches `target_xyz` (anywhere on its `extent` footprint
        when given; at any height in `z_span` when given; one the head camera sees it from first when `sees`
        is given: see choose_base_goal) and plan a path there."""
        t0 = time.perf_counter()
        occ = self.occupancy(grid, start)
        t1 = time.perf_counter()
        snapped = self.planner.snap(occ, start.xy)
        if snapped is None:
            return NavigationResult(
                False, f"start ({start.x:.2f}, {start.y:.2f}) is inside an obstacle or unknown space and no free "
                f"cell is within {self.config.planner.snap_radius_m:.2f} m of it", start,
                timing_s={"total": time.perf_counter() - t0},
            )
        comp = int(occ.component_of(snapped)[0])
        bg = choose_base_goal(occ, start, target_xyz, extent, self.config.base_goal, start_component=comp,
                              z_span=z_span, sees=sees)
        t2 = time.perf_counter()
        timing = {"occupancy": t1 - t0, "base_goal": t2 - t1}
        if not bg.success:
            timing["total"] = time.perf_counter() - t0
            return NavigationResult(False, bg.reason, start, candidates=bg.candidates, timing_s=timing)
        last, found = None, None
        for goal in bg.ranked[: self.config.max_goal_attempts]:
            res = self._path(occ, start, goal.pose)
            last = res
            if res.success:
                res.base_goal = goal
                res.goal = goal.pose
                found = found or res
                if not res.blocked_turns:  # else a later goal may be reached without touching on a turn
                    found = res
                    break
        if found is not None:
            res = found
            res.candidates = bg.candidates
            timing.update(plan=res.timing_s.get("plan", 0.0), smooth=res.timing_s.get("smooth", 0.0))
            timing["total"] = time.perf_counter() - t0
            res.timing_s = timing
            return res
        timing["total"] = time.perf_counter() - t0
        reason = last.reason if last is not None else "no base goal to plan to"
        return NavigationResult(False, f"no path to any base pose that reaches the target: {reason}", start,
                                candidates=bg.candidates, timing_s=timing)
