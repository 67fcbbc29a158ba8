"""The Robot protocol: what the orchestrator needs from any Stretch, real or simulated.

A backend implements the abstract methods; callers use it as a context manager:

    with make_robot() as robot:
        obs = robot.observe()
        robot.move_base_to(Pose2D(1.0, 2.0, 0.0))

All poses are in the robot's world (map) frame; joints follow core.stretch conventions. Motion commands
block until the motion ends and report whether the target was reached; they never raise for an ordinary
failure (blocked path, unreachable joint target) but return MotionResult(success=False, reason=...).
Lost connections raise core.errors.RobotError.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass

from core.types import JointState, LaserScan, Pose2D, RGBDFrame


@dataclass
class RobotObservation:
    """What the robot senses now: the head camera frame (with T_world_cam), base pose and joints."""

    frame: RGBDFrame
    base_pose: Pose2D
    joints: JointState
    holding: bool | None = None  # True/False where the backend can tell (gripper effort or simulation)
    scan: LaserScan | None = None  # the planar lidar's latest scan; None where no lidar is attached


@dataclass
class MotionResult:
    success: bool
    reason: str = ""
    base_pose: Pose2D | None = None
    joints: JointState | None = None


class Robot(ABC):
    """A Stretch, real or simulated."""

    name: str = "robot"

    def __enter__(self) -> Robot:
        self.connect()
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.stop()
        finally:
            self.disconnect()

    @abstractmethod
    def connect(self) -> None:
        """Open the connection (serial ports, network, simulator). Idempotent."""

    @abstractmethod
    def disconnect(self) -> None:
        """Stop motion and release the connection. Idempotent."""

    @abstractmethod
    def observe(self) -> RobotObservation:
        """A fresh head-camera frame, base pose and joint state."""

    @abstractmethod
    def get_base_pose(self) -> Pose2D:
        """The current base pose (cheaper than observe())."""

    @abstractmethod
    def get_joints(self) -> JointState:
        """The current joint state (cheaper than observe())."""

    @abstractmethod
    def move_base_to(self, goal: Pose2D, tolerance_m: float = 0.05, tolerance_rad: float = 0.08) -> MotionResult:
        """Drive to a pose: rotate towards the goal, translate straight, rotate to the goal heading."""

    def follow_waypoints(self, waypoints: Sequence[Pose2D]) -> MotionResult:
        """Drive through waypoints in order; stops at the first one that fails."""
        result = MotionResult(success=True, base_pose=self.get_base_pose())
        for i, wp in enumerate(waypoints):
            result = self.move_base_to(wp)
            if not result.success:
                return MotionResult(False, f"waypoint {i + 1}/{len(waypoints)}: {result.reason}", result.base_pose)
        return result

    @abstractmethod
    def set_head(self, pan: float, tilt: float) -> MotionResult:
        """Point the head camera (radians; clamped to the joint limits)."""

    @abstractmethod
    def move_arm(
        self,
        lift_m: float | None = None,
        arm_m: float | None = None,
        wrist_yaw: float | None = None,
        wrist_pitch: float | None = None,
        wrist_roll: float | None = None,
    ) -> MotionResult:
        """Move any subset of lift, arm extension and wrist joints; None leaves a joint where it is.

        Targets outside the joint limits are refused (success=False), not clamped silently. A motion that
        would collide stops at contact and reports it.
        """

    @abstractmethod
    def set_gripper(self, aperture_m: float) -> MotionResult:
        """Open to an aperture between the fingertips (metres); 0 closes (and grips what is between)."""

    def open_gripper(self) -> MotionResult:
        from core.stretch import STRETCH

        return self.set_gripper(STRETCH.limits.gripper_m[1])

    def close_gripper(self) -> MotionResult:
        return self.set_gripper(0.0)

    @abstractmethod
    def stop(self) -> None:
        """Stop all motion now."""

    def is_holding(self) -> bool | None:
        """Whether the gripper holds something, where the backend can tell; None if unknown."""
        return None

    def laser_scan(self) -> LaserScan | None:
        """The planar lidar's latest scan (None without a lidar). Backends that can read the lidar without a
        camera frame override this; the default takes a whole observation."""
        return self.observe().scan
