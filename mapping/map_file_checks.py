"""Checks of an untrusted map file (mapping.persistence): bounded member reads, the header's fields, npy headers.

Everything here raises MapFileError (one sentence naming the file) and never allocates more than the header's
counts imply: a member's declared and actual uncompressed sizes are compared with what its dtype and shape
need before it is read (a deflate bomb stops after that many bytes), and a member's own npy header must
declare exactly the expected dtype and shape before any array is made.
"""

from __future__ import annotations

import dataclasses
import io
import math
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError

MAX_VOXELS = 1 << 28  # per layer: 268M voxels (a 5 cm map of ~670,000 m^3); larger counts are not a real map
MAX_FEATURE_DIM = 8192
MAX_HEADER_BYTES = 32 << 20
MAX_MEMBERS = 32
_NPY_HEADER_ALLOWANCE = 4096  # magic + header dict + padding of one .npy member
_MAX_TEXT = 4096


class MapFileError(InputError):
    """A map file is missing, truncated, hand-edited or of another format/version."""


def npy_bound(dtype: np.dtype, shape: tuple[int, ...]) -> int:
    """The most bytes an .npy member of this dtype and shape can take."""
    return math.prod(shape) * dtype.itemsize + _NPY_HEADER_ALLOWANCE


def read_member(zf: zipfile.ZipFile, name: str, max_bytes: int, path: Path) -> bytes:
    """The uncompressed bytes of member `name`.npy, refused if it declares or yields more than max_bytes."""
    try:
        info = zf.getinfo(f"{name}.npy")
    except KeyError:
        raise MapFileError(f"map file {path} lacks the array {name!r}") from None
    if info.file_size > max_bytes:
        raise MapFileError(f"map file {path} array {name!r} declares {info.file_size} bytes, more than the "
                           f"{max_bytes} its header allows (corrupt or not an ovmm map)")
    try:
        with zf.open(info) as fh:
            data = fh.read(max_bytes + 1)
    except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError, RuntimeError) as exc:
        raise MapFileError(f"map file {path} is truncated or corrupt (array {name!r}: {exc})") from None
    except Exception as exc:  # noqa: BLE001 - zlib.error and friends from a damaged stream
        raise MapFileError(f"map file {path} is corrupt (array {name!r}: {type(exc).__name__}: {exc})") from None
    if len(data) > max_bytes:
        raise MapFileError(f"map file {path} array {name!r} decompresses to more than the {max_bytes} bytes its "
                           "header allows (corrupt or a decompression bomb)")
    return data


def parse_npy(data: bytes, name: str, dtype: np.dtype, shape: tuple[int, ...], path: Path) -> np.ndarray:
    """The array in .npy bytes, refused unless its own header declares exactly `dtype` and `shape` (C order)."""
    fp = io.BytesIO(data)
    try:
        version = np.lib.format.read_magic(fp)
        if version == (1, 0):
            got_shape, fortran, got_dtype = np.lib.format.read_array_header_1_0(fp)
        elif version in ((2, 0), (3, 0)):
            got_shape, fortran, got_dtype = np.lib.format.read_array_header_2_0(fp)
        else:
            raise ValueError(f"npy version {version}")
    except (ValueError, EOFError, SyntaxError, TypeError) as exc:
        raise MapFileError(f"map file {path} array {name!r} is not a valid .npy member ({exc})") from None
    if got_dtype.hasobject:
        raise MapFileError(f"map file {path} array {name!r} holds Python objects (refused: no pickle)")
    if got_dtype != dtype or tuple(got_shape) != tuple(shape) or fortran:
        raise MapFileError(f"map file {path} array {name!r} is {got_dtype}{tuple(got_shape)}, expected "
                           f"{dtype}{tuple(shape)}")
    offset = fp.tell()
    need = math.prod(shape) * dtype.itemsize
    if len(data) - offset != need:
        raise MapFileError(f"map file {path} array {name!r} has {len(data) - offset} bytes of data, expected {need} "
                           "(truncated or corrupt)")
    return np.frombuffer(data, dtype=dtype, count=math.prod(shape), offset=offset).reshape(shape).copy()


# --- header fields ------------------------------------------------------------------------------------------


