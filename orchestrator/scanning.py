"""Building maps from the three kinds of source: a capture file/folder, a simulated walkthrough, a live robot.

The loop itself is mapping.scan.scan_frames; this module makes the frames and the perception for it:
- `scan_capture(path, ...)`: frames from mapping.sources.open_capture (Record3D .r3d, Redwood/ICL, TUM).
- `scan_sim_scene(spec, ...)`: builds SimWorld + SimRobot and follows sim.walkthrough.scan_route: at each
  stop `move_base_to(stop.pose)`, then for every head pan `set_head(pan, tilt)` and `observe()`.
- `robot_walkthrough_frames(robot, stops)`: the same frames from any robots.protocol.Robot.
Ground-truth perception gets the scene's instance descriptions.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from core.errors import InputError
from core.types import Observation, Pose2D, RGBDFrame
from mapping.map_encoder import perception_record
from mapping.scan import ScanStats, scan_frames
from mapping.voxel_map import MapMetadata, VoxelMap, VoxelMapConfig
from perception import PerceptionConfig, build_perception

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


def scan_capture(path: str | Path, perception_config: PerceptionConfig, map_config: VoxelMapConfig | None = None,
                 capture_config=None, on_start: Callable[[int], None] | None = None,
                 on_frame: OnFrame | None = None, max_frames: int | None = None) -> ScanResult:
    """Scan a capture (anything mapping.sources.open_capture reads) into a new map."""
    from mapping.sources import open_capture

    if perception_config.pipeline == "ground-truth":
        raise InputError("the ground-truth perception pipeline needs a simulated scene (--sim scene.json), "
                         f"not a capture ({path})")
    source = open_capture(path, capture_config)
    perception = build_perception(perception_config)
    vmap = new_map(perception, perception_config, map_config or VoxelMapConfig(), str(path))
    n = len(source) if max_frames is None else min(len(source), max_frames)
    if on_start is not None:
        on_start(n)
    with source:
        frames = (source.frame(i) for i in range(n))
        stats = scan_frames(frames, perception.observe, vmap, on_frame)
    return ScanResult(vmap, stats, perception)


def travel_goal(current: Pose2D, stop_pose: Pose2D) -> Pose2D:
    """The stop's position with the heading of travel from `current` (no turn on arrival): the head pans
    cover the views, so the base only needs the position, and every avoided turn is one less chance to
    sweep the (non-round) base into furniture."""
    dx, dy = stop_pose.x - current.x, stop_pose.y - current.y
    if math.hypot(dx, dy) < 0.02:
        return Pose2D(stop_pose.x, stop_pose.y, current.theta)
    return Pose2D(stop_pose.x, stop_pose.y, math.atan2(dy, dx))


def robot_walkthrough_frames(robot, stops: Sequence, on_move_failed: Callable[[int, str], None] | None = None,
                             keep_stop_heading: bool = False) -> Iterator[RGBDFrame]:
    """Drive a robot along scan stops and yield one head-camera frame per head pan.

    keep_stop_heading: turn to each stop's heading on arrival (default: keep the heading of travel).
    """
    for i, stop in enumerate(stops):
        goal = stop.pose if keep_stop_heading else travel_goal(robot.get_base_pose(), stop.pose)
        res = robot.move_base_to(goal)
        if not res.success:
            log.warning("scan stop %d at %s not reached: %s", i, stop.pose, res.reason)
            if on_move_failed is not None:
                on_move_failed(i, res.reason)
        for pan in stop.head_pans:
            robot.set_head(pan, stop.head_tilt)
            yield robot.observe().frame


def count_views(stops: Sequence) -> int:
    return sum(len(s.head_pans) for s in stops)


def scan_sim_scene(spec, perception_config: PerceptionConfig, map_config: VoxelMapConfig | None = None,
                   sim_config=None, route_config=None, base_dir: str | Path | None = None,
                   on_start: Callable[[int], None] | None = None, on_frame: OnFrame | None = None,
                   world=None) -> ScanResult:
    """Scan a simulated scene (a SceneSpec or a scene.json path) along its scan route into a new map.

    world: an existing SimWorld of the spec to drive in (its robot is moved); by default a new one is built.
    """
    from sim.robot import SimRobot
    from sim.scene_spec import SceneSpec
    from sim.walkthrough import ScanRouteConfig, scan_route
    from sim.world import SimWorld

    source = str(spec) if isinstance(spec, (str, Path)) else f"sim:{spec.name}"
    if isinstance(spec, (str, Path)):
        spec = SceneSpec.load(spec)
    stops = scan_route(spec, route_config or ScanRouteConfig())
    descriptions = spec.instance_descriptions() if perception_config.pipeline == "ground-truth" else None
    perception = build_perception(perception_config, instance_descriptions=descriptions)
    vmap = new_map(perception, perception_config, map_config or VoxelMapConfig(), source)
    own_world = world is None
    if own_world:
        world = SimWorld(spec, sim_config, base_dir=base_dir)
    failed: list[int] = []
    if on_start is not None:
        on_start(count_views(stops))
    try:
        with SimRobot(world) as robot:
            frames = robot_walkthrough_frames(robot, stops, lambda i, _r: failed.append(i))
            stats = scan_frames(frames, perception.observe, vmap, on_frame)
    finally:
        if own_world:
            world.close()
    if failed:
        log.warning("%d of %d scan stops were not reached", len(failed), len(stops))
    return ScanResult(vmap, stats, perception, failed_moves=len(failed))


def with_camera(sim_config, width: int | None, height: int | None):
    """A SimConfig with another camera resolution (None keeps the default)."""
    from sim.config import SimConfig

    cfg = sim_config or SimConfig()
    if width is None and height is None:
        return cfg
    return replace(cfg, camera_width=width or cfg.camera_width, camera_height=height or cfg.camera_height)
