"""SimRobot: the simulated Stretch behind the robots.protocol.Robot interface.

Every motion is kinematic and collision checked (sim.base_motion) and can be halted from another thread by
`stop()`, as on the robot; grasping follows the world's grasp rule (World.check_grasp;
sim.mujoco.grasp_rule for MuJoCo). Motions
block until done, as on the real robot, and advance the world's simulated clock (`world.sim_time_s`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from core.errors import RobotError
from core.stretch import STRETCH, T_world_headcam
from core.types import JointState, LaserScan, Pose2D, RGBDFrame
from robots.protocol import MotionResult, Robot, RobotObservation
from sim.base_motion import STOPPED, drive_to, follow_states, joint_path
from sim.lidar import simulate_scan
from sim.protocol import World
from sim.realism import RealismConfig
from sim.realism_depth import noisy_depth, noisy_rgb
from sim.realism_odometry import OdometryModel
from sim.realism_perception import noisy_instances

log = logging.getLogger(__name__)

_RELEASE_SETTLE_S = 2.0


class SimRobot(Robot):
    """A Stretch in any simulated World (sim.protocol). `is_holding()` is exact.

    `realism` (sim.realism) sets how far the robot is from an oracle: with the oracle profile (the default)
    it reports the true pose, exact depth and perfect instance ids; with noise on, every pose it reports
    (observe, get_base_pose, MotionResult) is its drifting odometry, the frame's T_world_cam is posed from
    that odometry, depth/RGB/instance ids are corrupted, joints carry offsets and backlash, and a carried
    object can slip. The true pose is only available through `true_base_pose()` (scoring and pictures).
    Every observation carries a lidar `scan` (exact ranges in the oracle profile).
    """

    name = "sim"

    def __init__(self, world: World, realism: RealismConfig | None = None, real_time: bool = False) -> None:
        self.world = world
        self.real_time = real_time
        """Motions take their simulated duration in wall-clock time too (a robot-server soak: a motion lasts as
        long as on the Stretch, so a silent client's watchdog has a motion to stop); False: as fast as it computes."""
        self.realism = realism if realism is not None else RealismConfig.oracle()
        r = self.realism
        self._rng = np.random.default_rng(r.seed)
        self._odom = OdometryModel(r.odometry, self._rng, world.base_pose)
        self._depth_bias_sign = float(self._rng.choice([-1.0, 1.0]))
        self._lift_offset = float(self._rng.normal(0.0, r.arm.lift_offset_m)) if r.arm.enabled else 0.0
        self._arm_offset = float(self._rng.normal(0.0, r.arm.arm_offset_m)) if r.arm.enabled else 0.0
        self.slips = 0  # carried objects that slipped out (realism.arm)
        self._connected = False
        self._frames = 0
        self._stop = threading.Event()
        self._motions = 0  # motions in progress (follow_waypoints holds one across its moves)
        self._lock = threading.Lock()
        self._pace_from = (0.0, 0.0)  # (wall clock, simulated clock) when the outermost motion began

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
        r = self.realism
        base, joints = w.base_pose, w.joints
        reported = self._odom.reported(base)
        T = T_world_headcam(base, joints.head_pan, joints.head_tilt)
        intr = w.config.intrinsics()
        rgb, depth, ids = w.render(T, intr)
        if r.depth.enabled:
            depth = noisy_depth(depth, rgb, r.depth, self._rng, self._depth_bias_sign)
            rgb = noisy_rgb(rgb, r.depth, self._rng)
        if r.perception.enabled and ids is not None:
            ids = noisy_instances(ids, r.perception, self._rng, self._instance_pool())
        T_reported = T if reported == base else T_world_headcam(reported, joints.head_pan, joints.head_tilt)
        frame = RGBDFrame(rgb=rgb, depth_m=depth, intrinsics=intr, T_world_cam=T_reported, timestamp=w.sim_time_s,
                          index=self._frames, instance_ids=ids)
        self._frames += 1
        scan = simulate_scan(w, base, reported, r.lidar, self._rng, w.sim_time_s) if r.lidar.enabled else None
        return RobotObservation(frame=frame, base_pose=reported, joints=self._reported_joints(joints),
                                holding=self.is_holding(), scan=scan)

    def laser_scan(self) -> LaserScan | None:
        """A lidar scan without rendering a camera frame."""
        self._check()
        w, r = self.world, self.realism
        if not r.lidar.enabled:
            return None
        return simulate_scan(w, w.base_pose, self._odom.reported(w.base_pose), r.lidar, self._rng, w.sim_time_s)

    def get_base_pose(self) -> Pose2D:
        self._check()
        return self._odom.reported(self.world.base_pose)

    def true_base_pose(self) -> Pose2D:
        """The simulator's ground-truth base pose: for evaluation scoring and pictures only, never for the
        robot's own decisions (those use get_base_pose(), the odometry)."""
        return self.world.base_pose

    def get_joints(self) -> JointState:
        self._check()
        return self._reported_joints(self.world.joints)

    def _reported_joints(self, true: JointState) -> JointState:
        """What the encoders say: the true joints less their calibration offsets."""
        if not self.realism.arm.enabled:
            return replace(true)
        return replace(true, lift_m=true.lift_m - self._lift_offset, arm_m=true.arm_m - self._arm_offset)

    def _instance_pool(self) -> np.ndarray | None:
        """The scene's instance ids (what a confused or spurious detection can name), where the world says."""
        ids = getattr(self.world, "geom_instance", None)
        if ids is None:
            return None
        ids = np.unique(np.asarray(ids))
        return ids[ids > 0]

    def is_holding(self) -> bool | None:
        return self.world.held_object() is not None

    # --- motion --------------------------------------------------------------------------------------
    def _result(self, ok: bool, reason: str = "") -> MotionResult:
        return MotionResult(ok, reason, self._odom.reported(self.world.base_pose),
                            self._reported_joints(self.world.joints))

    def _begin(self) -> None:
        """A new outermost motion clears an old stop(); a stop() during it halts it."""
        with self._lock:
            if self._motions == 0:
                self._stop.clear()
                self._pace_from = (time.monotonic(), self.world.sim_time_s)
            self._motions += 1

    def _should_stop(self) -> bool:
        """Whether stop() was called; with `real_time`, first wait until the wall clock has caught up with the
        simulated clock of this motion (a stop() ends the wait at once)."""
        if self.real_time:
            wall0, sim0 = self._pace_from
            ahead = (self.world.sim_time_s - sim0) - (time.monotonic() - wall0)
            if ahead > 0:
                self._stop.wait(min(ahead, 1.0))
        return self._stop.is_set()

    def _end(self) -> None:
        with self._lock:
            self._motions -= 1
            last = self._motions == 0
        if last and self.real_time:
            self._should_stop()  # the last step's time too: the motion ends when it would on the robot

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
        w = self.world
        start = w.base_pose
        t0 = w.sim_time_s
        true_goal = self._odom.true_goal(start, goal)
        res = drive_to(w, true_goal, tolerance_m, self._should_stop)
        self._odom.walk(w.base_pose, w.sim_time_s - t0)
        self._maybe_slip(start.distance_to(w.base_pose))
        pose = self._odom.reported(w.base_pose)
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
        target = self._true_arm_target(cur, target)
        cfg = w.config
        path = joint_path(cur, target, cfg.arm_step_m, cfg.arm_step_rad)
        res = follow_states(w, ((w.base_pose, j) for j in path), cfg.arm_step_m / 0.15, self._should_stop)
        return self._result(res.success, res.reason)

    def _true_arm_target(self, cur: JointState, commanded: JointState) -> JointState:
        """Where the lift and arm really go for a commanded (encoder-frame) target: plus the calibration
        offset, short of the target by the backlash in the direction of travel, within the joint limits."""
        a = self.realism.arm
        if not a.enabled:
            return commanded
        lim = STRETCH.limits
        seen = self._reported_joints(cur)
        out = {}
        for name, off in (("lift_m", self._lift_offset), ("arm_m", self._arm_offset)):
            cmd = getattr(commanded, name)
            if abs(cmd - getattr(seen, name)) < 1e-9:
                out[name] = getattr(cur, name)
                continue
            v = cmd + off - a.backlash_m * float(np.sign(cmd - getattr(seen, name)))
            out[name] = min(max(v, getattr(lim, name)[0]), getattr(lim, name)[1])
        return replace(commanded, **out)

    def _maybe_slip(self, driven_m: float) -> None:
        """A carried object may slip out while the base drives (realism.arm): the chance grows with the
        distance and with the object's mass (estimated from its box at 300 kg/m^3, a household average)."""
        a = self.realism.arm
        held = self.world.held_object()
        if not a.enabled or held is None or driven_m <= 0:
            return
        lo, hi = self.world.object_aabb(held)
        mass_kg = float(np.prod(np.maximum(np.asarray(hi) - np.asarray(lo), 0.0))) * 300.0
        p = min(1.0, driven_m * (a.slip_rate_per_m + a.slip_rate_per_kg * mass_kg))
        if self._rng.random() < p:
            self.world.detach()
            self.world.settle(_RELEASE_SETTLE_S)
            self.slips += 1
            log.info("%s slipped out of the gripper while driving", held)

    def set_gripper(self, aperture_m: float) -> MotionResult:
        self._check()
        self._begin()
        try:
            return self._set_gripper(aperture_m)
        finally:
            self._end()

    def _set_gripper(self, aperture_m: float) -> MotionResult:
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
        res = follow_states(w, ((w.base_pose, j) for j in path), w.config.gripper_step_m / 0.05,
                            self._should_stop)
        reason = f"no grasp: {check.reason}" + (f"; {res.reason}" if res.reason else "")
        return self._result(res.success, reason)

    def stop(self) -> None:
        """Halt the motion in progress (called from another thread, as on the robot): the base or joints stop
        at the next simulation step and that motion reports "stopped by stop()"; the next command moves again."""
        self._stop.set()
