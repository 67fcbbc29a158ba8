"""Geodesic distances over the traversable cells (8-connected, no clearance cost) with scipy's Dijkstra.

The reference the planner is measured against ("path length over the shortest grid path"), and a way
to find far-apart cells of a map.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import dijkstra

from navigation.occupancy import OccupancyGrid


def _grid_graph(occ: OccupancyGrid):
    rows, cols = occ.shape
    trav = occ.traversable
    ids = np.arange(rows * cols).reshape(rows, cols)
    src, dst, w = [], [], []
    for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
        c0, c1 = max(0, -dc), cols - max(0, dc)
        both = trav[: rows - dr, c0:c1] & trav[dr:, c0 + dc : c1 + dc]
        r, c = np.nonzero(both)
        c = c + c0
        src.append(ids[r, c])
        dst.append(ids[r + dr, c + dc])
        w.append(np.full(len(r), occ.resolution_m * float(np.hypot(dr, dc))))
    n = rows * cols
    return coo_matrix((np.concatenate(w), (np.concatenate(src), np.concatenate(dst))), shape=(n, n)).tocsr()


def distance_field(occ: OccupancyGrid, start_xy: np.ndarray) -> np.ndarray:
    """float64 (rows, cols): shortest 8-connected path length (m) from the start's cell; inf where
    unreachable (or everywhere when the start's cell is not traversable)."""
    rc = occ.world_to_cell(np.asarray(start_xy, np.float64)[:2])[0]
    if not occ.in_bounds(rc)[0] or not occ.traversable[rc[0], rc[1]]:
        return np.full(occ.shape, np.inf)
    d = dijkstra(_grid_graph(occ), directed=False, indices=int(rc[0] * occ.shape[1] + rc[1]))
    return d.reshape(occ.shape)


def farthest_pair(occ: OccupancyGrid, seed_xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, float]:
    """Two far-apart cells of the seed's free component (double sweep: farthest from the seed, then
    farthest from that): (a_xy, b_xy, geodesic distance a -> b)."""
    d = distance_field(occ, seed_xy)
    if not np.isfinite(d).any():
        raise ValueError("the seed point is not on a traversable cell")
    fin = np.where(np.isfinite(d), d, -1)
    a = occ.cell_to_world(np.unravel_index(np.argmax(fin), fin.shape))[0]
    d = distance_field(occ, a)
    fin = np.where(np.isfinite(d), d, -1)
    b_rc = np.unravel_index(np.argmax(fin), fin.shape)
    return a, occ.cell_to_world(b_rc)[0], float(fin[b_rc])
