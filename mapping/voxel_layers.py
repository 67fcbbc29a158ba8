"""The two voxel layers of the map: semantic features and occupancy (obstacle evidence with colour).

Both keep per-voxel arrays in insertion order (grown by doubling capacity) plus a `VoxelIndex` from packed
voxel keys to rows. Updates take one frame's distinct voxels at once (vectorised, no per-voxel Python).

Semantic layer, per voxel: `features` float32 (D,) = weighted mean of the features of the observations whose
masked points fell in the voxel (weight = detection score), `weights` = sum of those scores, `counts` =
number of observations, `last_seen` = last frame index. `norms` caches ||features|| for cosine queries.

Both also keep `misses`: frames in a row whose depth saw through the voxel (negative evidence,
mapping.negative_evidence), reset when the voxel is observed again; not saved.

Occupancy layer, per voxel: `counts` = number of depth points seen in it, `rgb` = mean colour (float32 0-255
in RAM), `last_seen` = last frame index, `views` = frames whose depth hit it (in RAM only, not saved: 0 after
loading; mapping.confirmation weighs a semantic voxel's detections against it).
"""

from __future__ import annotations

import numpy as np

from mapping.voxel_keys import VoxelIndex, pack_keys


class _Columns:
    """Named numpy columns sharing a row count, grown by doubling."""

    def __init__(self, specs: dict[str, tuple[tuple[int, ...], np.dtype]]) -> None:
        self._specs = dict(specs)
        self._cap = 0
        self.n = 0
        self._data = {name: np.zeros((0, *shape), dtype) for name, (shape, dtype) in self._specs.items()}

    def nbytes(self) -> int:
        return int(sum(arr[: self.n].nbytes for arr in self._data.values()))

    def add_column(self, name: str, shape: tuple[int, ...], dtype) -> None:
        self._specs[name] = (shape, np.dtype(dtype))
        self._data[name] = np.zeros((self._cap, *shape), dtype)

    def has(self, name: str) -> bool:
        return name in self._data

    def grow(self, extra: int) -> np.ndarray:
        """Append `extra` zeroed rows; returns their row numbers."""
        need = self.n + extra
        if need > self._cap:
            cap = max(need, 2 * self._cap, 1024)
            for name, arr in self._data.items():
                new = np.zeros((cap, *arr.shape[1:]), arr.dtype)
                new[: self.n] = arr[: self.n]
                self._data[name] = new
            self._cap = cap
        rows = np.arange(self.n, need, dtype=np.int64)
        self.n = need
        return rows

    def __getitem__(self, name: str) -> np.ndarray:
        """A view of the filled rows of a column (writes go through to the storage)."""
        return self._data[name][: self.n]

    def set_all(self, arrays: dict[str, np.ndarray]) -> None:
        n = {len(a) for a in arrays.values()}
        if len(n) != 1:
            raise ValueError("columns differ in length")
        self.n = self._cap = n.pop()
        for name, arr in arrays.items():
            self._data[name] = np.ascontiguousarray(arr)

    def compact(self, keep: np.ndarray) -> None:
        """Drop the rows where `keep` (bool, one per filled row) is False; the others keep their order."""
        rows = np.flatnonzero(keep)
        for name, arr in self._data.items():
            self._data[name] = np.ascontiguousarray(arr[: self.n][rows])
        self.n = self._cap = int(rows.size)


