"""Frontier exploration: scan a home the robot has never seen, using only what it has seen so far.

    result = explore(robot, perception, vmap, ExplorationConfig())
    result.report.to_dict()  # explored area, path length, frames, time, frontiers given up, stop reason

The loop (any robots.protocol.Robot; the simulator's SimRobot or the real Stretch's client):
1. Look around: the head turns through `num_pans` pans at each of `head_tilts` (the first look, a look
   from a spot whose surroundings are not yet known free and the second look at a frontier add `near_tilt`
   to see the floor around the base; where even that leaves the base's surroundings unknown, as at a start
   facing a wall, it turns in place a quarter turn at a time and looks again); every frame loses the robot's own body (mapping.self_filter), goes through perception and is
   fused into the VoxelMap; then the head is aimed at what the look detected in too few frames (second looks,
   orchestrator.exploration_second_look). The floor the base drove over is marked seen (scanning.mark_driven_floor).
2. The map's obstacle grid (mapping.obstacles: UNKNOWN / FREE / OBSTACLE) is inflated into an occupancy grid
   with unknown cells blocked (navigation.occupancy), so every plan stays inside floor seen free.
3. Frontiers (navigation.frontiers: seen floor next to unknown cells, clustered, each with a viewpoint that
   sees it and a geodesic travel cost) that are not given up are ranked by gain / (travel + offset).
4. The robot plans to the best one's viewpoint with the project's Navigator and drives there waypoint by
   waypoint (a stopped drive re-plans from where it stopped, `replans` times); then back to 1.
A frontier that could not be reached, or is still there after the robot looked from its viewpoint, counts a
try against every frontier within `same_frontier_m` of it; after `max_tries` it is given up (reported).
It stops when no reachable frontier is left, or a budget (`max_time_s`, `max_distance_m`, `max_frames`) is
spent, or on Ctrl-C (KeyboardInterrupt; the map fused so far is kept, never half a frame: SIGINT waits
while a frame is fused), or when `should_stop()` says so (a key pressed). Frontiers that no viewpoint reaches
(a room seen through a gap too narrow for the base) are reported as unreachable.

Safety on a real robot (`ovmm scan --robot HOST --explore`): every plan stays on floor the camera saw free
or the base drove over (unknown cells are obstacles), with the Navigator's clearance; a RobotError (the
link to the robot server lost, the camera dead, "not localised" / a lost track from LocalizedRobot) or a
failed motion whose reason names a robot fault (`stop_on`: the server's watchdog, a stop, the runstop, a low
battery) stops the robot and ends the exploration with the map fused so far (report.error).

Exploring a simulated scene and scoring the map against its ground truth: orchestrator.exploration_sim.
"""

from __future__ import annotations

import contextlib
import logging
import math
import signal
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np

from core.errors import RobotError
from core.types import Pose2D
from mapping.obstacles import FREE, ObstacleGridConfig
from mapping.self_filter import SelfFilterConfig, remove_robot_body
from mapping.voxel_map import VoxelMap
from navigation.frontiers import Frontier, FrontierConfig, find_frontiers
from navigation.navigator import NavigationConfig, Navigator
from navigation.occupancy import OccupancyGrid, occupancy_from_obstacle_grid
from orchestrator.exploration_second_look import SecondLookConfig, second_look_targets
from orchestrator.scanning import look_around_pans, mark_driven_floor

log = logging.getLogger(__name__)

STOP_DONE = "no reachable frontier left"
STOP_TIME = "time budget spent"
STOP_DISTANCE = "distance budget spent"
STOP_FRAMES = "frame budget spent"
STOP_INTERRUPTED = "interrupted"
STOP_LOST = "the robot's surroundings are not known free (it cannot plan from where it stands)"
STOP_ASKED = "stopped on request"
STOP_ROBOT = "the robot stopped"
"""Prefix of the stop reason when the robot (or its link, or its localisation) failed: report.error says how."""

ROBOT_FAULTS = ("stopped by", "lost the robot server", "got no answer", "restarted", "did not finish within",
                "could not stop", "runstop", "battery")
