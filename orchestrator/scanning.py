"""Building maps from the three kinds of source: a capture file/folder, a simulated walkthrough, a live robot.

The loop itself is mapping.scan.scan_frames; this module makes the frames and the perception for it:
- `scan_capture(path, ...)`: frames from mapping.sources.open_capture (Record3D .r3d, Redwood/ICL, TUM).
- `scan_sim_scene(spec, ...)`: builds SimWorld + SimRobot and follows sim.scene.walkthrough.scan_route: at each
  stop `move_base_to(stop.pose)`, then for every head pan `set_head(pan, tilt)` and `observe()`.
- `scan_robot(robot, ...)`: any robots.protocol.Robot (the real Stretch through robots.RobotClient): at each
  given base position (default: where it stands) the head turns through `RobotScanConfig.num_pans` pans.
- `robot_walkthrough_frames(robot, stops)`: the frame generator all of these share.
Ground-truth perception gets the scene's instance descriptions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.types import Observation, Pose2D, RGBDFrame, wrap_angle
from mapping.map_encoder import perception_record
from mapping.scan import ScanStats, scan_frames
from mapping.self_filter import SelfFilterConfig, remove_robot_body
from mapping.voxel_map import MapMetadata, VoxelMap, VoxelMapConfig
from perception.config import PerceptionConfig, Pipeline

log = logging.getLogger(__name__)

OnFrame = Callable[[int, RGBDFrame, list[Observation]], None]


@dataclass
class ScanResult:
    voxel_map: VoxelMap
    stats: ScanStats
    perception: object  # the perception composite used (has encode_text / embedding_model_id)
    failed_moves: int = 0


def new_map(perception, config: PerceptionConfig, map_config: VoxelMapConfig, source: str) -> VoxelMap:
    meta = MapMetadata(embedding_model_id=perception.embedding_model_id, perception=perception_record(config),
                       source=source)
    return VoxelMap(map_config, meta)


def describe_map(vmap: VoxelMap, perception, fingerprint: dict | None = None) -> None:
    """Drop the object evidence most frames that saw it did not detect (mapping.confirmation: one frame's
    false positive or confused label), record what the map's objects are called (MapMetadata.instances),
    calibrate its not-found threshold and margin on them (mapping.calibration) and record where it came from
    (mapping.fingerprint)."""
    from mapping.calibration import calibrate
    from mapping.confirmation import drop_unconfirmed
    from perception.vocabulary import InstanceText

    drop_unconfirmed(vmap)
    gt = getattr(perception, "gt", None)
    texts = {t.description: t for t in gt.texts.values()} if gt is not None else {}
    vmap.metadata.instances = [
        (texts.get(label) or InstanceText(label, label, (label,))).to_dict() for label in sorted(vmap.observed_labels)]
    vmap.metadata.query_calibration = calibrate(vmap, perception.encode_text).to_dict()
    if fingerprint:
        vmap.metadata.fingerprint = dict(fingerprint)
    log.info("query calibration: %s", vmap.metadata.query_calibration)


def scan_capture(path: str | Path, perception_config: PerceptionConfig, map_config: VoxelMapConfig | None = None,
                 capture_config=None, on_start: Callable[[int], None] | None = None,
                 on_frame: OnFrame | None = None, max_frames: int | None = None) -> ScanResult:
    """Scan a capture (anything mapping.sources.open_capture reads) into a new map."""
    from mapping.sources import open_capture

    if perception_config.kind.needs_scene:
        raise InputError("the ground-truth perception pipeline needs a simulated scene (--sim scene.json), "
                         f"not a capture ({path})")
    source = open_capture(path, capture_config)
    from perception.composite import build_perception

    perception = build_perception(perception_config)
    vmap = new_map(perception, perception_config, map_config or VoxelMapConfig(), str(path))
    n = len(source) if max_frames is None else min(len(source), max_frames)
    if on_start is not None:
        on_start(n)
    with source:
        frames = (source.frame(i) for i in range(n))
        stats = scan_frames(frames, perception.observe, vmap, on_frame)
    from mapping.fingerprint import capture_fingerprint

    describe_map(vmap, perception, capture_fingerprint(path, n))
    return ScanResult(vmap, stats, perception)


def travel_goal(current: Pose2D, stop_pose: Pose2D) -> Pose2D:
    """The stop's position with the heading the base has while driving there (no turn on arrival).

    The head pans cover the views, so the base only needs the position, and every turn avoided is one less
    chance to sweep the (non-round) base and stowed arm into furniture. A goal behind the robot is reached
    backing up (as the Stretch drives), so the heading of travel is then the reverse direction.
    """
    dx, dy = stop_pose.x - current.x, stop_pose.y - current.y
    if math.hypot(dx, dy) < 0.02:
        return Pose2D(stop_pose.x, stop_pose.y, current.theta)
    heading = math.atan2(dy, dx)
    if abs(wrap_angle(heading - current.theta)) > math.pi / 2:
        heading = wrap_angle(heading + math.pi)
    return Pose2D(stop_pose.x, stop_pose.y, heading)


_SELF_FILTER = SelfFilterConfig()

# Small moves tried, in order, to get clear before retrying a failed move: (distance m, direction relative
# to the heading, rad). Straight back needs no turn; the diagonals turn 45 degrees at most; straight ahead,
# last, is for a robot that backed up to a stop with the obstacle behind it, whose every turn swings its
# rear into it (apartment 10521).
_RECOVERY_MOVES = ((0.2, math.pi), (0.15, math.pi / 4), (0.15, -math.pi / 4), (0.15, 3 * math.pi / 4),
                   (0.15, -3 * math.pi / 4), (0.2, 0.0))


def _recover_and_retry(robot, goal: Pose2D):
    """After a failed move: step a little (back, diagonals, then ahead) and retry, finally with the exact pose."""
    res = None
    for dist, rel in _RECOVERY_MOVES:
        here = robot.get_base_pose()
        a = here.theta + rel
        robot.move_base_to(travel_goal(here, Pose2D(here.x + dist * math.cos(a), here.y + dist * math.sin(a))))
        res = robot.move_base_to(travel_goal(robot.get_base_pose(), goal))
        if res.success:
            return res
    res = robot.move_base_to(goal)
    return res


def robot_walkthrough_frames(robot, stops: Sequence, on_move_failed: Callable[[int, str], None] | None = None,
                             keep_stop_heading: bool = False,
                             self_filter: SelfFilterConfig | None = _SELF_FILTER,
                             visited: list[Pose2D] | None = None) -> Iterator[RGBDFrame]:
    """Drive a robot along scan stops and yield one head-camera frame per head pan.

    By default the robot keeps its heading of travel on arrival and, if that move fails, steps a little to
    get clear (back 0.2 m, 0.15 m diagonals, then 0.2 m ahead) and tries again, finally with the stop's own heading;
    keep_stop_heading: drive to each stop's exact pose. self_filter: drop depth on the robot's own body
    (mapping.self_filter; None keeps it). A stop that cannot be
    reached is reported (log + on_move_failed) and the robot looks around from where it stopped.
    visited: base poses are appended here (the start, then where each stop was reached), for
    `mark_driven_floor`.
    """
    if visited is not None:
        visited.append(robot.get_base_pose())
    for i, stop in enumerate(stops):
        if keep_stop_heading:
            res = robot.move_base_to(stop.pose)
        else:
            res = robot.move_base_to(travel_goal(robot.get_base_pose(), stop.pose))
            if not res.success:
                res = _recover_and_retry(robot, stop.pose)
        if not res.success:
            log.warning("scan stop %d at %s not reached: %s", i, stop.pose, res.reason)
            if on_move_failed is not None:
                on_move_failed(i, res.reason)
        if visited is not None:
            visited.append(robot.get_base_pose())
        for pan in stop.head_pans:
            robot.set_head(pan, stop.head_tilt)
            obs = robot.observe()
            yield remove_robot_body(obs.frame, obs.base_pose, self_filter) if self_filter is not None else obs.frame


@dataclass(frozen=True)
class ViewStop:
    """A base pose and the head pans/tilt to look around from it (same fields as sim's ScanStop)."""

    pose: Pose2D
    head_pans: tuple[float, ...]
    head_tilt: float


@dataclass(frozen=True)
class RobotScanConfig:
    """How `ovmm scan --robot` looks around at each stop."""

    num_pans: int = 8
    """Head pans per stop, evenly spread over the head's pan range."""
    head_tilt: float = -0.52
    """Head tilt (rad): about 30 degrees down, so tables and counters are in view."""


def look_around_pans(n: int) -> tuple[float, ...]:
    """`n` head pans spread evenly over the Stretch's pan range (core.stretch limits)."""
    from core.stretch import STRETCH

    lo, hi = STRETCH.limits.head_pan
    if n < 1:
        raise InputError(f"the number of head pans must be at least 1, got {n}")
    if n == 1:
        return (0.0,)
    return tuple(float(hi - k * (hi - lo) / (n - 1)) for k in range(n))


def scan_robot(robot, perception_config: PerceptionConfig, map_config: VoxelMapConfig | None = None,
               positions: Sequence[Pose2D] | None = None, config: RobotScanConfig = RobotScanConfig(),
               instance_descriptions: dict[int, str] | None = None, source: str = "robot",
               on_start: Callable[[int], None] | None = None, on_frame: OnFrame | None = None) -> ScanResult:
    """Scan with a connected robot: drive to each position (default: stay), look around, fuse."""
    from perception.composite import build_perception

    perception = build_perception(perception_config, instance_descriptions=instance_descriptions)
    vmap = new_map(perception, perception_config, map_config or VoxelMapConfig(), source)
    poses = list(positions) if positions else [robot.get_base_pose()]
    stops = [ViewStop(p, look_around_pans(config.num_pans), config.head_tilt) for p in poses]
    stats, failed = _drive_and_fuse(robot, stops, perception, vmap, on_start, on_frame)
    describe_map(vmap, perception, {"kind": "robot", "name": source})
    return ScanResult(vmap, stats, perception, failed_moves=len(failed))


def _drive_and_fuse(robot, stops: Sequence, perception, vmap: VoxelMap, on_start: Callable[[int], None] | None,
                    on_frame: OnFrame | None) -> tuple:
    """Visit the stops with the robot, fuse every view into vmap and mark the driven floor;
    (scan stats, indices of the stops not reached)."""
    failed: list[int] = []
    if on_start is not None:
        on_start(count_views(stops))
    visited: list[Pose2D] = []
    frames = robot_walkthrough_frames(robot, stops, lambda i, _r: failed.append(i), visited=visited)
    stats = scan_frames(frames, perception.observe, vmap, on_frame)
    mark_driven_floor(vmap, visited)
    return stats, failed


DRIVEN_FLOOR_RADIUS_M = 0.15  # inside the base's 0.34 m x 0.33 m footprint


def mark_driven_floor(vmap: VoxelMap, visited: Sequence[Pose2D], radius_m: float = DRIVEN_FLOOR_RADIUS_M) -> int:
    """The floor the robot drove over during the scan is free, though its camera never looks under itself:
    mark it seen along the straight moves between consecutive reached poses (otherwise an unseen strip
    along the route can cut the map's free space in two). Returns the number of floor voxels touched."""
    pts = []
    for a, b in zip(visited[:-1], visited[1:], strict=False):
        n = max(1, int(math.ceil(a.distance_to(b) / 0.05)))
        t = np.linspace(0.0, 1.0, n + 1)[:, None]
        pts.append(a.xy + t * (b.xy - a.xy))
    if not pts and visited:
        pts.append(visited[0].xy[None])
    return vmap.add_floor(np.concatenate(pts), radius_m) if pts else 0


def count_views(stops: Sequence) -> int:
    return sum(len(s.head_pans) for s in stops)


def scan_sim_scene(spec, perception_config: PerceptionConfig, map_config: VoxelMapConfig | None = None,
                   sim_config=None, route_config=None, base_dir: str | Path | None = None,
                   on_start: Callable[[int], None] | None = None, on_frame: OnFrame | None = None,
                   world=None, realism=None, localize: bool = True) -> ScanResult:
    """Scan a simulated scene (a SceneSpec or a scene.json path) along its scan route into a new map.

    world: an existing World (sim.protocol) of the spec to drive in (its robot is moved); by default a new one
    is built (sim.backends). realism: the simulated robot's sim.realism.RealismConfig (default oracle): with
    noise on, the frames are posed from the robot's drifting odometry and carry its depth/perception noise;
    then, unless `localize` is False, the robot corrects its odometry by lidar scan matching against the scan
    map it builds as it drives (orchestrator.localized_robot, mapping mode), as a real Stretch would.
    """
    from sim.backends import simulated_robot
    from sim.scene.spec import SceneSpec
    from sim.scene.walkthrough import ScanRouteConfig, scan_route

    source = str(spec) if isinstance(spec, (str, Path)) else f"sim:{spec.name}"
    if isinstance(spec, (str, Path)):
        spec = SceneSpec.load(spec)
    stops = scan_route(spec, route_config or ScanRouteConfig())
    descriptions = spec.instance_descriptions() if perception_config.kind.needs_scene else None
    from perception.composite import build_perception

    perception = build_perception(perception_config, instance_descriptions=descriptions,
                                  instance_labels=spec.instance_labels())
    vmap = new_map(perception, perception_config, map_config or VoxelMapConfig(), source)
    with simulated_robot(spec, sim_config, base_dir, world=world, realism=realism) as robot:
        if localize and realism is not None and realism.odometry.enabled:
            from orchestrator.localized_robot import LocalizedRobot

            robot = LocalizedRobot(robot, None)
        stats, failed = _drive_and_fuse(robot, stops, perception, vmap, on_start, on_frame)
    if failed:
        log.warning("%d of %d scan stops were not reached", len(failed), len(stops))
    from mapping.fingerprint import scene_fingerprint

    describe_map(vmap, perception, scene_fingerprint(spec.to_dict(), spec.name))
    return ScanResult(vmap, stats, perception, failed_moves=len(failed))


@dataclass(frozen=True)
class SimScanDefaults:
    """Perception settings for simulated ground-truth scans.

    Ground-truth masks are exact, so the only reason to drop one is that it is too small to place; small
    objects (a lemon, a sponge) seen from 2-3 m across a room cover ~100 pixels at 640x480, below
    perception's general default of 200. Scaled with the image area.
    """

    min_mask_pixels_at_640x480: int = 80
    min_mask_pixels_floor: int = 10


def sim_perception_config(width: int = 640, height: int = 480, defaults: SimScanDefaults = SimScanDefaults(),
                          **overrides) -> PerceptionConfig:
    """PerceptionConfig(pipeline="ground-truth") with min_mask_pixels scaled to a width x height camera."""
    px = max(defaults.min_mask_pixels_floor,
             round(defaults.min_mask_pixels_at_640x480 * width * height / (640 * 480)))
    kw = {"pipeline": Pipeline.GROUND_TRUTH.value, "min_mask_pixels": px, **overrides}
    return PerceptionConfig(**kw)


def with_camera(sim_config, width: int | None, height: int | None):
    """A SimConfig with another camera resolution (None keeps the default)."""
    from sim.config import SimConfig

    cfg = sim_config or SimConfig()
    if width is None and height is None:
        return cfg
    return replace(cfg, camera_width=width or cfg.camera_width, camera_height=height or cfg.camera_height)
