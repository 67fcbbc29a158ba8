"""Exploration in a simulated scene, scored against the scene's ground truth.

`explore_sim_scene` explores a scene from its robot start into a new map (as `scanning.scan_sim_scene` scans
it along the ground-truth route); `sim_coverage` compares a map with the scene: the share of the true
reachable floor (sim.scene.ground_truth free space for the base, the start's component) the map saw free,
and the objects seen in at least `min_object_frames` frames.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from mapping.obstacles import FREE
from mapping.voxel_map import VoxelMap
from navigation.occupancy import OccupancyGrid
from orchestrator.exploration import (
    ExplorationConfig,
    ExplorationProgress,
    ExplorationReport,
    ExplorationResult,
    explore,
)


def true_reachable_floor(spec, robot_radius_m: float | None = None) -> tuple[np.ndarray, float]:
    """World xy (N, 2) of the ground-truth grid cells where the base's centre can be, in the robot start's
    free component (sim.scene.ground_truth), and one cell's area (m2)."""
    from core.stretch import STRETCH
    from sim.scene.ground_truth import component_at, free_components, occupancy_grid_full

    gt = occupancy_grid_full(spec)
    labels = free_components(gt, STRETCH.base_radius_m if robot_radius_m is None else robot_radius_m)
    comp = component_at(gt, labels, spec.robot_start.xy)
    true_rc = np.argwhere(labels == comp) if comp else np.zeros((0, 2), np.int64)
    return gt.cell_to_world(true_rc), gt.resolution_m ** 2


def floor_coverage(occ: OccupancyGrid | None, floor_xy: np.ndarray) -> float:
    """Share of the points `floor_xy` (true_reachable_floor) that `occ` saw free (0 for no grid)."""
    if occ is None or len(floor_xy) == 0:
        return 0.0
    rc = occ.world_to_cell(floor_xy)
    ok = occ.in_bounds(rc)
    return float((occ.state[rc[ok, 0], rc[ok, 1]] == FREE).sum()) / len(floor_xy)


def sim_coverage(spec, occ: OccupancyGrid | None, object_frames: dict[int, int], min_object_frames: int = 3,
                 robot_radius_m: float | None = None) -> dict:
    """Coverage of a simulated scene by a map's occupancy grid: the share of the true reachable floor
    (true_reachable_floor) the map saw free, and of the objects seen in at least `min_object_frames` frames
    (object_frames: instance id -> frames)."""
    floor_xy, cell_m2 = true_reachable_floor(spec, robot_radius_m)
    missed = [o.id for o in spec.objects if object_frames.get(o.instance_id, 0) < min_object_frames]
    n_obj = len(spec.objects)
    return {
        "reachable_floor_m2": round(len(floor_xy) * cell_m2, 2),
        "floor_coverage": round(floor_coverage(occ, floor_xy), 4) if len(floor_xy) else None,
        "objects": n_obj,
        "objects_seen": n_obj - len(missed),
        "object_coverage": round((n_obj - len(missed)) / n_obj, 4) if n_obj else None,
        "min_object_frames": min_object_frames,
        "objects_missed": missed,
    }


@dataclass
class SimExploration:
    """`explore_sim_scene`'s answer: the map (with the perception that made it) and the exploration."""

    voxel_map: VoxelMap
    perception: object
    exploration: ExplorationResult
    sim_time_s: float | None = None
    """Simulated seconds the scan took (driving and looking), where the world keeps a clock."""

    @property
    def report(self) -> ExplorationReport:
        return self.exploration.report


def explore_sim_scene(spec, perception_config, map_config=None, sim_config=None, base_dir=None,
                      config: ExplorationConfig | None = None,
                      on_progress: Callable[[ExplorationProgress], None] | None = None, world=None, realism=None,
                      localize: bool = True, min_object_frames: int = 3,
                      on_frame: Callable | None = None) -> SimExploration:
    """Explore a simulated scene (a SceneSpec or a scene.json path) from its robot start into a new map, as
    `scanning.scan_sim_scene` scans it along the ground-truth route (same perception, map and realism
    options); the report carries `sim_coverage`."""
    from pathlib import Path

    from mapping.fingerprint import scene_fingerprint
    from mapping.voxel_map import VoxelMapConfig
    from orchestrator.scanning import describe_map, new_map
    from perception.composite import build_perception
    from sim.backends import simulated_robot
    from sim.scene.spec import SceneSpec

    source = str(spec) if isinstance(spec, (str, Path)) else f"sim:{spec.name}"
    if isinstance(spec, (str, Path)):
        spec = SceneSpec.load(spec)
    descriptions = spec.instance_descriptions() if perception_config.kind.needs_scene else None
    perception = build_perception(perception_config, instance_descriptions=descriptions,
                                  instance_labels=spec.instance_labels())
    vmap = new_map(perception, perception_config, map_config or VoxelMapConfig(), source)
    with simulated_robot(spec, sim_config, base_dir, world=world, realism=realism) as robot:
        clock = getattr(robot.world, "sim_time_s", None)
        localized = None
        if localize and realism is not None and realism.odometry.enabled:
            from orchestrator.localized_robot import LocalizedRobot

            robot = localized = LocalizedRobot(robot, None)
        result = explore(robot, perception, vmap, config or ExplorationConfig(), on_progress, on_frame)
        if localized is not None:
            result.report.localization = localized.log.to_dict()
        world_now = getattr(getattr(robot, "world", None), "sim_time_s", None)
        sim_time = None if clock is None or world_now is None else float(world_now - clock)
    result.report.sim = sim_coverage(spec, result.occupancy, result.object_frames, min_object_frames)
    if sim_time is not None:
        result.report.sim["sim_time_s"] = round(sim_time, 1)
    describe_map(vmap, perception, scene_fingerprint(spec.to_dict(), spec.name))
    return SimExploration(vmap, perception, result, sim_time)