"""Words of a failed motion's reason that mean the robot is not fit to go on driving (the robot server's watchdog
or a stop stopped it, the link was lost, the runstop is pressed, the battery is low), as robots.client,
robots.server and robots.faults word them; anything else (blocked, stalled, missed the goal) is an ordinary
failed motion: the frontier counts a try and exploring goes on."""


class RobotFault(RobotError):
    """A motion failed for a reason in ExplorationConfig.stop_on: exploration stops, keeping the map."""


@dataclass(frozen=True)
class ExplorationConfig:
    """How `explore` looks around, chooses frontiers and when it stops; defaults in one place."""

    num_pans: int = 6
    """Head pans per look-around, spread over the head's pan range (scanning.look_around_pans)."""
    head_tilts: tuple[float, ...] = (-0.52,)
    """Head tilts of every look-around (rad; -0.52 = 30 degrees down: tables, counters and the floor from
    about 0.8 m out)."""
    near_tilt: float = -1.0
    """Extra tilt of the first look (and of any look from a spot not yet known free): the floor around the base."""
    max_time_s: float = 1800.0
    """Wall-clock budget (s)."""
    max_distance_m: float = 500.0
    """Driving budget (m of base path)."""
    max_frames: int = 5000
    """Frame budget."""
    travel_exponent: float = 1.0
    """Frontiers rank by gain / (travel + offset) ** this: above 1 favours near ones (fewer crossings)."""
    max_tries: int = 2
    """A frontier that fails this often (not reached, or still there after looking from its viewpoint) is given up."""
    same_frontier_m: float = 0.75
    """Frontiers whose centres are this close count as the same one for tries."""
    replans: int = 2
    """A stopped drive re-plans from where the robot stopped this many times."""
    unstick_turns: int = 3
    """Where the base's surroundings are not known free, quarter turns in place (each followed by a look)."""
    arrived_m: float = 0.15
    """A viewpoint this close to the base counts as reached (no drive, no turn)."""
    stop_on: tuple[str, ...] = ROBOT_FAULTS
    """A failed motion whose reason holds one of these stops exploring (report.error; the map is kept)."""
    frontier: FrontierConfig = field(default_factory=FrontierConfig)
    obstacles: ObstacleGridConfig = field(default_factory=ObstacleGridConfig)
    navigation: NavigationConfig = field(default_factory=NavigationConfig)
    self_filter: SelfFilterConfig | None = field(default_factory=SelfFilterConfig)
    """Drop depth on the robot's own body (None keeps it)."""
    second_look: SecondLookConfig = field(default_factory=SecondLookConfig)
    """After each look-around, views aimed at what it detected in too few frames (max_targets 0: none)."""

    def validate(self) -> None:
        from core.errors import InputError

        if self.num_pans < 1:
            raise InputError(f"exploration needs at least 1 head pan, got {self.num_pans}")
        if not self.head_tilts:
            raise InputError("exploration needs at least one head tilt")
        for name in ("max_time_s", "max_distance_m"):
            v = getattr(self, name)
            if not (v > 0 and math.isfinite(v)):
                raise InputError(f"exploration budget {name} must be a positive number, got {v}")
        if self.max_frames < 1:
            raise InputError(f"exploration budget max_frames must be at least 1, got {self.max_frames}")
        if self.max_tries < 1:
            raise InputError(f"max_tries must be at least 1, got {self.max_tries}")
        self.second_look.validate()


@dataclass
class FrontierRecord:
    """A frontier the loop tried (by its centre), how often, and why it failed last."""

    centroid_xy: np.ndarray
    tries: int = 0
    reason: str = ""
    given_up: bool = False

    def to_dict(self) -> dict:
        return {"centroid": [round(float(v), 3) for v in self.centroid_xy], "tries": self.tries,
                "reason": self.reason}


