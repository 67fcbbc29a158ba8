"""The pick-and-place task machine: find object -> find receptacle -> navigate -> pick -> navigate -> place.

Both ends of a request are looked up in the map before anything moves: when the object or the receptacle
is not in the map (best score below the map's calibrated threshold, mapping.calibration) or is ambiguous
(two different instances within the map's margin, neither named exactly), the answer says so with the best
candidates and their labels, and the robot does not move. Each phase reports success or failure with a
reason; the run stops safely (arm retracted, robot stopped) at the first failure; a pick whose arm could not
come back in (the retract touched something) is a failed pick, never an ok one; the report's log says what
happened, step by step. The machine only talks to the
Robot protocol, the semantic map, a perception pipeline (for the fresh head-camera segmentation that
grasping needs) and the navigator, so the same code drives the simulator and a real Stretch.

Kept apart: the report (orchestrator.task_report: PhaseResult, TaskReport, re-exported here), the map
lookups of the find phases (orchestrator.task_lookup: found, not in the map, ambiguous), the live-map
hooks (orchestrator.task_live_map: the robot whose frames update the map, hits kept on their voxels, the
map's history entry) and the search hooks (orchestrator.task_search: the hits a pick tries, confirmed
with a fresh look, and the search of orchestrator.object_search when they are stale) and the place
phase (orchestrator.task_place: as held, re-parked at the free spots seen, then an object held from above on
its side with the wrist level) and the re-parking for a grasp (orchestrator.task_grasp_park: when no grasp
works from where the base parked, park where one of the grasps the camera saw from every side does).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np

from core.errors import OvmmError
from core.stretch import STOW_WRIST_YAW
from core.types import RGBDFrame
from grasping.config import PickConfig
from grasping.execute import PickResult, pick
from grasping.motion import retract
from grasping.place import HeldObject
from mapping.obstacles import ObstacleGridConfig
from mapping.query import Hit, QueryConfig
from mapping.sight import VoxelSight
from mapping.voxel_map import VoxelMap
from navigation.base_goal import BaseGoalConfig, SightCheck
from navigation.navigator import NavigationConfig, NavigationResult, Navigator
from orchestrator.live_map import LiveMapConfig
from orchestrator.object_search import SearchConfig
from orchestrator.requests import Task
from orchestrator.task_carry import carrying_navigator
from orchestrator.task_grasp_park import GraspParkConfig, park_for_a_grasp
from orchestrator.task_live_map import TaskLiveMap
from orchestrator.task_look_first import LookFirstConfig, look_from_afar
from orchestrator.task_lookup import LookupConfig, find_in_map, map_thresholds
from orchestrator.task_pick_failures import not_seen, reach_failure, replannable
from orchestrator.task_place import place_held
from orchestrator.task_report import PHASES, RUN_ORDER, PhaseResult, TaskReport
from orchestrator.task_search import PickAttempts
from orchestrator.task_tell import TellConfig, phrase_masks, tell_phase
from robots.protocol import Robot

log = logging.getLogger(__name__)

ARM_STOWED_M = 0.02
"""Arm extension (m) up to which the arm counts as retracted."""


@dataclass
class TaskConfig:
    """How a request is carried out; defaults in one place (the CLI mirrors the important ones)."""

    query: QueryConfig = field(default_factory=QueryConfig)
    navigation: NavigationConfig = field(default_factory=lambda: NavigationConfig(
        base_goal=BaseGoalConfig(tight_parking=True)))
    """Tight parking on: the last straight stretch into a side-on parking pose keeps the base rectangle's
    3 cm margin rather than the full robot radius (navigation.base_goal)."""
    pick: PickConfig = field(default_factory=PickConfig)
    obstacles: ObstacleGridConfig = field(default_factory=lambda: ObstacleGridConfig(min_points_per_obstacle_cell=3))
    """Three depth points make an obstacle cell: a stereo camera's stray points do not block base poses."""
    candidates: int = 3
    """Map hits tried in turn when navigation to the best one fails..."""
    candidate_margin: float = 0.05
    """...if they are the same instance as the best hit (its label and description; a different instance
    would fetch the wrong thing) or, for maps without instance labels, score within this of the best."""
    threshold: float | None = None
    """Not-found threshold; None: the map's calibrated one (mapping.calibration). `--threshold` sets it."""
    ambiguity_margin: float | None = None
    """Two different instances scoring within this of each other are ambiguous; None: the map's."""
    replans: int = 1
    """Re-plans from where the robot stopped when following a path fails."""
    runstop_wait_s: float = 2.0
    """A drive stopped by the runstop waits this long for it to be released before re-planning (robots.faults)."""
    object_reach_modes: tuple[tuple[tuple[str, ...], float], ...] = (
        (("down",), 0.35), (("straight",), 0.35), (("straight",), 0.1), (("down",), 0.1))
    """(arm reach modes, preferred arm extension as a fraction of its range) tried in turn when parking
    next to an object: first where top-down grasps reach (wrist pitched down), then where level side grasps
    reach, then the same closer in; a pick that fails for reach re-parks with the next rung."""
    live_map: LiveMapConfig = field(default_factory=LiveMapConfig)
    """The frames the robot sees while it works are fused into the map it was given (orchestrator.live_map)."""
    grasp_park: GraspParkConfig = field(default_factory=GraspParkConfig)
    """When no grasp works from where the base parked: park where one does (orchestrator.task_grasp_park)."""
    search: SearchConfig = field(default_factory=SearchConfig)
    """When the object is not at the map's hit: stale hits, next hits, look-arounds (orchestrator.object_search)."""
    park_in_sight: bool = True
    """Park next to an object where the head camera has a clear line to it through the map's occupied voxels
    (mapping.sight), when such a pose reaches it: the pick segments the object in that view, and parking by
    score alone left it "not in the head camera's view" (apartment 10415). An object under a low shelf board
    that no pose within reach sees stays unseen (10400) unless `look_first` looks at it from farther away."""
    tell: TellConfig = field(default_factory=TellConfig)
    """A phrase ambiguous between map instances none of which has all its words: look at each to tell."""
    look_first: LookFirstConfig = field(default_factory=LookFirstConfig)
    """With `park_in_sight`: when the parked head camera has no clear line to the object, look at it from a
    free pose 0.6-2.5 m out that has one, drive back, and grasp what was seen (orchestrator.task_look_first)."""


