"""An `articulated_object_instances` entry (a URDF) of a Habitat scene -> a fixed furniture receptacle.

The URDF's visual meshes and collision boxes at the instance's `initial_joint_pose` (a list in joint
order, or a dict by joint name; other joints at 0) are posed in our z-up world, the receptacle frame is
the footprint's centre turned to the instance's yaw, and the support surfaces are the template's
`user_defined` receptacle volumes or meshes, else the tops of the collision boxes. `fixed_base: false` is
noted (the furniture stays fixed).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import numpy as np

from core.geometry import make_T, rot_z
from sim.habitat_dataset.attributes import SceneDataset
from sim.habitat_dataset.frames import yaw_and_tilt
from sim.habitat_dataset.furniture import FurnitureConfig
from sim.habitat_dataset.instances import instance_pose, num, quat_of
from sim.habitat_dataset.naming import GREY, label_from_name, label_from_user, mesh_colour
from sim.habitat_dataset.receptacle_volumes import receptacle_surfaces
from sim.scene.fields import SceneError
from sim.scene.habitat_urdf import (
    R_HAB_TO_ZUP,
    support_surfaces_of_boxes,
    urdf_joint_names,
    urdf_root_geometry,
)
from sim.scene.mesh_io import load_mesh_file
from sim.scene.spec import PartSpec, ReceptacleSpec


def articulated_receptacle(ds: SceneDataset, inst, ctx: str, unused: Counter, meta_of: Callable[[object], dict],
                           furniture: FurnitureConfig, shift) -> tuple[ReceptacleSpec, dict]:
    """The receptacle of articulated instance `inst` (`ctx` names it in errors) and its ovmm metadata (with
    its colour as `_rgba`); `unused` counts fields read but not converted, `meta_of` reads a user_defined
    block's ovmm metadata, `shift` moves Habitat's world onto our floor at z = 0."""
    if not isinstance(inst, dict) or not isinstance(inst.get("template_name"), str):
        raise SceneError(f"{ctx} must be an object with a string 'template_name'")
    t = ds.template("articulated_objects", inst["template_name"], f"{ctx[:-1]}.template_name'")
    urdf_rel = t.attrs.get("urdf_filepath")
    if not isinstance(urdf_rel, str):
        raise SceneError(f"{t.source} field 'urdf_filepath' must name the URDF file")
    urdf = (t.base_dir / urdf_rel).resolve()
    if not urdf.is_file():
        raise SceneError(f"{t.source} field 'urdf_filepath' names {urdf}, which does not exist")
    if inst.get("fixed_base") is False:
        unused["articulated_object_instances[].fixed_base=false (kept fixed)"] += 1
    names = urdf_joint_names(urdf)
    qs: dict[str, float] = {}
    jp = inst.get("initial_joint_pose")
    if isinstance(jp, list):
        if len(jp) > len(names):
            raise SceneError(f"{ctx} field 'initial_joint_pose' has {len(jp)} values, the URDF {urdf.name} "
                             f"has {len(names)} movable joints")
        qs = {n: num(v, f"{ctx} field 'initial_joint_pose'", positive=False) for n, v in zip(names, jp, strict=False)}
    elif isinstance(jp, dict):
        for n, v in jp.items():
            if n not in names:
                raise SceneError(f"{ctx} field 'initial_joint_pose' names joint {n!r}, which {urdf.name} lacks")
            qs[n] = num(v[0] if isinstance(v, list) and v else v, f"{ctx} field 'initial_joint_pose.{n}'", positive=False)
    elif jp is not None:
        raise SceneError(f"{ctx} field 'initial_joint_pose' must be a list or an object")
    tr, R, _ = instance_pose(inst, ctx, "asset_local")  # noqa: N806
    s = num(inst.get("uniform_scale", 1.0), f"{ctx} field 'uniform_scale'")
    visuals, boxes = urdf_root_geometry(urdf, qs)
    if not visuals and not boxes:
        raise SceneError(f"URDF {urdf} has no visual meshes or collision boxes")
    T = make_T(R @ R_HAB_TO_ZUP, tr + shift) @ np.diag([s, s, s, 1.0])  # noqa: N806  URDF root is in Habitat's frame
    yaw, _ = yaw_and_tilt(R)
    pts = []
    for path, Tv, sc in visuals:
        if not path.is_file():
            raise SceneError(f"URDF {urdf} names mesh {path.name}, which does not exist")
        v = np.asarray(load_mesh_file(path, sc).vertices)
        M = T @ Tv  # noqa: N806
        pts.append(v @ M[:3, :3].T + M[:3, 3])
    for Tb, size in boxes:  # noqa: N806
        M = T @ Tb  # noqa: N806
        corners = np.array([[x, y, z] for x in (-.5, .5) for y in (-.5, .5) for z in (-.5, .5)]) * size
        pts.append(corners @ M[:3, :3].T + M[:3, 3])
    allp = np.vstack(pts)
    A = rot_z(-yaw)  # noqa: N806
    loc = allp @ A.T
    lo, hi = loc.min(axis=0), loc.max(axis=0)
    cl = np.array([(lo[0] + hi[0]) / 2, (lo[1] + hi[1]) / 2, 0.0])
    F = make_T(t=-cl) @ make_T(A)  # noqa: N806  world -> receptacle frame
    meta = meta_of(inst.get("user_defined")) or meta_of(t.attrs.get("user_defined"))
    rgba = tuple(meta.get("rgba", mesh_colour(visuals[0][0]) if visuals else GREY) or GREY)
    parts: list[PartSpec] = []
    for path, Tv, sc in visuals:
        M = F @ T @ Tv  # noqa: N806
        ssc = np.linalg.norm(M[:3, :3], axis=0)
        parts.append(PartSpec("mesh", tuple(float(v) for v in np.round(M[:3, 3], 6)), mesh=str(path.resolve()),  # type: ignore[arg-type]
                              scale=tuple(float(a * b) for a, b in zip(sc, ssc, strict=True)), quat_xyzw=quat_of(M[:3, :3] / ssc),  # type: ignore[arg-type]
                              rgba=rgba, role="visual"))  # type: ignore[arg-type]
    box_world = []
    for Tb, size in boxes:  # noqa: N806
        M = F @ T @ Tb  # noqa: N806
        ssc = np.linalg.norm(M[:3, :3], axis=0)
        sz = size * ssc
        parts.append(PartSpec("box", tuple(float(v) for v in np.round(M[:3, 3], 6)), size=tuple(float(v) for v in sz),  # type: ignore[arg-type]
                              quat_xyzw=quat_of(M[:3, :3] / ssc), rgba=rgba, role="collision"))
        ext = np.abs(M[:3, :3] / ssc) @ sz
        box_world.append((M[:3, 3] - ext / 2, M[:3, 3] + ext / 2))
    surfaces = receptacle_surfaces(t, F @ T @ make_T(R_HAB_TO_ZUP.T), np.ones(3), ctx, furniture)
    if surfaces is None:
        surfaces = support_surfaces_of_boxes(box_world)
    label = meta.get("label") or label_from_user(t.attrs.get("user_defined") or {}) or label_from_name(t.name)
    cx, cy = rot_z(yaw)[:2, :2] @ cl[:2]
    pose = (round(float(cx), 6), round(float(cy), 6), round(float(yaw), 7))
    return ReceptacleSpec(meta.get("id", ""), 1, label, meta.get("description", ""), meta.get("room"), pose,
                          tuple(parts), tuple(surfaces)), {**meta, "_rgba": rgba}
