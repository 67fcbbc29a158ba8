"""Rerun recordings (.rrd) of a voxel map and a query, for the Rerun viewer (`rerun out.rrd`).

Entities: `world` (right-handed, z up), `world/map/points` (occupied voxel centres in their colours),
`world/map/semantic` (semantic voxel centres coloured by the query's similarity, dark blue -> yellow),
`world/query/hits` (one box per hit, labelled "rank: label score"). rerun-sdk is the optional extra `viz`;
it is imported only here, and a clear error says how to install it when missing.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io import atomic_path

log = logging.getLogger(__name__)


def _rerun():
    try:
        import rerun as rr
    except ImportError as exc:
        raise InputError("--rerun needs the rerun-sdk package: pip install 'ovmm[viz]' (or rerun-sdk)") from exc
    return rr


def similarity_colours(similarities: np.ndarray) -> np.ndarray:
    """uint8 (N, 3) colours from dark blue (lowest similarity) to yellow (highest)."""
    s = np.asarray(similarities, np.float64)
    if s.size == 0:
        return np.zeros((0, 3), np.uint8)
    t = (s - s.min()) / max(float(s.max() - s.min()), 1e-9)
    lo, hi = np.array([20, 20, 90]), np.array([255, 230, 40])
    return (lo + t[:, None] * (hi - lo)).astype(np.uint8)


def save_map_rrd(voxel_map, path: str | Path, similarities: np.ndarray | None = None, hits=(),
                 query: str = "", application_id: str = "ovmm-map") -> Path:
    """Write the map (and optionally a query's similarity and hits) to a .rrd file atomically."""
    rr = _rerun()
    rec = rr.RecordingStream(application_id)
    with atomic_path(path) as tmp:
        rec.save(str(tmp))
        _log_map(rr, rec, voxel_map, similarities, hits, query)
        rec.flush()
        rec.disconnect()
    log.info("wrote rerun recording %s", path)
    return Path(path)


def _log_map(rr, rec, voxel_map, similarities, hits, query: str) -> None:
    rec.log("world", rr.ViewCoordinates.RIGHT_HAND_Z_UP, static=True)
    xyz, rgb, _ = voxel_map.occupancy_points()
    rec.log("world/map/points", rr.Points3D(xyz, colors=rgb, radii=voxel_map.voxel_size / 2), static=True)
    if len(voxel_map):
        centres = voxel_map.semantic_centers()
        if similarities is not None:
            colours = similarity_colours(similarities)
        else:
            colours = np.full((len(centres), 3), 200, np.uint8)
        rec.log("world/map/semantic", rr.Points3D(centres, colors=colours, radii=voxel_map.voxel_size / 2),
                static=True)
    if hits:
        rec.log("world/query/hits", rr.Boxes3D(
            centers=np.stack([h.center for h in hits]), sizes=np.stack([h.extent for h in hits]),
            labels=[f"{i + 1}: {h.label or query} {h.score:.2f}" for i, h in enumerate(hits)],
            colors=np.tile(np.array([[0, 255, 255]], np.uint8), (len(hits), 1)),
        ), static=True)
