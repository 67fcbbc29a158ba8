"""SimRobot: the simulated Stretch behind the robots.protocol.Robot interface.

Every motion is kinematic and collision checked (sim.base_motion) and can be halted from another thread by
`stop()`, as on the robot; grasping follows the world's grasp rule (World.check_grasp;
sim.mujoco.grasp_rule for MuJoCo). Motions
block until done, as on the real robot, and advance the world's simulated clock (`world.sim_time_s`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from dataclasses import replace

from core.errors import RobotError
from core.stretch import STRETCH, T_world_headcam
from core.types import JointState, Pose2D, RGBDFrame
from robots.protocol import MotionResult, Robot, RobotObservation
from sim.base_motion import STOPPED, drive_to, follow_states, joint_path
from sim.protocol import World

log = logging.getLogger(__name__)

_RELEASE_SETTLE_S = 2.0


class SimRobot(Robot):
    """A Stretch in any simulated World (sim.protocol). `is_holding()` is exact."""

    name = "sim"

    def __init__(self, world: World) -> None:
        self.world = world
        self._connected = False
        self._frames = 0
        self._stop = threading.Event()
        self._motions = 0  # motions in progress (follow_waypoints holds one across its moves)
        self._lock = threading.Lock()

    # --- connection ----------------------------------------------------------------------------------
    def connect(self) -> None:
        self._connected = True

    def disconnect(self) -> None:
        self._connected = False

    def _check(self) -> None:
        if not self._connected:
            raise RobotError("the simulated robot is not connected: call connect() or use it as a context manager")

    # --- sensing -------------------------------------------------------------------------------------
    def observe(self) -> RobotObservation:
        self._check()
        w = self.world
        base, joints = w.base_pose, w.joints
        T = T_world_headcam(base, joints.head_pan, joints.head_tilt)
        intr = w.config.intrinsics()
        rgb, depth, ids = w.render(T, intr)
        frame = RGBDFrame(rgb=rgb, depth_m=depth, intrinsics=intr, T_world_cam=T, timestamp=w.sim_time_s,
                          index=self._frames, instance_ids=ids)
        self._frames += 1
        return RobotObservation(frame=frame, base_pose=base, joints=replace(joints), holding=self.is_holding())

    def get_base_pose(self) -> Pose2D:
        self._check()
        return self.world.base_pose

    def get_joints(self) -> JointState:
        self._check()
        return replace(self.world.joints)

    def is_holding(self) -> bool | None:
        return self.world.held_object() is not None

    # --- motion --------------------------------------------------------------------------------------
    def _result(self, ok: bool, reason: str = "") -> MotionResult:
        return MotionResult(ok, reason, self.world.base_pose, replace(self.world.joints))

    def _begin(self) -> None:
        """A new outermost motion clears an old stop(); a stop() during it halts it."""
        with self._lock:
            if self._motions == 0:
                self._stop.clear()
            self._motions += 1

    def _end(self) -> None:
        with self._lock:
            self._motions -= 1

    def follow_waypoints(self, waypoints: Sequence[Pose2D]) -> MotionResult:
        """As Robot.follow_waypoints, as one motion: a stop() between two waypoints ends it too."""
        self._check()
        self._begin()
        try:
            return super().follow_waypoints(waypoints)
        finally:
            self._end()

    def move_base_to(self, goal: Pose2D, tolerance_m: float = 0.05, tolerance_rad: float = 0.08) -> MotionResult:
        self._check()
        self._begin()
        try:
            return self._move_base_to(goal, tolerance_m, tolerance_rad)
        finally:
            self._end()

    def _move_base_to(self, goal: Pose2D, tolerance_m: float, tolerance_rad: float) -> MotionResult:
        if self._stop.is_set():
            return self._result(False, STOPPED)
        res = drive_to(self.world, goal, tolerance_m, self._stop.is_set)
        pose = self.world.base_pose
        if res.success and (pose.distance_to(goal) > tolerance_m or pose.heading_error(goal) > tolerance_rad):
            return self._result(False, "did not reach the goal within tolerance")
        return self._result(res.success, res.reason)

    def set_head(self, pan: float, tilt: float) -> MotionResult:
        self._check()
        lim = STRETCH.limits
        pan = min(max(float(pan), lim.head_pan[0]), lim.head_pan[1])
        tilt = min(max(float(tilt), lim.head_tilt[0]), lim.head_tilt[1])
        w = self.world
        w.set_robot_state(w.base_pose, replace(w.joints, head_pan=pan, head_tilt=tilt))
        return self._result(True)

    def move_arm(self, lift_m: float | None = None, arm_m: float | None = None, wrist_yaw: float | None = None,
                 wrist_pitch: float | None = None, wrist_roll: float | None = None) -> MotionResult:
        self._check()
        self._begin()
        try:
            return self._move_arm(lift_m, arm_m, wrist_yaw, wrist_pitch, wrist_roll)
        finally:
            self._end()

    def _move_arm(self, lift_m, arm_m, wrist_yaw, wrist_pitch, wrist_roll) -> MotionResult:
        w = self.world
        cur = w.joints
        lim = STRETCH.limits
        target = replace(cur, **{k: float(v) for k, v in (("lift_m", lift_m), ("arm_m", arm_m), ("wrist_yaw", wrist_yaw),
                                                          ("wrist_pitch", wrist_pitch), ("wrist_roll", wrist_roll))
                                 if v is not None})
        for name in ("lift_m", "arm_m", "wrist_yaw", "wrist_pitch", "wrist_roll"):
            lo, hi = getattr(lim, name)
            v = getattr(target, name)
            if not lo - 1e-6 <= v <= hi + 1e-6:
                return self._result(False, f"{name} target {v:.3f} is outside the joint limits [{lo}, {hi}]")
        cfg = w.config
        path = joint_path(cur, target, cfg.arm_step_m, cfg.arm_step_rad)
        res = follow_states(w, ((w.base_pose, j) for j in path), cfg.arm_step_m / 0.15, self._stop.is_set)
        return self._result(res.success, res.reason)

    def set_gripper(self, aperture_m: float) -> MotionResult:
        self._check()
        w = self.world
        lo, hi = STRETCH.limits.gripper_m
        aperture_m = float(aperture_m)
        if not lo - 1e-6 <= aperture_m <= hi + 1e-6:
            return self._result(False, f"gripper aperture {aperture_m:.3f} m is outside [{lo}, {hi}]")
        cur = w.joints
        if aperture_m >= cur.gripper_m:
            released = w.detach()
            w.set_robot_state(w.base_pose, replace(cur, gripper_m=aperture_m))
            if released is not None:
                w.settle(_RELEASE_SETTLE_S)
                log.info("released %s", released)
            return self._result(True)
        if w.held_object() is not None:  # already holding: the object stops the fingers where they are
            return self._result(True, f"holding {w.held_object()} (it stops the fingers)")
        check = w.check_grasp()
        if check.ok and aperture_m < check.width_m:
            w.set_robot_state(w.base_pose, replace(cur, gripper_m=min(check.width_m, cur.gripper_m)))
            w.attach(check.object_id)
            return self._result(True, f"holding {check.object_id}")
        path = joint_path(cur, replace(cur, gripper_m=aperture_m), w.config.gripper_step_m, 1.0)
        res = follow_states(w, ((w.base_pose, j) for j in path), w.config.gripper_step_m / 0.05, self._stop.is_set)
        reason = f"no grasp: {check.reason}" + (f"; {res.reason}" if res.reason else "")
        return self._result(res.success, reason)

    def stop(self) -> None:
        """Halt the motion in progress (called from another thread, as on the robot): the base or joints stop
        at the next simulation step and that motion reports "stopped by stop()"; the next command moves again."""
        self._stop.set()
