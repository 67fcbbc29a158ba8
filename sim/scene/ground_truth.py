"""Ground-truth 2D occupancy of a scene, computed from the spec's geometry (no rendering, no mapping).

Grid layout matches mapping/obstacles.py: cell (row, col) covers world x in [origin_x + col*res, +res) and
y in [origin_y + row*res, +res); rows go along +y, columns along +x.

What is rasterised: walls and receptacle box parts whose vertical extent intersects `height_band_m`
(conservatively: every cell the box's footprint touches); receptacle mesh parts and stage meshes by
sampling their surfaces (points inside the band mark their cells). Parts with role "visual" are skipped. Objects are ignored by default (they
rest on receptacles, whose footprints already cover them); `include_objects=True` adds each object's
world AABB. Free-space checks inflate obstacles by the robot radius (a disc base).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from core.geometry import quat_xyzw_to_R, rot_z
from core.stretch import STRETCH
from sim.scene.spec import PartSpec, ReceptacleSpec, SceneSpec


@dataclass(frozen=True)
class Grid:
    """A boolean obstacle grid with its placement (the tuple `occupancy_grid` returns, with helpers)."""

    obstacle: np.ndarray  # bool (rows, cols)
    origin_xy: np.ndarray  # (2,)
    resolution_m: float

    def world_to_cell(self, xy) -> np.ndarray:
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        return np.floor((xy - self.origin_xy) / self.resolution_m).astype(np.int64)[:, ::-1]

    def cell_to_world(self, rc) -> np.ndarray:
        rc = np.asarray(rc, dtype=np.float64).reshape(-1, 2)
        return self.origin_xy + (rc[:, ::-1] + 0.5) * self.resolution_m

    def in_bounds(self, rc) -> np.ndarray:
        rc = np.asarray(rc).reshape(-1, 2)
        return (rc[:, 0] >= 0) & (rc[:, 0] < self.obstacle.shape[0]) & (rc[:, 1] >= 0) & (rc[:, 1] < self.obstacle.shape[1])

    def free_inflated(self, radius_m: float) -> np.ndarray:
        """Cells whose centre is farther than `radius_m` from every obstacle cell (a disc robot fits)."""
        if not self.obstacle.any():
            return np.ones_like(self.obstacle)
        dist = ndimage.distance_transform_edt(~self.obstacle) * self.resolution_m
        # distance between cell centres; the obstacle cell's own half extent is added conservatively
        return dist > radius_m + 0.5 * self.resolution_m


def _box_corners_world(rec: ReceptacleSpec | None, part_pos, part_quat, size) -> np.ndarray:
    hx, hy, hz = (s / 2 for s in size)
    corners = np.array([[sx * hx, sy * hy, sz * hz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
    pts = corners @ quat_xyzw_to_R(part_quat).T + np.asarray(part_pos, dtype=np.float64)
    if rec is not None:
        pts = pts @ rot_z(rec.pose[2]).T + np.array([rec.pose[0], rec.pose[1], 0.0])
    return pts


def _mark_convex(obstacle: np.ndarray, origin: np.ndarray, res: float, pts_xy: np.ndarray) -> None:
    """Mark every cell whose square intersects the convex hull of `pts_xy` (separating-axis test)."""
    from scipy.spatial import ConvexHull, QhullError

    lo, hi = pts_xy.min(axis=0), pts_xy.max(axis=0)
    c0, r0 = np.floor((lo - origin) / res).astype(int)
    c1, r1 = np.floor((hi - origin) / res).astype(int)
    r0, c0 = max(r0, 0), max(c0, 0)
    r1, c1 = min(r1, obstacle.shape[0] - 1), min(c1, obstacle.shape[1] - 1)
    if r1 < r0 or c1 < c0:
        return
    rows, cols = np.mgrid[r0:r1 + 1, c0:c1 + 1]
    cx = origin[0] + (cols + 0.5) * res
    cy = origin[1] + (rows + 0.5) * res
    inside = np.ones(rows.shape, dtype=bool)
    try:
        hull = ConvexHull(pts_xy)
        equations = hull.equations  # n . p + d <= 0 inside
    except (QhullError, ValueError):  # degenerate (a line): the bbox test alone is conservative
        equations = np.zeros((0, 3))
    h = res / 2
    for nx, ny, d in equations:
        inside &= nx * cx + ny * cy + d <= h * (abs(nx) + abs(ny)) + 1e-9
    obstacle[rows[inside], cols[inside]] = True


def _mark_points(obstacle: np.ndarray, origin: np.ndarray, res: float, xyz: np.ndarray, band) -> None:
    sel = (xyz[:, 2] >= band[0]) & (xyz[:, 2] <= band[1])
    rc = np.floor((xyz[sel, :2] - origin) / res).astype(int)[:, ::-1]
    ok = (rc[:, 0] >= 0) & (rc[:, 0] < obstacle.shape[0]) & (rc[:, 1] >= 0) & (rc[:, 1] < obstacle.shape[1])
    obstacle[rc[ok, 0], rc[ok, 1]] = True


def _mesh_points_world(spec: SceneSpec, mesh_path: str, scale, pos, quat, rec: ReceptacleSpec | None, res: float):
    import trimesh

    from sim.scene.mesh_io import load_mesh_file

    mesh = load_mesh_file(spec.resolve_mesh(mesh_path), scale)
    n = int(min(400_000, max(2_000, mesh.area / (res / 3) ** 2)))
    pts, _ = trimesh.sample.sample_surface(mesh, n, seed=0)
    pts = np.vstack([pts, mesh.vertices])
    pts = pts @ quat_xyzw_to_R(quat).T + np.asarray(pos, dtype=np.float64)
    if rec is not None:
        pts = pts @ rot_z(rec.pose[2]).T + np.array([rec.pose[0], rec.pose[1], 0.0])
    return pts


def _part_in_band(corners: np.ndarray, band) -> bool:
    return corners[:, 2].max() >= band[0] and corners[:, 2].min() <= band[1]


def occupancy_grid_full(spec: SceneSpec, resolution_m: float = 0.05, height_band_m=(0.1, 1.5),
                        include_objects: bool = False, padding_m: float = 0.5) -> Grid:
    """Like `occupancy_grid`, returned as a `Grid` with cell helpers."""
    res = float(resolution_m)
    xmin, ymin, xmax, ymax = spec.bounds_xy()
    stage_pts = [_mesh_points_world(spec, s.mesh, s.scale, s.pos, s.quat_xyzw, None, res) for s in spec.stages]
    for p in stage_pts:
        xmin, ymin = min(xmin, p[:, 0].min()), min(ymin, p[:, 1].min())
        xmax, ymax = max(xmax, p[:, 0].max()), max(ymax, p[:, 1].max())
    origin = np.floor((np.array([xmin, ymin]) - padding_m) / res) * res
    cols = int(math.ceil((xmax + padding_m - origin[0]) / res))
    rows = int(math.ceil((ymax + padding_m - origin[1]) / res))
    obstacle = np.zeros((rows, cols), dtype=bool)
    band = height_band_m
    for w in spec.walls:
        if 0.0 <= band[1] and w.height >= band[0]:
            nx, ny = -math.sin(w.yaw) * w.thickness / 2, math.cos(w.yaw) * w.thickness / 2
            quad = np.array([[w.start[0] + nx, w.start[1] + ny], [w.start[0] - nx, w.start[1] - ny],
                             [w.end[0] - nx, w.end[1] - ny], [w.end[0] + nx, w.end[1] + ny]])
            _mark_convex(obstacle, origin, res, quad)
    for rec in spec.receptacles:
        for part in rec.parts:
            _mark_part(spec, obstacle, origin, res, rec, part, band)
    for p in stage_pts:
        _mark_points(obstacle, origin, res, p, band)
    if include_objects:
        from sim.scene.mesh_io import load_object_mesh

        for o in spec.objects:
            mesh = load_object_mesh(o, spec.base_dir)
            pts = _aabb_corners(mesh.bounds)
            pts = pts @ quat_xyzw_to_R(o.quat_xyzw).T + np.asarray(o.position)
            if _part_in_band(pts, band):
                _mark_convex(obstacle, origin, res, pts[:, :2])
    return Grid(obstacle, origin, res)


def _aabb_corners(bounds: np.ndarray) -> np.ndarray:
    lo, hi = bounds
    return np.array([[x, y, z] for x in (lo[0], hi[0]) for y in (lo[1], hi[1]) for z in (lo[2], hi[2])])


def _mark_part(spec, obstacle, origin, res, rec: ReceptacleSpec, part: PartSpec, band) -> None:
    if part.role == "visual":
        return
    if part.type == "box":
        corners = _box_corners_world(rec, part.pos, part.quat_xyzw, part.size)
        if _part_in_band(corners, band):
            _mark_convex(obstacle, origin, res, corners[:, :2])
    else:
        pts = _mesh_points_world(spec, part.mesh, part.scale, part.pos, part.quat_xyzw, rec, res)
        _mark_points(obstacle, origin, res, pts, band)


def occupancy_grid(spec: SceneSpec, resolution_m: float = 0.05, height_band_m=(0.1, 1.5),
                   include_objects: bool = False) -> tuple[np.ndarray, np.ndarray, float]:
    """(obstacle bool (rows, cols), origin_xy (2,), resolution_m) of the scene's static geometry."""
    g = occupancy_grid_full(spec, resolution_m, height_band_m, include_objects)
    return g.obstacle, g.origin_xy, g.resolution_m


