"""HabitatWorld: the World protocol with habitat-sim's renderer (needs habitat_sim; see sim.habitat_sim).

The scene is exported with sim.habitat_dataset.exporter to a temporary dataset (object configs carry our
instance ids as `semantic_id`) and loaded through habitat-sim's metadata mediator. The robot is a base +
camera agent: its three sensors are posed at the Stretch head camera's `T_world_cam` for every render.
Everything else (robot state, contacts, grasping, physics, ground truth, ray casts) is the MuJoCo world's:
before each render the rigid objects are posed where the MuJoCo world has them.

UNVERIFIED: habitat-sim cannot be installed where ovmm is developed; only sim.habitat_sim.config is tested.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.types import CameraIntrinsics
from sim.config import SimConfig
from sim.habitat_sim.config import (
    INSTALL_HINT,
    HabitatSimSettings,
    habitat_camera_pose,
    habitat_object_pose,
    settings_for,
)
from sim.scene.spec import SceneSpec

try:
    import habitat_sim
except ImportError as exc:  # pragma: no cover - sim.backends checks availability before importing this module
    raise InputError(f"the habitat backend needs habitat-sim ({INSTALL_HINT})") from exc


def habitat_configuration(settings: HabitatSimSettings) -> habitat_sim.Configuration:
    """HabitatSimSettings -> habitat_sim.Configuration (one agent with the head-camera sensors)."""
    backend = habitat_sim.SimulatorConfiguration()
    backend.scene_dataset_config_file = settings.scene_dataset_config_file
    backend.scene_id = settings.scene_id
    backend.enable_physics = settings.enable_physics
    backend.gpu_device_id = settings.gpu_device_id
    kinds = {"color": habitat_sim.SensorType.COLOR, "depth": habitat_sim.SensorType.DEPTH,
             "semantic": habitat_sim.SensorType.SEMANTIC}
    sensors = []
    for s in settings.sensors:
        spec = habitat_sim.CameraSensorSpec()
        spec.uuid = s.uuid
        spec.sensor_type = kinds[s.kind]
        spec.resolution = list(s.resolution)
        spec.hfov = s.hfov_deg
        spec.position = [0.0, 0.0, 0.0]
        sensors.append(spec)
    agent = habitat_sim.agent.AgentConfiguration()
    agent.sensor_specifications = sensors
    return habitat_sim.Configuration(backend, [agent])


class HabitatWorld:
    """World (sim.protocol) rendering with habitat-sim; all else from an inner MuJoCo SimWorld."""

    def __init__(self, spec: SceneSpec, config: SimConfig | None = None, base_dir: Path | None = None):
        from sim.habitat_dataset.exporter import export_scene
        from sim.mujoco.world import SimWorld

        self._inner = SimWorld(spec, config, base_dir)
        self._tmp = Path(tempfile.mkdtemp(prefix="ovmm-habitat-"))
        exported = spec if base_dir is None else replace(spec, base_dir=Path(base_dir))
        dataset = export_scene(exported, self._tmp / "dataset", episodes=0)
        self._intrinsics = self._inner.config.intrinsics()
        name = dataset.name.removesuffix(".scene_dataset_config.json")
        self._sim = habitat_sim.Simulator(habitat_configuration(settings_for(str(dataset), name, self._intrinsics)))
        rom = self._sim.get_rigid_object_manager()
        self._objects = {}  # our object id -> habitat-sim rigid object (handle "<template>_:<n>")
        for handle in rom.get_object_handles():
            oid = Path(handle.rsplit("_:", 1)[0]).name.removesuffix(".object_config.json")
            self._objects[oid] = rom.get_object_by_handle(handle)

    def __getattr__(self, name):  # the protocol's state and methods other than render/close: the MuJoCo world's
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._inner, name)

    def _sync_objects(self) -> None:
        for oid in self._inner.object_ids():
            obj = self._objects.get(oid)
            if obj is None:
                continue
            t, q = habitat_object_pose(self._inner.object_pose(oid))
            obj.translation = t
            obj.rotation = habitat_sim.utils.common.quat_from_coeffs([q[1], q[2], q[3], q[0]])

    def render(self, T_world_cam: np.ndarray, intrinsics: CameraIntrinsics | None = None  # noqa: N803
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        if intrinsics is not None and intrinsics != self._intrinsics:
            raise InputError("the habitat backend renders at its configured head-camera intrinsics only")
        self._sync_objects()
        position, q = habitat_camera_pose(T_world_cam)
        agent = self._sim.get_agent(0)
        state = agent.get_state()
        rot = habitat_sim.utils.common.quat_from_coeffs([q[1], q[2], q[3], q[0]])
        for uuid in ("rgb", "depth", "semantic"):
            state.sensor_states[uuid] = habitat_sim.SixDOFPose(position=np.asarray(position), rotation=rot)
        agent.set_state(state, infer_sensor_states=False)
        obs = self._sim.get_sensor_observations()
        rgb = np.ascontiguousarray(obs["rgb"][..., :3]).astype(np.uint8)
        depth = np.asarray(obs["depth"], dtype=np.float32)
        cfg = self._inner.config
        depth[(depth < cfg.depth_min_m) | (depth > cfg.depth_max_m)] = 0.0
        return rgb, depth, np.asarray(obs["semantic"], dtype=np.int32)

    def close(self) -> None:
        try:
            self._sim.close()
        finally:
            self._inner.close()
            shutil.rmtree(self._tmp, ignore_errors=True)
