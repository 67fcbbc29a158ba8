"""Ground-truth checks of an episode's phases in a running World (any simulator backend).

The evaluation scores each phase of a pick-and-place episode with these, not with what the robot believed:
the base stopped where the arm reaches the object, the gripper holds it, it rests on the receptacle.
"""

from __future__ import annotations

from core.types import Pose2D
from sim.protocol import World
from sim.scene.episodes import point_reachable_from


def object_reachable_from(world: World, base_pose: Pose2D, object_id: str) -> bool:
    """Can the arm put the grasp centre at the object's centre from `base_pose` (joint limits only)?"""
    return point_reachable_from(base_pose, world.object_center(object_id))


def object_held(world: World, object_id: str) -> bool:
    return world.held_object() == object_id


def object_on_receptacle(world: World, object_id: str, receptacle_id: str) -> bool:
    """Resting (settled, not held) on one of the receptacle's support surfaces."""
    return world.is_on(object_id, receptacle_id)
