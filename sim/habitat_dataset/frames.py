"""Habitat's frame (y up, -z forward) <-> ours (z up, floor at z = 0), and Habitat's w,x,y,z quaternions.

A Habitat world point p_h maps to ours as p = R_ZUP_FROM_HAB @ p_h: (x, y, z) -> (x, -z, y). A Habitat
rotation R_h (about Habitat's axes) becomes R_ZUP_FROM_HAB @ R_h @ R_ZUP_FROM_HAB.T in our world.
"""

from __future__ import annotations

import math

import numpy as np

from core.geometry import R_to_quat_xyzw, quat_xyzw_to_R, rot_x
from sim.scene.fields import SceneError

R_ZUP_FROM_HAB = rot_x(math.pi / 2)
R_HAB_FROM_ZUP = R_ZUP_FROM_HAB.T


def hab_to_zup_point(p) -> np.ndarray:
    return R_ZUP_FROM_HAB @ np.asarray(p, dtype=np.float64)


def zup_to_hab_point(p) -> np.ndarray:
    return R_HAB_FROM_ZUP @ np.asarray(p, dtype=np.float64)


def hab_to_zup_rotation(R_h: np.ndarray) -> np.ndarray:  # noqa: N803
    return R_ZUP_FROM_HAB @ R_h @ R_HAB_FROM_ZUP


def zup_to_hab_rotation(R: np.ndarray) -> np.ndarray:  # noqa: N803
    return R_HAB_FROM_ZUP @ R @ R_ZUP_FROM_HAB


def quat_wxyz_to_R(q, ctx: str) -> np.ndarray:  # noqa: N802
    """A Habitat [w, x, y, z] rotation (normalised when within 1% of unit length); SceneError naming `ctx`."""
    if (not isinstance(q, (list, tuple)) or len(q) != 4
            or not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in q)):
        raise SceneError(f"{ctx} must be a rotation [w, x, y, z] of 4 numbers, got {q!r}")
    n = math.sqrt(sum(float(v) ** 2 for v in q))
    if abs(n - 1.0) > 0.01:
        raise SceneError(f"{ctx} must be a unit quaternion [w, x, y, z], its norm is {n:.4f}")
    w, x, y, z = (float(v) / n for v in q)
    return quat_xyzw_to_R((x, y, z, w))


def R_to_quat_wxyz(R: np.ndarray) -> list[float]:  # noqa: N802, N803
    x, y, z, w = R_to_quat_xyzw(R)
    if w < 0:
        w, x, y, z = -w, -x, -y, -z
    return [float(w), float(x), float(y), float(z)]


def asset_to_zup(up, front) -> np.ndarray:
    """Rotation taking an asset's (up, front) axes to our (z, +y) (= Habitat's (y, -z), turned z-up)."""
    u = np.asarray(up, dtype=np.float64)
    f = np.asarray(front, dtype=np.float64)
    if np.linalg.norm(u) < 1e-9 or np.linalg.norm(f) < 1e-9:
        raise SceneError(f"asset up {list(u)} or front {list(f)} is a zero vector")
    u = u / np.linalg.norm(u)
    f = f - u * float(f @ u)
    if np.linalg.norm(f) < 1e-6:
        raise SceneError(f"asset up {u.tolist()} and front {np.asarray(front).tolist()} are parallel")
    f /= np.linalg.norm(f)
    return np.stack([np.cross(f, u), f, u])  # rows: the asset axes that become our x, y, z


def yaw_and_tilt(R: np.ndarray, tol: float = 1e-3) -> tuple[float, np.ndarray]:  # noqa: N803
    """(yaw, rest) with R = rot_z(yaw) @ rest; rest is the identity for an upright, z-rotated R."""
    if abs(R[2, 2] - 1.0) < tol:
        yaw = math.atan2(R[1, 0], R[0, 0])
    else:  # tilted: keep the heading of the x axis if it is not vertical
        yaw = math.atan2(R[1, 0], R[0, 0]) if math.hypot(R[0, 0], R[1, 0]) > 0.1 else 0.0
    c, s = math.cos(yaw), math.sin(yaw)
    rz = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    return yaw, rz.T @ R


def rotation_angle_deg(Ra: np.ndarray, Rb: np.ndarray) -> float:  # noqa: N803
    """Angle of the rotation taking Ra to Rb, in degrees."""
    c = (np.trace(Ra.T @ Rb) - 1.0) / 2.0
    return math.degrees(math.acos(max(-1.0, min(1.0, c))))
