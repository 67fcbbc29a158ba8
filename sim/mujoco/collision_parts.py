"""Collision shapes of hollow objects as a union of convex parts (MuJoCo collides meshes as convex hulls).

A bowl's, plate's, cup's or mug's convex hull fills its opening: a finger cannot go inside and nothing can be
put into it. Such objects collide instead as several convex parts whose union follows the walls:

- procedural cups, mugs and bowls (sim.scene.procedural knows their shape): analytic parts: the bottom disc, the
  wall as `sectors` thin segments per wall band (revolved (r, z) polygons), the mug's handle as a box;
- mesh objects with an open top (a vertical column through the footprint centre meets the mesh only well
  below its top, `open_top_ratio` of the height): the surface is cut into compact patches (k-means on
  surface samples, farthest-point initialised: deterministic) of about `patch_size_m`; each patch's convex
  hull is a part. A thin shell's patch holds its inner and outer faces, so the part is a piece of wall.
  Results are cached in $OVMM_CACHE_DIR (default ~/.cache/ovmm)/collision_parts_v1/<hash>.npz, keyed by the
  mesh's vertices, faces and the parameters, written atomically.

Every other object keeps its convex hull (`object_collision_parts` returns None).
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import trimesh

from core.io import atomic_path
from sim.config import cache_dir
from sim.scene.procedural import Box, Profile, procedural_collision_pieces
from sim.scene.spec import ObjectSpec

log = logging.getLogger(__name__)

CACHE_VERSION = 1


@dataclass(frozen=True)
class CollisionPartsConfig:
    """How hollow objects are split into convex collision parts."""

    sectors: int = 12  # wall segments around a procedural object's axis (~2 mm chord error at r = 7 cm)
    sector_overlap_rad: float = 0.01
    wall_lift_m: float = 0.001  # wall segments end this far above the bottom (the base disc carries it)
    disc_sections: int = 32  # polygon sides of a revolved base disc
    open_top_ratio: float = 0.3  # mesh objects: decompose if the centre column is this much of the height deep
    profile_piece_m: float = 0.03  # mesh objects: length of a profile piece (k-means in the (r, z) plane)
    min_profile_pieces: int = 3
    max_profile_pieces: int = 6
    axis_piece_ratio: float = 0.25  # a profile piece reaching this close to the axis is one part (the base)
    samples: int = 6000  # surface samples
    kmeans_iterations: int = 12
    min_thickness_m: float = 0.002  # thinner patches are thickened to this along their normal


def object_collision_parts(obj: ObjectSpec, mesh: trimesh.Trimesh, config: CollisionPartsConfig | None = None,
                           use_cache: bool = True) -> list[np.ndarray] | None:
    """Vertex sets (object frame, (N_i, 3) float64) of convex parts whose union is the object's collision
    shape; None when the object's convex hull is a good collision shape (it has no open cavity)."""
    config = config or CollisionPartsConfig()
    if obj.procedural is not None:
        pieces = procedural_collision_pieces(obj.procedural, obj.scale)
        return None if pieces is None else revolved_parts(*pieces, config=config)
    if not has_open_top(mesh, config.open_top_ratio):
        return None
    return mesh_parts(mesh, config, use_cache=use_cache)


def revolved_parts(base: Profile, walls: list[Profile], boxes: list[Box],
                   config: CollisionPartsConfig | None = None) -> list[np.ndarray]:
    """Convex parts from (r, z) polygons revolved about z: the base whole, each wall polygon in sectors."""
    config = config or CollisionPartsConfig()
    parts = [_revolve_points(base, 0.0, 2 * math.pi, config.disc_sections, closed=True)]
    step = 2 * math.pi / config.sectors
    lap = config.sector_overlap_rad  # neighbouring segments overlap: no seam between them
    z0 = min(z for _, z in base) + config.wall_lift_m
    for poly in walls:
        poly = [(r, max(z, z0)) for r, z in poly]  # only the base disc touches the support: few contacts
        for k in range(config.sectors):
            parts.append(_revolve_points(poly, k * step - lap, (k + 1) * step + lap, 2))
    for (cx, cy, cz), (hx, hy, hz) in boxes:
        corners = np.array([[sx, sy, sz] for sx in (-hx, hx) for sy in (-hy, hy) for sz in (-hz, hz)])
        parts.append(corners + [cx, cy, cz])
    return parts


