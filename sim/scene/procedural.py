"""Procedural object meshes (cups, mugs, bowls, boxes, bottles, cans), fully determined by their params.

A scene stores an object's `procedural` dict (e.g. {"kind": "mug", "radius": 0.04, "height": 0.095}) and
every reader regenerates the identical mesh with `make_procedural_mesh`. Meshes are in metres, in the
object frame: z up, the bottom centre at the origin. Missing params take the defaults below.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import trimesh

from sim.scene.fields import SceneError

_SECTIONS = 32


def _revolve(profile_rz: list[tuple[float, float]]) -> trimesh.Trimesh:
    """Surface of revolution about z of a closed-to-the-axis (r, z) profile."""
    mesh = trimesh.creation.revolve(np.asarray(profile_rz, dtype=np.float64), sections=_SECTIONS)
    mesh.merge_vertices()
    mesh.fix_normals()
    return mesh


def _cup(radius: float = 0.035, height: float = 0.09, wall: float = 0.004, taper: float = 0.8) -> trimesh.Trimesh:
    rb = radius * taper
    return _revolve([(0.0, 0.0), (rb, 0.0), (radius, height), (radius - wall, height), (rb - wall, wall), (0.0, wall)])


def _mug(radius: float = 0.04, height: float = 0.095, wall: float = 0.005, handle: float = 0.03) -> trimesh.Trimesh:
    body = _cup(radius=radius, height=height, wall=wall, taper=1.0)
    tube = min(0.006, handle / 4)
    major = handle / 2 + tube
    # A vertical ring in the x-z plane, centred just outside the wall at mid height (+x side).
    T = np.eye(4)
    T[:3, :3] = trimesh.transformations.rotation_matrix(math.pi / 2, [1, 0, 0])[:3, :3]
    T[:3, 3] = [radius + major - 2 * tube, 0.0, height * 0.5]
    ring = trimesh.creation.torus(major, tube, major_sections=24, minor_sections=8, transform=T)
    return trimesh.util.concatenate([body, ring])


def _bowl(radius: float = 0.075, height: float = 0.05, wall: float = 0.004) -> trimesh.Trimesh:
    rb = radius * 0.5
    prof = [(0.0, 0.0), (rb, 0.0)]
    for k in range(1, 7):  # outer curve
        a = k / 6 * math.pi / 2
        prof.append((rb + (radius - rb) * math.sin(a), height * (1 - math.cos(a))))
    prof.append((radius - wall, height))
    for k in range(5, 0, -1):  # inner curve
        a = k / 6 * math.pi / 2
        prof.append((rb - wall + (radius - rb) * math.sin(a), wall + (height - wall) * (1 - math.cos(a))))
    prof.append((0.0, wall))
    return _revolve(prof)


def _box(size_x: float = 0.06, size_y: float = 0.04, size_z: float = 0.1) -> trimesh.Trimesh:
    mesh = trimesh.creation.box(extents=(size_x, size_y, size_z))
    mesh.apply_translation((0.0, 0.0, size_z / 2))
    return mesh


def _bottle(radius: float = 0.03, height: float = 0.2, neck_radius: float = 0.012, neck: float = 0.05) -> trimesh.Trimesh:
    shoulder = height - neck
    return _revolve([(0.0, 0.0), (radius, 0.0), (radius, shoulder - 0.03), (neck_radius, shoulder),
                     (neck_radius, height), (0.0, height)])


def _can(radius: float = 0.033, height: float = 0.1) -> trimesh.Trimesh:
    return _revolve([(0.0, 0.0), (radius * 0.92, 0.0), (radius, 0.006), (radius, height - 0.006),
                     (radius * 0.92, height), (0.0, height)])


PROCEDURAL_KINDS: dict[str, Callable[..., trimesh.Trimesh]] = {
    "cup": _cup, "mug": _mug, "bowl": _bowl, "box": _box, "bottle": _bottle, "can": _can,
}


def make_procedural_mesh(params: dict) -> trimesh.Trimesh:
    """The mesh for a `procedural` dict; raises SceneError for an unknown kind or parameter."""
    params = dict(params)
    kind = params.pop("kind", None)
    fn = PROCEDURAL_KINDS.get(kind)  # type: ignore[arg-type]
    if fn is None:
        raise SceneError(f"unknown procedural object kind {kind!r} (known: {', '.join(sorted(PROCEDURAL_KINDS))})")
    allowed = set(fn.__code__.co_varnames[: fn.__code__.co_argcount])
    bad = sorted(set(params) - allowed)
    if bad:
        raise SceneError(f"procedural {kind!r} has unknown parameter(s) {', '.join(bad)} (allowed: {', '.join(sorted(allowed))})")
    for k, v in params.items():
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (0.0 < float(v) < 2.0):
            raise SceneError(f"procedural {kind!r} parameter {k!r} must be a number in (0, 2), got {v!r}")
    return fn(**{k: float(v) for k, v in params.items()})


# --- collision pieces of hollow kinds ------------------------------------------------------------------------
# A hollow object's convex hull fills its opening, so cups, mugs and bowls collide as a union of convex
# pieces built from the same parameters as their mesh (sim.mujoco.collision_parts revolves them into solids):
# a base polygon touching the axis (revolved whole: the bottom disc), wall polygons in the (r, z) half-plane
# (revolved in angular sectors: thin wall segments) and boxes (the mug's handle).

Profile = list[tuple[float, float]]
Box = tuple[tuple[float, float, float], tuple[float, float, float]]  # (centre, half extents), object frame


def _cup_pieces(radius: float = 0.035, height: float = 0.09, wall: float = 0.004, taper: float = 0.8
                ) -> tuple[Profile, list[Profile], list[Box]]:
    rb = radius * taper
    base = [(0.0, 0.0), (rb, 0.0), (rb - wall, wall), (0.0, wall)]
    return base, [[(rb, 0.0), (radius, height), (radius - wall, height), (rb - wall, wall)]], []


def _mug_pieces(radius: float = 0.04, height: float = 0.095, wall: float = 0.005, handle: float = 0.03
                ) -> tuple[Profile, list[Profile], list[Box]]:
    base, walls, _ = _cup_pieces(radius=radius, height=height, wall=wall, taper=1.0)
    tube = min(0.006, handle / 4)
    major = handle / 2 + tube
    x0, x1 = radius - wall / 2, radius + 2 * major - tube  # from inside the wall to the ring's outer edge
    box = (((x0 + x1) / 2, 0.0, height * 0.5), ((x1 - x0) / 2, tube, major + tube))
    return base, walls, [box]


def _bowl_pieces(radius: float = 0.075, height: float = 0.05, wall: float = 0.004
                 ) -> tuple[Profile, list[Profile], list[Box]]:
    rb = radius * 0.5

    def outer(k: int) -> tuple[float, float]:
        a = k / 6 * math.pi / 2
        return rb + (radius - rb) * math.sin(a), height * (1 - math.cos(a))

    def inner(k: int) -> tuple[float, float]:
        a = k / 6 * math.pi / 2
        return rb - wall + (radius - rb) * math.sin(a), wall + (height - wall) * (1 - math.cos(a))

    base = [(0.0, 0.0), (rb, 0.0), inner(0), (0.0, wall)]
    # Three wall bands (profile samples 0-2, 2-4, 4-6): the inner face's chords cut at most ~1.5 mm into
    # the opening; the middle outer sample keeps the curved outer face covered.
    walls = [[*(outer(k) for k in range(k0, k0 + 3)), *(inner(k) for k in range(k0 + 2, k0 - 1, -1))]
             for k0 in (0, 2, 4)]
    return base, walls, []


HOLLOW_KINDS: dict[str, Callable[..., tuple[Profile, list[Profile], list[Box]]]] = {
    "cup": _cup_pieces, "mug": _mug_pieces, "bowl": _bowl_pieces,
}


def procedural_collision_pieces(params: dict, scale: float = 1.0) -> tuple[Profile, list[Profile], list[Box]] | None:
    """(base profile, wall profiles, boxes) of a hollow procedural object, scaled; None for solid kinds.

    Parameters are validated as in `make_procedural_mesh` (call that first for a clear error)."""
    params = dict(params)
    fn = HOLLOW_KINDS.get(params.pop("kind", None))  # type: ignore[arg-type]
    if fn is None:
        return None
    base, walls, boxes = fn(**{k: float(v) for k, v in params.items()})
    s = float(scale)
    return ([(r * s, z * s) for r, z in base], [[(r * s, z * s) for r, z in w] for w in walls],
            [(tuple(c * s for c in ctr), tuple(h * s for h in half)) for ctr, half in boxes])  # type: ignore[misc]
