"""The shared data's 300 random solids (pybullet's random_urdfs) as object-library entries.

Each `objects/random_shapes/NNN/NNN.urdf` names its mesh (`NNN.obj`, convex pieces), a uniform scale
(0.015), a mass and a colour; the entry takes all four from the URDF. The solids are shapes no grasp rule
was designed for, which is what the grasping benchmark measures on (`benchmarks/grasping.py --library
random-shapes`). Only the solids that fit the Stretch's open gripper are kept: the smallest side of the
mesh's oriented bounding box at most `max_width_m`. Descriptions are "<colour> random solid NNN"; they are
alike on purpose, so trials that need to tell a solid from its neighbours should pick by instance mask.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from core.stretch import STRETCH
from sim.scene.objects import LibraryEntry, shared_data_dir

log = logging.getLogger(__name__)

_COLOUR_NAMES = {
    "red": (0.8, 0.1, 0.1), "green": (0.1, 0.6, 0.2), "blue": (0.1, 0.2, 0.85), "yellow": (0.9, 0.85, 0.1),
    "orange": (0.95, 0.5, 0.1), "purple": (0.5, 0.15, 0.6), "pink": (0.95, 0.5, 0.7), "cyan": (0.1, 0.75, 0.8),
    "white": (0.92, 0.92, 0.92), "grey": (0.5, 0.5, 0.5), "black": (0.08, 0.08, 0.08), "brown": (0.45, 0.28, 0.12),
}
FIT_MARGIN_M = 0.01
"""The smallest side must leave this much of the open aperture free."""


def colour_name(rgb) -> str:
    """The nearest of a dozen colour words."""
    rgb = np.asarray(rgb, dtype=np.float64)[:3]
    return min(_COLOUR_NAMES, key=lambda k: float(np.sum((np.asarray(_COLOUR_NAMES[k]) - rgb) ** 2)))


def random_shapes_dir() -> Path | None:
    shared = shared_data_dir()
    folder = shared / "objects" / "random_shapes" if shared else None
    return folder if folder is not None and folder.is_dir() else None


def _entry(urdf: Path) -> LibraryEntry | None:
    try:
        root = ET.parse(urdf).getroot()
    except (OSError, ET.ParseError) as exc:
        log.warning("skipping %s: %s", urdf, exc)
        return None
    mesh = root.find(".//visual/geometry/mesh")
    if mesh is None or not mesh.get("filename"):
        return None
    scale = float((mesh.get("scale") or "1").split()[0])
    mass_el = root.find(".//inertial/mass")
    colour = root.find(".//visual/material/color")
    rgba = tuple(float(v) for v in (colour.get("rgba") if colour is not None else "0.5 0.5 0.5 1").split())
    stem = urdf.stem
    name = colour_name(rgba)
    return LibraryEntry(f"random_shapes/{stem}", "solid", f"{name} random solid {stem}", rgba[:4],  # type: ignore[arg-type]
                        float(mass_el.get("value", 0.1)) if mass_el is not None else 0.1,
                        mesh=str((urdf.parent / mesh.get("filename")).resolve()), scale=scale)


def fits_gripper(entry: LibraryEntry, max_width_m: float) -> bool:
    """Some side of the solid's oriented bounding box fits between the open fingers."""
    try:
        mesh = entry.mesh_upright()
    except Exception as exc:  # noqa: BLE001 - one unreadable or empty mesh (solid 168) is skipped, not fatal
        log.warning("skipping %s: %s", entry.key, exc)
        return False
    if mesh.is_empty or len(mesh.vertices) < 4:
        return False
    return float(np.min(mesh.bounding_box_oriented.extents)) <= max_width_m


def random_shapes_library(folder: Path | None = None, max_width_m: float | None = None) -> list[LibraryEntry]:
    """The random solids that fit the gripper, in id order (empty when the shared data is absent)."""
    folder = folder or random_shapes_dir()
    if folder is None:
        return []
    width = STRETCH.limits.gripper_m[1] - FIT_MARGIN_M if max_width_m is None else max_width_m
    out = []
    for urdf in sorted(folder.glob("*/*.urdf")):
        e = _entry(urdf)
        if e is not None and fits_gripper(e, width):
            out.append(e)
    return out
