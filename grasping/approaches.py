"""Grasps of an object that need no particular base pose: what to park for when no grasp reaches from here.

`free_approaches(cloud, camera_xyz)` proposes grasps from every side (not only those facing the robot),
keeps the ones that fit the gripper and clear the object and the scene at the grasp (grasping.scoring), and
whose straight approach (down from above, or in along the approach heading) sweeps through nothing
(grasping.collision). Each is an `Approach`: a world grasp pose, its family and score. The base pose is left
open: navigation parks where the arm reaches the grasp (pitched down for top-down and rim grasps, level
along the approach heading for side grasps), and grasping.planner.plan_grasps from that pose checks IK and
the arm. This is the seam between parking and grasp planning: a box behind a mug, reached only from the
side; a cup deep on a counter, reached from above only where the pitched-down wrist can get to it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from grasping.collision import gripper_boxes, sweep_hits
from grasping.config import GraspConfig
from grasping.object_points import ObjectCloud
from grasping.planner import approach_options, working_points
from grasping.proposals import (
    KINDS,
    TOP_DOWN_Z,
    carve_seen_free,
    mirrored_points,
    object_shape,
    pitched,
    propose,
)
from grasping.scoring import evaluate, support_points


@dataclass(frozen=True)
class Approach:
    T_world_grasp: np.ndarray
    kind: str
    score: float

    @property
    def top_down(self) -> bool:
        return bool(self.T_world_grasp[2, 0] < TOP_DOWN_Z)

    @property
    def pitched(self) -> bool:
        return pitched(self.T_world_grasp[:3, :3])

    @property
    def centre(self) -> np.ndarray:
        return self.T_world_grasp[:3, 3].copy()

    @property
    def heading(self) -> float:
        """World heading of a level approach (meaningless for a top-down one)."""
        a = self.T_world_grasp[:3, 0]
        return math.atan2(float(a[1]), float(a[0]))


def free_approaches(cloud: ObjectCloud, camera_xyz: np.ndarray, config: GraspConfig | None = None,
                    max_approaches: int = 8, heading_bin_rad: float = math.radians(30)) -> list[Approach]:
    """Collision-free grasps from any side, best first, at most one per family and approach-heading bin
    (top-down and rim grasps count as one heading each), at most `max_approaches`. `camera_xyz`: where the
    head camera saw the object from (the unseen side is guessed by symmetry and carved where it saw through)."""
    config = config or GraspConfig()
    pts, scene = working_points(cloud, config)
    if len(pts) < config.min_contact_points:
        return []
    shape = object_shape(pts, scene)
    hidden = mirrored_points(pts, shape) if config.complete_by_symmetry else np.zeros((0, 3), np.float32)
    if len(hidden):
        hidden = carve_seen_free(hidden, np.concatenate([pts, scene]), np.asarray(camera_xyz, float))
    cands, ev = evaluate(propose(pts, shape, config, None), pts, scene, shape, config, hidden)
    kept = np.flatnonzero(ev.kept)
    if not len(kept):
        return []
    # Each kept grasp's straight approach: from above (or the short one under a board) for top-down grasps,
    # backed off along the approach for level ones.
    fin, pre, rot, idx = [], [], [], []
    for k in kept:
        R = cands.rotations[k]
        top = bool(R[2, 0] < TOP_DOWN_Z)
        kind = KINDS[int(cands.kinds[k])]
        c = cands.centres[k]
        level = np.array([R[0, 0], R[1, 0], 0.0]) / max(float(np.hypot(R[0, 0], R[1, 0])), 1e-9)
        for from_above, backoff, _ in approach_options(top, kind == "rim", float(c[2]), shape, config,
                                                       angled=pitched(R)):
            if top and not from_above:
                continue  # a level slide under a top-down grasp depends on where the base is
            fin.append(c)
            # from above: lift only; else the arm's extension, level along the approach heading
            pre.append(c + np.array([0.0, 0.0, backoff]) if from_above else c - backoff * level)
            rot.append(R)
            idx.append(k)
    fin, pre, rot = np.array(fin), np.array(pre), np.array(rot)
    boxes, _ = gripper_boxes(config.gripper)
    on_support = support_points(scene, shape, config)
    hit = np.zeros(len(fin), bool)
    for part, margin in ((scene[~on_support], config.collision_margin_m), (scene[on_support], config.support_margin_m),
                         (np.concatenate([pts, hidden]), config.object_margin_m)):
        if len(part):
            hit |= sweep_hits(part, fin, rot, fin - pre, boxes, margin).any(axis=1)
    # Pitched grasps (angled, and rims made like them) after the others: they are for what the others
    # cannot hold (short objects deep on a surface, a bowl above the lift's reach from above), and a side
    # approach from another heading often works where one from here did not.
    clear = sorted({idx[j] for j in range(len(idx)) if not hit[j]},
                   key=lambda k: (pitched(cands.rotations[k]), -ev.score[k]))
    out: list[Approach] = []
    seen: set[tuple[int, int]] = set()
    for k in clear:
        kind = int(cands.kinds[k])
        R = cands.rotations[k]
        level = R[2, 0] > TOP_DOWN_Z
        key = (kind, int(round(math.atan2(R[1, 0], R[0, 0]) / heading_bin_rad)) if level else 0)
        if key in seen:
            continue
        seen.add(key)
        T = np.eye(4)
        T[:3, :3], T[:3, 3] = R, cands.centres[k]
        out.append(Approach(T, KINDS[kind], float(ev.score[k])))
        if len(out) >= max_approaches:
            break
    return out


__all__ = ["Approach", "free_approaches"]
