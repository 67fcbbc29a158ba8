"""The real Stretch 3 through Hello Robot's `stretch_body` (package hello-robot-stretch-body), as a Robot.

Uses this part of the stretch_body API: `stretch_body.robot.Robot()`, `startup()`, `is_homed()` (or
`is_calibrated()` on older versions), `home()`, `stop()`, `get_status()`, `push_command()`,
`base.translate_by(x_m, v_m, a_m)`, `base.rotate_by(x_r, v_r, a_r)`, `base.set_velocity(v_m, w_r)`,
`lift.move_to(x_m, v_m, a_m)`, `arm.move_to(x_m, v_m, a_m)`, `end_of_arm.move_to(name, x_r, v_r, a_r)` for
wrist_yaw / wrist_pitch / wrist_roll / stretch_gripper, and `head.move_to(name, x_r, v_r, a_r)` for
head_pan / head_tilt. Steppers (base, lift, arm) move on push_command(); Dynamixels (wrist, gripper, head)
move at once. Every motion waits for the joints to arrive by polling get_status(), with a timeout, stall
detection and an interrupt from stop() (called e.g. by the robot-server watchdog from another thread).

Base poses: stretch_body integrates wheel odometry from where it started; `config.map_T_odom` (or
set_map_registration) places that odometry origin in the map frame.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable

from core.errors import RobotError
from core.stretch import STRETCH, T_world_headcam, drive_heading
from core.types import JointState, Pose2D, RGBDFrame, wrap_angle
from robots.motion_limits import ARM_LIMITS
from robots.protocol import MotionResult, Robot, RobotObservation
from robots.realsense_camera import HeadCamera, RealSenseHeadCamera
from robots.rplidar_scanner import RPLidarReader
from robots.stretch_body_config import StretchBodyConfig, compose, inverse

log = logging.getLogger(__name__)

_EOA_JOINTS = ("wrist_yaw", "wrist_pitch", "wrist_roll")


class StretchBodyRobot(Robot):
    """A Stretch 3 driven directly over stretch_body (run this on the robot, e.g. inside `ovmm robot-server`).

    body_module: an object with `robot.Robot` (the stretch_body package, or a stand-in for tests); imported
    lazily when None. camera: a HeadCamera; a RealSenseHeadCamera when None (use_camera=False: no camera).
    """

    name = "stretch"

    def __init__(self, config: StretchBodyConfig | None = None, camera: HeadCamera | None = None,
                 body_module=None, use_camera: bool = True, lidar: RPLidarReader | None = None) -> None:
        self.config = config or StretchBodyConfig()
        self._lidar = lidar  # the base's RPLidar (robots.rplidar_scanner); None: no scan in observe()
        self._lidar_said = "ok"
        self._body_module = body_module
        self._camera = camera
        self._use_camera = use_camera
        self._body = None
        self._map_T_odom = self.config.map_pose_of_odom
        self._stop = threading.Event()
        self.limit_violations = 0  # motions refused by the robot-side limits (max translation, goal distance)
        self._motion_lock = threading.Lock()
        self._frame_index = 0
        self._closed_on_object: bool | None = None

    # --- connection ---

    def connect(self) -> None:
        if self._body is not None:
            return
        module = self._body_module
        if module is None:
            try:
                import stretch_body as module  # noqa: PLC0415
                import stretch_body.robot  # noqa: F401, PLC0415 - hardware dependency, only on the robot
            except ImportError as exc:
                raise RobotError("the real Stretch backend needs stretch_body: pip install 'ovmm[robot]' on the "
                                 "robot (package hello-robot-stretch-body)") from exc
        body = module.robot.Robot()
        if body.startup() is False:
            raise RobotError("stretch_body could not start the robot: is another process using it? "
                             "(run stretch_free_robot_process.py)")
        homed = body.is_homed() if hasattr(body, "is_homed") else body.is_calibrated()
        if not homed:
            if not self.config.home_if_needed:
                body.stop()
                raise RobotError("the Stretch is not homed: run stretch_robot_home.py first (or allow homing)")
            log.warning("homing the Stretch: every joint will move to its hard stops")
            body.home()
        self._body = body
        if self._use_camera:
            if self._camera is None:
                self._camera = RealSenseHeadCamera()
            self._camera.start()
        if self._lidar is not None:
            self._lidar.start()
        log.info("connected to the Stretch over stretch_body")

    def disconnect(self) -> None:
        if self._body is None:
            return
        try:
            self.stop()
        finally:
            body, self._body = self._body, None
            try:
                body.stop()
            finally:
                if self._camera is not None:
                    self._camera.stop()
                if self._lidar is not None:
                    self._lidar.close()

    def _robot(self):
        if self._body is None:
            raise RobotError("the Stretch is not connected (call connect() or use the robot as a context manager)")
        return self._body

    def set_map_registration(self, map_T_odom: Pose2D) -> None:  # noqa: N803 - frame-naming convention
        """Place the odometry origin in the map frame (e.g. after localising against the map)."""
        self._map_T_odom = map_T_odom

    # --- state ---

    def _status(self) -> dict:
        return self._robot().get_status()

    def _odom_pose(self, status: dict | None = None) -> Pose2D:
        b = (status or self._status())["base"]
        return Pose2D(float(b["x"]), float(b["y"]), float(b["theta"]))

    def get_base_pose(self) -> Pose2D:
        return compose(self._map_T_odom, self._odom_pose())

    def get_joints(self) -> JointState:
        s = self._status()
        eoa, head = s["end_of_arm"], s["head"]
        gripper = eoa.get("stretch_gripper")
        return JointState(
            lift_m=float(s["lift"]["pos"]), arm_m=float(s["arm"]["pos"]),
            wrist_yaw=float(eoa["wrist_yaw"]["pos"]),
            wrist_pitch=float(eoa["wrist_pitch"]["pos"]) if "wrist_pitch" in eoa else 0.0,
            wrist_roll=float(eoa["wrist_roll"]["pos"]) if "wrist_roll" in eoa else 0.0,
            gripper_m=self.config.gripper.pct_to_aperture(float(gripper["pos_pct"])) if gripper else 0.0,
            head_pan=float(head["head_pan"]["pos"]), head_tilt=float(head["head_tilt"]["pos"]),
        )

    def observe(self) -> RobotObservation:
        if self._camera is None:
            raise RobotError("this Stretch backend was started without a camera")
        self._robot()
        cam = self._camera.read()
        joints = self.get_joints()
        pose = self.get_base_pose()
        self._frame_index += 1
        frame = RGBDFrame(rgb=cam.rgb, depth_m=cam.depth_m, intrinsics=cam.intrinsics,
                          T_world_cam=T_world_headcam(pose, joints.head_pan, joints.head_tilt),
                          timestamp=cam.timestamp, index=self._frame_index)
        scan = self._lidar.scan(pose) if self._lidar is not None else None
        status = self._lidar.status if self._lidar is not None else "ok"
        if status != self._lidar_said:  # each change of the lidar's state is logged once
            (log.info if status == "ok" else log.warning)("lidar: %s", status)
            self._lidar_said = status
        return RobotObservation(frame=frame, base_pose=pose, joints=joints, holding=self.is_holding(), scan=scan)

    def is_holding(self) -> bool | None:
        if not self._closed_on_object:
            return False if self._closed_on_object is not None else None
        return self.get_joints().gripper_m > self.config.gripper.holding_min_m

    # --- waiting ---

    def _wait(self, read: Callable[[dict], dict[str, float]], targets: dict[str, float], tols: dict[str, float],
              timeout_s: float, what: str, stall_ok: bool = False) -> MotionResult:
        """Poll until every joint in `targets` is within tolerance, it stalls, it times out or stop() is called."""
        c = self.config
        t0 = time.monotonic()
        last_progress_t, last_pos = t0, None
        while True:
            pos = read(self._status())
            errors = {k: abs(pos[k] - targets[k]) for k in targets}
            if all(errors[k] <= tols[k] for k in targets):
                return self._result(True)
            now = time.monotonic()
            if last_pos is None or any(abs(pos[k] - last_pos[k]) > c.stall_eps for k in targets):
                last_progress_t, last_pos = now, pos
            if self._stop.is_set():
                return self._result(False, f"{what} was stopped")
            if now - last_progress_t > c.stall_s and now - t0 > c.stall_s:
                if stall_ok:
                    return self._result(True)
                worst = max(errors, key=errors.get)
                return self._result(False, f"{what} stopped short: {worst} is {errors[worst]:.3f} from its target "
                                           "(contact or obstacle?)")
            if now - t0 > timeout_s:
                self.stop()
                return self._result(False, f"{what} did not finish within {timeout_s:.1f} s; stopped")
            time.sleep(c.poll_s)

    def _result(self, success: bool, reason: str = "") -> MotionResult:
        return MotionResult(success, reason, base_pose=self.get_base_pose(), joints=self.get_joints())

    def _begin(self) -> None:
        self._robot()
        self._stop.clear()

    # --- base ---

    def _rotate(self, dtheta: float) -> MotionResult:
        c = self.config
        if abs(dtheta) < 1e-3:
            return self._result(True)
        body = self._robot()
        start = self._odom_pose()
        body.base.rotate_by(dtheta, v_r=c.base_rot_speed_rad_s, a_r=c.base_rot_accel_rad_s2)
        body.push_command()

        def read(s: dict) -> dict[str, float]:
            return {"turned": wrap_angle(self._odom_pose(s).theta - start.theta - dtheta) + dtheta}

        timeout = self._timeout(abs(dtheta) / c.base_rot_speed_rad_s * 1.5 + c.timeout_margin_s)
        return self._wait(read, {"turned": dtheta}, {"turned": 0.02}, timeout, "base rotation")

    def _timeout(self, seconds: float) -> float:
        """A motion's timeout: always finite, at most max_motion_s."""
        return min(seconds, self.config.max_motion_s) if math.isfinite(seconds) else self.config.max_motion_s

    def _refuse(self, why: str) -> MotionResult:
        self.limit_violations += 1
        log.warning("refused a motion outside the limits: %s (%d so far)", why, self.limit_violations)
        return MotionResult(False, f"refused: {why}", self.get_base_pose(), self.get_joints())

    def _translate(self, distance: float) -> MotionResult:
        c = self.config
        if not math.isfinite(distance) or abs(distance) > c.max_translation_m:
            return self._refuse(f"a straight translation of {distance:.3g} m exceeds the {c.max_translation_m:g} m limit")
        body = self._robot()
        start = self._odom_pose()
        body.base.translate_by(distance, v_m=c.base_speed_m_s, a_m=c.base_accel_m_s2)
        body.push_command()
        ux, uy = math.cos(start.theta), math.sin(start.theta)

        def read(s: dict) -> dict[str, float]:
            p = self._odom_pose(s)
            return {"travelled": (p.x - start.x) * ux + (p.y - start.y) * uy}

        timeout = self._timeout(abs(distance) / c.base_speed_m_s * 1.5 + c.timeout_margin_s)
        return self._wait(read, {"travelled": distance}, {"travelled": 0.01}, timeout, "base translation")

    def move_base_to(self, goal: Pose2D, tolerance_m: float = 0.05, tolerance_rad: float = 0.08) -> MotionResult:
        c = self.config
        if not all(math.isfinite(v) for v in (goal.x, goal.y, goal.theta, tolerance_m, tolerance_rad)):
            return self._refuse("the goal or its tolerances are not finite")
        start = self.get_base_pose()
        far = math.hypot(goal.x - start.x, goal.y - start.y)
        if not far <= c.max_goal_distance_m:  # also catches an overflow to inf
            return self._refuse(f"the goal is {far:.3g} m away, more than the {c.max_goal_distance_m:g} m limit")
        with self._motion_lock:
            self._begin()
            goal_odom = compose(inverse(self._map_T_odom), goal)
            result = self._result(True)
            for _ in range(1 + max(0, self.config.base_corrections)):
                pose = self._odom_pose()
                dx, dy = goal_odom.x - pose.x, goal_odom.y - pose.y
                dist = math.hypot(dx, dy)
                if dist <= tolerance_m and abs(wrap_angle(goal_odom.theta - pose.theta)) <= tolerance_rad:
                    return self._result(True)
                if dist > tolerance_m:  # a goal behind: the smaller turn, then back up (as the planner checked)
                    travel = math.atan2(dy, dx)
                    facing = drive_heading(pose.theta, travel)
                    result = self._rotate(wrap_angle(facing - pose.theta))
                    if result.success:
                        result = self._translate(dist if facing == travel else -dist)
                    if not result.success:
                        return result
                result = self._rotate(wrap_angle(goal_odom.theta - self._odom_pose().theta))
                if not result.success:
                    return result
            pose = self.get_base_pose()
            d, e = pose.distance_to(goal), pose.heading_error(goal)
            if d <= tolerance_m and e <= tolerance_rad:
                return result
            return self._result(False, f"base ended {d:.3f} m / {e:.3f} rad from the goal")

    # --- arm, wrist, head, gripper ---

    def move_arm(self, lift_m: float | None = None, arm_m: float | None = None, wrist_yaw: float | None = None,
                 wrist_pitch: float | None = None, wrist_roll: float | None = None) -> MotionResult:
        targets = {k: float(v) for k, v in {"lift_m": lift_m, "arm_m": arm_m, "wrist_yaw": wrist_yaw,
                                            "wrist_pitch": wrist_pitch, "wrist_roll": wrist_roll}.items()
                   if v is not None}
        for name, value in targets.items():
            lo, hi = ARM_LIMITS[name]
            if not (math.isfinite(value) and lo <= value <= hi):
                return MotionResult(False, f"{name}={value:.3f} is outside its limits [{lo}, {hi}]",
                                    self.get_base_pose(), self.get_joints())
        if not targets:
            return self._result(True)
        c = self.config
        with self._motion_lock:
            self._begin()
            body = self._robot()
            current = self.get_joints()
            if "lift_m" in targets:
                body.lift.move_to(targets["lift_m"], v_m=c.lift_speed_m_s, a_m=c.lift_accel_m_s2)
            if "arm_m" in targets:
                body.arm.move_to(targets["arm_m"], v_m=c.arm_speed_m_s, a_m=c.arm_accel_m_s2)
            body.push_command()
            for name in _EOA_JOINTS:
                if name in targets:
                    body.end_of_arm.move_to(name, targets[name], v_r=c.wrist_speed_rad_s, a_r=c.wrist_accel_rad_s2)
            longest = max(
                abs(v - getattr(current, k)) / (c.lift_speed_m_s if k == "lift_m" else c.arm_speed_m_s
                                                if k == "arm_m" else c.wrist_speed_rad_s)
                for k, v in targets.items()
            )
            tols = {k: c.tol_m if k.endswith("_m") else c.tol_rad for k in targets}

            def read(_s: dict) -> dict[str, float]:
                j = self.get_joints()
                return {k: getattr(j, k) for k in targets}

            return self._wait(read, targets, tols, self._timeout(longest * 1.5 + c.timeout_margin_s), "arm motion")

    def set_head(self, pan: float, tilt: float) -> MotionResult:
        lim = STRETCH.limits
        targets = {"head_pan": min(max(float(pan), lim.head_pan[0]), lim.head_pan[1]),
                   "head_tilt": min(max(float(tilt), lim.head_tilt[0]), lim.head_tilt[1])}
        c = self.config
        with self._motion_lock:
            self._begin()
            body = self._robot()
            current = self.get_joints()
            for name, value in targets.items():
                body.head.move_to(name, value, v_r=c.head_speed_rad_s, a_r=c.head_accel_rad_s2)
            longest = max(abs(v - getattr(current, k)) for k, v in targets.items()) / c.head_speed_rad_s

            def read(_s: dict) -> dict[str, float]:
                j = self.get_joints()
                return {k: getattr(j, k) for k in targets}

            return self._wait(read, targets, dict.fromkeys(targets, c.tol_rad),
                              self._timeout(longest * 1.5 + c.timeout_margin_s),
                              "head motion")

    def set_gripper(self, aperture_m: float) -> MotionResult:
        g = self.config.gripper
        aperture = min(max(float(aperture_m), 0.0), STRETCH.limits.gripper_m[1])
        pct = g.aperture_to_pct(aperture)
        closing = aperture <= 0.0
        with self._motion_lock:
            self._begin()
            body = self._robot()
            body.end_of_arm.move_to("stretch_gripper", pct)

            def read(s: dict) -> dict[str, float]:
                return {"pct": float(s["end_of_arm"]["stretch_gripper"]["pos_pct"])}

            # Closing on an object never reaches grip_pct: the fingers stall on it, which is success.
            result = self._wait(read, {"pct": pct}, {"pct": self.config.gripper_tol_pct},
                                self.config.timeout_margin_s, "gripper motion", stall_ok=closing)
        self._closed_on_object = closing
        return result

    # --- stopping ---

    def stop(self) -> None:
        """Halt base, lift, arm, wrist and head where they are (the gripper keeps its grip)."""
        self._stop.set()
        body = self._body
        if body is None:
            return
        s = body.get_status()
        body.base.set_velocity(0.0, 0.0)
        body.lift.move_to(float(s["lift"]["pos"]))
        body.arm.move_to(float(s["arm"]["pos"]))
        body.push_command()
        for name in _EOA_JOINTS:
            if name in s["end_of_arm"]:
                body.end_of_arm.move_to(name, float(s["end_of_arm"][name]["pos"]))
        for name in ("head_pan", "head_tilt"):
            body.head.move_to(name, float(s["head"][name]["pos"]))
        log.info("Stretch stopped")
