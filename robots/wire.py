"""The robot-server wire format (version 1): signed JSON headers with raw numpy payloads, no pickle.

A message is one ZMQ multipart message:

    [header, payload_0, ..., payload_{n-1}, mac]

header   UTF-8 JSON object.
         request: {"v": 1, "kind": "req", "cmd": str, "args": {..}, "nonce": str, "ts": float, "arrays": [..]}
         reply:   {"v": 1, "kind": "rep", "re": <request nonce>, "ok": bool, "result": {..},
                   "error": str, "code": str, "nonce": str, "ts": float, "arrays": [..]}
         "arrays" describes the payloads in order: {"name": str, "dtype": str, "shape": [int, ..]};
         dtypes: uint8, uint16, int32, float32, float64, bool; little-endian, C order.
payload  the array's raw bytes.
mac      HMAC-SHA256 over b"ovmm-robot-wire/1" and every preceding part, each prefixed by its length as
         8 bytes big-endian; 32 bytes, or empty when no key is used (loopback only).

nonce is 16 random bytes in hex and ts the sender's Unix time; a server refuses a request whose ts is more
than `max_clock_skew_s` away from its clock or whose nonce it has seen (replay), and a client refuses a
reply whose "re" is not its request's nonce.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import math
import os
import secrets
import struct
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import InputError
from core.types import CameraIntrinsics, JointState, Pose2D, RGBDFrame
from robots.protocol import MotionResult, RobotObservation

VERSION = 1
KEY_ENV = "OVMM_ROBOT_KEY"
MIN_KEY_CHARS = 16
_DOMAIN = b"ovmm-robot-wire/1"
_DTYPES = {"uint8", "uint16", "int32", "float32", "float64", "bool"}
_MAX_DIMS = 4


class WireError(Exception):
    """A message that does not follow the wire format (the server answers it with an error reply)."""

    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Message:
    header: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


# --- keys ---------------------------------------------------------------------------------------------------


def load_key(key_file: str | os.PathLike | None = None) -> bytes | None:
    """The shared key from `key_file`, else from $OVMM_ROBOT_KEY, else None. Whitespace is stripped."""
    if key_file:
        path = Path(key_file).expanduser()
        try:
            text = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise InputError(f"cannot read the robot key file {path}: {exc}") from exc
        source = str(path)
    else:
        text = os.environ.get(KEY_ENV, "").strip()
        source = f"${KEY_ENV}"
        if not text:
            return None
    if len(text) < MIN_KEY_CHARS:
        raise InputError(f"the robot key in {source} is too short: use at least {MIN_KEY_CHARS} characters "
                         "(e.g. `python -c 'import secrets; print(secrets.token_hex(32))'`)")
    return text.encode("utf-8")


def generate_key() -> str:
    return secrets.token_hex(32)


# --- encoding -----------------------------------------------------------------------------------------------


def _mac(key: bytes, parts: list[bytes]) -> bytes:
    h = hmac.new(key, _DOMAIN, hashlib.sha256)
    for p in parts:
        h.update(struct.pack(">Q", len(p)))
        h.update(p)
    return h.digest()


def new_nonce() -> str:
    return secrets.token_hex(16)


def encode(header: dict[str, Any], arrays: dict[str, np.ndarray] | None, key: bytes | None) -> list[bytes]:
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
    parts = [json.dumps(header, allow_nan=False).encode("utf-8"), *payloads]
    parts.append(_mac(key, parts) if key else b"")
    return parts


def decode(frames: list[bytes], key: bytes | None, max_bytes: int) -> Message:
    """Parse and check a message. Raises WireError (code "auth" for a bad signature)."""
    total = sum(len(f) for f in frames)
    if total > max_bytes:
        raise WireError(f"message of {total} bytes exceeds the limit of {max_bytes} bytes", "too_large")
    if len(frames) < 2:
        raise WireError("message has fewer than 2 parts (header and signature)")
    if key is not None:
        if len(frames[-1]) != 32 or not hmac.compare_digest(frames[-1], _mac(key, list(frames[:-1]))):
            raise WireError("message is not signed with the right key", "auth")
    try:
        header = json.loads(frames[0].decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WireError(f"header is not JSON ({exc.__class__.__name__})") from exc
    if not isinstance(header, dict):
        raise WireError("header is not a JSON object")
    if header.get("v") != VERSION:
        raise WireError(f"unsupported wire version {header.get('v')!r} (this side speaks {VERSION})", "version")
    for name, typ in (("nonce", str), ("ts", (int, float))):
        if not isinstance(header.get(name), typ) or isinstance(header.get(name), bool):
            raise WireError(f"header field {name!r} is missing or has the wrong type")
    specs = header.get("arrays", [])
    payloads = frames[1:-1]
    if not isinstance(specs, list) or len(specs) != len(payloads):
        raise WireError(f"header describes {len(specs) if isinstance(specs, list) else '?'} arrays, "
                        f"message has {len(payloads)} payloads")
    arrays = {}
    for spec, payload in zip(specs, payloads, strict=True):
        arrays.update([_decode_array(spec, payload)])
    return Message(header, arrays)


def _decode_array(spec: Any, payload: bytes) -> tuple[str, np.ndarray]:
    if not isinstance(spec, dict):
        raise WireError("array description is not an object")
    name, dtype, shape = spec.get("name"), spec.get("dtype"), spec.get("shape")
    if not isinstance(name, str) or dtype not in _DTYPES:
        raise WireError(f"array description {spec!r} has a bad name or dtype")
    if (not isinstance(shape, list) or len(shape) > _MAX_DIMS
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)):
        raise WireError(f"array {name!r} has a bad shape {shape!r}")
    dt = np.dtype(dtype).newbyteorder("<")
    if math.prod(shape) * dt.itemsize != len(payload):
        raise WireError(f"array {name!r}: {len(payload)} bytes do not match shape {shape} of {dtype}")
    return name, np.frombuffer(payload, dtype=dt).reshape(shape).astype(dt.newbyteorder("="))


# --- typed values --------------------------------------------------------------------------------------------


def joints_to_dict(j: JointState) -> dict[str, Any]:
    return {"lift_m": j.lift_m, "arm_m": j.arm_m, "wrist_yaw": j.wrist_yaw, "wrist_pitch": j.wrist_pitch,
            "wrist_roll": j.wrist_roll, "gripper_m": j.gripper_m, "head_pan": j.head_pan, "head_tilt": j.head_tilt,
            "extra": {str(k): float(v) for k, v in j.extra.items()}}


def joints_from_dict(d: dict[str, Any]) -> JointState:
    names = ("lift_m", "arm_m", "wrist_yaw", "wrist_pitch", "wrist_roll", "gripper_m", "head_pan", "head_tilt")
    return JointState(**{n: float(d[n]) for n in names}, extra={k: float(v) for k, v in d.get("extra", {}).items()})


def motion_to_dict(r: MotionResult) -> dict[str, Any]:
    return {"success": bool(r.success), "reason": str(r.reason),
            "base_pose": r.base_pose.to_list() if r.base_pose is not None else None,
            "joints": joints_to_dict(r.joints) if r.joints is not None else None}


def motion_from_dict(d: dict[str, Any]) -> MotionResult:
    return MotionResult(
        success=bool(d["success"]), reason=str(d.get("reason", "")),
        base_pose=Pose2D.from_list(d["base_pose"]) if d.get("base_pose") is not None else None,
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
    return result, arrays


def observation_from_wire(result: dict[str, Any], arrays: dict[str, np.ndarray]) -> RobotObservation:
    fr = result["frame"]
    frame = RGBDFrame(
        rgb=arrays["rgb"], depth_m=arrays["depth_m"], intrinsics=CameraIntrinsics.from_dict(fr["intrinsics"]),
        T_world_cam=np.asarray(fr["T_world_cam"], dtype=np.float64), timestamp=float(fr["timestamp"]),
        index=int(fr["index"]), instance_ids=arrays.get("instance_ids"),
    )
    return RobotObservation(frame=frame, base_pose=Pose2D.from_list(result["base_pose"]),
                            joints=joints_from_dict(result["joints"]), holding=result.get("holding"))
