"""The networkx graphs the planner searches: a coarse roadmap (cached per map) and a fine cell graph.

Coarse roadmap: the grid is cut into square blocks of `coarse_resolution_m`; each block with a traversable
cell gets one node, placed at its traversable cell with the largest clearance (so nodes sit away from
obstacles and narrow passages keep a node). Nodes of neighbouring blocks (8-neighbours, plus knight moves
for smoother angles) are joined when the straight segment between them is clear (see lineofsight). Built
with numpy in one pass (no Python loop over edges): about 2,000 nodes for a 10 m x 10 m apartment at 15 cm.

Fine graph: every traversable cell, 8-connected. Complete but larger; the planner uses it only when the
roadmap cannot connect a start and goal that lie in the same free component.

Both graphs are edge lists (`Graph`: endpoints u, v and weights) searched with scipy.sparse.csgraph's
Dijkstra (compiled; a few milliseconds for the whole roadmap), not networkx: a Python-level graph cost
tens of milliseconds per map to build and per query to search.

Edge cost (both graphs) = length * (1 + clearance_weight * mean penalty along the edge), with
penalty(c) = clip((preferred - c) / (preferred - inflation), 0, 1)^2: zero far from obstacles, 1 at the
inflation boundary. Costs are never below the length, so the Euclidean distance is an admissible heuristic.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

import numpy as np
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import dijkstra

from navigation.lineofsight import los_clearance, segment_clearances
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
    c, valid = segment_clearances(grid, a, b, grid.resolution_m / 4)
    span = np.float32(max(cost.preferred_clearance_m - grid.inflation_m, 1e-6))
    pen = np.clip((np.float32(cost.preferred_clearance_m) - c) / span, 0.0, 1.0) ** 2  # clearance_penalty, in float32
    mean_pen = np.where(valid, pen, 0.0).sum(axis=1, dtype=np.float64) / valid.sum(axis=1)
    length = np.linalg.norm(np.asarray(b) - np.asarray(a), axis=1)
    return length * (1.0 + cost.clearance_weight * mean_pen), np.where(valid, c, np.inf).min(axis=1)


@dataclass
class Graph:
    """An undirected weighted graph on nodes 0..n-1 as edge arrays (u[i] -- v[i] costs w[i])."""

    n: int
    u: np.ndarray  # (E,) int64
    v: np.ndarray  # (E,) int64
    w: np.ndarray  # (E,) float64

    @property
    def edges(self) -> int:
        return int(len(self.u))

    def shortest_path(self, source: int, target: int, extra: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None,
                      extra_nodes: int = 0) -> tuple[list[int], float] | None:
        """(node ids source..target, cost) of a cheapest path, or None when there is none. `extra` edges
        (u, v, w) and `extra_nodes` (ids n..n+extra_nodes-1) are added for this query only."""
        u, v, w = self.u, self.v, self.w
        if extra is not None:
            u, v, w = (np.concatenate([a, np.asarray(b, a.dtype)]) for a, b in zip((u, v, w), extra, strict=True))
        n = self.n + extra_nodes
        # Zero-cost edges would vanish in a sparse matrix: costs are lengths, never 0 between distinct nodes.
        mat = csr_matrix((np.maximum(w, 1e-12), (u, v)), shape=(n, n))
        dist, pred = dijkstra(mat, directed=False, indices=source, return_predecessors=True)
        if not np.isfinite(dist[target]):
            return None
        nodes = [target]
        while nodes[-1] != source:
            nodes.append(int(pred[nodes[-1]]))
        return nodes[::-1], float(dist[target])


@dataclass
class Roadmap:
    """Coarse graph over free space: node i sits at world xy `xy[i]` (fine cell `cells[i]`)."""

    graph: Graph
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

    need = los_clearance(grid)
    ua, ub = [], []
    for dr, dc in _COARSE_OFFSETS:
        a = block_node[max(0, -dr) : br - max(0, dr), max(0, -dc) : bc - max(0, dc)]
        b = block_node[max(0, dr) : br + min(0, dr) or None, max(0, dc) : bc + min(0, dc) or None]
        ok = (a >= 0) & (b >= 0)
        ua.append(a[ok])
        ub.append(b[ok])
    u, v = np.concatenate(ua), np.concatenate(ub)
    w, cmin = edge_costs(grid, xy[u], xy[v], cost)
    keep = cmin >= need
    graph = Graph(len(bi), u[keep], v[keep], w[keep])
    dt = time.perf_counter() - t0
    log.debug("roadmap: %d nodes, %d edges in %.1f ms", graph.n, graph.edges, dt * 1e3)
    return Roadmap(graph, xy, cells, block_node, k, dt)


def build_fine_graph(grid: OccupancyGrid, cost: CostConfig) -> Graph:
    """8-connected graph of all traversable cells; node id = row * cols + col."""
    rows, cols = grid.shape
    trav = grid.traversable
    pen = clearance_penalty(grid.clearance_m, grid.inflation_m, cost)
    us, vs, ws = [], [], []
    for dr, dc in _FINE_OFFSETS:
        r0, r1 = 0, rows - dr
        c0, c1 = max(0, -dc), cols - max(0, dc)
        a = trav[r0:r1, c0:c1] & trav[r0 + dr : r1 + dr, c0 + dc : c1 + dc]
        ar, ac = np.nonzero(a)
        ar, ac = ar + r0, ac + c0
        br_, bc_ = ar + dr, ac + dc
        length = grid.resolution_m * float(np.hypot(dr, dc))
        us.append(ar * cols + ac)
        vs.append(br_ * cols + bc_)
        ws.append(length * (1.0 + cost.clearance_weight * 0.5 * (pen[ar, ac] + pen[br_, bc_])))
    return Graph(rows * cols, np.concatenate(us).astype(np.int64), np.concatenate(vs).astype(np.int64),
                 np.concatenate(ws))
