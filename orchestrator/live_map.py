"""The map stays current while the robot works: every head-camera frame it takes is fused into the map.

`LiveMap(voxel_map, perception)` fuses a robot observation (`fuse`) the way a scan does: the frame's own
robot body is masked out (mapping.self_filter), perception turns it into object observations, and
`VoxelMap.add_frame` adds and re-weights voxels and applies negative evidence (mapping.negative_evidence:
what the camera now sees through decays and, missed three times, leaves both layers). Every fused voxel
keeps the index of the frame that last saw it (`last_seen` in both layers, saved with the map), so the
history of a map says which frames of which run changed it.

`MapUpdatingRobot(robot, live)` is the Robot the task machine drives: it passes everything through and
fuses every `observe()` (the looks of a pick or a place, look-arounds) and one frame after each base motion
(`fuse_after_motion`: what the robot sees where it stopped). Frames taken with the arm out are not fused
(the arm would be mapped as an obstacle). The cost is one perception pass and one fusion per frame (about
10 ms at 640x480 on a home-sized map for the fusion, mapping/README figures), a few frames per request.

`LiveMap.obstacles_changed()` says when the obstacle grid should be rebuilt (voxels emptied or added since
the last rebuild), so navigation sees a moved chair on its next plan.
"""

from __future__ import annotations

import datetime as _dt
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from mapping.self_filter import remove_robot_body
from robots.protocol import MotionResult, Robot, RobotObservation

if TYPE_CHECKING:
    from collections.abc import Sequence

    from core.types import JointState, LaserScan, Pose2D
    from mapping.voxel_map import FrameFusion, VoxelMap

log = logging.getLogger(__name__)

HISTORY_MAX = 32
"""Updates kept in a map's history (MapMetadata.history; the oldest go first)."""


@dataclass(frozen=True)
class LiveMapConfig:
    """Which frames the robot fuses into its map while it works."""

    enabled: bool = True
    fuse_after_motion: bool = True
    """Take and fuse one frame where each base motion (a drive along a path) ended."""
    max_arm_m: float = 0.05
    """Frames taken with the arm further out than this are not fused (it would be mapped as an obstacle)."""
    rebuild_after_voxels: int = 20
    """Occupied voxels added or emptied since the last obstacle grid after which it is rebuilt."""


@dataclass
class LiveMapStats:
    """What the live updates did (one request or a whole run)."""

    frames: int = 0
    skipped: int = 0
    observations: int = 0
    semantic_added: int = 0
    semantic_removed: int = 0
    occupancy_cleared: int = 0
    seconds: float = 0.0
    reasons: dict[str, int] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"frames": self.frames, "skipped": self.skipped, "observations": self.observations,
                "semantic_added": self.semantic_added, "semantic_removed": self.semantic_removed,
                "occupancy_cleared": self.occupancy_cleared, "seconds": round(self.seconds, 3),
                "by_reason": dict(self.reasons)}


