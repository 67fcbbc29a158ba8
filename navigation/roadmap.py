"""The networkx graphs the planner searches: a coarse roadmap (cached per map) and a fine cell graph.

Coarse roadmap: the grid is cut into square blocks of `coarse_resolution_m`; each block with a traversable
cell gets one node, placed at its traversable cell with the largest clearance (so nodes sit away from
obstacles and narrow passages keep a node). Nodes of neighbouring blocks (8-neighbours, plus knight moves
for smoother angles) are joined when the straight segment between them is clear (see lineofsight). Built
with numpy in one pass: about 4,000 nodes for a 10 m x 10 m apartment at 10 cm, searched by A* in tens of
milliseconds.

Fine graph: every traversable cell, 8-connected. Complete but slower; the planner uses it only when the
roadmap cannot connect a start and goal that lie in the same free component.

Edge cost (both graphs) = length * (1 + clearance_weight * mean penalty along the edge), with
penalty(c) = clip((preferred - c) / (preferred - inflation), 0, 1)^2: zero far from obstacles, 1 at the
inflation boundary. Costs are never below the length, so the Euclidean distance is an admissible heuristic.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import networkx as nx
import numpy as np

from navigation.lineofsight import los_clearance, segment_samples
from navigation.occupancy import OccupancyGrid

log = logging.getLogger(__name__)

_COARSE_OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1), (1, 2), (2, 1), (1, -2), (2, -1))
_FINE_OFFSETS = ((0, 1), (1, 0), (1, 1), (1, -1))


@dataclass(frozen=True)
class CostConfig:
    """Edge-cost parameters shared by the roadmap and the fine graph."""

    preferred_clearance_m: float = 0.45
    """Beyond this clearance an edge costs its length; closer to obstacles it costs more."""
    clearance_weight: float = 1.5
    """Cost multiplier at the inflation boundary is 1 + clearance_weight."""


def clearance_penalty(clearance_m: np.ndarray, inflation_m: float, cost: CostConfig) -> np.ndarray:
    span = max(cost.preferred_clearance_m - inflation_m, 1e-6)
    return np.clip((cost.preferred_clearance_m - np.asarray(clearance_m, np.float64)) / span, 0.0, 1.0) ** 2


def edge_costs(
    grid: OccupancyGrid, a: np.ndarray, b: np.ndarray, cost: CostConfig
) -> tuple[np.ndarray, np.ndarray]:
    """(cost (N,), min clearance (N,)) of straight edges a[i] -> b[i] sampled every quarter cell."""
    pts, valid = segment_samples(a, b, grid.resolution_m / 4)
    c = grid.clearance_at(pts.reshape(-1, 2)).reshape(valid.shape).astype(np.float64)
    pen = clearance_penalty(c, grid.inflation_m, cost)
    mean_pen = np.where(valid, pen, 0.0).sum(axis=1) / valid.sum(axis=1)
    length = np.linalg.norm(np.asarray(b) - np.asarray(a), axis=1)
    return length * (1.0 + cost.clearance_weight * mean_pen), np.where(valid, c, np.inf).min(axis=1)


@dataclass
class Roadmap:
    """Coarse graph over free space: node i sits at world xy `xy[i]` (fine cell `cells[i]`)."""

    graph: nx.Graph
    xy: np.ndarray  # (M, 2) float64
    cells: np.ndarray  # (M, 2) int64 fine (row, col)
    block_node: np.ndarray  # int64 (block rows, block cols): node id or -1
    block: int  # fine cells per block side
    build_s: float

    def nodes_near(self, rc: np.ndarray, radius_blocks: int) -> np.ndarray:
        """Node ids of the blocks within `radius_blocks` of the block holding fine cell rc."""
        br, bc = int(rc[0]) // self.block, int(rc[1]) // self.block
        r0, c0 = max(br - radius_blocks, 0), max(bc - radius_blocks, 0)
        ids = self.block_node[r0 : br + radius_blocks + 1, c0 : bc + radius_blocks + 1].ravel()
        return ids[ids >= 0]


def build_roadmap(grid: OccupancyGrid, coarse_resolution_m: float, cost: CostConfig) -> Roadmap:
    t0 = time.perf_counter()
    k = max(int(round(coarse_resolution_m / grid.resolution_m)), 1)
    rows, cols = grid.shape
    br, bc = -(-rows // k), -(-cols // k)
    score = np.full((br * k, bc * k), -1.0, np.float64)
    score[:rows, :cols] = np.where(grid.traversable, grid.clearance_m, -1.0)
    blocks = score.reshape(br, k, bc, k).transpose(0, 2, 1, 3).reshape(br, bc, k * k)
    best = blocks.argmax(axis=2)
    has = np.take_along_axis(blocks, best[..., None], axis=2)[..., 0] >= 0
    bi, bj = np.nonzero(has)
    local = best[bi, bj]
    cells = np.stack([bi * k + local // k, bj * k + local % k], axis=1).astype(np.int64)
    xy = grid.cell_to_world(cells)
    block_node = np.full((br, bc), -1, np.int64)
    block_node[bi, bj] = np.arange(len(bi))

    graph = nx.Graph()
    graph.add_nodes_from(range(len(bi)))
    need = los_clearance(grid)
    for dr, dc in _COARSE_OFFSETS:
        a = block_node[max(0, -dr) : br - max(0, dr), max(0, -dc) : bc - max(0, dc)]
        b = block_node[max(0, dr) : br + min(0, dr) or None, max(0, dc) : bc + min(0, dc) or None]
        ok = (a >= 0) & (b >= 0)
        ua, ub = a[ok], b[ok]
        if len(ua) == 0:
            continue
        w, cmin = edge_costs(grid, xy[ua], xy[ub], cost)
        keep = cmin >= need
        graph.add_weighted_edges_from(zip(ua[keep].tolist(), ub[keep].tolist(), w[keep].tolist(), strict=True))
    dt = time.perf_counter() - t0
    log.debug("roadmap: %d nodes, %d edges in %.1f ms", graph.number_of_nodes(), graph.number_of_edges(), dt * 1e3)
    return Roadmap(graph, xy, cells, block_node, k, dt)


def build_fine_graph(grid: OccupancyGrid, cost: CostConfig) -> nx.Graph:
    """8-connected graph of all traversable cells; node id = row * cols + col."""
    rows, cols = grid.shape
    trav = grid.traversable
    pen = clearance_penalty(grid.clearance_m, grid.inflation_m, cost)
    graph = nx.Graph()
    rr, cc = np.nonzero(trav)
    graph.add_nodes_from((rr * cols + cc).tolist())
    for dr, dc in _FINE_OFFSETS:
        r0, r1 = 0, rows - dr
        c0, c1 = max(0, -dc), cols - max(0, dc)
        a = trav[r0:r1, c0:c1] & trav[r0 + dr : r1 + dr, c0 + dc : c1 + dc]
        ar, ac = np.nonzero(a)
        ar, ac = ar + r0, ac + c0
        br_, bc_ = ar + dr, ac + dc
        length = grid.resolution_m * float(np.hypot(dr, dc))
        w = length * (1.0 + cost.clearance_weight * 0.5 * (pen[ar, ac] + pen[br_, bc_]))
        graph.add_weighted_edges_from(zip((ar * cols + ac).tolist(), (br_ * cols + bc_).tolist(), w.tolist(), strict=True))
    return graph
