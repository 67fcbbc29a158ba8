"""A robot that knows where it is in the map: any Robot whose odometry is corrected by lidar scan matching.

`LocalizedRobot(robot, scan_map)` wraps a robots.protocol.Robot whose poses are wheel odometry (the
realistic simulated Stretch, a real Stretch) and presents the same protocol in the map frame:
- before its first motion it relocalises globally in `scan_map` (navigation.localization: no initial guess);
  when the answer is ambiguous or there is no match it turns in place a quarter turn at a time, merges the
  scans and tries again (`LocalizationConfig.relocalise_turns`), and refuses to move if it still cannot tell
  (RobotError "not localised: ..."). A `registration` (the user's `--map-registration`) replaces the global
  search: tracking starts from it.
- after every base motion of at least `track_every_m` / `track_every_deg` it tracks (scan-to-map match
  fused with the odometry increment); a lost track triggers a global relocalisation (a robot carried
  elsewhere). At the end of a motion whose corrected pose misses the goal by more than the tolerance, it
  drives the difference (`correction_moves`).
- every pose it reports (get_base_pose, observations, their frames' T_world_cam, lidar scans, motion
  results) is map_T_odom * odometry, so the task machine, navigation and grasping work in the map.
With `scan_map=None` it builds the map while it drives (navigation.scan_slam, for a scan of a new home):
the map frame is the odometry frame where it starts (or `registration`), and each tracked scan is added.
Everything else is passed to the wrapped robot (`world`, `true_base_pose` in simulation).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np

from core.errors import RobotError
from core.types import JointState, LaserScan, Pose2D
from navigation.localization import Localization, Localizer, LocalizerConfig, compose, inverse, merge_scans
from navigation.scan_matching import ScanMap
from navigation.scan_slam import GrowingScanMap
from robots.protocol import MotionResult, Robot, RobotObservation

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LocalizationConfig:
    """When and how the robot localises while it works."""

    localizer: LocalizerConfig = field(default_factory=LocalizerConfig)
    track_every_m: float = 0.2
    """Track after a motion of at least this distance ..."""
    track_every_deg: float = 8.0
    """... or this rotation (smaller motions keep the odometry: its error is below the matcher's)."""
    correction_moves: int = 1
    """Extra moves at the end of a motion to drive out the difference the correction reveals."""
    max_correction_m: float = 0.4
    """A larger difference is not driven blind (the result says the goal was missed)."""
    segment_m: float = 1.0
    """Longer straight drives are cut into pieces of at most this length, with a fix after each (and after
    the turn towards the goal), so the odometry error between two fixes stays within the tracker's search."""
    relocalise_turns: int = 3
    """Quarter turns in place to gather more scan when the first relocalisation is not sure."""
    camera_sweep: bool = True
    """Without a lidar scan: pan the head camera around and cut its depth to a scan (navigation.depth_sweep)."""
    sweep_pans: int = 10
    """Head pans of a sweep, spread over the pan range (with the camera's field of view: all around)."""
    sweep_tilt: float = -0.35
    """Head tilt of a sweep (rad): low enough to see the wall bases and furniture legs near the robot."""


@dataclass
class LocalizationLog:
    """What localisation did during a run (for reports and the evaluation)."""

    tracks: int = 0
    lost: int = 0
    relocalisations: int = 0
    corrections: int = 0
    sweeps: int = 0
    """Scans made by panning the head camera (no lidar)."""
    last: Localization | None = None
    max_correction_m: float = 0.0
    errors_m: list[float] = field(default_factory=list)
    """Evaluation only (a `truth` was given): distance of the corrected pose from the true one after each fix."""

    def to_dict(self) -> dict:
        d = {"tracks": self.tracks, "lost": self.lost, "relocalisations": self.relocalisations,
             "corrections": self.corrections, "sweeps": self.sweeps, "max_correction_m": round(self.max_correction_m, 3),
             "last": self.last.to_dict() if self.last else None}
        if self.errors_m:
            d["error_m"] = {"fixes": len(self.errors_m), "median": round(float(np.median(self.errors_m)), 4),
                            "max": round(max(self.errors_m), 4)}
        return d


class LocalizedRobot(Robot):
    """`robot` in the map frame of `scan_map` (None: a map built as it drives); see the module docstring."""

    def __init__(self, robot: Robot, scan_map: ScanMap | None, config: LocalizationConfig = LocalizationConfig(),
                 registration: Pose2D | None = None, truth: Callable[[], Pose2D] | None = None) -> None:
        self.inner = robot
        self._truth = truth  # evaluation only: the simulator's true pose, to measure the error (never used to act)
        self.name = f"{robot.name}+localised"
        self.config = config
        self.growing = GrowingScanMap(config.localizer.match) if scan_map is None else None
        self._registration = registration
        self.localizer: Localizer | None = Localizer(scan_map, config.localizer) if scan_map is not None else None
        self.log = LocalizationLog()
        self._M: Pose2D | None = None  # map_T_odom
        self._last_track_odom: Pose2D | None = None

    def __getattr__(self, name: str):
        # only reached for attributes this class does not define: the wrapped robot's (world, true_base_pose)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    # --- the transform ---------------------------------------------------------------------------------
    @property
    def map_T_odom(self) -> Pose2D | None:
        return self._M

    def _to_map(self, p: Pose2D | None) -> Pose2D | None:
        return None if p is None or self._M is None else compose(self._M, p)

    def _to_odom(self, p: Pose2D) -> Pose2D:
        return compose(inverse(self._M), p)

    def _scan(self) -> LaserScan:
        scan = self.inner.laser_scan()
        if scan is not None:
            return scan
        if not self.config.camera_sweep:
            raise RobotError("localisation needs the lidar, and this robot gives no scan (see ovmm robot-server "
                             "--lidar-port), and the camera sweep is off")
        return self._sweep()

    def _sweep(self) -> LaserScan:
        """A scan from the head camera's depth, panned all around (then the head goes back where it was)."""
        from core.stretch import STRETCH
        from navigation.depth_sweep import depth_sweep_scan

        cfg = self.config
        before = self.inner.get_joints()
        lo, hi = STRETCH.limits.head_pan
        frames = []
        for pan in np.linspace(hi, lo, max(2, cfg.sweep_pans)):
            self.inner.set_head(float(pan), cfg.sweep_tilt)
            frames.append(self.inner.observe().frame)
        self.inner.set_head(before.head_pan, before.head_tilt)
        self.log.sweeps += 1
        return depth_sweep_scan(frames, self.inner.get_base_pose())

    def localise(self) -> Localization:
        """Find the robot in the map now (before the first motion; again after a lost track)."""
        odom = self.inner.get_base_pose()
        if self.growing is not None or self._registration is not None:
            self._M = self._registration or Pose2D(0.0, 0.0, 0.0)
            scan = self._scan()
            if self.growing is not None:
                self.growing.add(scan, self._M)
                self.localizer = None
            else:
                self.localizer.set_fix(self._M, odom)
            self._last_track_odom = odom
            ans = Localization(True, compose(self._M, odom), self._M, 1.0, "registration")
            self.log.last = ans
            return ans
        scans = [self._scan()]
        ans = self.localizer.relocalise(scans[0], odom)
        turns = 0
        while not ans.localised and turns < self.config.relocalise_turns:
            turns += 1
            here = self.inner.get_base_pose()
            self.inner.move_base_to(Pose2D(here.x, here.y, here.theta + math.pi / 2))
            scans.append(self._scan())
            ans = self.localizer.relocalise(merge_scans(scans), odom)
            log.info("relocalisation after %d quarter turn(s): %s", turns, ans.reason or "localised")
        self.log.relocalisations += 1
        self.log.last = ans
        if not ans.localised:
            raise RobotError(f"not localised: {ans.reason}")
        self._M = ans.map_T_odom
        self._last_track_odom = self.inner.get_base_pose()
        self._measure()
        return ans

    def _ensure(self) -> None:
        if self._M is None:
            self.localise()

    def track(self, force: bool = False) -> Localization | None:
        """Correct the odometry against the map if the robot moved enough since the last fix (or `force`)."""
        self._ensure()
        odom = self.inner.get_base_pose()
        last = self._last_track_odom
        cfg = self.config
        if not force and last is not None and last.distance_to(odom) < cfg.track_every_m \
                and abs(last.heading_error(odom)) < math.radians(cfg.track_every_deg):
            return None
        scan = self._scan()
        if self.growing is not None:
            ans = self._track_growing(scan, odom)
        else:
            before = self._to_map(odom)
            ans = self.localizer.track(scan, odom)
            if ans.relocalised:
                self.log.relocalisations += 1
            if ans.localised:
                self._M = ans.map_T_odom
                self.log.max_correction_m = max(self.log.max_correction_m, before.distance_to(self._to_map(odom)))
            else:
                self.log.lost += 1
                if ans.relocalised:
                    raise RobotError(f"localisation lost and not found again: {ans.reason}")
        self.log.tracks += 1
        self.log.last = ans
        self._last_track_odom = odom
        self._measure()
        return ans

    def _measure(self) -> None:
        if self._truth is not None and self._M is not None:
            self.log.errors_m.append(self._truth().distance_to(compose(self._M, self.inner.get_base_pose())))

    def _track_growing(self, scan: LaserScan, odom: Pose2D) -> Localization:
        smap = self.growing.scan_map()
        if smap is None:
            self.growing.add(scan, self._M)
            return Localization(True, compose(self._M, odom), self._M, 0.0, "map too small: odometry")
        loc = Localizer(smap, self.config.localizer)
        loc.set_fix(self._M, self._last_track_odom or odom)
        before = self._to_map(odom)
        ans = loc.track(scan, odom, recover=False)
        if ans.localised:
            self._M = ans.map_T_odom
            self.log.max_correction_m = max(self.log.max_correction_m, before.distance_to(self._to_map(odom)))
            self.growing.add(scan, self._M)
        else:
            self.log.lost += 1
        return ans

    # --- the protocol ------------------------------------------------------------------------------------
    def connect(self) -> None:
        self.inner.connect()

    def disconnect(self) -> None:
        self.inner.disconnect()

    def observe(self) -> RobotObservation:
        self._ensure()
        obs = self.inner.observe()
        M4 = self._M.as_matrix()
        frame = replace(obs.frame, T_world_cam=M4 @ np.asarray(obs.frame.T_world_cam, dtype=np.float64))
        scan = None if obs.scan is None else replace(obs.scan, pose=compose(self._M, obs.scan.pose))
        return replace(obs, frame=frame, base_pose=self._to_map(obs.base_pose), scan=scan)

    def laser_scan(self) -> LaserScan | None:
        self._ensure()
        scan = self.inner.laser_scan()
        return None if scan is None else replace(scan, pose=compose(self._M, scan.pose))

    def get_base_pose(self) -> Pose2D:
        self._ensure()
        return self._to_map(self.inner.get_base_pose())

    def get_joints(self) -> JointState:
        return self.inner.get_joints()

    def _result(self, res: MotionResult) -> MotionResult:
        return replace(res, base_pose=self._to_map(res.base_pose))

    def _legs(self, goal: Pose2D) -> list[Pose2D]:
        """Intermediate poses before `goal`: the turn towards it, then every `segment_m` along the line (with
        the heading of travel; backwards when the goal is behind, as the base drives)."""
        here = self.get_base_pose()
        dist = here.distance_to(goal)
        if dist < self.config.track_every_m:
            return []
        heading = math.atan2(goal.y - here.y, goal.x - here.x)
        if abs(math.remainder(heading - here.theta, 2 * math.pi)) > math.pi / 2:
            heading += math.pi
        legs = []
        if abs(math.remainder(heading - here.theta, 2 * math.pi)) > math.radians(self.config.track_every_deg):
            legs.append(Pose2D(here.x, here.y, math.remainder(heading, 2 * math.pi)))
        n = math.ceil(dist / self.config.segment_m)
        for k in range(1, n):
            t = k / n
            legs.append(Pose2D(here.x + t * (goal.x - here.x), here.y + t * (goal.y - here.y),
                               math.remainder(heading, 2 * math.pi)))
        return legs

    def move_base_to(self, goal: Pose2D, tolerance_m: float = 0.05, tolerance_rad: float = 0.08) -> MotionResult:
        self._ensure()
        for leg in self._legs(goal):
            res = self.inner.move_base_to(self._to_odom(leg), tolerance_m, tolerance_rad)
            self.track()
            if not res.success:
                return replace(res, base_pose=self.get_base_pose())
        res = self.inner.move_base_to(self._to_odom(goal), tolerance_m, tolerance_rad)
        self.track()
        for _ in range(self.config.correction_moves):
            if not res.success:
                break
            here = self.get_base_pose()
            off = here.distance_to(goal)
            if (off <= tolerance_m and abs(here.heading_error(goal)) <= tolerance_rad) \
                    or off > self.config.max_correction_m:
                break
            self.log.corrections += 1
            res = self.inner.move_base_to(self._to_odom(goal), tolerance_m, tolerance_rad)
            self.track(force=True)
        return replace(res, base_pose=self.get_base_pose())

    def follow_waypoints(self, waypoints: Sequence[Pose2D]) -> MotionResult:
        self._ensure()
        result = MotionResult(success=True, base_pose=self.get_base_pose())
        for i, wp in enumerate(waypoints):
            result = self.move_base_to(wp)
            if not result.success:
                return MotionResult(False, f"waypoint {i + 1}/{len(waypoints)}: {result.reason}", result.base_pose,
                                    result.joints)
        return result

    def set_head(self, pan: float, tilt: float) -> MotionResult:
        return self._result(self.inner.set_head(pan, tilt))

    def move_arm(self, lift_m: float | None = None, arm_m: float | None = None, wrist_yaw: float | None = None,
                 wrist_pitch: float | None = None, wrist_roll: float | None = None) -> MotionResult:
        return self._result(self.inner.move_arm(lift_m, arm_m, wrist_yaw, wrist_pitch, wrist_roll))

    def set_gripper(self, aperture_m: float) -> MotionResult:
        return self._result(self.inner.set_gripper(aperture_m))

    def stop(self) -> None:
        self.inner.stop()

    def is_holding(self) -> bool | None:
        return self.inner.is_holding()


def localized_in_map(robot: Robot, voxel_map, config: LocalizationConfig = LocalizationConfig(),
                     registration: Pose2D | None = None, truth: Callable[[], Pose2D] | None = None) -> LocalizedRobot:
    """`robot` localising in a saved voxel map (its occupied voxels at the lidar's height band,
    navigation.localization.scan_map_from_points); InputError for a map with nothing to localise against."""
    from navigation.localization import scan_map_from_points

    xyz, _, counts = voxel_map.occupancy_points()
    return LocalizedRobot(robot, scan_map_from_points(xyz, config.localizer.match, counts=counts), config,
                          registration, truth)


LOCALIZE_CHOICES = ("auto", "on", "off")


def wants_localization(options) -> bool:
    """Whether a command with these RobotOptions localises: `auto` for a Stretch (real or behind a robot
    server: its pose is wheel odometry) and for a simulated robot whose realism profile drifts."""
    from core.errors import InputError
    from orchestrator.configs import RobotKind

    if options.localize not in LOCALIZE_CHOICES:
        raise InputError(f"--localize must be one of {', '.join(LOCALIZE_CHOICES)}, got {options.localize!r}")
    if options.localize != "auto":
        return options.localize == "on"
    if options.kind != RobotKind.SIM.value:
        return True
    from sim.realism import load_realism  # noqa: PLC0415 - the simulator is optional on a robot

    return load_realism(options.realism).odometry.enabled


def localized_for(robot: Robot, voxel_map, options) -> Robot:
    """`robot` as the command should drive it in `voxel_map`: localising (see `wants_localization`) from
    `options.map_registration` or a global relocalisation, else as it is."""
    if not wants_localization(options):
        return robot
    reg = options.map_registration
    return localized_in_map(robot, voxel_map, registration=Pose2D(*reg) if reg is not None else None)
