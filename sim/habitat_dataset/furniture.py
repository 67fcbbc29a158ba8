"""Furniture meshes -> collision boxes and support surfaces (in the receptacle frame: z up, floor at z = 0).

A Habitat furniture asset is one visual mesh; our world needs simple collision shapes (MuJoCo collides a
mesh as its convex hull, which would fill a shelf or a sofa's seat) and flat support rectangles. Both come
from one grid of vertical rays (`FurnitureConfig.cell_m` apart) cast through the mesh:

- along each ray, a face seen from below opens solid material and the next face seen from above closes it;
  a face with no partner (single-sided geometry such as a table top made of one sheet) is given
  `shell_m` of thickness. The intervals of neighbouring rays that agree to `merge_tol_m` are merged into
  axis-aligned boxes (rectangles grown greedily).
- support surfaces are ray tops (faces seen from above) between `surface_z` with at least `clearance_m`
  of free space above, grouped by height (`level_tol_m`); each level yields its largest empty rectangles.

Vertical faces thinner than a cell (a shelf's 2 cm side panel) may fall between rays; their top edges and
every horizontal part are caught. Rays are intersected with the triangles directly (numpy), no spatial index.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import trimesh

from sim.scene.spec import PartSpec, SurfaceSpec


@dataclass(frozen=True)
class FurnitureConfig:
    cell_m: float = 0.025
    shell_m: float = 0.02
    merge_tol_m: float = 0.01
    max_boxes: int = 400
    surface_z: tuple[float, float] = (0.15, 1.35)
    clearance_m: float = 0.22
    level_tol_m: float = 0.012
    min_surface_side_m: float = 0.2
    min_surface_area_m2: float = 0.03
    max_surfaces: int = 8
    edge_margin_m: float = 0.02


@dataclass(frozen=True)
class RayGrid:
    origin: tuple[float, float]  # x, y of the corner of cell (0, 0)
    shape: tuple[int, int]  # (nx, ny)
    cell_m: float
    hits: list[list[tuple[float, float]]]  # per cell (ix * ny + iy): sorted (z, normal_z)


def cast_vertical(mesh: trimesh.Trimesh, cell_m: float, bounds: np.ndarray | None = None) -> RayGrid:
    """Intersect vertical rays through every cell centre with every non-vertical triangle of `mesh`."""
    lo, hi = (mesh.bounds if bounds is None else bounds)[:, :2]
    nx, ny = max(1, int(np.ceil((hi[0] - lo[0]) / cell_m))), max(1, int(np.ceil((hi[1] - lo[1]) / cell_m)))
    tri = np.asarray(mesh.triangles, dtype=np.float64)
    nz = np.asarray(mesh.face_normals, dtype=np.float64)[:, 2]
    keep = np.abs(nz) > 0.05
    tri, nz = tri[keep], nz[keep]
    hits: list[list[tuple[float, float]]] = [[] for _ in range(nx * ny)]
    if len(tri) == 0:
        return RayGrid((float(lo[0]), float(lo[1])), (nx, ny), cell_m, hits)
    txy = tri[:, :, :2]
    i0 = np.clip(np.ceil((txy[:, :, 0].min(1) - lo[0]) / cell_m - 0.5), 0, nx).astype(np.int64)
    i1 = np.clip(np.floor((txy[:, :, 0].max(1) - lo[0]) / cell_m - 0.5), -1, nx - 1).astype(np.int64)
    j0 = np.clip(np.ceil((txy[:, :, 1].min(1) - lo[1]) / cell_m - 0.5), 0, ny).astype(np.int64)
    j1 = np.clip(np.floor((txy[:, :, 1].max(1) - lo[1]) / cell_m - 0.5), -1, ny - 1).astype(np.int64)
    wi, wj = np.maximum(i1 - i0 + 1, 0), np.maximum(j1 - j0 + 1, 0)
    counts = wi * wj
    t_idx = np.repeat(np.arange(len(tri)), counts)
    if len(t_idx) == 0:
        return RayGrid((float(lo[0]), float(lo[1])), (nx, ny), cell_m, hits)
    k = np.arange(len(t_idx)) - np.repeat(np.cumsum(counts) - counts, counts)
    ci = i0[t_idx] + k // np.maximum(wj[t_idx], 1)
    cj = j0[t_idx] + k % np.maximum(wj[t_idx], 1)
    px, py = lo[0] + (ci + 0.5) * cell_m, lo[1] + (cj + 0.5) * cell_m
    a, b, c = tri[t_idx, 0], tri[t_idx, 1], tri[t_idx, 2]
    v0x, v0y = b[:, 0] - a[:, 0], b[:, 1] - a[:, 1]
    v1x, v1y = c[:, 0] - a[:, 0], c[:, 1] - a[:, 1]
    wx, wy = px - a[:, 0], py - a[:, 1]
    det = v0x * v1y - v1x * v0y
    ok = np.abs(det) > 1e-14
    det = np.where(ok, det, 1.0)
    u = (wx * v1y - v1x * wy) / det
    v = (v0x * wy - wx * v0y) / det
    inside = ok & (u >= -1e-9) & (v >= -1e-9) & (u + v <= 1 + 1e-9)
    z = a[:, 2] + u * (b[:, 2] - a[:, 2]) + v * (c[:, 2] - a[:, 2])
    cells = (ci * ny + cj)[inside]
    zs, ns = z[inside], nz[t_idx][inside]
    order = np.lexsort((zs, cells))
    for cell, zz, nn in zip(cells[order].tolist(), zs[order].tolist(), ns[order].tolist(), strict=True):
        h = hits[cell]
        if h and abs(h[-1][0] - zz) < 1e-3 and (h[-1][1] > 0) == (nn > 0):
            continue  # the same surface hit through a shared edge
        h.append((zz, nn))
    return RayGrid((float(lo[0]), float(lo[1])), (nx, ny), cell_m, hits)


def solid_intervals(hits: list[tuple[float, float]], shell_m: float) -> list[tuple[float, float, bool]]:
    """(z0, z1, top_is_a_face_seen_from_above) intervals of material along one ray, bottom to top."""
    out: list[tuple[float, float, bool]] = []
    enter = None
    for z, n in hits:
        if n < 0:  # seen from below: material starts
            if enter is None:
                enter = z
        elif enter is not None:
            out.append((enter, z, True))
            enter = None
        else:  # a lone upward face: a sheet
            out.append((z - shell_m, z, True))
    if enter is not None:
        out.append((enter, enter + shell_m, False))
    merged: list[tuple[float, float, bool]] = []
    for iv in sorted(out):
        if merged and iv[0] <= merged[-1][1] + 1e-4:
            z0, z1, t = merged[-1]
            merged[-1] = (z0, max(z1, iv[1]), iv[2] if iv[1] >= z1 else t)
        else:
            merged.append(iv)
    return merged


def _rectangles(mask: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Greedy cover of a boolean (nx, ny) mask by rectangles (i0, j0, i1, j1), inclusive."""
    m = mask.copy()
    out = []
    nx, ny = m.shape
    for i in range(nx):
        j = 0
        while j < ny:
            if not m[i, j]:
                j += 1
                continue
            j1 = j
            while j1 + 1 < ny and m[i, j1 + 1]:
                j1 += 1
            i1 = i
            while i1 + 1 < nx and m[i1 + 1, j:j1 + 1].all():
                i1 += 1
            m[i:i1 + 1, j:j1 + 1] = False
            out.append((i, j, i1, j1))
            j = j1 + 1
    return out