class LiveMap:
    """Fuses the frames a working robot sees into `voxel_map` (see the module docstring)."""

    def __init__(self, voxel_map: VoxelMap, perception, config: LiveMapConfig | None = None) -> None:
        self.map = voxel_map
        self.perception = perception
        self.config = config or LiveMapConfig()
        self.stats = LiveMapStats()
        self._occupancy_changes = 0
        self._occupied = len(voxel_map.occupancy)
        self._kept: list[tuple[object, np.ndarray]] = []  # (hit, its voxel coords)
        self.last_stamp = 0.0
        """The latest timestamp of a frame given to `fuse` (the robot's clock; simulated seconds in simulation)."""

    def fuse(self, obs: RobotObservation, reason: str = "look") -> FrameFusion | None:
        """Fuse one observation; None when it is skipped (arm out, disabled)."""
        self.last_stamp = max(self.last_stamp, float(obs.frame.timestamp))
        if not self.config.enabled:
            return None
        if obs.joints is not None and obs.joints.arm_m > self.config.max_arm_m:
            self.stats.skipped += 1
            return None
        t0 = time.perf_counter()
        frame = remove_robot_body(obs.frame, obs.base_pose)
        observations = list(self.perception.observe(frame))
        before = len(self.map.semantic)
        fused = self.map.add_frame(frame, observations)
        s = self.stats
        s.frames += 1
        s.observations += fused.observations_fused
        s.semantic_removed += fused.semantic_removed
        s.semantic_added += max(0, len(self.map.semantic) - before + fused.semantic_removed)
        s.occupancy_cleared += fused.occupancy_cleared
        if fused.semantic_removed:
            self.refresh_hits()
        s.reasons[reason] = s.reasons.get(reason, 0) + 1
        occupied = len(self.map.occupancy)
        self._occupancy_changes += fused.occupancy_cleared + abs(occupied - self._occupied)
        self._occupied = occupied
        s.seconds += time.perf_counter() - t0
        return fused

    def keep_hits(self, hits, reset: bool = False) -> None:
        """Keep query hits pointing at their voxels: mapping.hits.Hit.voxels are rows of the semantic layer,
        which shift when negative evidence removes voxels; every fusion that removes some re-points the kept
        hits (voxels gone since are dropped from them). `reset` forgets the hits kept before (a new request)."""
        if reset:
            self._kept.clear()
        sem = self.map.semantic
        for h in hits:
            rows = np.asarray(h.voxels, dtype=np.int64)
            self._kept.append((h, sem.coords[rows[(rows >= 0) & (rows < len(sem))]].copy()))

    def refresh_hits(self) -> None:
        """Re-point every kept hit's `voxels` at the rows its voxels have now."""
        from mapping.voxel_keys import pack_keys

        sem = self.map.semantic
        for h, coords in self._kept:
            rows = sem.index.lookup(pack_keys(coords)) if len(coords) and len(sem) else np.zeros(0, np.int64)
            h.voxels = rows[rows >= 0]
            h.core = None  # named already; its old rows would point at other voxels now

    def obstacles_changed(self) -> bool:
        """Whether enough occupied voxels changed since the last call that returned True."""
        if self._occupancy_changes >= self.config.rebuild_after_voxels:
            self._occupancy_changes = 0
            return True
        return False

    def record(self, what: str, **details) -> dict:
        """Append an entry to the map's history (the last HISTORY_MAX are kept) and return it; the stats
        since the previous entry go with it."""
        entry = {"when": utc_now(), "what": what,
                 "frame": int(self.map.metadata.frames), **self.stats.to_dict(), **details}
        history = [*self.map.metadata.history, entry][-HISTORY_MAX:]
        self.map.metadata.history = history
        self.stats = LiveMapStats()
        return entry


def utc_now() -> str:
    """The wall-clock time now, UTC, ISO 8601 to the millisecond ("2026-12-03T12:01:02.345+00:00"): the "when"
    of a map history entry (requests a few hundred ms apart keep their order)."""
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="milliseconds")


class MapUpdatingRobot(Robot):
    """`robot` whose camera frames are fused into a LiveMap as the task machine uses it."""

    def __init__(self, robot: Robot, live: LiveMap) -> None:
        self.inner = robot
        self.live = live
        self.name = robot.name

    def __getattr__(self, name: str):
        # only reached for attributes this class does not define: the wrapped robot's (world, true_base_pose, log)
        if name == "inner":
            raise AttributeError(name)
        return getattr(self.inner, name)

    def connect(self) -> None:
        self.inner.connect()

    def disconnect(self) -> None:
        self.inner.disconnect()

    def observe(self, reason: str = "look") -> RobotObservation:
        obs = self.inner.observe()
        self.live.fuse(obs, reason)
        return obs

    def _after_motion(self, res: MotionResult) -> MotionResult:
        if self.live.config.fuse_after_motion:
            self.live.fuse(self.inner.observe(), "motion")
        return res

    def get_base_pose(self) -> Pose2D:
        return self.inner.get_base_pose()

    def get_joints(self) -> JointState:
        return self.inner.get_joints()

    def move_base_to(self, goal: Pose2D, tolerance_m: float = 0.05, tolerance_rad: float = 0.08) -> MotionResult:
        return self.inner.move_base_to(goal, tolerance_m, tolerance_rad)

    def follow_waypoints(self, waypoints: Sequence[Pose2D]) -> MotionResult:
        return self._after_motion(self.inner.follow_waypoints(waypoints))

    def set_head(self, pan: float, tilt: float) -> MotionResult:
        return self.inner.set_head(pan, tilt)

    def move_arm(self, lift_m: float | None = None, arm_m: float | None = None, wrist_yaw: float | None = None,
                 wrist_pitch: float | None = None, wrist_roll: float | None = None) -> MotionResult:
        return self.inner.move_arm(lift_m, arm_m, wrist_yaw, wrist_pitch, wrist_roll)

    def set_gripper(self, aperture_m: float) -> MotionResult:
        return self.inner.set_gripper(aperture_m)

    def stop(self) -> None:
        self.inner.stop()

    def is_holding(self) -> bool | None:
        return self.inner.is_holding()

    def laser_scan(self) -> LaserScan | None:
        return self.inner.laser_scan()