def free_components(grid: Grid, robot_radius: float = STRETCH.base_radius_m) -> np.ndarray:
    """int32 (rows, cols) labels of 4-connected free space for a disc robot (0 = blocked)."""
    labels, _ = ndimage.label(grid.free_inflated(robot_radius))
    return labels.astype(np.int32)


def component_at(grid: Grid, labels: np.ndarray, xy) -> int:
    rc = grid.world_to_cell(xy)
    if not grid.in_bounds(rc)[0]:
        return 0
    return int(labels[rc[0, 0], rc[0, 1]])


def free_space_connected(spec: SceneSpec | Grid, a_xy, b_xy, robot_radius: float = STRETCH.base_radius_m,
                         resolution_m: float = 0.05) -> bool:
    """True if a disc robot of `robot_radius` can drive from a_xy to b_xy (both centres in free space)."""
    grid = spec if isinstance(spec, Grid) else occupancy_grid_full(spec, resolution_m)
    labels = free_components(grid, robot_radius)
    la = component_at(grid, labels, a_xy)
    return la != 0 and la == component_at(grid, labels, b_xy)


def receptacle_footprint_world(rec: ReceptacleSpec) -> np.ndarray:
    """(N, 2) world xy of the corners of the receptacle's box parts (for reach checks)."""
    pts = [_box_corners_world(rec, p.pos, p.quat_xyzw, p.size)[:, :2] for p in rec.parts
           if p.type == "box" and p.role != "visual"]
    if not pts:
        pts = [np.array([[rec.pose[0], rec.pose[1]]])]
    return np.vstack(pts)


