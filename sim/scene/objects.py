"""The object library: which objects a generated scene can contain (geometry, label, description, colour).

Sources, combined by `default_library()`:
- the 17 YCB meshes in <shared data>/objects/ycb when present (shared data = $OVMM_SHARED_DATA, else the
  repository's ../shared/data); YCB meshes are untextured, so each gets a colour that its description names;
- procedural cups, mugs, bowls, boxes, bottles and cans in several colours (always available);
- `load_library_dir(DIR)`: a folder of meshes with a library.json (format in docs/sim-scenes.md).

`load_object_mesh(obj, base_dir)` returns any scene object's mesh (see sim.scene.mesh_io).
"""

from __future__ import annotations

import json
import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import trimesh

from core.errors import InputError
from sim.scene.mesh_io import load_mesh_file, load_object_mesh
from sim.scene.procedural import PROCEDURAL_KINDS, make_procedural_mesh

__all__ = ["PROCEDURAL_KINDS", "LibraryEntry", "ObjectLibraryError", "default_library", "load_library_dir",
           "load_mesh_file", "load_object_mesh", "make_procedural_mesh", "procedural_library", "shared_data_dir",
           "ycb_library", "LIBRARY_FORMAT"]

log = logging.getLogger(__name__)
LIBRARY_FORMAT = "ovmm-object-library"
LIBRARY_VERSION = 1


class ObjectLibraryError(InputError):
    """An object library folder or its library.json is invalid."""


@dataclass(frozen=True)
class LibraryEntry:
    """One kind of object: geometry (absolute mesh path or procedural params) and its appearance."""

    key: str
    label: str
    description: str
    rgba: tuple[float, float, float, float]
    mass: float
    mesh: str | None = None
    procedural: dict | None = None
    scale: float = 1.0
    up: str = "z"  # the mesh's up axis: "z" or "y" (y-up meshes are turned upright when placed)

    def mesh_upright(self) -> trimesh.Trimesh:
        """The mesh, scaled, turned so z is up (object frame; bottom not moved)."""
        if self.procedural is not None:
            mesh = make_procedural_mesh(self.procedural)
            if self.scale != 1.0:
                mesh.apply_scale(self.scale)
        else:
            mesh = load_mesh_file(self.mesh, self.scale)  # type: ignore[arg-type]
        if self.up == "y":
            mesh.apply_transform(trimesh.transformations.rotation_matrix(np.pi / 2, [1, 0, 0]))
        return mesh


def shared_data_dir() -> Path | None:
    """$OVMM_SHARED_DATA, else <repo>/../shared/data, if that folder exists."""
    from sim.scene.asset_paths import SHARED, root_dir

    p = root_dir(SHARED)
    return p if p is not None and p.is_dir() else None


# YCB: file stem -> (label, description, rgba, mass kg). Colours follow the real objects.
_YCB = {
    "002_master_chef_can": ("coffee can", "blue coffee can", (0.15, 0.3, 0.7, 1.0), 0.41),
    "003_cracker_box": ("cracker box", "red cracker box", (0.8, 0.15, 0.12, 1.0), 0.41),
    "004_sugar_box": ("sugar box", "yellow sugar box", (0.95, 0.85, 0.3, 1.0), 0.51),
    "005_tomato_soup_can": ("soup can", "tomato soup can", (0.75, 0.12, 0.1, 1.0), 0.35),
    "006_mustard_bottle": ("mustard bottle", "yellow mustard bottle", (0.95, 0.8, 0.1, 1.0), 0.6),
    "011_banana": ("banana", "yellow banana", (0.95, 0.85, 0.25, 1.0), 0.07),
    "013_apple": ("apple", "red apple", (0.75, 0.1, 0.1, 1.0), 0.07),
    "014_lemon": ("lemon", "yellow lemon", (0.98, 0.9, 0.2, 1.0), 0.05),
    "021_bleach_cleanser": ("bleach bottle", "white bleach bottle", (0.95, 0.95, 0.93, 1.0), 1.1),
    "024_bowl": ("bowl", "red plastic bowl", (0.78, 0.12, 0.1, 1.0), 0.15),
    "025_mug": ("mug", "red coffee mug", (0.75, 0.1, 0.1, 1.0), 0.12),
    "026_sponge": ("sponge", "green sponge", (0.3, 0.65, 0.25, 1.0), 0.02),
    "029_plate": ("plate", "red plate", (0.8, 0.15, 0.12, 1.0), 0.28),
    "036_wood_block": ("wood block", "wooden block", (0.75, 0.6, 0.4, 1.0), 0.3),
    "056_tennis_ball": ("tennis ball", "yellow tennis ball", (0.85, 0.95, 0.2, 1.0), 0.06),
    "065-a_cups": ("cup", "orange plastic cup", (0.95, 0.5, 0.1, 1.0), 0.03),
    "077_rubiks_cube": ("rubiks cube", "blue rubiks cube", (0.15, 0.3, 0.8, 1.0), 0.09),
}