@dataclass
class ExplorationReport:
    explored_area_m2: float = 0.0
    """Floor seen free (cells of the final occupancy grid)."""
    path_length_m: float = 0.0
    frames: int = 0
    looks: int = 0
    time_s: float = 0.0
    stop_reason: str = ""
    interrupted: bool = False
    error: str = ""
    """Why the robot stopped when it failed (a watchdog, a lost link or localisation, the runstop); '' otherwise."""
    frontiers_left: int = 0
    """Reachable frontiers not given up when it stopped (0 when it finished)."""
    given_up: list[FrontierRecord] = field(default_factory=list)
    unreachable: list[dict] = field(default_factory=list)
    """Frontiers no viewpoint reaches at the end: {"centroid", "size_m"} (e.g. a room behind a gap)."""
    path_xy: np.ndarray = field(default_factory=lambda: np.zeros((0, 2)))
    """The base's positions, start first (one per reached waypoint)."""
    sim: dict | None = None
    """In simulation: sim_coverage's figures."""
    localization: dict | None = None
    """With a localising robot (orchestrator.localized_robot): what localisation did (LocalizationLog)."""

    def to_dict(self) -> dict:
        d = {"format": "ovmm-exploration-report", "version": 1,
             "explored_area_m2": round(self.explored_area_m2, 2), "path_length_m": round(self.path_length_m, 2),
             "frames": self.frames, "looks": self.looks, "time_s": round(self.time_s, 1),
             "stop_reason": self.stop_reason, "interrupted": self.interrupted, "error": self.error,
             "frontiers_left": self.frontiers_left,
             "frontiers_given_up": [r.to_dict() for r in self.given_up], "frontiers_unreachable": self.unreachable,
             "path_xy": np.round(self.path_xy, 3).tolist()}
        if self.sim is not None:
            d["simulation"] = self.sim
        if self.localization is not None:
            d["localization"] = self.localization
        return d


@dataclass
class ExplorationProgress:
    """What a progress display shows after each frame."""

    frames: int
    explored_area_m2: float
    frontiers_left: int
    path_length_m: float
    occupancy: OccupancyGrid | None = None
    """The latest occupancy grid (rebuilt after each look; read-only)."""


@dataclass
class ExplorationResult:
    voxel_map: VoxelMap
    report: ExplorationReport
    occupancy: OccupancyGrid | None
    """The last occupancy grid (for pictures); None if nothing was seen."""
    frontiers: list[Frontier] = field(default_factory=list)
    """The frontiers of that grid (remaining unknown edges)."""
    object_frames: dict[int, int] = field(default_factory=dict)
    """Simulator instance id -> frames it was observed in (ground-truth perception)."""


