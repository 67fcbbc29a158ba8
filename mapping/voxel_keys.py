"""Integer voxel coordinates, packed int64 keys and a sorted key index, all vectorised.

A voxel's integer coordinates are `floor(xyz / voxel_size)`; its key packs the three coordinates into one
int64 (21 bits each, offset so negative coordinates pack too: +-1,048,575 voxels, i.e. +-52 km at 5 cm).
`VoxelIndex` maps keys to rows of the map's arrays with a sorted key array and `np.searchsorted`; new keys
are merged in batches (one `np.insert` per frame), never one at a time.
"""

from __future__ import annotations

import numpy as np

_BITS = 21
_OFFSET = 1 << (_BITS - 1)
_MASK = (1 << _BITS) - 1
COORD_LIMIT = _OFFSET - 1
# Above this many cells in a frame's bounding box, `unique_voxels` sorts keys instead of counting densely.
_DENSE_LIMIT = 1 << 22


class VoxelRangeError(ValueError):
    """Voxel coordinates beyond what a packed key holds (+-COORD_LIMIT)."""


def pack_keys(coords: np.ndarray) -> np.ndarray:
    """(N, 3) integer voxel coordinates -> (N,) int64 keys. Raises VoxelRangeError outside +-COORD_LIMIT."""
    c = np.asarray(coords, dtype=np.int64).reshape(-1, 3)
    if c.size and (c.min() < -COORD_LIMIT or c.max() > COORD_LIMIT):
        raise VoxelRangeError(f"voxel coordinates outside +-{COORD_LIMIT} cannot be packed")
    c = c + _OFFSET
    return (c[:, 0] << (2 * _BITS)) | (c[:, 1] << _BITS) | c[:, 2]


def unpack_keys(keys: np.ndarray) -> np.ndarray:
    """(N,) int64 keys -> (N, 3) int32 voxel coordinates."""
    k = np.asarray(keys, dtype=np.int64).reshape(-1)
    out = np.empty((k.size, 3), np.int32)
    out[:, 0] = ((k >> (2 * _BITS)) & _MASK) - _OFFSET
    out[:, 1] = ((k >> _BITS) & _MASK) - _OFFSET
    out[:, 2] = (k & _MASK) - _OFFSET
    return out


def unique_voxel_columns(cols: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Distinct voxels of integer coordinate columns [x (N,), y (N,), z (N,)].

    Returns (unique (U, 3) int32, inverse (N,) int64, points per voxel (U,)). Within one frame the points
    span a small box, so voxels are counted densely in that box (np.bincount, linear time); boxes over
    ~4M cells fall back to np.unique on packed keys.
    """
    n = int(cols[0].size)
    if n == 0:
        return np.zeros((0, 3), np.int32), np.zeros(0, np.int64), np.zeros(0, np.int64)
    lo = [int(c.min()) for c in cols]
    ext = [int(c.max()) - lo_i + 1 for c, lo_i in zip(cols, lo, strict=True)]
    volume = ext[0] * ext[1] * ext[2]
    if volume > _DENSE_LIMIT:
        keys, inverse, counts = np.unique(pack_keys(np.stack(cols, axis=1)), return_inverse=True, return_counts=True)
        return unpack_keys(keys), inverse.reshape(-1).astype(np.int64), counts
    lin = ((cols[0] - lo[0]) * ext[1] + (cols[1] - lo[1])) * ext[2] + (cols[2] - lo[2])
    counts = np.bincount(lin, minlength=volume)
    nz = np.flatnonzero(counts)
    lut = np.empty(volume, np.int64)
    lut[nz] = np.arange(nz.size)
    coords = np.stack(np.unravel_index(nz, (ext[0], ext[1], ext[2])), axis=1) + np.array(lo)
    return coords.astype(np.int32), lut[lin], counts[nz]


def unique_voxels(coords: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct voxels of (N, 3) int coordinates: returns (unique (U, 3) int32, inverse (N,) int64)."""
    c = np.asarray(coords, dtype=np.int64).reshape(-1, 3)
    uniq, inverse, _ = unique_voxel_columns([np.ascontiguousarray(c[:, i]) for i in range(3)])
    return uniq, inverse


class VoxelIndex:
    """Sorted int64 keys -> row numbers; lookups with searchsorted, inserts merged per batch."""

    def __init__(self) -> None:
        self._keys = np.zeros(0, np.int64)
        self._rows = np.zeros(0, np.int64)

    def __len__(self) -> int:
        return int(self._keys.size)

    def nbytes(self) -> int:
        return int(self._keys.nbytes + self._rows.nbytes)

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Rows of `keys` (int64 (N,)); -1 where a key is absent."""
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        if self._keys.size == 0:
            return np.full(keys.size, -1, np.int64)
        pos = np.searchsorted(self._keys, keys)
        pos_c = np.minimum(pos, self._keys.size - 1)
        found = self._keys[pos_c] == keys
        return np.where(found, self._rows[pos_c], -1)

    def insert(self, keys: np.ndarray, rows: np.ndarray) -> None:
        """Add distinct keys that are not in the index yet, with their rows."""
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        rows = np.asarray(rows, dtype=np.int64).reshape(-1)
        if keys.size == 0:
            return
        order = np.argsort(keys, kind="stable")
        keys, rows = keys[order], rows[order]
        pos = np.searchsorted(self._keys, keys)
        self._keys = np.insert(self._keys, pos, keys)
        self._rows = np.insert(self._rows, pos, rows)

    def rebuild(self, keys: np.ndarray) -> None:
        """Index `keys` (distinct) as rows 0..N-1 (used after loading a map)."""
        keys = np.asarray(keys, dtype=np.int64).reshape(-1)
        order = np.argsort(keys, kind="stable")
        sorted_keys = keys[order]
        if sorted_keys.size > 1 and np.any(sorted_keys[1:] == sorted_keys[:-1]):
            raise ValueError("duplicate voxel coordinates")
        self._keys = sorted_keys
        self._rows = order.astype(np.int64)
