"""Reading the values of Habitat templates and instances: checked numbers and vectors, a template's render
asset and its turn into our frame, an instance's pose (translation, [w, x, y, z] rotation, origin) and scale.
Every error names the file and the field."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.geometry import R_to_quat_xyzw
from sim.habitat_dataset.attributes import Template
from sim.habitat_dataset.frames import asset_to_zup, hab_to_zup_point, hab_to_zup_rotation, quat_wxyz_to_R
from sim.scene.fields import SceneError


def vec(v, n: int, ctx: str, positive: bool = False) -> np.ndarray:
    if (not isinstance(v, (list, tuple)) or len(v) != n
            or not all(isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x) for x in v)):
        raise SceneError(f"{ctx} must be a list of {n} numbers, got {v!r}")
    a = np.asarray(v, dtype=np.float64)
    if positive and (a <= 0).any():
        raise SceneError(f"{ctx} must hold positive numbers, got {v!r}")
    return a


def num(v, ctx: str, positive: bool = True) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or (positive and v <= 0):
        raise SceneError(f"{ctx} must be a {'positive ' if positive else ''}number, got {v!r}")
    return float(v)


@dataclass(frozen=True)
class Asset:
    """A template's render asset and how it turns into our frame: vertex -> R @ (scale * v) (+ origin)."""

    mesh: Path
    R: np.ndarray
    scale: np.ndarray
    origin: np.ndarray
    com: np.ndarray | None  # template COM (Habitat local frame), if given


def template_asset(t: Template, ctx: str) -> Asset:
    a = t.attrs
    src = f"{t.source}"
    if not isinstance(a.get("render_asset"), str):
        raise SceneError(f"{src} field 'render_asset' (template {t.name!r}, used by {ctx}) must be a file name")
    mesh = (t.base_dir / a["render_asset"]).resolve()
    if not mesh.is_file():
        raise SceneError(f"{src} field 'render_asset' names {mesh}, which does not exist (template {t.name!r})")
    up = vec(a.get("up", [0, 1, 0]), 3, f"{src} field 'up'")
    front = vec(a.get("front", [0, 0, -1]), 3, f"{src} field 'front'")
    try:
        R = asset_to_zup(up, front)  # noqa: N806
    except SceneError as exc:
        raise SceneError(f"{src} fields 'up'/'front': {exc}") from None
    units = num(a.get("units_to_meters", 1.0), f"{src} field 'units_to_meters'")
    scale = vec(a.get("scale", [1, 1, 1]), 3, f"{src} field 'scale'", positive=True) * units
    origin = vec(a.get("origin", [0, 0, 0]), 3, f"{src} field 'origin'")
    com = vec(a["COM"], 3, f"{src} field 'COM'") if "COM" in a else None
    return Asset(mesh, R, scale, origin, com)


def instance_pose(inst: dict, ctx: str, scene_origin: str) -> tuple[np.ndarray, np.ndarray, str]:
    """(translation ours, rotation ours, translation_origin) of an instance."""
    t = vec(inst.get("translation", [0, 0, 0]), 3, f"{ctx} field 'translation'")
    Rh = quat_wxyz_to_R(inst["rotation"], f"{ctx} field 'rotation'") if "rotation" in inst else np.eye(3)  # noqa: N806
    origin = str(inst.get("translation_origin", scene_origin)).lower()
    if origin not in ("com", "asset_local", "unknown"):
        raise SceneError(f"{ctx} field 'translation_origin' must be \"COM\" or \"asset_local\", got {origin!r}")
    return hab_to_zup_point(t), hab_to_zup_rotation(Rh), "com" if origin == "unknown" else origin


def instance_scale(inst: dict, ctx: str) -> np.ndarray:
    s = np.ones(3)
    if "uniform_scale" in inst:
        s = s * num(inst["uniform_scale"], f"{ctx} field 'uniform_scale'")
    if "non_uniform_scale" in inst:
        s = s * vec(inst["non_uniform_scale"], 3, f"{ctx} field 'non_uniform_scale'", positive=True)
    return s


def quat_of(R: np.ndarray) -> tuple[float, float, float, float]:  # noqa: N803
    q = R_to_quat_xyzw(R)
    return tuple(float(round(v, 7)) for v in q)  # type: ignore[return-value]