def _revolve_points(poly: Profile, a0: float, a1: float, steps: int, closed: bool = False) -> np.ndarray:
    """The (r, z) polygon's points rotated to angles a0..a1 (steps intervals); outer points are pushed out by
    the arc's sagitta so the part's hull covers the true curved surface, not only its chord."""
    rz = np.asarray(poly, dtype=np.float64)
    n = steps if closed else steps + 1
    angles = a0 + (a1 - a0) * np.arange(n) / steps
    bulge = 1.0 / math.cos((a1 - a0) / steps / 2)
    out = []
    for a in angles:
        c, s = math.cos(a), math.sin(a)
        r = rz[:, 0] * bulge
        out.append(np.stack([r * c, r * s, rz[:, 1]], axis=1))
    pts = np.vstack(out)
    return np.unique(np.round(pts, 9), axis=0)


def has_open_top(mesh: trimesh.Trimesh, ratio: float = 0.3, samples: int = 4000) -> bool:
    """True if the mesh's surface in a vertical column through its footprint centre (a quarter of the
    footprint radius) lies entirely more than `ratio` of the height below its top: a bowl, cup or plate."""
    pts, _ = trimesh.sample.sample_surface(mesh, samples, seed=0)
    lo, hi = mesh.bounds
    height = float(hi[2] - lo[2])
    if height <= 0:
        return False
    centre = 0.5 * (lo[:2] + hi[:2])
    radius = 0.5 * float(min(hi[0] - lo[0], hi[1] - lo[1]))
    col = pts[np.linalg.norm(pts[:, :2] - centre, axis=1) < 0.25 * radius]
    if len(col) < 5:  # nothing there (a banana's bend): no floor, no cavity
        return False
    return bool(hi[2] - col[:, 2].max() > ratio * height)


def mesh_parts(mesh: trimesh.Trimesh, config: CollisionPartsConfig | None = None,
               use_cache: bool = True) -> list[np.ndarray]:
    """Patch decomposition of a mesh surface (see the module docstring), cached by mesh and parameters."""
    config = config or CollisionPartsConfig()
    path = cache_path_for(mesh, config)
    if use_cache and path.is_file():
        try:
            with np.load(path) as z:
                verts, counts = z["vertices"], z["counts"]
            return np.split(verts, np.cumsum(counts)[:-1])
        except (OSError, KeyError, ValueError) as exc:
            log.warning("ignoring unreadable collision-part cache %s: %s", path, exc)
    parts = _sector_hulls(mesh, config)
    if use_cache:
        with atomic_path(path) as tmp:
            np.savez(tmp, vertices=np.vstack(parts), counts=np.array([len(p) for p in parts]))
    return parts


def _sector_hulls(mesh: trimesh.Trimesh, config: CollisionPartsConfig) -> list[np.ndarray]:
    pts, _ = trimesh.sample.sample_surface(mesh, config.samples, seed=0)
    pts = np.vstack([pts, np.asarray(mesh.vertices)])
    lo, hi = pts.min(axis=0), pts.max(axis=0)
    foot = pts[pts[:, 2] < lo[2] + 0.1 * (hi[2] - lo[2])]  # the base ring: centred on the axis (no handle)
    centre = 0.5 * (foot[:, :2].min(axis=0) + foot[:, :2].max(axis=0))
    d = pts[:, :2] - centre
    r = np.linalg.norm(d, axis=1)
    rz = np.stack([r, pts[:, 2]], axis=1)
    k = int(np.clip(round(float(r.max() + hi[2] - lo[2]) / config.profile_piece_m), config.min_profile_pieces,
                    config.max_profile_pieces))
    piece = _kmeans(rz, k, config.kmeans_iterations)
    sector = np.floor((np.arctan2(d[:, 1], d[:, 0]) + math.pi) / (2 * math.pi) * config.sectors).astype(int)
    sector = np.clip(sector, 0, config.sectors - 1)
    body_r = float(np.percentile(r, 90))
    parts = []
    for j in range(k):
        in_piece = piece == j
        if not in_piece.any():
            continue
        if r[in_piece].min() < config.axis_piece_ratio * body_r:  # around the axis (base, plate centre): whole
            parts.append(_thick_hull(pts[in_piece], config.min_thickness_m))
            continue
        for s in range(config.sectors):
            sel = in_piece & (sector == s)
            if np.count_nonzero(sel) >= 4:
                parts.append(_thick_hull(_with_neighbours(pts, sel, in_piece, sector, s, config.sectors),
                                         config.min_thickness_m))
    return parts