def frozen_map_config() -> TaskConfig:
    """The task machine on the map as it was scanned: no live updates, no search (the static evaluation's
    episodes each start from the scanned world, so a map carried between them would be wrong)."""
    return TaskConfig(live_map=LiveMapConfig(enabled=False), search=SearchConfig(enabled=False))


__all__ = ["PHASES", "RUN_ORDER", "PhaseResult", "TaskConfig", "TaskReport", "TaskRunner", "carrying_navigator",
           "frozen_map_config"]

PhaseHook = Callable[[str, PhaseResult, Robot], None]


class TaskRunner:
    """Carries out parsed tasks on one robot with one map."""

    def __init__(self, robot: Robot, voxel_map: VoxelMap, perception, config: TaskConfig | None = None,
                 on_phase: PhaseHook | None = None) -> None:
        self.robot = robot
        self.map = voxel_map
        self.perception = perception
        self.config = config or TaskConfig()
        self.map_hooks = TaskLiveMap(robot, voxel_map, perception, self.config.live_map)
        self.live = self.map_hooks.live
        self.robot = self.map_hooks.robot  # with live updates, every frame it takes from here on updates the map
        self._search = None
        self.navigator = Navigator(self.config.navigation)
        self._mode_navigators = {
            (modes, ext): Navigator(replace(self.config.navigation, base_goal=replace(
                self.config.navigation.base_goal, modes=modes, preferred_extension=ext)))
            for modes, ext in self.config.object_reach_modes
        }
        self.on_phase = on_phase
        self.held: HeldObject | None = None
        self._grid = voxel_map.obstacle_grid(self.config.obstacles)
        self._voxels = voxel_map.occupancy_points()[0]  # the map's occupied voxels: the pick's way back
        self._sight: tuple[np.ndarray, VoxelSight] | None = None  # (the voxels it was built from, their sight lines)

    # -- helpers -------------------------------------------------------------------------------------------
    def _segment(self, frame: RGBDFrame, phrase: str) -> list[tuple[np.ndarray, float]]:
        return phrase_masks(self, frame, phrase)

    def _note(self, report: TaskReport, text: str) -> None:
        stamp = f"[{time.perf_counter() - self._t0:6.1f}s] {text}"
        report.log.append(stamp)
        log.info(text)

    def _finish(self, report: TaskReport, phase: PhaseResult) -> bool:
        report.phases.append(phase)
        self._note(report, f"{phase.name}: {'ok' if phase.success else 'FAILED'}"
                           f"{'' if phase.success else ' - ' + phase.reason}")
        if self.on_phase is not None:
            self.on_phase(phase.name, phase, self.robot)
        return phase.success

    def thresholds(self) -> tuple[float, float, str]:
        """(not-found threshold, ambiguity margin, where they come from)."""
        return map_thresholds(self.map, self._lookup_config())

    def _lookup_config(self) -> LookupConfig:
        c = self.config
        return LookupConfig(query=c.query, candidates=c.candidates, candidate_margin=c.candidate_margin,
                            threshold=c.threshold, ambiguity_margin=c.ambiguity_margin)

    def _find(self, phrase: str, name: str) -> tuple[PhaseResult, list[Hit]]:
        return find_in_map(self.map, self.perception, phrase, name, self._lookup_config())

    @staticmethod
    def _target(hit: Hit, surface: bool) -> tuple[np.ndarray, np.ndarray | None, tuple[float, float] | None]:
        """(point, footprint extent, grasp heights) for navigator.plan_to_target. Objects: the arm goes to the
        hit's centre, at any height between the object's bottom and top (a top-down grasp holds a short
        object below its top). Receptacles: anywhere on the hit's top surface."""
        if surface:
            return np.array([hit.center[0], hit.center[1], float(hit.hi[2])]), np.asarray(hit.extent), None
        # The map sees objects mostly from above, so a hit's centre sits high and its bottom is lower than
        # seen; its lower part is nearer the object's true centre, which is what the arm has to reach.
        z = min(float(hit.center[2]), float(hit.lo[2]) + _UNSEEN_BELOW_M)
        span = (float(hit.lo[2]) - _UNSEEN_BELOW_M, float(hit.hi[2]))
        return np.array([hit.center[0], hit.center[1], z]), None, span

    def _stow(self, report: TaskReport) -> str:
        """Arm in, gripper folded over the base (a level gripper would stick out): the pose to drive in.
        Returns "" when stowed, else why not (the robot must not drive with the arm out)."""
        steps: list[str] = []
        retract(self.robot, steps)
        j = self.robot.get_joints()
        tuck = None if self.held is None else self.held.tucked_wrist_yaw(j)
        if tuck is not None:  # an angled hold: the gripper turned back over the base, its pitch kept
            r = self.robot.move_arm(wrist_yaw=tuck)
            steps.append(f"tuck the held object over the base (wrist yaw {tuck:.2f}): {'ok' if r.success else r.reason}")
        elif abs(j.wrist_pitch) < 0.7 and abs(j.wrist_yaw - STOW_WRIST_YAW) > 0.05:
            r = self.robot.move_arm(wrist_yaw=STOW_WRIST_YAW, wrist_pitch=0.0, wrist_roll=0.0)
            steps.append(f"stow wrist: {'ok' if r.success else r.reason}")
        if steps:
            self._note(report, "arm: " + "; ".join(steps))
        arm = self.robot.get_joints().arm_m
        if arm > ARM_STOWED_M:
            failed = [s for s in steps if not s.endswith(": ok")]
            return f"the arm could not be retracted before driving (still {arm:.2f} m out: {'; '.join(failed) or 'blocked'})"
        return ""

    def _navigate(self, report: TaskReport, hits: list[Hit], name: str, surface: bool = False,
                  navigator: Navigator | None = None, above_m: float = 0.0) -> tuple[PhaseResult, Hit | None]:
        """Drive to the first hit a base pose can be found and reached for. `above_m`: the arm's point is
        this far above the hit's top surface (where the grasp centre is when it releases a held object)."""
        t0 = time.perf_counter()
        reasons = []
        navigator = navigator or self.navigator
        self._refresh_grid()
        stuck = self._stow(report)
        if stuck:
            return PhaseResult(name, False, stuck, time.perf_counter() - t0), None
        for k, hit in enumerate(hits):
            start = self.robot.get_base_pose()
            target = self._target(hit, surface)
            up = np.array([0.0, 0.0, above_m])
            target = (target[0] + up, target[1], None if target[2] is None else (target[2][0] + above_m, target[2][1] + above_m))
            sees = None if surface or not self.config.park_in_sight else self._sight_check(hit)
            plan = navigator.plan_to_target(self._grid, start, *target, sees=sees)
            if not plan.success:
                reasons.append(f"candidate {k + 1}: {plan.reason}")
                self._note(report, f"{name}: candidate {k + 1} at {np.round(hit.center, 2).tolist()} - {plan.reason}")
                continue
            ok, why = self._follow(report, plan, target, name, navigator, sees)
            if ok:
                pose = self.robot.get_base_pose()
                return PhaseResult(name, True, "", time.perf_counter() - t0,
                                   {"goal": plan.goal.to_list() if plan.goal else None,
                                    "reached": pose.to_list(), "path_m": round(plan.length_m, 2),
                                    "candidate": k + 1}), hit
            reasons.append(f"candidate {k + 1}: {why}")
        reason = "; ".join(reasons) if reasons else "no candidate to drive to"
        return PhaseResult(name, False, reason, time.perf_counter() - t0), None

    def _refresh_grid(self) -> None:
        """Rebuild the obstacle grid when the live map emptied or added enough occupied voxels (moved chairs)."""
        if self.map_hooks.grid_changed():
            self.rebuild_grid()

    def rebuild_grid(self) -> None:
        """The obstacle grid and the pick's obstacle voxels from the map as it is now."""
        self._grid = self.map.obstacle_grid(self.config.obstacles)
        self._voxels = self.map.occupancy_points()[0]

    def _sight_check(self, hit: Hit) -> SightCheck:
        """Base poses -> whether the head camera sees the upper half of `hit` past the map's other voxels."""
        if self._sight is None or self._sight[0] is not self._voxels:
            self._sight = (self._voxels, VoxelSight(self._voxels, self.map.voxel_size))
        sight = self._sight[1]
        aim = np.array([hit.center[0], hit.center[1], (float(hit.center[2]) + float(hit.hi[2])) / 2])
        return lambda poses: sight.head_camera_sees(poses, aim, np.asarray(hit.lo), np.asarray(hit.hi))

    def _follow(self, report: TaskReport, plan: NavigationResult, target: tuple, name: str,
                navigator: Navigator, sees: SightCheck | None = None) -> tuple[bool, str]:
        why = ""
        for attempt in range(self.config.replans + 1):
            report.paths_xy.append(np.asarray(plan.smoothed_xy, dtype=float))
            self._note(report, f"{name}: driving {plan.length_m:.2f} m through {len(plan.waypoints)} waypoints"
                               f" to {np.round(plan.goal.to_list(), 2).tolist()}")
            res = self.robot.follow_waypoints(plan.waypoints)
            if res.success:
                return True, ""
            why = res.reason
            self._note(report, f"{name}: drive stopped ({why})")
            if attempt == self.config.replans:
                break
            if "runstop" in why:  # resume once it is released: re-read the pose and re-plan from there
                time.sleep(self.config.runstop_wait_s)
            plan = navigator.plan_to_target(self._grid, self.robot.get_base_pose(), *target, sees=sees)
            if not plan.success:
                return False, f"{why}; re-plan failed: {plan.reason}"
        return False, why

    @staticmethod
    def _place_height(receptacle_hits: list[Hit]) -> float | None:
        """The top of the receptacle the object goes on next (found before the pick), so the pick can hold it
        in a way that lets the lift put it there; None when unknown."""
        return float(receptacle_hits[0].hi[2]) if receptacle_hits else None

    def carry_navigator(self, held: HeldObject, modes: tuple[str, ...] | None = None) -> Navigator:
        """carrying_navigator() for `held` where the stowed arm holds it now."""
        return carrying_navigator(self.config.navigation, held, self.robot.get_joints(), modes)

    def _navigate_carrying(self, report: TaskReport, hits: list[Hit], held: HeldObject) -> tuple[PhaseResult, Hit | None]:
        """Drive to the receptacle holding `held`, the held object counted as part of the robot. First park
        where the arm, in the posture it holds the object (pitched down after a top-down grasp, level after
        a side grasp), puts it at its release height above the receptacle's top; failing that, anywhere the
        arm reaches the top (the place re-parks once it saw a free spot); then with the base's own footprint."""
        name = "navigate_to_receptacle"
        stuck = self._stow(report)
        if stuck:
            return PhaseResult(name, False, stuck), None
        mode = (held.reach_mode,)
        release = held.below_grasp_m + self.config.pick.place.release_height_m
        nav, hit = self._navigate(report, hits, name, surface=True, navigator=self.carry_navigator(held, mode),
                                  above_m=release)
        if nav.success:
            return nav, hit
        self._note(report, f"{name}: no pose to release it from as held ({nav.reason}); parking where the arm "
                           "reaches the top")
        nav, hit = self._navigate(report, hits, name, surface=True, navigator=self.carry_navigator(held))
        if nav.success:
            return nav, hit
        # The footprint with the object is a 2D bound (the object may ride above furniture it overlaps):
        # the base's own footprint is the last resort.
        self._note(report, f"{name}: no pose with the held object's footprint ({nav.reason}); trying the base's")
        return self._navigate(report, hits, name, surface=True)

    # -- the machine ---------------------------------------------------------------------------------------
    def run(self, task: Task, request: str = "") -> TaskReport:
        """Carry out a task; never raises for an ordinary failure (the report says which phase and why)."""
        self._t0 = time.perf_counter()
        report = TaskReport(request or task.describe(), task)
        self._note(report, f"task: {task.describe()}")
        try:
            if not self._lookups(report, task):
                return self._stop(report)
            if task.kind in ("pick", "pick_and_place") and not self._pick_phases(report, task):
                return self._stop(report)
            if task.kind in ("place", "pick_and_place") and not self._place_phases(report, task):
                return self._stop(report)
        except OvmmError as exc:  # a robot that disconnects, a corrupt frame...
            done = {p.name for p in report.phases}
            phase = next((p for p in RUN_ORDER if p not in done), "place")
            self._finish(report, PhaseResult(phase, False, str(exc)))
            return self._stop(report)
        report.seconds = time.perf_counter() - self._t0
        self._note(report, "done: success")
        self._record(report)
        return report

    def _stop(self, report: TaskReport) -> TaskReport:
        try:
            self.robot.stop()
        except OvmmError as exc:
            self._note(report, f"stop failed: {exc}")
        report.seconds = time.perf_counter() - self._t0
        self._record(report)
        return report

    def _record(self, report: TaskReport) -> None:
        """The request's entry in the map's history (orchestrator.task_live_map)."""
        self.map_hooks.record(report, self._search)

    def _lookups(self, report: TaskReport, task: Task) -> bool:
        """Find the object and the receptacle in the map before anything moves."""
        self._object_hits: list[Hit] = []
        self._receptacle_hits: list[Hit] = []
        if task.kind in ("pick", "pick_and_place"):
            found, hits = self._find(task.object_phrase, "find_object")
            if not found.success and hits:  # ambiguous: looking may tell (orchestrator.task_tell)
                found, hits = tell_phase(self, report, task, found, hits)
            self._object_hits = hits if found.success else []
            self.map_hooks.keep_hits(self._object_hits, reset=True)
            if self._object_hits:
                report.object_xyz = self._object_hits[0].center
            if not self._finish(report, found):
                return False
        if task.kind in ("place", "pick_and_place"):
            if task.kind == "place" and self.held is None and self.robot.is_holding() is False:
                return self._finish(report, PhaseResult(
                    "find_receptacle", False, "nothing in the gripper to place (pick something up first)"))
            found, hits = self._find(task.receptacle_phrase, "find_receptacle")
            self._receptacle_hits = hits if found.success else []
            self.map_hooks.keep_hits(self._receptacle_hits)
            if self._receptacle_hits:
                report.receptacle_xyz = self._receptacle_hits[0].center
            if not self._finish(report, found):
                return False
        return True

    def _pick_phases(self, report: TaskReport, task: Task) -> bool:
        hits = self._object_hits
        place_z = self._place_height(self._receptacle_hits)
        attempts = PickAttempts(self, report, task.object_phrase, hits, self._mode_navigators, self.config.search)
        self._search = attempts.search
        nav_failures: list[PhaseResult] = []
        last_try: tuple[PhaseResult, PhaseResult] | None = None  # (navigation, pick) of the last pick tried
        parked_for_grasp: set[int] = set()
        afar: dict[int, tuple | None] = {}  # hit -> the object as seen from afar (once per hit)
        unseen: set[int] = set()  # hits where the object was not in view: the next hit, not another mode
        for hit, mode, navigator in attempts:
            if id(hit) in unseen:
                continue
            nav, _ = self._navigate(report, [hit], "navigate_to_object", navigator=navigator)
            if not nav.success:
                nav_failures.append(nav)
                self._note(report, f"no way to park for reach mode {'/'.join(mode[0])}: {nav.reason}")
                continue
            if not attempts.confirmed(hit):
                continue  # stale: the search's next hit
            picked, res = self._pick_here(report, task, hit, place_z, mode, self._seen_from_afar(report, hit, task, afar))
            last_try = (nav, picked)
            if not res.success and replannable(res.reason) and id(hit) not in parked_for_grasp:
                parked_for_grasp.add(id(hit))  # once per hit: the grasps the camera saw say where to park
                parked, what = self._park_for_grasp(report, res, place_z)
                if parked:
                    picked, res = self._pick_here(report, task, hit, place_z, mode,
                                                  self._seen_from_afar(report, hit, task, afar))
                    picked.details["parked_for"] = what
                    last_try = (nav, picked)
                else:
                    self._note(report, f"no pose to park for another grasp: {what}")
            if not res.success and not_seen(res.reason) and hits and hit is not hits[-1]:
                unseen.add(id(hit))
                self._note(report, f"not seen at this hit ({res.reason}); trying the next hit")
                continue
            if not res.success and reach_failure(res.reason):
                self._note(report, f"pick from this pose failed ({res.reason}); re-parking for another reach mode")
                continue
            if res.grasp is not None:
                report.grasp_xyz = res.grasp.T_world_grasp[:3, 3].copy()
            arm = self.robot.get_joints().arm_m
            if res.success and arm > ARM_STOWED_M:  # holding it, but the arm is stuck out: not a finished pick
                blocked = [line.strip() for line in res.log if "retract arm:" in line and not line.endswith(": ok")]
                picked = replace(picked, success=False, reason=(
                    f"the object is held but the arm could not retract ({arm:.2f} m out): "
                    + (blocked[-1].removeprefix("retract arm: ") if blocked else "blocked")))
            self.held = res.held if picked.success else None
            self._finish(report, nav)
            return self._finish(report, picked)
        if last_try is not None:  # parked somewhere, but no pose let the arm reach: a pick failure
            self._finish(report, last_try[0])
            return self._finish(report, last_try[1])
        not_found = attempts.not_found(nav_failures)  # every hit was stale and the search did not see it
        if not_found is not None:
            return self._finish(report, not_found)
        reason = "; ".join(f.reason for f in nav_failures) or "no candidate to drive to"
        return self._finish(report, PhaseResult("navigate_to_object", False, reason,
                                                sum(f.seconds for f in nav_failures)))

    def _seen_from_afar(self, report: TaskReport, hit: Hit, task: Task, afar: dict) -> tuple | None:
        """The object's points seen from farther away when the head camera has no line to it from here."""
        if not (self.config.park_in_sight and self.config.look_first.enabled):
            return None
        sees = self._sight_check(hit)
        here = self.robot.get_base_pose()
        if bool(np.asarray(sees(np.array([[here.x, here.y, here.theta]])), bool)[0]):
            return None
        if id(hit) not in afar:
            self._note(report, "pick: the head camera has no clear line to the object from here; looking from afar")
            afar[id(hit)] = look_from_afar(self, report, hit, task.object_phrase, sees, self.config.look_first)
        return afar[id(hit)]

    def _pick_here(self, report: TaskReport, task: Task, hit: Hit, place_z: float | None,
                   mode: tuple, seen: tuple | None = None) -> tuple[PhaseResult, PickResult]:
        """Pick from where the base is now: the phase result and the pick's own."""
        t0 = time.perf_counter()
        res = pick(self.robot, task.object_phrase, self.config.pick, segment=self._segment, look_at=hit.center,
                   place_height_m=place_z, obstacles=self._voxels, seen=seen)
        report.log.extend(f"    {line}" for line in res.log)
        details = {"attempts": res.attempts, "reach_mode": "/".join(mode[0]), "preferred_extension": mode[1],
                   "seen_from_afar": seen is not None}
        if res.grasp is not None:
            details.update(kind=res.grasp.kind, width_m=round(float(res.grasp.width_m), 3))
        return PhaseResult("pick", res.success, res.reason, time.perf_counter() - t0, details), res

    def _park_for_grasp(self, report: TaskReport, failed: PickResult, place_z: float | None) -> tuple[bool, str]:
        """Re-park where a grasp of what the camera saw is feasible (orchestrator.task_grasp_park)."""
        stuck = self._stow(report)
        if stuck:
            return False, stuck
        return park_for_a_grasp(self, report, failed, place_z, self.config.grasp_park)

    def _place_phases(self, report: TaskReport, task: Task) -> bool:
        held = self.held
        if held is None:
            if self.robot.is_holding() is False or task.kind == "pick_and_place":
                self._finish(report, PhaseResult("place", False,
                                                 "nothing in the gripper to place (pick something up first)"))
                return False
            held = HeldObject(below_grasp_m=0.05, radius_m=0.05)
        hits = self._receptacle_hits
        nav, hit = self._navigate_carrying(report, hits, held)
        if not self._finish(report, nav):
            return False
        t0 = time.perf_counter()
        # As held, then re-parked, then (held from above) on its side: orchestrator.task_place.
        res = place_held(self, report, task, held, hit)
        if res.target is not None:
            report.place_xyz = np.asarray(res.target.point, dtype=float).copy()
        if res.success:
            self.held = None
        return self._finish(report, PhaseResult("place", res.success, res.reason, time.perf_counter() - t0))


_UNSEEN_BELOW_M = 0.05
"""An object hit's bottom is about this much lower than the map saw (it sees objects mostly from above)."""