_COLOURS = {"red": (0.8, 0.1, 0.1, 1.0), "blue": (0.15, 0.3, 0.85, 1.0), "green": (0.15, 0.6, 0.2, 1.0),
            "yellow": (0.95, 0.85, 0.15, 1.0), "white": (0.95, 0.95, 0.95, 1.0), "black": (0.08, 0.08, 0.08, 1.0),
            "orange": (0.95, 0.5, 0.1, 1.0), "pink": (0.95, 0.55, 0.7, 1.0), "purple": (0.5, 0.2, 0.7, 1.0),
            "grey": (0.55, 0.55, 0.58, 1.0)}

# (kind, noun, params, mass, colours)
_PROCEDURAL = (
    ("cup", "plastic cup", {"radius": 0.036, "height": 0.1}, 0.03, ("blue", "green", "pink", "white")),
    ("mug", "coffee mug", {"radius": 0.04, "height": 0.095}, 0.3, ("blue", "green", "white", "yellow", "black")),
    ("bowl", "bowl", {"radius": 0.07, "height": 0.05}, 0.2, ("blue", "green", "white", "orange")),
    ("box", "cardboard box", {"size_x": 0.07, "size_y": 0.05, "size_z": 0.12}, 0.15, ("blue", "green", "orange", "purple")),
    ("bottle", "water bottle", {"radius": 0.03, "height": 0.2}, 0.4, ("blue", "green", "red", "white")),
    ("can", "soda can", {"radius": 0.033, "height": 0.12}, 0.35, ("red", "green", "grey", "orange")),
)


def ycb_library(ycb_dir: Path | None = None) -> list[LibraryEntry]:
    """The YCB entries whose STL files exist (absolute paths); empty if the folder is absent."""
    if ycb_dir is None:
        shared = shared_data_dir()
        ycb_dir = shared / "objects" / "ycb" if shared else None
    if ycb_dir is None or not ycb_dir.is_dir():
        return []
    out = []
    for stem, (label, desc, rgba, mass) in _YCB.items():
        path = ycb_dir / f"{stem}.stl"
        if path.is_file():
            out.append(LibraryEntry(f"ycb/{stem}", label, desc, rgba, mass, mesh=str(path.resolve())))
    return out


def procedural_library() -> list[LibraryEntry]:
    out = []
    for kind, noun, params, mass, colours in _PROCEDURAL:
        label = noun.split()[-1] if kind != "mug" else "mug"
        for c in colours:
            out.append(LibraryEntry(f"procedural/{c}_{kind}", label, f"{c} {noun}", _COLOURS[c], mass,
                                    procedural={"kind": kind, **params}))
    return out


def default_library(include_ycb: bool = True, include_procedural: bool = True) -> list[LibraryEntry]:
    """YCB (when present) + procedural entries; later entries with an already used description are dropped."""
    entries = (ycb_library() if include_ycb else []) + (procedural_library() if include_procedural else [])
    return _dedupe(entries)


def _dedupe(entries: list[LibraryEntry]) -> list[LibraryEntry]:
    seen: set[str] = set()
    out = []
    for e in entries:
        if e.description not in seen:
            seen.add(e.description)
            out.append(e)
    return out


_ENTRY_REQUIRED = ("mesh", "label", "description", "rgba")
_ENTRY_OPTIONAL = ("scale", "mass", "up")


