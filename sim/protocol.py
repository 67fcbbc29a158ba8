"""The World protocol: what the rest of ovmm needs from a simulated home with a Stretch in it.

The simulated robot (sim.robot.SimRobot and sim.base_motion), scanning, evaluation, episodes' ground-truth
checks and the pictures use a world only through this protocol; a simulator backend implements it and is
registered by name in sim.backends. The MuJoCo backend (sim.mujoco.world.SimWorld) is the reference
implementation; its behaviour is documented in docs/sim-world.md.

Conventions: metres, radians, seconds; world frame z up, floor at z = 0; camera poses `T_world_cam` are
OpenCV camera frames (x right, y down, z forward). Object and receptacle ids are the scene spec's ids.
Motion is kinematic: `set_robot_state` places the robot (and whatever it holds) without dynamics, and
`robot_contact` reports whether that pose collides; physics (`step_physics`, `settle`) moves free objects only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

import numpy as np

from core.types import CameraIntrinsics, JointState, Pose2D
from sim.config import SimConfig
from sim.scene.spec import SceneSpec


@dataclass(frozen=True)
class Contact:
    """The deepest robot contact: which part of the robot (or the object it holds) penetrates what, how deep."""

    depth_m: float
    robot_part: str
    """The robot link or held object's collision part, without any backend prefix."""
    other: str
    """The scene item's collision-part name: 'wall/<id>...', 'rec/<id>...', 'obj/<id>...' or another name."""

    def describe(self) -> str:
        return f"{self.robot_part} touches {item_name(self.other)}"


def item_name(name: str) -> str:
    """A scene item's collision-part name ('obj/mug_1/3', 'wall/w2', ...) -> words for a failure reason."""
    if name.startswith("rec/"):
        return "receptacle " + name.split("/")[1]
    if name.startswith("obj/"):
        return "object " + name.split("/")[1]
    if name.startswith("wall/"):
        return "wall " + name.split("/")[1]
    return name or "scene geometry"


@dataclass(frozen=True)
class GraspCheck:
    """Would closing the gripper now hold an object? The object (or None), its width across the fingers, why."""

    object_id: str | None
    width_m: float
    reason: str

    @property
    def ok(self) -> bool:
        return self.object_id is not None


@runtime_checkable
class World(Protocol):
    """A simulated home with a Stretch in it (see the module docstring for conventions)."""

    spec: SceneSpec
    """The scene the world was built from (rooms, receptacles, objects, robot start)."""
    config: SimConfig
    """Camera, physics and motion-step parameters."""
    base_pose: Pose2D
    """The robot's base pose now (set through set_robot_state)."""
    joints: JointState
    """The robot's joints now (set through set_robot_state)."""
    sim_time_s: float
    """Simulated time; physics and robot motions advance it."""

    # --- the robot ---------------------------------------------------------------------------------
    def set_robot_state(self, base: Pose2D, joints: JointState) -> None:
        """Place the robot kinematically (a held object moves along)."""

    def T_world_grasp(self) -> np.ndarray:  # noqa: N802
        """4x4 pose of the gripper's grasp centre (x along the approach, y across the fingers)."""

    def robot_contact(self) -> Contact | None:
        """The deepest penetration between the robot (with what it holds) and anything else, if any."""

    def check_grasp(self) -> GraspCheck:
        """Would closing the gripper from its current opening hold an object (the backend's grasp rule)?"""

    def held_object(self) -> str | None:
        """The id of the object in the gripper, if any."""

    def attach(self, object_id: str) -> None:
        """Make the object follow the grasp centre rigidly from its current relative pose."""

    def detach(self) -> str | None:
        """Let go of the held object (at rest where it is); returns its id."""

    # --- physics -----------------------------------------------------------------------------------
    def step_physics(self, seconds: float) -> None:
        """Advance physics; the robot stays where it was put and a held object stays in the gripper."""

    def settle(self, max_s: float | None = None) -> float:
        """Step until every free object is at rest (or max_s passes); returns the simulated time used."""

    # --- objects and ground truth ------------------------------------------------------------------
    def object_ids(self) -> list[str]:
        """Ids of the movable objects."""

    def object_pose(self, object_id: str) -> np.ndarray:
        """4x4 world pose of an object (InputError for an unknown id)."""

    def set_object_pose(self, object_id: str, T_world_obj: np.ndarray) -> None:  # noqa: N803
        """Teleport an object (at rest; released if held); physics takes over from there."""

    def object_points_world(self, object_id: str) -> np.ndarray:
        """Surface samples of the object in the world frame, (N, 3) float64."""

    def object_aabb(self, object_id: str) -> tuple[np.ndarray, np.ndarray]:
        """World-axis bounds (lo, hi) of the object as it is now."""

    def object_center(self, object_id: str) -> np.ndarray:
        """Centre of the object's world-axis bounds."""

    def surface_under(self, object_id: str) -> str | None:
        """The receptacle the object rests on (on a support surface or a box part's top), if any."""

    def is_on(self, object_id: str, receptacle_id: str) -> bool:
        """Not held, at rest, and resting on the receptacle (the placing success criterion)."""

    # --- sensing -----------------------------------------------------------------------------------
    def render(self, T_world_cam: np.ndarray, intrinsics: CameraIntrinsics | None = None  # noqa: N803
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(rgb uint8 HxWx3, depth_m float32 HxW with 0 = invalid, instance ids int32 HxW) from a camera pose
        (default intrinsics: config.intrinsics()). Instance ids are the spec's; 0 = no object/receptacle."""

    def cast_rays(self, origins: np.ndarray, directions: np.ndarray, max_m: float = np.inf,
                  include_robot: bool = False) -> np.ndarray:
        """Distance (m) along each ray (origins, directions: (N, 3)) to the first visible surface, inf on a
        miss or beyond max_m; the robot's own body is skipped unless include_robot."""

    def close(self) -> None:
        """Free rendering contexts (the world stays usable for everything but rendering)."""
