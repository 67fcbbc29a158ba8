"""Which scene or capture a map was made from (`MapMetadata.fingerprint`), and the check that a map is used
with that same scene.

A scene's fingerprint is the SHA-256 of its canonical JSON (keys sorted, file paths reduced to their file
names, so a scene folder that moved keeps its fingerprint); a capture's hashes its name, size and first
megabyte (or, for a folder, its file names and sizes). Running a map in another scene would only fail later
with contact reasons; `check_scene` refuses it up front, naming both.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from core.errors import InputError


class FingerprintMismatchError(InputError):
    """A map is used with a scene other than the one it was made from."""


def _canonical(v):
    if isinstance(v, dict):
        return {k: _canonical(x) for k, x in sorted(v.items())}
    if isinstance(v, (list, tuple)):
        return [_canonical(x) for x in v]
    if isinstance(v, float):
        return round(v, 5)
    if isinstance(v, str) and ("/" in v or "\\" in v):
        return v.replace("\\", "/").rsplit("/", 1)[-1]
    return v


def scene_fingerprint(scene: dict, name: str | None = None) -> dict:
    """{"kind": "scene", "name", "sha256"} of a scene's dict (SceneSpec.to_dict())."""
    blob = json.dumps(_canonical(scene), sort_keys=True, separators=(",", ":")).encode("utf-8")
    return {"kind": "scene", "name": name or str(scene.get("name") or ""), "sha256": hashlib.sha256(blob).hexdigest()}


def capture_fingerprint(path: str | Path, frames: int | None = None) -> dict:
    """{"kind": "capture", "name", "frames", "sha256"}: cheap (never reads more than 1 MB)."""
    path = Path(path)
    h = hashlib.sha256(path.name.encode())
    if path.is_dir():
        for f in sorted(p for p in path.rglob("*") if p.is_file()):
            h.update(f"{f.relative_to(path)}:{f.stat().st_size};".encode())
    elif path.is_file():
        h.update(str(path.stat().st_size).encode())
        with open(path, "rb") as fh:
            h.update(fh.read(1 << 20))
    out = {"kind": "capture", "name": path.name, "sha256": h.hexdigest()}
    if frames is not None:
        out["frames"] = int(frames)
    return out


def short(fp: dict) -> str:
    return f"{fp.get('kind', '?')} {fp.get('name') or '?'!r} ({str(fp.get('sha256', ''))[:12]})"


def check_scene(map_fingerprint: dict, scene: dict, scene_path: str, map_path: str) -> None:
    """Raise FingerprintMismatchError when the map records another scene than `scene`; maps without a
    fingerprint (made before it existed) pass."""
    if not map_fingerprint:
        return
    have = scene_fingerprint(scene)
    if map_fingerprint.get("kind") != "scene":
        raise FingerprintMismatchError(
            f"map {map_path} was made from {short(map_fingerprint)}, not from a simulated scene; "
            f"--scene {scene_path} is {short(have)}")
    if map_fingerprint.get("sha256") != have["sha256"]:
        raise FingerprintMismatchError(
            f"map {map_path} was made from {short(map_fingerprint)} but --scene {scene_path} is {short(have)}; "
            f"scan this scene (ovmm scan --sim {scene_path}) or pass the scene the map was made from")
