"""The voxel semantic map: fuses posed RGB-D frames and object observations into voxels.

Per frame (`VoxelMap.add_frame`):
1. All valid depth pixels (depth in [min_depth_m, max_depth_m]) are back-projected to world points
   (mapping.frame_voxels: core.geometry.backproject's model with cached rays) and counted per voxel in the occupancy layer with their mean colour
   (obstacle evidence for navigation, colours for pictures).
2. Each object observation's mask selects its points (optionally eroded by `mask_erode_px` to drop
   boundary pixels that often belong to the background); every voxel it touches gets the observation's
   feature with weight = detection score, fused as a running weighted mean in the semantic layer.

Before either, the frame's negative evidence (mapping.negative_evidence) is applied: stored voxels the
depth now sees through lose object evidence and, missed `clear_after` times in a row, are removed (semantic)
or emptied (occupancy), so the map follows a home that changes. `VoxelMap.clearing` configures it.

Everything is vectorised per frame: voxel coordinates are counted in a dense local box (np.bincount),
merged into the map through a sorted packed-key index, and features are scattered with one sparse
matrix product.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.types import Observation, RGBDFrame
from mapping.frame_voxels import FrameVoxelizer, FrameVoxels
from mapping.map_config import MapMetadata, VoxelMapConfig
from mapping.negative_evidence import ClearingConfig, apply_negative_evidence
from mapping.obstacles import ObstacleGrid, ObstacleGridConfig, obstacle_grid_from_points
from mapping.voxel_keys import COORD_LIMIT, VoxelRangeError
from mapping.voxel_layers import OccupancyLayer, SemanticLayer

log = logging.getLogger(__name__)


@dataclass
class FrameFusion:
    """What one `add_frame` call did."""

    points: int = 0
    occupied_voxels: int = 0
    observations_fused: int = 0
    semantic_voxels: int = 0
    semantic_misses: int = 0
    semantic_removed: int = 0
    occupancy_misses: int = 0
    occupancy_cleared: int = 0


class VoxelMap:
    """A semantic voxel map with an occupancy layer; see the module docstring."""

    def __init__(self, config: VoxelMapConfig = VoxelMapConfig(), metadata: MapMetadata | None = None,
                 clearing: ClearingConfig | None = None) -> None:
        if config.voxel_size_m <= 0:
            raise ValueError("voxel_size_m must be positive")
        self.config = config
        self.clearing = clearing or ClearingConfig()
        self.metadata = metadata or MapMetadata()
        self.semantic = SemanticLayer()
        self.occupancy = OccupancyLayer()
        self.observed_labels: dict[str, int] = {}  # observation label -> times fused (this session's scan)
        self._voxelizer = FrameVoxelizer(config.voxel_size_m, config.min_depth_m, config.max_depth_m)
        self._query_index = None
        self._query_index_version = -1
        self._queries_version = -1
        self._queries_since_change = 0

    # ---- fusion -------------------------------------------------------------------------------------
    def add_frame(self, frame: RGBDFrame, observations: list[Observation] = (), frame_index: int | None = None
                  ) -> FrameFusion:
        """Fuse one posed frame and its object observations; returns counts of what was added."""
        fidx = self.metadata.frames if frame_index is None else int(frame_index)
        stats = FrameFusion()
        try:
            fv = self._voxelizer.voxelize(frame)
            cleared = apply_negative_evidence(self, frame, self.clearing)
            stats.semantic_misses, stats.semantic_removed = cleared.semantic_misses, cleared.semantic_removed
            stats.occupancy_misses, stats.occupancy_cleared = cleared.occupancy_misses, cleared.occupancy_cleared
            self.metadata.frames += 1
            if fv.flat.size == 0:
                return stats
            self._fuse_occupancy(frame, fv, fidx, stats)
            if observations:
                self._fuse_semantics(frame, observations, fv.flat, fv.coords, fv.inverse, fidx, stats)
        except VoxelRangeError as exc:
            raise InputError(
                f"frame {frame.index} has points more than {COORD_LIMIT * self.voxel_size / 1000:.0f} km from the "
                "world origin; its camera pose is probably corrupt"
            ) from exc
        return stats

    def add_floor(self, xy: np.ndarray, radius_m: float, step_m: float | None = None) -> int:
        """Mark the floor within `radius_m` of each world (x, y) as seen (one floor voxel hit each, grey): where
        the robot itself drove during a scan is free floor, though its camera never sees under it. Returns the
        number of floor voxels touched."""
        xy = np.asarray(xy, dtype=np.float64).reshape(-1, 2)
        if len(xy) == 0:
            return 0
        vs = self.voxel_size
        step = step_m or vs / 2
        n = int(math.ceil(radius_m / step))
        off = np.stack(np.meshgrid(np.arange(-n, n + 1), np.arange(-n, n + 1)), axis=-1).reshape(-1, 2) * step
        off = off[np.hypot(off[:, 0], off[:, 1]) <= radius_m]
        pts = (xy[:, None, :] + off[None]).reshape(-1, 2)
        ij = np.unique(np.floor(pts / vs).astype(np.int32), axis=0)
        coords = np.concatenate([ij, np.zeros((len(ij), 1), np.int32)], axis=1)  # the voxel just above z = 0
        ones = np.ones(len(coords), np.int32)
        self.occupancy.update(coords, ones, np.full((len(coords), 3), 128.0), self.metadata.frames, view=False)
        return len(coords)

    def _fuse_occupancy(self, frame: RGBDFrame, fv: FrameVoxels, fidx: int, stats: FrameFusion) -> None:
        n_u = len(fv.coords)
        rgb_flat = frame.rgb.reshape(-1, 3)
        rgb_sum = np.stack(
            [np.bincount(fv.inverse, weights=rgb_flat[:, c][fv.flat], minlength=n_u) for c in range(3)], axis=1
        )
        self.occupancy.update(fv.coords, fv.n_points, rgb_sum, fidx)
        stats.points = int(fv.flat.size)
        stats.occupied_voxels = n_u

    def _object_points(self, frame: RGBDFrame, obs: Observation, flat: np.ndarray) -> np.ndarray:
        """Indices into `flat` (the frame's valid points) of an observation's (eroded) mask."""
        mask = np.asarray(obs.mask, dtype=bool)
        if mask.shape != frame.depth_m.shape:
            raise ValueError(f"observation mask {mask.shape} does not match the frame {frame.depth_m.shape}")
        r = int(self.config.mask_erode_px)
        if r > 0:
            import scipy.ndimage

            rows = np.flatnonzero(mask.any(axis=1))
            cols = np.flatnonzero(mask.any(axis=0))
            if rows.size:
                r0, r1, c0, c1 = rows[0], rows[-1] + 1, cols[0], cols[-1] + 1
                crop = scipy.ndimage.binary_erosion(mask[r0:r1, c0:c1], iterations=r, border_value=0)
                if crop.sum() >= self.config.min_mask_points:
                    mask = np.zeros_like(mask)
                    mask[r0:r1, c0:c1] = crop
        return np.flatnonzero(mask.reshape(-1)[flat])

    def _fuse_semantics(self, frame, observations, flat, uniq, inverse, fidx, stats) -> None:
        pair_vox, pair_obs, feats, scores = [], [], [], []
        for obs in observations:
            feat = np.asarray(obs.feature, dtype=np.float32).reshape(-1)
            score = float(obs.score)
            if not np.all(np.isfinite(feat)) or not np.isfinite(score) or score <= 0:
                continue
            idx = self._object_points(frame, obs, flat)
            if idx.size < self.config.min_mask_points:
                continue
            vox = np.unique(inverse[idx])
            pair_vox.append(vox)
            pair_obs.append(np.full(vox.size, len(feats), np.int64))
            if obs.label:
                self.observed_labels[obs.label] = self.observed_labels.get(obs.label, 0) + 1
            feats.append(feat)
            scores.append(score)
        if not feats:
            return
        import scipy.sparse

        dims = {f.size for f in feats}
        if len(dims) != 1:
            raise ValueError(f"observations in one frame have different feature sizes {sorted(dims)}")
        pv = np.concatenate(pair_vox)
        po = np.concatenate(pair_obs)
        touched, local = np.unique(pv, return_inverse=True)
        local = local.reshape(-1)
        score_arr = np.asarray(scores, np.float32)
        w = score_arr[po]
        # (touched x observations) sparse weights times (observations x D) features = weighted feature sums.
        A = scipy.sparse.csr_matrix((w, (local, po)), shape=(touched.size, len(feats)))
        feature_sum = np.asarray(A @ np.stack(feats).astype(np.float32), dtype=np.float32)
        weight_sum = np.bincount(local, weights=w, minlength=touched.size)
        n_obs = np.bincount(local, minlength=touched.size)
        self.semantic.update(uniq[touched], weight_sum, feature_sum, n_obs, fidx)
        stats.observations_fused = len(feats)
        stats.semantic_voxels = int(touched.size)

    # ---- read access --------------------------------------------------------------------------------
    @property
    def voxel_size(self) -> float:
        return float(self.config.voxel_size_m)

    @property
    def feature_dim(self) -> int | None:
        return self.semantic.feature_dim

    def __len__(self) -> int:
        return len(self.semantic)

    def semantic_centers(self) -> np.ndarray:
        """(N, 3) float32 world centres of the semantic voxels."""
        return ((self.semantic.coords.astype(np.float32) + 0.5) * self.voxel_size).astype(np.float32)

    def occupancy_points(self, min_hits: int = 1) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(centres (M, 3) float32, colours (M, 3) uint8, hit counts (M,)) of voxels seen >= min_hits times."""
        keep = self.occupancy.counts >= min_hits
        xyz = (self.occupancy.coords[keep].astype(np.float32) + 0.5) * self.voxel_size
        rgb = np.clip(np.rint(self.occupancy.rgb[keep]), 0, 255).astype(np.uint8)
        return xyz.astype(np.float32), rgb, self.occupancy.counts[keep].copy()

    def obstacle_grid(self, config: ObstacleGridConfig | None = None, min_hits: int = 1,
                      bounds_xy: tuple[float, float, float, float] | None = None) -> ObstacleGrid:
        """The 2D obstacle grid of the occupancy layer (voxel centres in height bands, weighted by hits).

        Raises InputError when the map has no occupied voxels.
        """
        xyz, _, counts = self.occupancy_points(min_hits)
        if len(xyz) == 0 and bounds_xy is None:
            raise InputError("the map has no occupied voxels to build an obstacle grid from")
        return obstacle_grid_from_points(xyz, config or ObstacleGridConfig(), bounds_xy=bounds_xy, weights=counts)

    def memory_bytes(self) -> int:
        """Bytes held by the filled rows of both layers (features float32) and the query index if built."""
        index = self._query_index.nbytes if self._query_index is not None else 0
        return self.semantic.nbytes() + self.occupancy.nbytes() + index

    def query_index(self, build: bool = True):
        """The int8 first-pass index of the semantic features (mapping.query_index) for the current features.

        build=False returns it only if it is already built (None otherwise); building takes ~3 s per 100k
        512-d voxels, so the query code builds it from the second query after a change on (a one-off query
        is faster without). None also when the platform lacks torch's quantized engine or there are no features.
        """
        from mapping.query_index import QuantizedFeatureIndex

        if self._query_index_version != self.semantic.version:
            self._query_index = None
            if not build:
                return None
            if len(self.semantic) and self.semantic.feature_dim is not None:
                self._query_index = QuantizedFeatureIndex.build(self.semantic.features, self.semantic.norms)
            self._query_index_version = self.semantic.version
        return self._query_index

    def count_query(self) -> int:
        """Count a query against the current features; returns how many there have been since the last change."""
        if self._queries_version != self.semantic.version:
            self._queries_version, self._queries_since_change = self.semantic.version, 0
        self._queries_since_change += 1
        return self._queries_since_change

    # ---- queries and persistence (see mapping.query / mapping.persistence) ------------------------------
    def query(self, text_embedding: np.ndarray, config=None):
        """Clustered hits for one text embedding (see mapping.query.query_map)."""
        from mapping.query import QueryConfig, query_map

        return query_map(self, text_embedding, config or QueryConfig())

    def query_text(self, text: str, encoder, config=None):
        """Hits for a text, including relational phrases (see mapping.query.query_text); `encoder` has
        encode_text + embedding_model_id (checked against the map's) or is a bare encode_text callable."""
        from mapping.query import QueryConfig, query_text

        return query_text(self, text, encoder, config or QueryConfig())

    def save(self, path: str | Path) -> Path:
        """Write the map (mapping.persistence format); returns the path written (.npz added if missing)."""
        from mapping.persistence import save_map

        return save_map(self, path)

    @classmethod
    def load(cls, path: str | Path) -> VoxelMap:
        """Read a map written by `save` (mapping.persistence.MapFileError naming the file otherwise)."""
        from mapping.persistence import load_map

        return load_map(path, cls)