def _fail(path: Path, what: str) -> MapFileError:
    return MapFileError(f"map file {path} has an invalid header: {what}")


def _int_in(v: Any, lo: int, hi: int) -> bool:
    return isinstance(v, int) and not isinstance(v, bool) and lo <= v <= hi


def _number_in(v: Any, lo: float, hi: float) -> bool:
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return False
    try:
        f = float(v)
    except OverflowError:
        return False
    return math.isfinite(f) and lo <= f <= hi


# VoxelMapConfig fields a header may carry: (integer?, lowest, highest)
MAP_CONFIG_RANGES: dict[str, tuple[bool, float, float]] = {
    "voxel_size_m": (False, 0.001, 1.0),
    "min_depth_m": (False, 0.0, 100.0),
    "max_depth_m": (False, 0.0, 100.0),
    "mask_erode_px": (True, 0, 64),
    "min_mask_points": (True, 0, 1_000_000),
}


def check_map_config(config_cls, d: Any, path: Path) -> dict:
    """The header's map_config (a dict of known VoxelMapConfig fields in range)."""
    if d is None:
        return {}
    if not isinstance(d, dict):
        raise _fail(path, f"map_config is {type(d).__name__}, not an object")
    names = {f.name for f in dataclasses.fields(config_cls)}
    for key, value in d.items():
        if key not in names:
            continue  # a field of a newer ovmm: ignored
        is_int, lo, hi = MAP_CONFIG_RANGES.get(key, (False, -1e12, 1e12))
        ok = _int_in(value, int(lo), int(hi)) if is_int else _number_in(value, lo, hi)
        if not ok:
            raise _fail(path, f"map_config.{key} = {str(value)[:40]} (expected {'an integer' if is_int else 'a number'} "
                        f"in {lo:g}..{hi:g})")
    if "min_depth_m" in d and "max_depth_m" in d and not d["min_depth_m"] < d["max_depth_m"]:
        raise _fail(path, "map_config.min_depth_m is not below max_depth_m")
    return d


def check_header_fields(header: dict, members: list[str], path: Path) -> None:
    """Type- and range-check every field of a parsed header (format and version are checked by the caller)."""
    vs = header.get("voxel_size_m")
    if not _number_in(vs, *MAP_CONFIG_RANGES["voxel_size_m"][1:]):
        raise _fail(path, f"voxel_size_m = {str(vs)[:40]} (expected a number in 0.001..1 m)")
    dim = header.get("feature_dim")
    if dim is not None and not _int_in(dim, 0, MAX_FEATURE_DIM):
        raise _fail(path, f"feature_dim = {str(dim)[:40]} (expected null or an integer in 0..{MAX_FEATURE_DIM})")
    counts = header.get("counts")
    if not isinstance(counts, dict) or not all(_int_in(counts.get(k), 0, MAX_VOXELS) for k in ("semantic", "occupancy")):
        raise _fail(path, f"counts = {str(counts)[:60]} (expected {{'semantic': N, 'occupancy': M}} with 0 <= N, M <= "
                    f"{MAX_VOXELS})")
    if counts["semantic"] and not dim:
        raise _fail(path, "semantic voxels without a feature dimension")
    crcs = header.get("crc32")
    if not isinstance(crcs, dict) or not all(_int_in(crcs.get(m), 0, 0xFFFFFFFF) for m in members):
        raise _fail(path, "crc32 is not an object with a 32-bit checksum of every array")
    if not _int_in(header.get("frames", 0) or 0, 0, 1 << 40):
        raise _fail(path, f"frames = {str(header.get('frames'))[:40]} (expected a count)")
    for key in ("embedding_model_id", "source", "created"):
        v = header.get(key)
        if v is not None and (not isinstance(v, str) or len(v) > _MAX_TEXT):
            raise _fail(path, f"{key} is not text")
    for key in ("perception", "query_calibration", "fingerprint"):
        v = header.get(key)
        if v is not None and not isinstance(v, dict):
            raise _fail(path, f"{key} is {type(v).__name__}, not an object")
    for key in ("instances", "history"):
        v = header.get(key)
        if v is not None and (not isinstance(v, list) or not all(isinstance(x, dict) for x in v)):
            raise _fail(path, f"{key} is not a list of objects")
