"""The on-disk map format (version 2): one uncompressed .npz (numpy zip), no pickle, written atomically.

Members (N semantic voxels, M occupied voxels, D feature dimensions):

| member             | dtype   | shape  | meaning                                                         |
|--------------------|---------|--------|-----------------------------------------------------------------|
| header             | uint8   | (B,)   | UTF-8 JSON, see below                                           |
| header_sha256      | uint8   | (32,)  | SHA-256 of the header bytes (so the header, and through its     |
|                    |         |        | crc32 table every array, is covered by a checksum)              |
| sem_coords         | int32   | (N, 3) | integer voxel coordinates: voxel covers [c, c+1) * voxel_size   |
| sem_features       | float16 | (N, D) | weighted mean feature (not re-normalised)                       |
| sem_weights        | float32 | (N,)   | sum of detection scores fused into the voxel                    |
| sem_counts         | int32   | (N,)   | number of observations fused into the voxel                     |
| sem_last_seen      | int32   | (N,)   | index of the last frame that observed it                        |
| occ_coords         | int32   | (M, 3) | voxels that held at least one valid depth point                 |
| occ_counts         | int32   | (M,)   | depth points seen in the voxel                                  |
| occ_rgb            | uint8   | (M, 3) | mean colour of those points                                     |
| occ_last_seen      | int32   | (M,)   | index of the last frame that saw it                             |

Header JSON: {"format": "ovmm-voxel-map", "version": 2, "voxel_size_m", "feature_dim", "embedding_model_id",
"perception" (the perception config dict), "map_config" (VoxelMapConfig), "frames", "source",
"created" (ISO time), "counts": {"semantic": N, "occupancy": M}, "crc32": {member: CRC-32 of its bytes},
"instances" (what the map's objects are called), "query_calibration" (not-found threshold and margin of its
encoder, mapping.calibration), "fingerprint" (the scene or capture it was made from, mapping.fingerprint),
"history" (updates made while the robot worked after the scan, oldest first: MapMetadata.history)}; the
last four are optional (maps written before them load with empty values).
Loading checks the format name and version, the header's SHA-256, every header field's type and range
(mapping.map_file_checks), every member's presence, declared and actual size (bounded by what the header's
counts imply, so a decompression bomb is refused after reading at most that much), its .npy dtype and shape,
and the CRC-32s, so a truncated, corrupt or hand-edited file is refused with one sentence naming the file.
Version-1 files (written before the header checksum) load with a warning when their arrays match their
CRC-32s; their header cannot be verified, so re-save them (load and `save_map`) or re-scan.
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import json
import logging
import zipfile
import zlib
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from core.bounded_json import BoundedJSONError, loads_bounded
from core.io import atomic_path
from mapping.map_config import MapMetadata, VoxelMapConfig
from mapping.map_file_checks import (
    MAX_HEADER_BYTES,
    MAX_MEMBERS,
    MapFileError,
    check_header_fields,
    check_map_config,
    npy_bound,
    parse_npy,
    read_member,
)

if TYPE_CHECKING:
    from mapping.voxel_map import VoxelMap

log = logging.getLogger(__name__)

FORMAT_NAME = "ovmm-voxel-map"
FORMAT_VERSION = 2
LEGACY_VERSIONS = (1,)  # readable with a warning: no header checksum
_MAX_HEADER_DEPTH = 64

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
        "instances": meta.instances,
        "query_calibration": meta.query_calibration,
        "fingerprint": meta.fingerprint,
        "history": meta.history,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "counts": {"semantic": len(vmap.semantic), "occupancy": len(vmap.occupancy)},
        "crc32": {name: _crc(arr) for name, arr in arrays.items()},
    }
    raw = json.dumps(header, allow_nan=False).encode("utf-8")
    header_bytes = np.frombuffer(raw, dtype=np.uint8)
    digest = np.frombuffer(hashlib.sha256(raw).digest(), dtype=np.uint8)
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez(fh, header=header_bytes, header_sha256=digest, **arrays)
    log.info("saved map %s: %d semantic, %d occupied voxels", path, len(vmap.semantic), len(vmap.occupancy))
    return path


def read_header(path: str | Path) -> dict:
    """The validated JSON header of a map file (cheap: does not read the arrays)."""
    path = Path(path)
    with _open_zip(path) as zf:
        return _header(zf, path)


def _open_zip(path: Path) -> zipfile.ZipFile:
    if not path.is_file():
        raise MapFileError(f"map file {path} does not exist")
    try:
        zf = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError) as exc:
        raise MapFileError(f"map file {path} is not a readable ovmm map (truncated or not an .npz: {exc})") from None
    names = zf.namelist()
    if len(names) > MAX_MEMBERS or len(set(names)) != len(names):
        zf.close()
        raise MapFileError(f"map file {path} has {len(names)} members (duplicated or too many): not an ovmm map")
    return zf


def _header(zf: zipfile.ZipFile, path: Path) -> dict:
    if "header.npy" not in zf.namelist():
        raise MapFileError(f"map file {path} has no header; it was not written by ovmm")
    raw = read_member(zf, "header", MAX_HEADER_BYTES + 4096, path)
    data = parse_npy(raw, "header", np.dtype(np.uint8), (_npy_length(raw, path),), path).tobytes()
    try:
        header = loads_bounded(data, MAX_HEADER_BYTES, _MAX_HEADER_DEPTH)
    except BoundedJSONError as exc:
        raise MapFileError(f"map file {path} has an unreadable header ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT_NAME:
        raise MapFileError(f"map file {path} is not an {FORMAT_NAME} file")
    version = header.get("version")
    if version in LEGACY_VERSIONS and not isinstance(version, bool):
        log.warning("map file %s has format version %s (written by an older ovmm): its header is not covered by a "
                    "checksum; re-save it with this ovmm or re-scan", path, version)
    elif version != FORMAT_VERSION or isinstance(version, bool):
        raise MapFileError(
            f"map file {path} has format version {str(version)[:20]}; this ovmm reads version {FORMAT_VERSION} "
            f"(and {', '.join(map(str, LEGACY_VERSIONS))})"
        )
    else:
        digest = parse_npy(read_member(zf, "header_sha256", npy_bound(np.dtype(np.uint8), (32,)), path),
                           "header_sha256", np.dtype(np.uint8), (32,), path).tobytes()
        if digest != hashlib.sha256(data).digest():
            raise MapFileError(f"map file {path} header does not match its checksum (edited or corrupt)")
    expected = {"header.npy", *(f"{m}.npy" for m in _MEMBERS)}
    if version == FORMAT_VERSION:
        expected.add("header_sha256.npy")
    extra = sorted(set(zf.namelist()) - expected)
    if extra:
        raise MapFileError(f"map file {path} has unexpected members {extra[:3]}: not an ovmm map")
    check_header_fields(header, list(_MEMBERS), path)
    return header


def _npy_length(raw: bytes, path: Path) -> int:
    """The length a uint8 .npy member declares (checked against its bytes by parse_npy)."""
    import io  # noqa: PLC0415

    fp = io.BytesIO(raw)
    try:
        version = np.lib.format.read_magic(fp)
        read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
        shape, _, _ = read(fp)
    except (ValueError, EOFError, SyntaxError, TypeError) as exc:
        raise MapFileError(f"map file {path} has an unreadable header ({exc})") from None
    if len(shape) != 1:
        raise MapFileError(f"map file {path} has an unreadable header (shape {shape})")
    return int(shape[0])


def _dict(v) -> dict:
    return dict(v) if isinstance(v, dict) else {}


def _list_of_dicts(v) -> list[dict]:
    return [dict(x) for x in v if isinstance(x, dict)] if isinstance(v, list) else []


def load_map(path: str | Path, map_class: type[VoxelMap]) -> VoxelMap:
    """Load and validate a map written by `save_map` into a new `map_class` (VoxelMap; call it as
    `VoxelMap.load(path)`); raises MapFileError naming the file otherwise."""
    path = Path(path)
    with _open_zip(path) as zf:
        header = _header(zf, path)
        dim = header["feature_dim"] or 0
        arrays = {}
        for name, (dtype, trailing, count_key) in _MEMBERS.items():
            shape = (header["counts"][count_key], *[dim if t == "D" else t for t in trailing])
            arr = parse_npy(read_member(zf, name, npy_bound(dtype, shape), path), name, dtype, shape, path)
            if _crc(arr) != header["crc32"][name]:
                raise MapFileError(f"map file {path} array {name!r} does not match its checksum (edited or corrupt)")
            arrays[name] = arr
    meta = MapMetadata(embedding_model_id=header.get("embedding_model_id"), perception=header.get("perception") or {},
                       frames=int(header.get("frames") or 0), source=header.get("source"),
                       instances=_list_of_dicts(header.get("instances")),
                       query_calibration=_dict(header.get("query_calibration")),
                       fingerprint=_dict(header.get("fingerprint")),
                       history=_list_of_dicts(header.get("history")))
    map_config = check_map_config(VoxelMapConfig, header.get("map_config"), path)
    config = VoxelMapConfig.from_dict({**map_config, "voxel_size_m": header["voxel_size_m"]})
    vmap = map_class(config, meta)
    try:
        if header["feature_dim"]:
            vmap.semantic.load(arrays["sem_coords"], arrays["sem_counts"], arrays["sem_last_seen"],
                               arrays["sem_weights"], arrays["sem_features"])
        vmap.occupancy.load(arrays["occ_coords"], arrays["occ_counts"], arrays["occ_last_seen"], arrays["occ_rgb"])
    except ValueError as exc:
        raise MapFileError(f"map file {path} is inconsistent ({exc})") from None
    if not np.all(np.isfinite(vmap.semantic.features)):
        raise MapFileError(f"map file {path} has non-finite features")
    return vmap
