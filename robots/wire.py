"""The robot-server wire format (version 2): JSON headers with raw numpy payloads, no pickle.

A message is one ZMQ multipart message (on the server's ROUTER socket preceded by the peer's routing
envelope, which the transport strips):

    [header, payload_0, ..., payload_{n-1}]

header   UTF-8 JSON object, at most `Limits.max_header_bytes` and `Limits.max_json_depth` levels deep.
         request: {"v": 2, "kind": "req", "cmd": str, "args": {..}, "nonce": str, "ts": float, "arrays": []}
         reply:   {"v": 2, "kind": "rep", "re": <request nonce>, "ok": bool, "result": {..},
                   "error": str, "code": str, "nonce": str, "ts": float, "arrays": [..]}
         "arrays" describes the payloads in order: {"name": str, "dtype": str, "shape": [int, ..]};
         dtypes: uint8, uint16, int32, float32, float64, bool; little-endian, C order; at most
         `Limits.max_arrays` arrays of at most 4 dimensions and `Limits.max_array_elements` elements.
payload  the array's raw bytes.

Authentication and encryption are the transport's (ZMQ CURVE, robots.transport); version 1's HMAC frame is
gone. nonce is 16 random bytes in hex and ts the sender's Unix time (a finite number); a server refuses a
request whose ts is more than `max_clock_skew_s` away from its clock or whose nonce it has seen (replay),
and a client refuses a reply whose "re" is not its request's nonce.
"""

from __future__ import annotations

import json
import math
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from core.bounded_json import BoundedJSONError, loads_bounded
from core.types import CameraIntrinsics, JointState, LaserScan, Pose2D, RGBDFrame
from robots.protocol import MotionResult, RobotObservation

VERSION = 2
_DTYPES = {"uint8", "uint16", "int32", "float32", "float64", "bool"}
_MAX_DIMS = 4
_MAX_DIM = 1 << 31


@dataclass(frozen=True)
class Limits:
    """Bounds on one message, checked before anything in it is used."""

    max_bytes: int
    max_frames: int = 9  # header + arrays
    max_header_bytes: int = 256 << 10
    max_json_depth: int = 16
    max_arrays: int = 8
    max_array_elements: int = 1 << 27


