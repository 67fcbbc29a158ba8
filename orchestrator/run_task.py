"""Carry out one spoken or typed request on a robot with a saved map (`ovmm run`, `ovmm listen --map`).

The robot is the simulator (`--robot sim --scene scene.json`) or a real Stretch reached through the
robot-side server (`--robot stretch --robot-host HOST`). Perception for the fresh head-camera frames is the
map's own pipeline (rebuilt from the perception config recorded in the map), so the words of the request
are embedded with the same encoder as the map's features.
"""

from __future__ import annotations

import logging
from pathlib import Path

from core.errors import InputError
from core.io import write_json_atomic
from mapping.map_encoder import check_encoder, perception_from_record
from mapping.voxel_map import VoxelMap
from orchestrator.configs import RobotOptions
from orchestrator.localized_robot import localized_for
from orchestrator.requests import parse_request
from orchestrator.robot_factory import open_robot
from orchestrator.task_machine import TaskConfig, TaskReport, TaskRunner

log = logging.getLogger(__name__)

def scene_descriptions(scene: str | None) -> tuple[object | None, dict[int, str] | None]:
    if scene is None:
        return None, None
    from sim.scene.spec import SceneSpec

    spec = SceneSpec.load(scene)
    return spec, spec.instance_descriptions()


RUN_DEVICE = "cpu"
"""Where `ovmm run` / `listen` run the map's perception pipeline by default (cpu, cuda or auto)."""


def map_perception(voxel_map: VoxelMap, descriptions: dict[int, str] | None, device: str = RUN_DEVICE,
                   labels: dict[int, str] | None = None):
    """The map's recorded perception pipeline, rebuilt (ground truth needs the scene's descriptions)."""
    from perception.composite import build_perception

    record = voxel_map.metadata.perception
    if not record:
        raise InputError(f"{voxel_map.metadata.source or 'the map'} records no perception config; rescan it")
    config = perception_from_record(record)
    config.device = device
    if config.kind.needs_scene and descriptions is None:
        raise InputError("this map was built with ground-truth perception, which only works in simulation: "
                         "use --robot sim --scene scene.json")
    perception = build_perception(config, instance_descriptions=descriptions, instance_labels=labels)
    check_encoder(voxel_map, perception)
    return perception


def load_task_map(map_file: str | Path, options: RobotOptions, spec=None) -> VoxelMap:
    """The map (with or without its .npz), checked against the scene for --scene (mapping.fingerprint)."""
    from mapping.fingerprint import check_scene
    from mapping.map_files import map_path

    path = map_path(map_file)
    voxel_map = VoxelMap.load(path)
    if spec is not None and options.scene:
        check_scene(voxel_map.metadata.fingerprint, spec.to_dict(), options.scene, str(path))
    return voxel_map


def run_request(text: str, map_path: str | Path, options: RobotOptions, config: TaskConfig | None = None,
                log_path: str | Path | None = None, device: str = RUN_DEVICE,
                save_map: str | Path | None = None) -> TaskReport:
    """Parse `text`, load the map, connect to the robot and carry the task out; write the run log if asked.

    The frames the robot sees while it works update the map (orchestrator.live_map); `save_map` writes the
    updated map there afterwards (mapping.persistence, atomically, with the run in its history)."""
    task = parse_request(text)
    spec, descriptions = scene_descriptions(options.scene)
    voxel_map = load_task_map(map_path, options, spec)
    perception = map_perception(voxel_map, descriptions, device, spec.instance_labels() if spec else None)
    with open_robot(options, spec) as robot:
        report = TaskRunner(localized_for(robot, voxel_map, options), voxel_map, perception, config).run(task, text)
    if log_path is not None:
        write_json_atomic(log_path, report.to_dict())
    if save_map is not None:
        written = voxel_map.save(save_map)
        log.info("saved the updated map to %s (%d updates in its history)", written, len(voxel_map.metadata.history))
    return report