@contextlib.contextmanager
def sigint_deferred() -> Iterator[None]:
    """Ctrl-C while inside waits until the block ends (a frame is fused whole), then raises KeyboardInterrupt.
    Only in the main thread (elsewhere signals cannot be caught and nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, _frame: pending.append(signum))
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)
    if pending:
        raise KeyboardInterrupt


class _Explorer:
    def __init__(self, robot, perception, vmap: VoxelMap, config: ExplorationConfig,
                 on_progress: Callable[[ExplorationProgress], None] | None,
                 on_frame: Callable | None = None, should_stop: Callable[[], bool] | None = None) -> None:
        self.robot, self.perception, self.vmap, self.cfg = robot, perception, vmap, config
        self.on_progress, self.on_frame, self.should_stop = on_progress, on_frame, should_stop
        self.navigator = Navigator(config.navigation)
        self.report = ExplorationReport()
        self.records: list[FrontierRecord] = []
        self.path: list[Pose2D] = [robot.get_base_pose()]
        self.occ: OccupancyGrid | None = None
        self.frontiers: list[Frontier] = []
        self.object_frames: dict[int, int] = {}
        self.t0 = time.perf_counter()
        self.pans = look_around_pans(config.num_pans)

    # -- budgets ------------------------------------------------------------------------------------------
    def budget_spent(self) -> str | None:
        cfg, rep = self.cfg, self.report
        if self.should_stop is not None and self.should_stop():
            return STOP_ASKED
        if rep.frames >= cfg.max_frames:
            return STOP_FRAMES
        if rep.path_length_m >= cfg.max_distance_m:
            return STOP_DISTANCE
        if time.perf_counter() - self.t0 >= cfg.max_time_s:
            return STOP_TIME
        return None

    # -- sensing ------------------------------------------------------------------------------------------
    def look(self, near: bool) -> str | None:
        """Look around from here and fuse every frame, then aim the head at what this look detected in too few
        frames (exploration_second_look); a budget's stop reason if one ran out."""
        tilts = (*self.cfg.head_tilts, self.cfg.near_tilt) if near else self.cfg.head_tilts
        self.report.looks += 1
        since = self.vmap.metadata.frames
        views = [(pan, tilt) for tilt in tilts for pan in self.pans]
        for pan, tilt in views:
            if spent := self.view(pan, tilt):
                return spent
        sl = self.cfg.second_look
        for pan, tilt in second_look_targets(self.vmap, self.robot.get_base_pose(), since, sl):
            for k in range(sl.frames):
                if spent := self.view(pan + (k - (sl.frames - 1) / 2) * sl.pan_step_rad, tilt):
                    return spent
        return None

    def view(self, pan: float, tilt: float) -> str | None:
        """Point the head, take a frame and fuse it; a budget's stop reason (and no frame) if one ran out."""
        spent = self.budget_spent()
        if spent:
            return spent
        self.checked(self.robot.set_head(pan, tilt))
        obs = self.robot.observe()
        frame = obs.frame
        if self.cfg.self_filter is not None:
            frame = remove_robot_body(frame, obs.base_pose, self.cfg.self_filter)
        observations = list(self.perception.observe(frame)) if self.perception is not None else []
        with sigint_deferred():
            self.vmap.add_frame(frame, observations)
            self.report.frames += 1
        for o in observations:
            if o.instance_id is not None:
                self.object_frames[int(o.instance_id)] = self.object_frames.get(int(o.instance_id), 0) + 1
        if self.on_frame is not None:
            self.on_frame(self.report.frames, frame, observations)
        self.progress()
        return None

    def progress(self) -> None:
        if self.on_progress is not None:
            left = sum(1 for f in self.frontiers if f.reachable and not self.is_given_up(f))
            self.on_progress(ExplorationProgress(self.report.frames, self.report.explored_area_m2, left,
                                                 self.report.path_length_m, self.occ))

    # -- the map --------------------------------------------------------------------------------------------
    def update_grid(self, pose: Pose2D | None = None) -> None:
        pose = self.robot.get_base_pose() if pose is None else pose
        grid = self.vmap.obstacle_grid(self.cfg.obstacles)
        self.occ = occupancy_from_obstacle_grid(grid, self.cfg.navigation.occupancy, pose)
        self.report.explored_area_m2 = float((self.occ.state == FREE).sum()) * self.occ.resolution_m ** 2
        start = self.navigator.planner.snap(self.occ, pose.xy)
        self.frontiers = find_frontiers(self.occ, pose.xy if start is None else start, self.cfg.frontier)

    def record_for(self, f: Frontier) -> FrontierRecord | None:
        best, best_d = None, self.cfg.same_frontier_m
        for r in self.records:
            d = float(np.linalg.norm(r.centroid_xy - f.centroid_xy))
            if d <= best_d:
                best, best_d = r, d
        return best

    def is_given_up(self, f: Frontier) -> bool:
        r = self.record_for(f)
        return r is not None and r.given_up

    def fail(self, f: Frontier, reason: str) -> None:
        r = self.record_for(f)
        if r is None:
            r = FrontierRecord(np.asarray(f.centroid_xy, np.float64).copy())
            self.records.append(r)
        r.tries += 1
        r.reason = reason
        if r.tries >= self.cfg.max_tries and not r.given_up:
            r.given_up = True
            log.info("frontier at (%.2f, %.2f) given up after %d tries: %s", *r.centroid_xy, r.tries, reason)

    def candidates(self) -> list[Frontier]:
        """Reachable frontiers not given up, best first: gain / (travel + offset) ** travel_exponent."""
        todo = [f for f in self.frontiers if f.reachable and not self.is_given_up(f)]
        off, ex = self.cfg.frontier.cost_offset_m, self.cfg.travel_exponent
        return sorted(todo, key=lambda f: -f.gain_m / (f.travel_m + off) ** ex)

    # -- driving --------------------------------------------------------------------------------------------
    def checked(self, res):
        """`res` (a MotionResult) unless it failed for a reason in `stop_on`: then RobotFault."""
        if res is not None and not res.success and any(w in res.reason for w in self.cfg.stop_on):
            raise RobotFault(res.reason)
        return res

    def drive_to(self, f: Frontier) -> str:
        """Plan and drive to the frontier's viewpoint; '' when there, else why not."""
        goal_xy = np.asarray(f.viewpoint_xy, np.float64)
        why = ""
        for _attempt in range(self.cfg.replans + 1):
            here = self.robot.get_base_pose()
            if float(np.linalg.norm(goal_xy - here.xy)) <= self.cfg.arrived_m:
                return ""
            heading = math.atan2(goal_xy[1] - here.y, goal_xy[0] - here.x)
            plan = self.navigator.plan_to_pose(self.occ, here, Pose2D(float(goal_xy[0]), float(goal_xy[1]), heading))
            if not plan.success:
                return f"no path: {plan.reason}"
            wps = list(plan.waypoints)
            if len(plan.smoothed_xy) >= 2:  # arrive along the last leg: no turn at the viewpoint (it looks around)
                d = plan.smoothed_xy[-1] - plan.smoothed_xy[-2]
                if np.hypot(*d) > 1e-6:
                    wps[-1] = Pose2D(wps[-1].x, wps[-1].y, math.atan2(d[1], d[0]))
            why = self.follow(wps)
            if not why:
                return ""
            # Stopped on the way: what it saw there is not in the map (it looks only at viewpoints), so
            # re-plan on the same grid from where it stopped.
            if self.budget_spent():
                return why
        return why

    def follow(self, waypoints: list[Pose2D]) -> str:
        for i, wp in enumerate(waypoints):
            if self.budget_spent():
                return "budget spent"
            res = self.robot.move_base_to(wp)
            here = self.robot.get_base_pose()
            self.report.path_length_m += here.distance_to(self.path[-1])
            self.path.append(here)
            with sigint_deferred():
                mark_driven_floor(self.vmap, self.path[-2:])
            self.checked(res)
            if not res.success:
                return f"waypoint {i + 1}/{len(waypoints)}: {res.reason}"
        return ""

    def unstick(self) -> str | None:
        """The base's surroundings are not known free (the head cannot see behind and under the base, e.g. at
        a start facing a wall): turn in place a quarter turn at a time, looking down around the base after
        each, until it can plan; STOP_LOST if it still cannot after `unstick_turns` turns."""
        for k in range(self.cfg.unstick_turns + 1):
            if k:
                here = self.robot.get_base_pose()
                self.checked(self.robot.move_base_to(Pose2D(here.x, here.y, here.theta + math.pi / 2)))
            stop = self.look(near=True)
            if stop is not None:
                return stop
            self.update_grid()
            if self.navigator.planner.snap(self.occ, self.robot.get_base_pose().xy) is not None:
                return None
        return STOP_LOST

    # -- the loop -------------------------------------------------------------------------------------------
    def run(self) -> str:
        with sigint_deferred():
            mark_driven_floor(self.vmap, self.path)  # the floor under the base at the start
        stop = self.look(near=True)
        while stop is None:
            self.update_grid()
            if self.navigator.planner.snap(self.occ, self.robot.get_base_pose().xy) is None:
                stop = self.unstick()
                if stop is not None:
                    break
            todo = self.candidates()
            if not todo:
                return STOP_DONE
            stop = self.budget_spent()
            if stop is not None:
                break
            best = todo[0]
            log.info("frontier at (%.2f, %.2f): %.1f m of edge, %.1f m away; %d left", *best.centroid_xy,
                     best.gain_m, best.travel_m, len(todo))
            moves = len(self.path)
            why = self.drive_to(best)
            if why:
                log.info("frontier at (%.2f, %.2f) not reached: %s", *best.centroid_xy, why)
                self.fail(best, why)
                stop = self.budget_spent()
                if stop is None and len(self.path) > moves:
                    stop = self.look(near=False)  # it moved: look from where it stopped
                continue
            # A second look at a frontier also looks down next to the base (it may be close to it).
            stop = self.look(near=self.record_for(best) is not None)
            if stop is not None:
                break
            self.update_grid()
            # Still a frontier there after looking from its viewpoint: count a try (an edge it cannot see past).
            # (The try counts for `best` itself, so the next choice sees it.)
            if any(np.linalg.norm(f.centroid_xy - best.centroid_xy) <= self.cfg.same_frontier_m for f in self.frontiers):
                self.fail(best, "still unknown after looking from its viewpoint")
        return stop

    def finish(self, stop: str, interrupted: bool) -> ExplorationResult:
        rep = self.report
        if not interrupted:
            try:
                self.update_grid(self.path[-1])  # where it last stood (a failed robot may not answer)
            except KeyboardInterrupt:
                interrupted, stop = True, STOP_INTERRUPTED
        rep.stop_reason = stop
        rep.interrupted = interrupted
        rep.time_s = time.perf_counter() - self.t0
        rep.path_xy = np.array([p.xy for p in self.path], np.float64).reshape(-1, 2)
        rep.frontiers_left = len(self.candidates()) if stop != STOP_DONE else 0
        rep.given_up = [r for r in self.records if r.given_up]
        rep.unreachable = [{"centroid": [round(float(v), 3) for v in f.centroid_xy], "size_m": round(f.gain_m, 2)}
                           for f in self.frontiers if not f.reachable]
        log.info("exploration stopped (%s): %.1f m2 seen free, %.1f m driven, %d frames in %.0f s, %d frontiers "
                 "given up, %d unreachable", stop, rep.explored_area_m2, rep.path_length_m, rep.frames, rep.time_s,
                 len(rep.given_up), len(rep.unreachable))
        return ExplorationResult(self.vmap, rep, self.occ, list(self.frontiers), dict(self.object_frames))