class WireError(Exception):
    """A message that does not follow the wire format (the server answers it with an error reply)."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Message:
    header: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def finite_number(v: Any) -> float | None:
    """v as a float if it is a JSON number (not a bool) with a finite float value, else None."""
    if isinstance(v, bool) or not isinstance(v, (int, float)):
        return None
    try:
        f = float(v)
    except OverflowError:
        return None
    return f if math.isfinite(f) else None


# --- encoding -----------------------------------------------------------------------------------------------


def new_nonce() -> str:
    return secrets.token_hex(16)


def encode(header: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> list[bytes]:
    """Frames of a message; header gets "v", "nonce", "ts" and "arrays" filled in if absent."""
    header = dict(header)
    header.setdefault("v", VERSION)
    header.setdefault("nonce", new_nonce())
    header.setdefault("ts", time.time())
    specs, payloads = [], []
    for name, arr in (arrays or {}).items():
        a = np.ascontiguousarray(arr)
        if a.dtype.name not in _DTYPES:
            raise ValueError(f"array {name!r} has dtype {a.dtype}, not one of {sorted(_DTYPES)}")
        a = a.astype(a.dtype.newbyteorder("<"), copy=False)
        specs.append({"name": name, "dtype": a.dtype.name, "shape": list(a.shape)})
        payloads.append(a.tobytes())
    header["arrays"] = specs
    return [json.dumps(header, allow_nan=False).encode("utf-8"), *payloads]


def decode(frames: list[bytes], limits: Limits) -> Message:
    """Parse and check a message against `limits`. Raises WireError."""
    if not frames:
        raise WireError("empty message")
    if len(frames) > limits.max_frames:
        raise WireError(f"message has {len(frames)} parts, more than the limit of {limits.max_frames}", "too_large")
    total = sum(len(f) for f in frames)
    if total > limits.max_bytes:
        raise WireError(f"message of {total} bytes exceeds the limit of {limits.max_bytes} bytes", "too_large")
    try:
        header = loads_bounded(frames[0], limits.max_header_bytes, limits.max_json_depth)
    except BoundedJSONError as exc:
        code = "too_large" if "exceed the limit" in str(exc) else "bad_request"
        raise WireError(f"header is not acceptable JSON: {exc}", code) from None
    if not isinstance(header, dict):
        raise WireError("header is not a JSON object")
    if header.get("v") != VERSION:
        raise WireError(f"unsupported wire version {header.get('v')!r} (this side speaks {VERSION}; update ovmm on "
                        "both machines)", "version")
    nonce = header.get("nonce")
    if not isinstance(nonce, str) or not 8 <= len(nonce) <= 64:
        raise WireError("header field 'nonce' is missing or is not a string of 8-64 characters")
    if finite_number(header.get("ts")) is None:
        raise WireError("header field 'ts' is missing or is not a finite number")
    specs = header.get("arrays", [])
    payloads = frames[1:]
    if not isinstance(specs, list) or len(specs) != len(payloads):
        raise WireError(f"header describes {len(specs) if isinstance(specs, list) else '?'} arrays, "
                        f"message has {len(payloads)} payloads")
    if len(specs) > limits.max_arrays:
        raise WireError(f"message has {len(specs)} arrays, more than {limits.max_arrays}", "too_large")
    arrays = {}
    for spec, payload in zip(specs, payloads, strict=True):
        name, arr = _decode_array(spec, payload, limits.max_array_elements)
        if name in arrays:
            raise WireError(f"array {name!r} appears twice")
        arrays[name] = arr
    return Message(header, arrays)


def _decode_array(spec: Any, payload: bytes, max_elements: int) -> tuple[str, np.ndarray]:
    if not isinstance(spec, dict):
        raise WireError("array description is not an object")
    name, dtype, shape = spec.get("name"), spec.get("dtype"), spec.get("shape")
    if not isinstance(name, str) or len(name) > 64 or dtype not in _DTYPES:
        raise WireError(f"array description {str(spec)[:120]} has a bad name or dtype")
    if (not isinstance(shape, list) or len(shape) > _MAX_DIMS
            or not all(isinstance(s, int) and not isinstance(s, bool) and 0 <= s < _MAX_DIM for s in shape)):
        raise WireError(f"array {name!r} has a bad shape {str(shape)[:80]} (at most {_MAX_DIMS} non-negative sizes)")
    elements = math.prod(shape)
    if elements > max_elements:
        raise WireError(f"array {name!r} of {elements} elements exceeds the limit of {max_elements}", "too_large")
    dt = np.dtype(dtype).newbyteorder("<")
    if elements * dt.itemsize != len(payload):
        raise WireError(f"array {name!r}: {len(payload)} bytes do not match shape {shape} of {dtype}")
    return name, np.frombuffer(payload, dtype=dt).reshape(shape).astype(dt.newbyteorder("="))


# --- typed values --------------------------------------------------------------------------------------------


def joints_to_dict(j: JointState) -> dict[str, Any]:
    return {"lift_m": j.lift_m, "arm_m": j.arm_m, "wrist_yaw": j.wrist_yaw, "wrist_pitch": j.wrist_pitch,
            "wrist_roll": j.wrist_roll, "gripper_m": j.gripper_m, "head_pan": j.head_pan, "head_tilt": j.head_tilt,
            "extra": {str(k): float(v) for k, v in j.extra.items()}}


def _finite(v: Any, what: str) -> float:
    f = finite_number(v)
    if f is None:
        raise WireError(f"{what} is not a finite number")
    return f


def joints_from_dict(d: dict[str, Any]) -> JointState:
    names = ("lift_m", "arm_m", "wrist_yaw", "wrist_pitch", "wrist_roll", "gripper_m", "head_pan", "head_tilt")
    if not isinstance(d, dict):
        raise WireError("joints are not an object")
    extra = d.get("extra", {})
    if not isinstance(extra, dict) or len(extra) > 64:
        raise WireError("joints 'extra' is not a small object")
    return JointState(**{n: _finite(d.get(n), f"joint {n}") for n in names},
                      extra={str(k): _finite(v, f"joint {k}") for k, v in extra.items()})


def pose_from_list(v: Any) -> Pose2D:
    if not isinstance(v, list) or len(v) not in (2, 3):
        raise WireError(f"expected a pose [x, y, theta], got {str(v)[:60]}")
    return Pose2D.from_list([_finite(x, "a pose coordinate") for x in v])


def motion_to_dict(r: MotionResult) -> dict[str, Any]:
    return {"success": bool(r.success), "reason": str(r.reason),
            "base_pose": r.base_pose.to_list() if r.base_pose is not None else None,
            "joints": joints_to_dict(r.joints) if r.joints is not None else None}


def motion_from_dict(d: dict[str, Any]) -> MotionResult:
    if not isinstance(d, dict) or not isinstance(d.get("success"), bool):
        raise WireError("motion result is not an object with a boolean 'success'")
    return MotionResult(
        success=d["success"], reason=str(d.get("reason", ""))[:2000],
        base_pose=pose_from_list(d["base_pose"]) if d.get("base_pose") is not None else None,
        joints=joints_from_dict(d["joints"]) if d.get("joints") is not None else None,
    )


def observation_to_wire(obs: RobotObservation) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    f = obs.frame
    result = {
        "base_pose": obs.base_pose.to_list(), "joints": joints_to_dict(obs.joints), "holding": obs.holding,
        "frame": {"intrinsics": f.intrinsics.to_dict(), "T_world_cam": np.asarray(f.T_world_cam, float).tolist(),
                  "timestamp": float(f.timestamp), "index": int(f.index)},
    }
    arrays = {"rgb": np.asarray(f.rgb, np.uint8), "depth_m": np.asarray(f.depth_m, np.float32)}
    if f.instance_ids is not None:
        arrays["instance_ids"] = np.asarray(f.instance_ids, np.int32)
    if obs.scan is not None:  # the planar lidar (absent where none is attached)
        result["scan"] = obs.scan.to_dict()
    return result, arrays


def _scan_from_wire(d: Any) -> LaserScan | None:
    if d is None:
        return None
    if not isinstance(d, dict) or not isinstance(d.get("ranges_m"), list) or not isinstance(d.get("angles_rad"), list):
        raise WireError("observation scan is not an object with angles_rad and ranges_m lists")
    if len(d["ranges_m"]) > 100_000:
        raise WireError("observation scan has more than 100000 beams")
    try:
        scan = LaserScan.from_dict(d)
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f"observation scan is invalid ({exc})") from None
    if not np.all(np.isfinite(scan.angles_rad)) or np.any(np.isnan(scan.ranges_m)):
        raise WireError("observation scan has non-finite angles or NaN ranges")
    return scan


def observation_from_wire(result: dict[str, Any], arrays: dict[str, np.ndarray]) -> RobotObservation:
    """The observation in a reply, every field checked (WireError otherwise)."""
    fr = result.get("frame") if isinstance(result, dict) else None
    if not isinstance(fr, dict):
        raise WireError("observation has no frame")
    rgb, depth, ids = arrays.get("rgb"), arrays.get("depth_m"), arrays.get("instance_ids")
    if rgb is None or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        raise WireError("observation rgb is not an HxWx3 uint8 image")
    if depth is None or depth.dtype != np.float32 or depth.shape != rgb.shape[:2]:
        raise WireError("observation depth_m is not an HxW float32 image matching rgb")
    if ids is not None and (ids.dtype != np.int32 or ids.shape != rgb.shape[:2]):
        raise WireError("observation instance_ids do not match rgb")
    T = fr.get("T_world_cam")
    if (not isinstance(T, list) or len(T) != 4
            or not all(isinstance(r, list) and len(r) == 4 for r in T)):
        raise WireError("observation T_world_cam is not a 4x4 matrix")
    T = np.array([[_finite(v, "T_world_cam") for v in row] for row in T], dtype=np.float64)
    intr = fr.get("intrinsics")
    if not isinstance(intr, dict):
        raise WireError("observation intrinsics are not an object")
    try:
        intrinsics = CameraIntrinsics.from_dict({k: _finite(v, f"intrinsics {k}") for k, v in intr.items()})
    except (KeyError, TypeError, ValueError) as exc:
        raise WireError(f"observation intrinsics are invalid ({exc})") from None
    index = fr.get("index")
    if isinstance(index, bool) or not isinstance(index, int) or abs(index) > 1 << 62:
        raise WireError("observation frame index is not an integer")
    holding = result.get("holding")
    if holding is not None and not isinstance(holding, bool):
        raise WireError("observation 'holding' is not a boolean or null")
    frame = RGBDFrame(rgb=rgb, depth_m=depth, intrinsics=intrinsics, T_world_cam=T,
                      timestamp=_finite(fr.get("timestamp"), "frame timestamp"), index=index, instance_ids=ids)
    return RobotObservation(frame=frame, base_pose=pose_from_list(result.get("base_pose")),
                            joints=joints_from_dict(result.get("joints")), holding=holding,
                            scan=_scan_from_wire(result.get("scan")))
