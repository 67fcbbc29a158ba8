"""Vectorised collision tests of the gripper (and the arm) against point clouds.

The gripper is a set of axis-aligned boxes in the grasp frame (x approach, y closing, z normal): the two
open fingers (pad + shaft boxes each), the gripper body and the wrist behind it (grasping.config.GripperModel). A candidate collides when any
point falls inside an inflated box. All candidates are tested at once: points are expressed in every
candidate's frame with one einsum, (K, N, 3).
"""

from __future__ import annotations

import numpy as np

from core.stretch import STRETCH, arm_boxes_base
from grasping.config import GripperModel
from grasping.kinematics import ArmSolution


def gripper_boxes(model: GripperModel, flipped: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """Boxes (B, 2, 3) lo/hi in the grasp frame of the fully open gripper, and a bool (B,) finger mask.

    The +y finger's boxes, the mirrored -y finger's, then the gripper body and the wrist. `flipped`: the
    gripper rolled by pi (closing axis reversed), i.e. y and z mirrored: the fingers are symmetric, the
    body and wrist are not.
    """
    plus = np.array(model.finger_boxes, dtype=float)
    minus = plus * np.array([1.0, -1.0, 1.0])
    minus = np.stack([np.minimum(minus[:, 0], minus[:, 1]), np.maximum(minus[:, 0], minus[:, 1])], axis=1)
    boxes = np.concatenate([plus, minus, np.array([model.body_box, model.wrist_box], dtype=float)])
    finger = np.zeros(len(boxes), dtype=bool)
    finger[: 2 * len(plus)] = True
    if flipped:
        m = np.array([1.0, -1.0, -1.0])
        lo, hi = boxes[:, 0] * m, boxes[:, 1] * m
        boxes = np.stack([np.minimum(lo, hi), np.maximum(lo, hi)], axis=1)
    return boxes, finger


def to_local(points: np.ndarray, centres: np.ndarray, rotations: np.ndarray) -> np.ndarray:
    """Points (N, 3) in each of K frames (centres (K, 3), rotations (K, 3, 3) columns = axes): (K, N, 3).

    One matrix product: p . R_k[:, j] for all k, j at once, minus c_k . R_k[:, j].
    """
    K = len(centres)
    R = rotations.astype(np.float32)
    W = R.transpose(1, 0, 2).reshape(3, 3 * K)
    proj = points.astype(np.float32) @ W  # (N, 3K)
    off = np.einsum("ki,kij->kj", centres.astype(np.float32), R)  # (K, 3)
    return proj.reshape(-1, K, 3).transpose(1, 0, 2) - off[:, None, :]


def boxes_hit(local: np.ndarray, boxes: np.ndarray, margin: float) -> np.ndarray:
    """bool (K, B): whether any of the K candidates' local points lies inside each inflated box.

    Points are first filtered by the union of the boxes (one pass), then tested box by box (sparse).
    """
    K = local.shape[0]
    out = np.zeros((K, len(boxes)), dtype=bool)
    if local.shape[1] == 0:
        return out
    lo_u = boxes[:, 0].min(axis=0) - margin
    hi_u = boxes[:, 1].max(axis=0) + margin
    near = (local[..., 0] >= lo_u[0]) & (local[..., 0] <= hi_u[0])
    near &= (local[..., 1] >= lo_u[1]) & (local[..., 1] <= hi_u[1])
    near &= (local[..., 2] >= lo_u[2]) & (local[..., 2] <= hi_u[2])
    k_idx, n_idx = np.nonzero(near)
    if k_idx.size == 0:
        return out
    sub = local[k_idx, n_idx]
    for b, (lo, hi) in enumerate(boxes):
        inside = np.all((sub >= (lo - margin)) & (sub <= (hi + margin)), axis=1)
        out[np.unique(k_idx[inside]), b] = True
    return out


def sweep_hits(points: np.ndarray, centres: np.ndarray, rotations: np.ndarray, motion: np.ndarray,
               boxes: np.ndarray, margin: float, samples: int = 5) -> np.ndarray:
    """bool (K, B): any box hit at any of `samples` poses from centre - motion to the centre.

    `motion` (K, 3) is the world displacement from the pre-grasp to the grasp.
    """
    hit = np.zeros((len(centres), len(boxes)), dtype=bool)
    for s in np.linspace(1.0, 0.0, samples):
        local = to_local(points, centres - s * motion, rotations)
        hit |= boxes_hit(local, boxes, margin)
    return hit


def off_robot_column(local: np.ndarray) -> np.ndarray:
    """bool (N,): base-frame points outside the column above the base's footprint box (core.stretch).

    The head camera sees the robot's own mast, lift carriage, stowed arm and head there; the base was parked
    with its box clear of the furniture, so nothing else stands in that column (an overhang above the base
    is not checked). The outer arm segment lies entirely in it.
    """
    x_lo, x_hi = STRETCH.base_x_m
    y_lo, y_hi = STRETCH.base_y_m
    return ~((local[:, 0] >= x_lo) & (local[:, 0] <= x_hi) & (local[:, 1] >= y_lo) & (local[:, 1] <= y_hi))


def arm_collides(solution: ArmSolution, points: np.ndarray, margin: float = 0.01) -> bool:
    """Whether the arm segments or the wrist block (core.stretch.arm_boxes_base) of an arm solution contain
    any of the world points outside the robot's own column (`off_robot_column`)."""
    if len(points) == 0:
        return False
    T = solution.base_pose.as_matrix()
    local = (np.asarray(points, dtype=np.float64) - T[:3, 3]) @ T[:3, :3]
    local = local[off_robot_column(local)]
    for lo, hi in arm_boxes_base(solution.joints.lift_m, solution.joints.arm_m):
        if np.any(np.all((local >= lo - margin) & (local <= hi + margin), axis=1)):
            return True
    return False