def explore(robot, perception, vmap: VoxelMap, config: ExplorationConfig = ExplorationConfig(),
            on_progress: Callable[[ExplorationProgress], None] | None = None,
            on_frame: Callable | None = None, should_stop: Callable[[], bool] | None = None) -> ExplorationResult:
    """Explore from where the robot stands until no reachable frontier is left or a budget is spent,
    fusing every frame into `vmap` (see the module docstring). perception: has `observe(frame)` (None:
    geometry only). on_frame(n, frame, observations) after each fused frame (as scanning's OnFrame);
    should_stop() is asked before every frame and move (True: stop, STOP_ASKED; e.g. a key pressed).
    Ctrl-C stops it with the map fused so far (report.interrupted). A robot that fails (RobotError: a lost
    link or localisation, a dead camera; or a motion failed for a reason in `config.stop_on`: the
    watchdog, the runstop) is stopped and the map fused so far kept (report.error, stop reason STOP_ROBOT)."""
    config.validate()
    ex = _Explorer(robot, perception, vmap, config, on_progress, on_frame, should_stop)
    try:
        stop = ex.run()
    except KeyboardInterrupt:
        log.warning("exploration interrupted: keeping the map fused so far (%d frames)", ex.report.frames)
        with contextlib.suppress(Exception):
            robot.stop()
        return ex.finish(STOP_INTERRUPTED, True)
    except RobotError as exc:
        log.warning("exploration stopped, the robot failed (%s): keeping the map fused so far (%d frames)", exc,
                    ex.report.frames)
        with contextlib.suppress(Exception):
            robot.stop()
        ex.report.error = str(exc)
        return ex.finish(f"{STOP_ROBOT}: {exc}", False)
    return ex.finish(stop, False)
