"""The on-disk map format: one uncompressed .npz (numpy zip), no pickle, written atomically.

Members (N semantic voxels, M occupied voxels, D feature dimensions):

| member             | dtype   | shape  | meaning                                                         |
|--------------------|---------|--------|-----------------------------------------------------------------|
| header             | uint8   | (B,)   | UTF-8 JSON, see below                                           |
| sem_coords         | int32   | (N, 3) | integer voxel coordinates: voxel covers [c, c+1) * voxel_size   |
| sem_features       | float16 | (N, D) | weighted mean feature (not re-normalised)                       |
| sem_weights        | float32 | (N,)   | sum of detection scores fused into the voxel                    |
| sem_counts         | int32   | (N,)   | number of observations fused into the voxel                     |
| sem_last_seen      | int32   | (N,)   | index of the last frame that observed it                        |
| occ_coords         | int32   | (M, 3) | voxels that held at least one valid depth point                 |
| occ_counts         | int32   | (M,)   | depth points seen in the voxel                                  |
| occ_rgb            | uint8   | (M, 3) | mean colour of those points                                     |
| occ_last_seen      | int32   | (M,)   | index of the last frame that saw it                             |

Header JSON: {"format": "ovmm-voxel-map", "version": 1, "voxel_size_m", "feature_dim", "embedding_model_id",
"perception" (the perception config dict), "map_config" (VoxelMapConfig), "frames", "source",
"created" (ISO time), "counts": {"semantic": N, "occupancy": M}, "crc32": {member: CRC-32 of its bytes}}.
Loading checks the format name, version, every member's presence, dtype and shape against the header and
the CRC-32s, so a truncated or hand-edited file is refused with one sentence naming the file.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
import zipfile
import zlib
from pathlib import Path

import numpy as np

from core.errors import InputError
from core.io import atomic_path
from mapping.voxel_map import MapMetadata, VoxelMap, VoxelMapConfig

log = logging.getLogger(__name__)

FORMAT_NAME = "ovmm-voxel-map"
FORMAT_VERSION = 1

# member -> (dtype, trailing shape; "D" = feature_dim), and which count gives the row number
_MEMBERS: dict[str, tuple[np.dtype, tuple, str]] = {
    "sem_coords": (np.dtype(np.int32), (3,), "semantic"),
    "sem_features": (np.dtype(np.float16), ("D",), "semantic"),
    "sem_weights": (np.dtype(np.float32), (), "semantic"),
    "sem_counts": (np.dtype(np.int32), (), "semantic"),
    "sem_last_seen": (np.dtype(np.int32), (), "semantic"),
    "occ_coords": (np.dtype(np.int32), (3,), "occupancy"),
    "occ_counts": (np.dtype(np.int32), (), "occupancy"),
    "occ_rgb": (np.dtype(np.uint8), (3,), "occupancy"),
    "occ_last_seen": (np.dtype(np.int32), (), "occupancy"),
}


class MapFileError(InputError):
    """A map file is missing, truncated, hand-edited or of another format/version."""


def _crc(arr: np.ndarray) -> int:
    return zlib.crc32(np.ascontiguousarray(arr).view(np.uint8).reshape(-1)) & 0xFFFFFFFF


def map_arrays(vmap: VoxelMap) -> dict[str, np.ndarray]:
    """The arrays that are written for a map (features as float16)."""
    sem, occ = vmap.semantic, vmap.occupancy
    d = sem.feature_dim or 0
    feats = sem.features if sem.feature_dim is not None else np.zeros((0, 0), np.float32)
    return {
        "sem_coords": sem.coords.astype(np.int32),
        "sem_features": feats.astype(np.float16).reshape(len(sem), d),
        "sem_weights": sem.weights.astype(np.float32),
        "sem_counts": sem.counts.astype(np.int32),
        "sem_last_seen": sem.last_seen.astype(np.int32),
        "occ_coords": occ.coords.astype(np.int32),
        "occ_counts": occ.counts.astype(np.int32),
        "occ_rgb": np.clip(np.rint(occ.rgb), 0, 255).astype(np.uint8),
        "occ_last_seen": occ.last_seen.astype(np.int32),
    }


def save_map(vmap: VoxelMap, path: str | Path) -> Path:
    """Write the map to `path` (an .npz; the suffix is added if missing) atomically; returns the path."""
    path = Path(path)
    if path.suffix != ".npz":
        path = path.with_name(path.name + ".npz")
    arrays = map_arrays(vmap)
    meta = vmap.metadata
    header = {
        "format": FORMAT_NAME,
        "version": FORMAT_VERSION,
        "voxel_size_m": vmap.voxel_size,
        "feature_dim": vmap.feature_dim,
        "embedding_model_id": meta.embedding_model_id,
        "perception": meta.perception,
        "map_config": vmap.config.to_dict(),
        "frames": meta.frames,
        "source": meta.source,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "counts": {"semantic": len(vmap.semantic), "occupancy": len(vmap.occupancy)},
        "crc32": {name: _crc(arr) for name, arr in arrays.items()},
    }
    header_bytes = np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, header=header_bytes, **arrays)
    log.info("saved map %s: %d semantic, %d occupied voxels", path, len(vmap.semantic), len(vmap.occupancy))
    return path


def read_header(path: str | Path) -> dict:
    """The validated JSON header of a map file (cheap: does not read the arrays)."""
    path = Path(path)
    with _open_npz(path) as npz:
        return _header(npz, path)


def _open_npz(path: Path):
    if not path.is_file():
        raise MapFileError(f"map file {path} does not exist")
    try:
        return np.load(path, allow_pickle=False)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError) as exc:
        raise MapFileError(f"map file {path} is not a readable ovmm map (truncated or not an .npz: {exc})") from exc


def _header(npz, path: Path) -> dict:
    try:
        raw = npz["header"]
        if raw.dtype != np.uint8:
            raise ValueError("header is not bytes")
        header = json.loads(raw.tobytes().decode("utf-8"))
    except KeyError as exc:
        raise MapFileError(f"map file {path} has no header; it was not written by ovmm") from exc
    except (ValueError, UnicodeDecodeError, zipfile.BadZipFile, OSError, EOFError) as exc:
        raise MapFileError(f"map file {path} has an unreadable header ({exc})") from exc
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise MapFileError(f"map file {path} is not an {FORMAT_NAME} file")
    if header.get("version") != FORMAT_VERSION:
        raise MapFileError(
            f"map file {path} has format version {header.get('version')!r}; this ovmm reads version {FORMAT_VERSION}"
        )
    for key in ("voxel_size_m", "feature_dim", "counts", "crc32"):
        if key not in header:
            raise MapFileError(f"map file {path} header lacks {key!r}")
    vs = header["voxel_size_m"]
    if not isinstance(vs, (int, float)) or not vs > 0:
        raise MapFileError(f"map file {path} has an invalid voxel size {vs!r}")
    return header


def load_map(path: str | Path) -> VoxelMap:
    """Load and validate a map written by `save_map`; raises MapFileError naming the file otherwise."""
    path = Path(path)
    with _open_npz(path) as npz:
        header = _header(npz, path)
        arrays = {}
        for name, (dtype, trailing, count_key) in _MEMBERS.items():
            try:
                arr = npz[name]
            except KeyError as exc:
                raise MapFileError(f"map file {path} lacks the array {name!r}") from exc
            except (ValueError, zipfile.BadZipFile, OSError, EOFError) as exc:
                raise MapFileError(f"map file {path} is truncated or corrupt (array {name!r}: {exc})") from exc
            n = header["counts"].get(count_key)
            dim = header["feature_dim"] or 0
            shape = (n, *[dim if t == "D" else t for t in trailing])
            if arr.dtype != dtype or arr.shape != shape:
                raise MapFileError(
                    f"map file {path} array {name!r} is {arr.dtype}{arr.shape}, expected {dtype}{shape}"
                )
            if _crc(arr) != header["crc32"].get(name):
                raise MapFileError(f"map file {path} array {name!r} does not match its checksum (edited or corrupt)")
            arrays[name] = arr
    meta = MapMetadata(embedding_model_id=header.get("embedding_model_id"), perception=header.get("perception") or {},
                       frames=int(header.get("frames") or 0), source=header.get("source"))
    config = VoxelMapConfig.from_dict({**(header.get("map_config") or {}), "voxel_size_m": header["voxel_size_m"]})
    vmap = VoxelMap(config, meta)
    try:
        if header["feature_dim"]:
            vmap.semantic.load(arrays["sem_coords"], arrays["sem_counts"], arrays["sem_last_seen"],
                               arrays["sem_weights"], arrays["sem_features"])
        vmap.occupancy.load(arrays["occ_coords"], arrays["occ_counts"], arrays["occ_last_seen"], arrays["occ_rgb"])
    except ValueError as exc:
        raise MapFileError(f"map file {path} is inconsistent ({exc})") from exc
    if not np.all(np.isfinite(vmap.semantic.features)):
        raise MapFileError(f"map file {path} has non-finite features")
    return vmap
