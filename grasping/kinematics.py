"""Analytic inverse kinematics of the Stretch arm on core.stretch's chain.

Structure of the chain (verified against core.stretch.T_base_grasp to 1e-4):
- the wrist-yaw axis is vertical and sits at w(lift, arm) = w0 + (0, -arm, lift) in the base frame;
- R_base_grasp = Rz(yaw) Rx(-pitch) R0 Rx(roll), with R0 the grasp orientation at zero joints
  (approach -y, closing +x);
- the grasp centre is w(lift, arm) + Rz(yaw) o(pitch) (roll turns about the approach axis through it).

So the approach's elevation gives the pitch, its heading the yaw, the closing axis the roll; the wrist-yaw
axis then lies at a known point, and since the base may only turn in place, the distance from the base
centre to that point fixes the arm extension and its bearing fixes the base rotation. Top-down grasps leave
yaw free (it trades with roll), so a few preferred wrist yaws are tried. Every solution is checked by core FK.
The parallel gripper is symmetric: a grasp and the same grasp with its closing axis flipped are the same.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field

import numpy as np

from core.geometry import rot_x, rot_z
from core.stretch import STRETCH, T_base_grasp, wrist_yaw_axis_base
from core.types import JointState, Pose2D, wrap_angle
from grasping.config import IKConfig

LIMITS = STRETCH.limits
_W0 = wrist_yaw_axis_base(0.0, 0.0)
_R0 = T_base_grasp(JointState(lift_m=0.0))[:3, :3]
_FLIP = np.diag([1.0, -1.0, -1.0])  # the same grasp with the closing axis reversed


def wrist_offset(pitch: float) -> np.ndarray:
    """Grasp centre minus the wrist-yaw axis point, base frame, at wrist yaw 0 (depends on pitch only)."""
    return _wrist_offset(round(float(pitch), 6)).copy()


@functools.lru_cache(maxsize=512)
def _wrist_offset(pitch: float) -> np.ndarray:
    T = T_base_grasp(JointState(lift_m=0.0, arm_m=0.0, wrist_yaw=0.0, wrist_pitch=pitch, wrist_roll=0.0))
    return T[:3, 3] - _W0


@dataclass
class ArmSolution:
    """Joint targets realising a grasp pose: base turned in place to `base_pose`, then the arm joints."""

    base_pose: Pose2D
    joints: JointState
    base_rotation: float  # radians turned in place from the given base pose
    T_world_grasp: np.ndarray  # core FK of the solution
    position_error_m: float = 0.0
    angle_error_rad: float = 0.0


@dataclass
class IKResult:
    solution: ArmSolution | None
    reason: str = ""
    details: dict = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.solution is not None


def _in_range(v: float, lim: tuple[float, float], margin: float = 0.0) -> bool:
    return lim[0] + margin - 1e-9 <= v <= lim[1] - margin + 1e-9


def _wrap_into(a: float, lim: tuple[float, float]) -> float | None:
    """a + 2 pi k inside lim, the one nearest 0; None if there is none."""
    best = None
    for k in (-1, 0, 1):
        v = wrap_angle(a) + 2 * math.pi * k
        if _in_range(v, lim) and (best is None or abs(v) < abs(best)):
            best = v
    return best


def rotation_angle(Ra: np.ndarray, Rb: np.ndarray) -> float:  # noqa: N803
    c = (np.trace(Ra.T @ Rb) - 1.0) / 2.0
    return float(math.acos(min(1.0, max(-1.0, c))))


def grasp_pose_error(T_a: np.ndarray, T_b: np.ndarray, symmetric: bool = True) -> tuple[float, float]:  # noqa: N803
    """(position error m, orientation error rad) between two grasp poses, up to the closing-axis flip."""
    dp = float(np.linalg.norm(T_a[:3, 3] - T_b[:3, 3]))
    ang = rotation_angle(T_a[:3, :3], T_b[:3, :3])
    if symmetric:
        ang = min(ang, rotation_angle(T_a[:3, :3] @ _FLIP, T_b[:3, :3]))
    return dp, ang


def _solve_fixed(P: np.ndarray, R_wg: np.ndarray, base: Pose2D, yaw_rel: float | None,  # noqa: N803
                 pitch: float, cfg: IKConfig, symmetric: bool) -> IKResult:
    """Position/roll solve for a fixed pitch; yaw given relative to the base (top-down) or from the heading."""
    d = P[:2] - np.array([base.x, base.y])
    if yaw_rel is None:  # heading fixed in the world: the wrist axis point is fixed in the world
        a = R_wg[:, 0]
        yaw_world = math.atan2(a[1], a[0]) + math.pi / 2
        o = rot_z(yaw_world) @ wrist_offset(pitch)
        d = d - o[:2]
        lateral, forward_off = _W0[0], _W0[1]
    else:
        q = rot_z(yaw_rel) @ wrist_offset(pitch)
        lateral, forward_off = _W0[0] + q[0], _W0[1] + q[1]
        o = None
    r2 = float(d @ d)
    if r2 < lateral**2 + 1e-9:
        return IKResult(None, "the grasp is too close to the base's centre for the arm", {"distance_m": math.sqrt(r2)})
    s = math.sqrt(r2 - lateral**2)
    arm = forward_off + s  # (forward_off - arm) = -s: the arm points along the base's -y
    theta = math.atan2(d[1], d[0]) - math.atan2(-s, lateral)
    dtheta = wrap_angle(theta - base.theta)
    if yaw_rel is None:
        lift = float(P[2] - o[2] - _W0[2])
        yaw = _wrap_into(yaw_world - theta, LIMITS.wrist_yaw)
        if yaw is None:
            return IKResult(None, "orientation not realisable: the wrist yaw needed is outside its range",
                            {"wrist_yaw": wrap_angle(yaw_world - theta)})
    else:
        lift = float(P[2] - q[2] - _W0[2])
        yaw = yaw_rel
    R_bg = rot_z(-theta) @ R_wg
    Q = (rot_z(yaw) @ rot_x(-pitch) @ _R0).T @ R_bg
    roll = math.atan2(Q[2, 1], Q[1, 1])
    if symmetric and abs(roll) > math.pi / 2:  # the same grasp with the fingers swapped
        roll = wrap_angle(roll + math.pi)
    details = {"lift_m": lift, "arm_m": arm, "base_rotation_rad": dtheta}
    if abs(dtheta) > cfg.max_base_rotation_rad:
        return IKResult(None, f"the base would have to turn {math.degrees(dtheta):.0f} deg in place "
                              f"(max {math.degrees(cfg.max_base_rotation_rad):.0f})", details)
    if arm > LIMITS.arm_m[1] - cfg.arm_margin_m:
        return IKResult(None, f"arm cannot reach: needs {arm:.2f} m extension, max {LIMITS.arm_m[1]:.2f}", details)
    if arm < LIMITS.arm_m[0]:
        return IKResult(None, f"the grasp is too close to the base: the arm would need {arm:.2f} m extension",
                        details)
    if not _in_range(lift, LIMITS.lift_m, cfg.lift_margin_m):
        where = "below" if lift < LIMITS.lift_m[0] else "above"
        return IKResult(None, f"out of lift range: needs lift {lift:.2f} m, {where} "
                              f"[{LIMITS.lift_m[0]:.2f}, {LIMITS.lift_m[1]:.2f}]", details)
    joints = JointState(lift_m=lift, arm_m=max(arm, 0.0), wrist_yaw=yaw, wrist_pitch=pitch, wrist_roll=roll)
    new_base = Pose2D(base.x, base.y, wrap_angle(theta))
    return IKResult(ArmSolution(new_base, joints, dtheta, np.eye(4)), "", details)


def solve_ik(T_world_grasp: np.ndarray, base: Pose2D, config: IKConfig | None = None,  # noqa: N803
             symmetric: bool = True) -> IKResult:
    """Base rotation + lift, arm and wrist joints realising a world grasp pose, or the reason it cannot.

    The result's solution is verified with core FK (position within config.verify_position_m, orientation
    within config.verify_angle_rad, up to the closing-axis flip when `symmetric`).
    """
    config = config or IKConfig()
    T = np.asarray(T_world_grasp, dtype=float)
    P = T[:3, 3]
    a_z = float(np.clip(T[2, 0], -1.0, 1.0))
    pitch = math.asin(a_z)
    lo, hi = LIMITS.wrist_pitch
    tol = config.top_down_tolerance_rad
    if pitch < lo - tol or pitch > hi + tol:
        return IKResult(None, f"orientation not realisable: the approach is {math.degrees(pitch):.0f} deg from "
                              f"horizontal, the wrist pitches only {math.degrees(lo):.0f}..{math.degrees(hi):.0f}")
    pitch = min(max(pitch, lo), hi)
    vertical = abs(a_z) > math.cos(config.top_down_tolerance_rad)
    R = T[:3, :3]
    yaws = [y for y in config.preferred_top_yaws if _in_range(y, LIMITS.wrist_yaw)] if vertical else [None]
    results = [_solve_fixed(P, R, base, y, pitch, config, symmetric) for y in yaws]
    good = [r for r in results if r.ok]
    if not good:
        return min(results, key=_shortfall)
    best = min(good, key=lambda r: (abs(r.solution.base_rotation) + 0.3 * abs(r.solution.joints.wrist_roll)
                                    + 0.2 * abs(r.solution.joints.wrist_yaw)))
    sol = best.solution
    sol.T_world_grasp = sol.base_pose.as_matrix() @ T_base_grasp(sol.joints)
    sol.position_error_m, sol.angle_error_rad = grasp_pose_error(sol.T_world_grasp, T, symmetric)
    if sol.position_error_m > config.verify_position_m or sol.angle_error_rad > config.verify_angle_rad:
        return IKResult(None, f"orientation not realisable: the closest arm pose is off by "
                              f"{sol.position_error_m * 100:.1f} cm, {math.degrees(sol.angle_error_rad):.1f} deg",
                        best.details)
    return best


def _shortfall(r: IKResult) -> float:
    """How far a failed solution is from feasible (to report the most relevant reason)."""
    d = r.details
    if not d:
        return 1e9
    s = max(0.0, d.get("arm_m", 0.0) - LIMITS.arm_m[1]) + max(0.0, -d.get("arm_m", 0.0))
    s += max(0.0, LIMITS.lift_m[0] - d.get("lift_m", 0.5)) + max(0.0, d.get("lift_m", 0.5) - LIMITS.lift_m[1])
    return s + 0.2 * abs(d.get("base_rotation_rad", 0.0))


def offset_pose(T: np.ndarray, direction_world: np.ndarray, distance_m: float) -> np.ndarray:  # noqa: N803
    out = np.array(T, dtype=float)
    out[:3, 3] = out[:3, 3] + distance_m * np.asarray(direction_world, dtype=float)
    return out


def pregrasp_joints(solution: ArmSolution, backoff_m: float, from_above: bool) -> JointState:
    """The pre-grasp arm pose: same base and wrist, backed off so the final approach is one straight move.

    From above: backed off upward (lift); else backed along the arm (retracting it). That is the direction
    the robot then moves in to reach the grasp, and the direction collision.sweep_hits checks.
    """
    j = solution.joints
    if from_above:
        lift = min(j.lift_m + backoff_m, LIMITS.lift_m[1])
        return JointState(lift_m=lift, arm_m=j.arm_m, wrist_yaw=j.wrist_yaw, wrist_pitch=j.wrist_pitch,
                          wrist_roll=j.wrist_roll, gripper_m=LIMITS.gripper_m[1])
    arm = max(j.arm_m - backoff_m, LIMITS.arm_m[0])
    return JointState(lift_m=j.lift_m, arm_m=arm, wrist_yaw=j.wrist_yaw, wrist_pitch=j.wrist_pitch,
                      wrist_roll=j.wrist_roll, gripper_m=LIMITS.gripper_m[1])


def lift_for_height(z_m: float, top_down: bool) -> float:
    """Lift that puts the grasp centre at height `z_m` with the gripper pointing down or horizontal."""
    return float(z_m - wrist_offset(-math.pi / 2 if top_down else 0.0)[2] - _W0[2])


def reach_distance(arm_m: float, top_down: bool) -> float:
    """Horizontal distance from the base centre to the grasp centre at a given extension (wrist yaw 0)."""
    o = wrist_offset(-math.pi / 2 if top_down else 0.0)
    return float(math.hypot(_W0[0] + o[0], _W0[1] - arm_m + o[1]))


def arm_heading_through(base_xy: np.ndarray, target_xy: np.ndarray, top_down: bool = False) -> float:
    """World heading of the arm (wrist yaw 0) once the base has turned so the gripper line passes the target.

    This is the approach heading of a side grasp that needs no wrist yaw: a straight arm extension.
    """
    o = wrist_offset(-math.pi / 2 if top_down else 0.0)
    lateral = _W0[0] + o[0]
    d = np.asarray(target_xy, dtype=float)[:2] - np.asarray(base_xy, dtype=float)[:2]
    r = max(float(np.hypot(*d)), abs(lateral) + 1e-6)
    s = math.sqrt(r * r - lateral * lateral)
    bearing = math.atan2(d[1], d[0])
    return wrap_angle(bearing - math.atan2(-s, lateral) - math.pi / 2)


def base_pose_for_reach(target_xyz: np.ndarray, approach_heading: float | None = None,
                        arm_m: float = 0.25, top_down: bool = True) -> Pose2D:
    """A base pose from which the arm, extended `arm_m` with wrist yaw 0, puts the grasp centre over (top-down)
    or level with (side) `target_xyz`.

    The arm points along `approach_heading` (the base faces that + pi/2, as the arm extends along its -y).
    Used by tests and benchmarks that place the robot next to an object; navigation has its own base goals.
    """
    h = 0.0 if approach_heading is None else approach_heading
    theta = wrap_angle(h + math.pi / 2)
    o = wrist_offset(-math.pi / 2 if top_down else 0.0)
    local = np.array([_W0[0] + o[0], _W0[1] - arm_m + o[1]])  # grasp centre in the base frame
    c, s = math.cos(theta), math.sin(theta)
    world = np.array([c * local[0] - s * local[1], s * local[0] + c * local[1]])
    xy = np.asarray(target_xyz, dtype=float)[:2] - world
    return Pose2D(float(xy[0]), float(xy[1]), theta)
