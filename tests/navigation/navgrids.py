"""Hand-made obstacle grids for the navigation tests: rooms, walls with doors, a closed room, furniture."""

from __future__ import annotations

import numpy as np

from navigation.occupancy import obstacle_grid_from_mask

RES = 0.05


class Canvas:
    """A boolean obstacle mask in world coordinates (origin at (0, 0), 5 cm cells)."""

    def __init__(self, width_m: float, height_m: float, res: float = RES):
        self.res = res
        self.mask = np.zeros((int(round(height_m / res)), int(round(width_m / res))), bool)

    def box(self, x0: float, y0: float, x1: float, y1: float) -> Canvas:
        r = self.res
        self.mask[int(np.floor(y0 / r)) : int(np.ceil(y1 / r)), int(np.floor(x0 / r)) : int(np.ceil(x1 / r))] = True
        return self

    def hwall(self, y: float, x0: float, x1: float, t: float = 0.1) -> Canvas:
        return self.box(x0, y - t / 2, x1, y + t / 2)

    def vwall(self, x: float, y0: float, y1: float, t: float = 0.1) -> Canvas:
        return self.box(x - t / 2, y0, x + t / 2, y1)

    def grid(self):
        return obstacle_grid_from_mask(self.mask, np.zeros(2), self.res)


def two_rooms(door: bool = True) -> Canvas:
    """6 m x 4 m: two 3 m rooms split by a wall at x = 3 with a 0.9 m door at y = 2 (or none)."""
    c = Canvas(6.0, 4.0)
    c.hwall(0.05, 0, 6).hwall(3.95, 0, 6).vwall(0.05, 0, 4).vwall(5.95, 0, 4)
    if door:
        c.vwall(3.0, 0, 1.55).vwall(3.0, 2.45, 4)
    else:
        c.vwall(3.0, 0, 4)
    c.box(0.8, 0.8, 1.6, 1.4)  # a table in the left room
    return c


def apartment() -> Canvas:
    """10 m x 8 m: four rooms with doors, a closed closet (no door) and furniture."""
    c = Canvas(10.0, 8.0)
    c.hwall(0.05, 0, 10).hwall(7.95, 0, 10).vwall(0.05, 0, 8).vwall(9.95, 0, 8)
    # vertical wall x = 5 with doors at y = 2 and y = 6
    c.vwall(5.0, 0, 1.55).vwall(5.0, 2.45, 5.55).vwall(5.0, 6.45, 8)
    # horizontal wall y = 4 with doors at x = 2.5 and x = 7.5
    c.hwall(4.0, 0, 2.05).hwall(4.0, 2.95, 7.05).hwall(4.0, 7.95, 10)
    # closed closet in the top-right corner: 1.5 m x 1.5 m, no door
    c.hwall(6.45, 8.45, 10).vwall(8.45, 6.45, 8)
    # furniture
    c.box(1.0, 1.0, 2.2, 1.8)  # table
    c.box(6.0, 0.3, 8.0, 1.0)  # counter
    c.box(1.0, 5.0, 1.6, 7.5)  # sofa
    c.box(6.5, 5.0, 7.3, 5.8)  # armchair
    return c


def distance_to_obstacles(points_xy: np.ndarray, mask: np.ndarray, origin_xy, res: float) -> np.ndarray:
    """(N,) exact distance from world points to the nearest obstacle cell square of `mask`."""
    from scipy.spatial import cKDTree

    rr, cc = np.nonzero(mask)
    centres = np.asarray(origin_xy, np.float64) + (np.stack([cc, rr], axis=1) + 0.5) * res
    k = min(16, len(centres))
    _, idx = cKDTree(centres).query(np.asarray(points_xy, np.float64), k=k)
    idx = idx.reshape(len(points_xy), k)
    d = np.abs(np.asarray(points_xy)[:, None, :] - centres[idx]) - res / 2
    return np.linalg.norm(np.maximum(d, 0.0), axis=2).min(axis=1)


def fk_reach_error(pose, target_xyz) -> float:
    """Smallest distance (m) between the target and the grasp centre over lift/arm values within the
    Stretch's limits, with the wrist straight (pitch 0) or pitched down (turned outwards, as the planner's
    "down" mode holds it), checked with core.stretch FK."""
    from core.stretch import STRETCH, T_world_grasp
    from core.types import JointState

    lim = STRETCH.limits
    T_base_world = np.linalg.inv(pose.as_matrix())
    p = T_base_world[:3, :3] @ np.asarray(target_xyz, np.float64) + T_base_world[:3, 3]
    best = np.inf
    from navigation.base_goal import REACH_MODES

    for pitch, yaw in [(m.wrist_pitch, m.wrist_yaw) for m in REACH_MODES]:
        zero = JointState(lift_m=0.0, arm_m=0.0, wrist_yaw=yaw, wrist_pitch=pitch)
        g0 = (np.linalg.inv(pose.as_matrix()) @ T_world_grasp(pose, zero))[:3, 3]
        arm = float(np.clip(g0[1] - p[1], *lim.arm_m))  # arm extends along -y
        lift = float(np.clip(p[2] - g0[2], *lim.lift_m))
        g = T_world_grasp(pose, JointState(lift_m=lift, arm_m=arm, wrist_yaw=yaw, wrist_pitch=pitch))[:3, 3]
        best = min(best, float(np.linalg.norm(g - np.asarray(target_xyz))))
    return best