def _with_neighbours(pts: np.ndarray, sel: np.ndarray, in_piece: np.ndarray, sector: np.ndarray, s: int,
                     n: int) -> np.ndarray:
    """The cell's points plus the nearest points of the adjacent sectors, so neighbouring parts overlap
    (no gaps between wall segments where samples happen to be sparse)."""
    own = pts[sel]
    extra = []
    for t in ((s - 1) % n, (s + 1) % n):
        q = pts[in_piece & (sector == t)]
        if len(q):
            dist = np.min(np.linalg.norm(q[:, None, :2] - own[None, :, :2], axis=2), axis=1)
            extra.append(q[dist <= np.percentile(dist, 20)])
    return np.vstack([own, *extra])


def _kmeans(pts: np.ndarray, k: int, iterations: int) -> np.ndarray:
    """Deterministic k-means: farthest-point initialisation from the lowest point, then Lloyd iterations."""
    centres = [pts[int(np.argmin(pts[:, -1]))]]
    d = np.linalg.norm(pts - centres[0], axis=1)
    for _ in range(1, k):
        centres.append(pts[int(np.argmax(d))])
        d = np.minimum(d, np.linalg.norm(pts - centres[-1], axis=1))
    c = np.array(centres, dtype=np.float64)
    labels = np.zeros(len(pts), dtype=int)
    for _ in range(iterations):
        labels = np.argmin(((pts[:, None, :] - c[None, :, :]) ** 2).sum(axis=2), axis=1)
        for j in range(k):
            sel = labels == j
            if sel.any():
                c[j] = pts[sel].mean(axis=0)
    return labels


def _thick_hull(p: np.ndarray, min_thickness: float) -> np.ndarray:
    """Hull vertices of a patch; a patch flatter than `min_thickness` is padded along its normal."""
    mean = p.mean(axis=0)
    _, _, vt = np.linalg.svd(p - mean, full_matrices=False)
    normal = vt[2]
    t = float(np.ptp((p - mean) @ normal))
    if t < min_thickness:
        pad = 0.5 * (min_thickness - t)
        p = np.vstack([p + pad * normal, p - pad * normal])
    try:
        return np.asarray(trimesh.convex.convex_hull(p).vertices, dtype=np.float64)
    except Exception:  # noqa: BLE001 - qhull errors on degenerate sets: keep the points, MuJoCo hulls them
        return np.asarray(p, dtype=np.float64)


def cache_path_for(mesh: trimesh.Trimesh, config: CollisionPartsConfig | None = None) -> Path:
    """Where `mesh_parts` caches this mesh's parts (for tests and cache maintenance)."""
    config = config or CollisionPartsConfig()
    h = hashlib.sha256()
    h.update(np.ascontiguousarray(mesh.vertices, dtype=np.float64).tobytes())
    h.update(np.ascontiguousarray(mesh.faces, dtype=np.int64).tobytes())
    h.update(repr(sorted(asdict(config).items())).encode())
    return cache_dir() / f"collision_parts_v{CACHE_VERSION}" / f"{h.hexdigest()[:32]}.npz"
