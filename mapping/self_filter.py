"""Keep the robot's own body out of the map.

The Stretch's head camera sees parts of the robot (the mast, the stowed arm and gripper, the base) when
it looks down or to the side. Fused as obstacle evidence they would mark every place the robot stood as
blocked. `remove_robot_body(frame, base_pose)` returns a copy of the frame whose depth is 0 (invalid) at
pixels whose world point lies within `radius_m` (horizontally) of the base centre, between `floor_top_m`
and `max_height_m`. Floor points around the base are kept (they are free-floor evidence; removing them left
an unseen strip along the scan route that could cut the map's free space in two). Scan stops keep the robot
at least its inflated radius from furniture, so nothing else is removed there.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from core.geometry import backproject
from core.stretch import STRETCH
from core.types import Pose2D, RGBDFrame


@dataclass(frozen=True)
class SelfFilterConfig:
    radius_m: float = STRETCH.base_radius_m + 0.1  # the stowed gripper reaches past the base circle
    max_height_m: float = STRETCH.head_height_m + 0.2
    floor_top_m: float = 0.05  # points at or below this are floor (mapping.obstacles' floor band), kept


def remove_robot_body(frame: RGBDFrame, base_pose: Pose2D, config: SelfFilterConfig = SelfFilterConfig()
                      ) -> RGBDFrame:
    """A copy of `frame` without depth on the robot's own body (see the module docstring).

    Only pixels nearer the camera than the farthest point of the body's cylinder are back-projected (the
    others cannot be on it), which is most of the cost saved on a frame that looks across a room."""
    t = np.asarray(frame.T_world_cam, dtype=np.float64)[:3, 3]
    reach = np.hypot(np.hypot(t[0] - base_pose.x, t[1] - base_pose.y) + config.radius_m,
                     max(abs(t[2] - config.floor_top_m), abs(config.max_height_m - t[2])))
    depth_in = frame.depth_m
    near = depth_in <= np.float32(reach * 1.001)
    if not near.all():
        depth_in = np.where(near, depth_in, np.float32(0.0)).astype(frame.depth_m.dtype, copy=False)
    xyz, flat = backproject(depth_in, frame.intrinsics, frame.T_world_cam)
    if flat.size == 0:
        return frame
    d = np.hypot(xyz[:, 0] - base_pose.x, xyz[:, 1] - base_pose.y)
    body = (d < config.radius_m) & (xyz[:, 2] < config.max_height_m) & (xyz[:, 2] > config.floor_top_m)
    if not body.any():
        return frame
    depth = frame.depth_m.copy()
    depth.reshape(-1)[flat[body]] = 0.0
    return replace(frame, depth_m=depth)