def _largest_rectangle(mask: np.ndarray) -> tuple[int, int, int, int, int] | None:
    """(area, i0, j0, i1, j1) of the largest all-True rectangle (histogram method), or None."""
    nx, ny = mask.shape
    heights = np.zeros(ny, dtype=np.int64)
    best = None
    for i in range(nx):
        heights = np.where(mask[i], heights + 1, 0)
        stack: list[int] = []
        for j in range(ny + 1):
            h = heights[j] if j < ny else 0
            start = j
            while stack and heights[stack[-1]] >= h:
                top = stack.pop()
                left = stack[-1] + 1 if stack else 0
                area = int(heights[top]) * (j - left)
                if area > 0 and (best is None or area > best[0]):
                    best = (area, i - int(heights[top]) + 1, left, i, j - 1)
                start = left
            del start
            stack.append(j)
    return best


def collision_boxes(grid: RayGrid, config: FurnitureConfig = FurnitureConfig()) -> list[tuple[np.ndarray, np.ndarray]]:
    """(lo, hi) corners of axis-aligned boxes covering the solid intervals of the ray grid."""
    nx, ny = grid.shape
    tol = config.merge_tol_m
    for _ in range(4):
        groups: dict[tuple[int, int], list[tuple[int, int, float, float]]] = {}
        for cell, h in enumerate(grid.hits):
            for z0, z1, _top in solid_intervals(h, config.shell_m):
                groups.setdefault((round(z0 / tol), round(z1 / tol)), []).append((cell // ny, cell % ny, z0, z1))
        boxes = []
        for members in groups.values():
            mask = np.zeros((nx, ny), dtype=bool)
            zlo, zhi = {}, {}
            for i, j, z0, z1 in members:
                mask[i, j] = True
                zlo[(i, j)], zhi[(i, j)] = z0, z1
            for i0, j0, i1, j1 in _rectangles(mask):
                cells = [(i, j) for i in range(i0, i1 + 1) for j in range(j0, j1 + 1)]
                lo = np.array([grid.origin[0] + i0 * grid.cell_m, grid.origin[1] + j0 * grid.cell_m,
                               min(zlo[c] for c in cells)])
                hi = np.array([grid.origin[0] + (i1 + 1) * grid.cell_m, grid.origin[1] + (j1 + 1) * grid.cell_m,
                               max(zhi[c] for c in cells)])
                boxes.append((lo, hi))
        if len(boxes) <= config.max_boxes:
            return boxes
        tol *= 2.5
    return boxes


def support_surfaces(grid: RayGrid, config: FurnitureConfig = FurnitureConfig(),
                     need_clearance: bool = True, z_range: tuple[float, float] | None = None) -> list[SurfaceSpec]:
    """The largest flat, free rectangles at each support height of the ray grid."""
    nx, ny = grid.shape
    zr = z_range or config.surface_z
    levels: dict[int, list[tuple[int, int, float]]] = {}
    for cell, h in enumerate(grid.hits):
        ivs = solid_intervals(h, config.shell_m)
        for k, (_z0, z1, top) in enumerate(ivs):
            if not top or not zr[0] <= z1 <= zr[1]:
                continue
            if need_clearance and k + 1 < len(ivs) and ivs[k + 1][0] < z1 + config.clearance_m:
                continue
            levels.setdefault(round(z1 / config.level_tol_m), []).append((cell // ny, cell % ny, z1))
    out: list[tuple[float, SurfaceSpec]] = []
    # neighbouring rounded levels belong together (a level straddling a rounding boundary)
    keys = sorted(levels)
    clusters: list[list[int]] = []
    for k in keys:
        if clusters and k - clusters[-1][-1] <= 1:
            clusters[-1].append(k)
        else:
            clusters.append([k])
    c = grid.cell_m
    m = config.edge_margin_m
    for cl in clusters:
        members = [x for k in cl for x in levels[k]]
        mask = np.zeros((nx, ny), dtype=bool)
        zs = np.zeros((nx, ny))
        for i, j, z in members:
            mask[i, j] = True
            zs[i, j] = z
        for _ in range(config.max_surfaces):
            best = _largest_rectangle(mask)
            if best is None:
                break
            _area, i0, j0, i1, j1 = best
            sx, sy = (i1 - i0 + 1) * c - 2 * m, (j1 - j0 + 1) * c - 2 * m
            if sx < config.min_surface_side_m or sy < config.min_surface_side_m or sx * sy < config.min_surface_area_m2:
                break
            z = float(np.max(zs[i0:i1 + 1, j0:j1 + 1]))
            cx = grid.origin[0] + (i0 + i1 + 1) / 2 * c
            cy = grid.origin[1] + (j0 + j1 + 1) / 2 * c
            out.append((sx * sy, SurfaceSpec((round(cx, 4), round(cy, 4), round(z, 4)), (round(sx, 4), round(sy, 4)))))
            mask[i0:i1 + 1, j0:j1 + 1] = False
    out.sort(key=lambda t: -t[0])
    return [s for _, s in out[: config.max_surfaces]]


def furniture_geometry(mesh: trimesh.Trimesh, rgba, config: FurnitureConfig = FurnitureConfig()
                       ) -> tuple[list[PartSpec], list[SurfaceSpec]]:
    """Collision box parts and support surfaces of a furniture mesh given in its receptacle frame."""
    grid = cast_vertical(mesh, config.cell_m)
    parts = []
    for lo, hi in collision_boxes(grid, config):
        size = np.maximum(hi - lo, 0.005)
        parts.append(PartSpec("box", tuple(float(v) for v in np.round((lo + hi) / 2, 5)),  # type: ignore[arg-type]
                              size=tuple(float(v) for v in np.round(size, 5)), rgba=rgba, role="collision"))  # type: ignore[arg-type]
    return parts, support_surfaces(grid, config)
