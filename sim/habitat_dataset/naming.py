"""Labels, colours and descriptions of imported Habitat objects.

Label: a `user_defined` entry (`label`, `object_category`, `semantic_class`, `category`, `class_name` or
`name`), else the semantic descriptor's class for the object's `semantic_id`, else the template name cleaned
up (`frl_apartment_bowl_07` -> `bowl`, `024_bowl` -> `bowl`, `kitchen_counter` -> `kitchen counter`; a
name with no word in it, such as HSSD's hash names, gives `object`). Colour: `user_defined.rgba`, else the
mean colour of the render asset (texture or material). Description: `user_defined.description`, else
"<colour name> <label>"; repeated descriptions get " 2", " 3", ... (descriptions are unique in a scene).
"""

from __future__ import annotations

import colorsys
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import trimesh

LABEL_KEYS = ("label", "object_category", "semantic_class", "category", "class_name", "name")
_DROP = {"frl", "apartment", "ycb", "google", "object", "obj", "static", "dynamic", "mesh", "model", "sm", "lod",
         "receptacle", "aabb"}

GREY = (0.7, 0.7, 0.7, 1.0)
"""The colour of a mesh or box with none of its own."""


def label_from_name(name: str) -> str:
    words = []
    for w in re.split(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])", name):
        lw = w.lower()
        if len(lw) > 3 and lw[-1].isdigit() and not lw.isdigit():
            lw = lw.rstrip("0123456789")  # "top1" -> "top", "object1" -> "object"
        if not lw or lw.isdigit() or lw in _DROP or (len(lw) >= 8 and re.fullmatch(r"[0-9a-f]+", lw)):
            continue
        if re.fullmatch(r"\d+[a-z]?|[a-z]\d+", lw):
            continue
        words.append(lw)
    return " ".join(words) or "object"


def label_from_user(user: dict) -> str | None:
    for k in LABEL_KEYS:
        v = user.get(k)
        if isinstance(v, str) and v.strip():
            return v.strip().replace("_", " ").lower()
    return None


_NAMED = (("red", 0.0), ("orange", 30.0), ("yellow", 55.0), ("green", 120.0), ("teal", 175.0),
          ("blue", 220.0), ("purple", 275.0), ("pink", 325.0), ("red", 360.0))


def colour_name(rgba) -> str:
    r, g, b = (float(v) for v in rgba[:3])
    h, s, v = colorsys.rgb_to_hsv(r, g, b)
    if v < 0.18:
        return "black"
    if s < 0.18:
        return "white" if v > 0.8 else ("light grey" if v > 0.6 else ("grey" if v > 0.35 else "dark grey"))
    hue = h * 360.0
    name = min(_NAMED, key=lambda t: abs(t[1] - hue))[0]
    if name in ("orange", "red", "yellow") and v < 0.6:
        return "brown"
    if name == "orange" and s < 0.45:
        return "beige"
    return name


@lru_cache(maxsize=256)
def mean_colour(path: str) -> tuple[float, float, float, float] | None:
    """Area-weighted mean colour of a mesh file's materials/textures (None when it has none)."""
    try:
        loaded = trimesh.load(path)
    except Exception:  # noqa: BLE001 - a mesh we cannot read has no colour; loading it later reports the error
        return None
    geoms = list(loaded.geometry.values()) if isinstance(loaded, trimesh.Scene) else [loaded]
    total, acc = 0.0, np.zeros(3)
    for g in geoms:
        if not isinstance(g, trimesh.Trimesh) or len(g.faces) == 0:
            continue
        c = _geometry_colour(g)
        if c is None:
            continue
        a = float(g.area) or 1.0
        acc += a * c
        total += a
    if total == 0:
        return None
    r, g_, b = (float(round(v, 3)) for v in np.clip(acc / total, 0, 1))
    return (r, g_, b, 1.0)


def _geometry_colour(g: trimesh.Trimesh) -> np.ndarray | None:
    vis = g.visual
    if isinstance(vis, trimesh.visual.ColorVisuals):
        if vis.kind is None:
            return None
        return np.asarray(vis.face_colors, dtype=np.float64)[:, :3].mean(axis=0) / 255.0
    mat = getattr(vis, "material", None)
    if mat is None:
        return None
    factor = np.ones(3)
    base = getattr(mat, "baseColorFactor", None)
    if base is not None:
        factor = np.asarray(base, dtype=np.float64)[:3] / (255.0 if np.max(base) > 1.0 else 1.0)
    img = getattr(mat, "baseColorTexture", None) or getattr(mat, "image", None)
    if img is not None:
        try:
            small = img.convert("RGB").resize((16, 16))
            return np.asarray(small, dtype=np.float64).reshape(-1, 3).mean(axis=0) / 255.0 * factor
        except Exception:  # noqa: BLE001 - an undecodable texture: fall back to the factor
            pass
    main = getattr(mat, "main_color", None)
    if base is None and main is not None:
        return np.asarray(main, dtype=np.float64)[:3] / 255.0
    return factor


def unique_descriptions(descriptions: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for d in descriptions:
        n = seen.get(d, 0) + 1
        seen[d] = n
        out.append(d if n == 1 else f"{d} {n}")
    # a generated "x 2" may collide with an original "x 2": keep adding until unique
    taken: set[str] = set()
    final = []
    for d in out:
        k, cand = 2, d
        while cand in taken:
            cand, k = f"{d} {k}", k + 1
        taken.add(cand)
        final.append(cand)
    return final


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "item"


def mesh_colour(path: Path) -> tuple[float, float, float, float] | None:
    return mean_colour(str(Path(path).resolve()))