def load_library_dir(folder: str | os.PathLike) -> list[LibraryEntry]:
    """Entries of an object-library folder: <folder>/library.json naming meshes in that folder."""
    folder = Path(folder)
    index = folder / "library.json"
    if not index.is_file():
        raise ObjectLibraryError(f"object library {folder} has no library.json")
    try:
        d = json.loads(index.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ObjectLibraryError(f"cannot read {index}: {exc}") from None
    if not isinstance(d, dict) or d.get("format") != LIBRARY_FORMAT:
        raise ObjectLibraryError(f"{index} must be a JSON object with \"format\": \"{LIBRARY_FORMAT}\"")
    if d.get("version") != LIBRARY_VERSION:
        raise ObjectLibraryError(f"{index} version {d.get('version')!r} is not supported (expected {LIBRARY_VERSION})")
    unknown = sorted(set(d) - {"format", "version", "objects"})
    if unknown:
        raise ObjectLibraryError(f"{index} has unknown field(s) {', '.join(unknown)}")
    items = d.get("objects")
    if not isinstance(items, list) or not items:
        raise ObjectLibraryError(f"{index} must list at least one entry under \"objects\"")
    entries = [_parse_entry(folder, index, i, item) for i, item in enumerate(items)]
    descs = [e.description for e in entries]
    for desc in descs:
        if descs.count(desc) > 1:
            raise ObjectLibraryError(f"{index}: description {desc!r} is used by more than one entry")
    return entries


def _parse_entry(folder: Path, index: Path, i: int, item) -> LibraryEntry:
    ctx = f"{index} entry {i}"
    if not isinstance(item, dict):
        raise ObjectLibraryError(f"{ctx} must be a JSON object")
    if isinstance(item.get("mesh"), str):
        ctx = f"{index} entry {i} ({item['mesh']})"
    missing = [k for k in _ENTRY_REQUIRED if k not in item]
    if missing:
        raise ObjectLibraryError(f"{ctx} is missing field(s) {', '.join(missing)}")
    unknown = sorted(set(item) - set(_ENTRY_REQUIRED) - set(_ENTRY_OPTIONAL))
    if unknown:
        raise ObjectLibraryError(f"{ctx} has unknown field(s) {', '.join(unknown)}")
    for k in ("mesh", "label", "description"):
        if not isinstance(item[k], str) or not item[k].strip():
            raise ObjectLibraryError(f"{ctx} field {k!r} must be a non-empty string")
    mesh = (folder / item["mesh"]).resolve()
    if not mesh.is_file():
        raise ObjectLibraryError(f"{ctx}: mesh file {mesh} does not exist")
    if mesh.suffix.lower() not in (".stl", ".obj", ".glb", ".gltf", ".ply"):
        raise ObjectLibraryError(f"{ctx}: mesh {mesh.name} is not STL/OBJ/GLB/glTF/PLY")
    rgba = item["rgba"]
    if (not isinstance(rgba, list) or len(rgba) != 4
            or not all(isinstance(c, (int, float)) and not isinstance(c, bool) and 0 <= c <= 1 for c in rgba)):
        raise ObjectLibraryError(f"{ctx} field 'rgba' must be 4 numbers in [0, 1]")
    scale, mass = item.get("scale", 1.0), item.get("mass", 0.2)
    for k, v in (("scale", scale), ("mass", mass)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0:
            raise ObjectLibraryError(f"{ctx} field {k!r} must be a positive number")
    up = item.get("up", "z")
    if up not in ("z", "y"):
        raise ObjectLibraryError(f"{ctx} field 'up' must be \"z\" or \"y\"")
    entry = LibraryEntry(f"library/{item['mesh']}", item["label"], item["description"],
                         tuple(float(c) for c in rgba), float(mass), mesh=str(mesh), scale=float(scale), up=up)  # type: ignore[arg-type]
    try:
        ext = entry.mesh_upright().extents
    except InputError as exc:
        raise ObjectLibraryError(f"{ctx}: {exc}") from None
    if ext.max() > 1.0 or ext.min() < 0.005:
        raise ObjectLibraryError(f"{ctx}: scaled mesh extents {np.round(ext, 3).tolist()} m are not a household "
                                 "object's (0.005..1 m); is 'scale' right (meshes in millimetres need 0.001)?")
    return entry