def reachable_cells_near(grid: Grid, labels: np.ndarray, rec: ReceptacleSpec, reach_m: float = 0.9,
                         room=None) -> set[int]:
    """Labels of free components with a cell within `reach_m` of the receptacle's footprint hull.

    `room` (a RoomSpec): only cells inside that room count, so free space behind a wall does not.
    """
    from scipy.spatial import ConvexHull

    pts = receptacle_footprint_world(rec)
    near = np.zeros_like(grid.obstacle)
    try:
        hull_pts = pts[ConvexHull(pts).vertices]
    except Exception:  # noqa: BLE001 - degenerate hull: use the points themselves
        hull_pts = pts
    _mark_convex(near, grid.origin_xy, grid.resolution_m, hull_pts)
    dist = ndimage.distance_transform_edt(~near) * grid.resolution_m
    sel = (dist <= reach_m) & (labels > 0)
    if room is not None:
        centres = grid.cell_to_world(np.argwhere(np.ones_like(sel)))
        in_room = ((centres[:, 0] >= room.min[0]) & (centres[:, 0] <= room.max[0])
                   & (centres[:, 1] >= room.min[1]) & (centres[:, 1] <= room.max[1]))
        sel &= in_room.reshape(sel.shape)
    return set(np.unique(labels[sel]).tolist())