class _Layer:
    def __init__(self, specs: dict[str, tuple[tuple[int, ...], np.dtype]]) -> None:
        base = {"coords": ((3,), np.dtype(np.int32)), "counts": ((), np.dtype(np.int32)),
                "last_seen": ((), np.dtype(np.int32)), "misses": ((), np.dtype(np.int16))}
        self.cols = _Columns({**base, **specs})
        self.index = VoxelIndex()

    def __len__(self) -> int:
        return self.cols.n

    @property
    def coords(self) -> np.ndarray:
        return self.cols["coords"]

    @property
    def counts(self) -> np.ndarray:
        return self.cols["counts"]

    @property
    def last_seen(self) -> np.ndarray:
        return self.cols["last_seen"]

    @property
    def misses(self) -> np.ndarray:
        """Frames in a row whose depth saw through the voxel (mapping.negative_evidence); 0 when re-observed."""
        return self.cols["misses"]

    def remove(self, keep: np.ndarray) -> int:
        """Drop the voxels where `keep` is False (rows of the others shift down); returns how many went."""
        gone = int(keep.size - np.count_nonzero(keep))
        if gone:
            self.cols.compact(keep)
            self.index.rebuild(pack_keys(self.coords))
        return gone

    def nbytes(self) -> int:
        """Bytes of the filled rows of every column plus the key index."""
        return self.cols.nbytes() + self.index.nbytes()

    def rows_for(self, coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Rows of distinct voxel coords, creating missing ones: returns (rows, is_new bool)."""
        keys = pack_keys(coords)
        rows = self.index.lookup(keys)
        new = rows < 0
        if np.any(new):
            new_rows = self.cols.grow(int(new.sum()))
            self.cols["coords"][new_rows] = coords[new]
            self.index.insert(keys[new], new_rows)
            rows[new] = new_rows
        return rows, new

    def load_base(self, coords: np.ndarray, counts: np.ndarray, last_seen: np.ndarray, **extra) -> None:
        self.cols.set_all({"coords": coords.astype(np.int32), "counts": counts.astype(np.int32),
                           "last_seen": last_seen.astype(np.int32), "misses": np.zeros(len(coords), np.int16),
                           **extra})
        self.index.rebuild(pack_keys(coords))


class OccupancyLayer(_Layer):
    """Every valid depth point's voxel: hit counts, mean colour, last frame seen."""

    def __init__(self) -> None:
        super().__init__({"rgb": ((3,), np.dtype(np.float32)), "views": ((), np.dtype(np.int32))})

    @property
    def rgb(self) -> np.ndarray:
        return self.cols["rgb"]

    @property
    def views(self) -> np.ndarray:
        """Frames whose depth hit the voxel (camera views; not the floor marked driven over); 0 after loading."""
        return self.cols["views"]

    def update(self, coords: np.ndarray, n_points: np.ndarray, rgb_sum: np.ndarray, frame_index: int,
               view: bool = True) -> None:
        """Add one frame: distinct voxel coords (U, 3), points per voxel (U,), colour sums (U, 3); `view`:
        a camera frame (counts a view of each voxel), not the floor marked driven over."""
        if len(coords) == 0:
            return
        rows, _ = self.rows_for(coords)
        c_old = self.counts[rows].astype(np.float32)
        c_new = c_old + n_points.astype(np.float32)
        self.rgb[rows] = (self.rgb[rows] * c_old[:, None] + rgb_sum.astype(np.float32)) / c_new[:, None]
        self.counts[rows] += n_points.astype(np.int32)
        if view:
            self.views[rows] += 1
        self.last_seen[rows] = frame_index
        self.misses[rows] = 0

    def load(self, coords, counts, last_seen, rgb_u8) -> None:
        self.load_base(coords, counts, last_seen, rgb=rgb_u8.astype(np.float32),
                       views=np.zeros(len(coords), np.int32))


class SemanticLayer(_Layer):
    """Weighted-mean features of object observations per voxel."""

    def __init__(self) -> None:
        super().__init__({"weights": ((), np.dtype(np.float32)), "norms": ((), np.dtype(np.float32))})
        self.feature_dim: int | None = None
        self.version = 0  # bumped on every change (caches such as the query index compare it)

    def _ensure_dim(self, dim: int) -> None:
        if self.feature_dim is None:
            self.feature_dim = int(dim)
            self.cols.add_column("features", (self.feature_dim,), np.float32)
        elif self.feature_dim != dim:
            raise ValueError(f"feature dimension {dim} differs from the map's {self.feature_dim}")

    @property
    def features(self) -> np.ndarray:
        if self.feature_dim is None:
            return np.zeros((0, 0), np.float32)
        return self.cols["features"]

    @property
    def weights(self) -> np.ndarray:
        return self.cols["weights"]

    @property
    def norms(self) -> np.ndarray:
        return self.cols["norms"]

    def update(self, coords: np.ndarray, weight_sum: np.ndarray, feature_sum: np.ndarray,
               n_obs: np.ndarray, frame_index: int) -> None:
        """Add one frame: distinct voxel coords (U, 3), summed scores (U,), score-weighted feature sums
        (U, D) and the number of observations per voxel (U,)."""
        if len(coords) == 0:
            return
        self._ensure_dim(feature_sum.shape[1])
        rows, _ = self.rows_for(coords)
        w_old = self.weights[rows]
        w_new = w_old + weight_sum.astype(np.float32)
        feats = (self.features[rows] * w_old[:, None] + feature_sum.astype(np.float32)) / np.maximum(
            w_new, 1e-12
        )[:, None]
        self.features[rows] = feats
        self.norms[rows] = np.linalg.norm(feats, axis=1)
        self.weights[rows] = w_new
        self.counts[rows] += n_obs.astype(np.int32)
        self.last_seen[rows] = frame_index
        self.misses[rows] = 0
        self.version += 1

    def remove(self, keep: np.ndarray) -> int:
        gone = super().remove(keep)
        if gone:
            self.version += 1
        return gone

    def load(self, coords, counts, last_seen, weights, features) -> None:
        self.feature_dim = int(features.shape[1])
        feats = features.astype(np.float32)
        self.load_base(coords, counts, last_seen, weights=weights.astype(np.float32),
                       norms=np.linalg.norm(feats, axis=1).astype(np.float32), features=feats)
        self.version += 1
