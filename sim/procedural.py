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

from sim.scene_fields import SceneError

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
