"""Frontiers of an occupancy grid built from what the robot has seen, and viewpoints to look at them from.

A frontier cell is a FREE cell (floor seen) with an UNKNOWN 8-neighbour. Frontier cells are clustered
(8-connected, `scipy.ndimage.label`); clusters smaller than `min_cells` are dropped (sensor noise along
walls). Each cluster gets a viewpoint: the traversable cell of the robot's free component nearest to the
cluster's centre among those within `max_view_distance_m` of a cluster cell (`scipy.spatial.cKDTree`)
that see that cell: the straight line to it crosses no seen obstacle (navigation.lineofsight), so a
viewpoint is never on the far side of a thin wall; and a travel cost: the geodesic distance to that
viewpoint (navigation.geodesic.distance_field). Score = information gain (the cluster's length in
metres) / (travel cost + `cost_offset_m`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from scipy.spatial import cKDTree

from mapping.obstacles import FREE, OBSTACLE, UNKNOWN
from navigation.geodesic import distance_field
from navigation.lineofsight import segments_unobstructed
from navigation.occupancy import OccupancyGrid

_EIGHT = np.ones((3, 3), dtype=bool)


@dataclass(frozen=True)
class FrontierConfig:
    min_cells: int = 6
    """Frontier clusters with fewer cells (6 = 0.3 m at 5 cm) are ignored."""
    max_view_distance_m: float = 1.5
    """A viewpoint must be this close to its frontier (the camera sees the unknown beyond it)."""
    cost_offset_m: float = 1.0
    """Added to the travel cost so a frontier next to the robot does not get an infinite score."""
    max_viewpoint_checks: int = 2000
    """Line-of-sight checks per cluster (candidates nearest the cluster's centre first)."""


@dataclass(frozen=True)
class Frontier:
    cells: np.ndarray  # int (N, 2) (row, col)
    centroid_xy: np.ndarray  # (2,)
    viewpoint_xy: np.ndarray | None  # (2,) traversable cell centre to look from; None: none reachable
    travel_m: float  # geodesic distance robot -> viewpoint (inf when unreachable)
    gain_m: float  # cluster length in metres (cells * resolution)

    @property
    def reachable(self) -> bool:
        return self.viewpoint_xy is not None and bool(np.isfinite(self.travel_m))

    def score(self, cost_offset_m: float) -> float:
        return self.gain_m / (self.travel_m + cost_offset_m) if self.reachable else 0.0


def frontier_mask(occ: OccupancyGrid) -> np.ndarray:
    """bool (rows, cols): FREE cells with an UNKNOWN 8-neighbour (the grid border does not count)."""
    unknown_near = ndimage.binary_dilation(occ.state == UNKNOWN, structure=_EIGHT)
    return (occ.state == FREE) & unknown_near


def find_frontiers(occ: OccupancyGrid, robot_xy: np.ndarray, config: FrontierConfig = FrontierConfig(),
                   region: tuple[float, float, float, float] | None = None) -> list[Frontier]:
    """Frontier clusters of `occ`, best score first (unreachable ones last, still listed).

    region: (xmin, ymin, xmax, ymax): only frontier cells inside it count (None: the whole grid).
    """
    mask = frontier_mask(occ)
    if region is not None:
        xy = occ.cell_to_world(np.argwhere(np.ones(occ.shape, bool)))
        x, y = xy[:, 0].reshape(occ.shape), xy[:, 1].reshape(occ.shape)
        mask &= (x >= region[0]) & (x <= region[2]) & (y >= region[1]) & (y <= region[3])
    labels, n = ndimage.label(mask, structure=_EIGHT)
    if n == 0:
        return []
    dist = distance_field(occ, np.asarray(robot_xy, np.float64))
    reach_rc = np.argwhere(np.isfinite(dist))
    reach_xy = occ.cell_to_world(reach_rc)
    opaque = occ.state == OBSTACLE
    res = occ.resolution_m
    reach_m = config.max_view_distance_m
    out: list[Frontier] = []
    for k, idx in enumerate(ndimage.find_objects(labels), start=1):
        sub = labels[idx] == k
        cells = np.argwhere(sub) + np.array([idx[0].start, idx[1].start])
        if len(cells) < config.min_cells:
            continue
        cxy = occ.cell_to_world(cells)
        centre = cxy.mean(axis=0)
        view, travel = None, float("inf")
        near = np.all((reach_xy >= cxy.min(axis=0) - reach_m) & (reach_xy <= cxy.max(axis=0) + reach_m), axis=1)
        if near.any():
            cand_rc, cand_xy = reach_rc[near], reach_xy[near]
            d, j = cKDTree(cxy).query(cand_xy, distance_upper_bound=reach_m)
            ok = np.isfinite(d)
            cand_rc, cand_xy, seen_xy = cand_rc[ok], cand_xy[ok], cxy[j[ok]]
            # Nearest the cluster's centre first (looks deepest), among those that see their frontier cell.
            order = np.argsort(np.linalg.norm(cand_xy - centre, axis=1), kind="stable")[:config.max_viewpoint_checks]
            sees = segments_unobstructed(occ, cand_xy[order], seen_xy[order], opaque)
            if sees.any():
                best = order[int(np.argmax(sees))]
                view, travel = cand_xy[best], float(dist[cand_rc[best, 0], cand_rc[best, 1]])
        out.append(Frontier(cells, centre, view, travel, len(cells) * res))
    out.sort(key=lambda f: (not f.reachable, -f.score(config.cost_offset_m)))
    return out
