"""Habitat articulated-object URDFs -> static receptacle geometry (used by sim.scene.habitat).

Every link's visual .glb becomes a "visual" mesh part and every collision box a "collision" box part, posed
with the URDF joint origins at joint position 0 (doors and drawers closed). Habitat loads URDFs in its
y-up world; we turn that into our z-up frame, rotate the body so its boxes are axis-aligned, turn the
front (doors/drawers) towards -y, and move the frame to the footprint centre on the floor. Support
surfaces are the exposed tops of flat collision boxes between 0.25 and 1.25 m (no geometry above).
"""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from core.geometry import R_to_quat_xyzw, make_T, rot_x, rot_z, rpy_to_R
from sim.scene.fields import SceneError
from sim.scene.mesh_io import load_mesh_file
from sim.scene.spec import PartSpec, SurfaceSpec

# Habitat world (y up, -z front) -> ours (z up): (x, y, z) -> (x, -z, y)
R_HAB_TO_ZUP = rot_x(math.pi / 2)

# The side with the doors/drawers, in the axis-aligned z-up frame, for the test assets (default "-y").
KNOWN_FRONTS = {"kitchen_counter": "+x", "fridge": "+x", "cabinet": "-y"}
_FRONT_YAW = {"-y": 0.0, "+x": -math.pi / 2, "+y": math.pi, "-x": math.pi / 2}


def _floats(text: str | None, n: int, default: float = 0.0) -> np.ndarray:
    if text is None:
        return np.full(n, default)
    vals = [float(v) for v in text.replace(",", " ").split()]
    if len(vals) != n:
        raise ValueError(f"expected {n} numbers, got {text!r}")
    return np.array(vals)


def _origin(el: ET.Element | None) -> np.ndarray:
    o = el.find("origin") if el is not None else None
    if o is None:
        return np.eye(4)
    return make_T(rpy_to_R(*_floats(o.get("rpy"), 3)), _floats(o.get("xyz"), 3))


def _joint_motion(j: ET.Element, q: float) -> np.ndarray:
    """The transform a revolute/continuous/prismatic joint adds at position q (identity otherwise)."""
    kind = j.get("type", "fixed")
    if q == 0.0 or kind not in ("revolute", "continuous", "prismatic"):
        return np.eye(4)
    axis = j.find("axis")
    a = _floats(axis.get("xyz") if axis is not None else None, 3, 0.0) if axis is not None else np.array([1.0, 0.0, 0.0])
    n = float(np.linalg.norm(a))
    if n < 1e-9:
        raise ValueError(f"joint {j.get('name')!r} has a zero axis")
    a = a / n
    if kind == "prismatic":
        return make_T(t=a * q)
    K = np.array([[0, -a[2], a[1]], [a[2], 0, -a[0]], [-a[1], a[0], 0]])  # noqa: N806
    return make_T(np.eye(3) + math.sin(q) * K + (1 - math.cos(q)) * K @ K)


def _link_poses(root: ET.Element, joint_positions: dict[str, float] | None = None) -> dict[str, np.ndarray]:
    """T_root_link for every link, joints at `joint_positions` (by joint name; others at 0)."""
    children = {j.find("child").get("link"): j for j in root.findall("joint")}  # type: ignore[union-attr]
    poses: dict[str, np.ndarray] = {}
    qs = joint_positions or {}

    def pose(link: str, depth: int = 0) -> np.ndarray:
        if link in poses:
            return poses[link]
        if depth > 64:
            raise ValueError("joint tree too deep or cyclic")
        j = children.get(link)
        T = np.eye(4) if j is None else (pose(j.find("parent").get("link"), depth + 1) @ _origin(j)  # type: ignore[union-attr]
                                         @ _joint_motion(j, float(qs.get(j.get("name", ""), 0.0))))
        poses[link] = T
        return T

    for link in root.findall("link"):
        pose(link.get("name", ""))
    return poses


def urdf_joint_names(urdf_path: Path) -> list[str]:
    """Names of the movable joints in file order (the order of a scene instance's joint-pose list)."""
    try:
        root = ET.parse(urdf_path).getroot()
    except (ET.ParseError, OSError) as exc:
        raise SceneError(f"cannot read URDF {urdf_path}: {exc}") from None
    return [j.get("name", "") for j in root.findall("joint") if j.get("type") in ("revolute", "continuous", "prismatic")]


def urdf_root_geometry(urdf_path: Path, joint_positions: dict[str, float] | None = None
                       ) -> tuple[list[tuple[Path, np.ndarray, np.ndarray]], list[tuple[np.ndarray, np.ndarray]]]:
    """([(visual mesh, T_root_visual, scale)], [(T_root_box, size)]) in the URDF root frame (as Habitat loads it)."""
    try:
        root = ET.parse(urdf_path).getroot()
        poses = _link_poses(root, joint_positions)
        visuals, boxes = [], []
        for link in root.findall("link"):
            T_link = poses[link.get("name", "")]
            for v in link.findall("visual"):
                mesh = v.find("geometry/mesh")
                if mesh is not None:
                    visuals.append((urdf_path.parent / mesh.get("filename", ""), T_link @ _origin(v),
                                    _floats(mesh.get("scale"), 3, 1.0)))
            for c in link.findall("collision"):
                box = c.find("geometry/box")
                if box is not None:
                    boxes.append((T_link @ _origin(c), _floats(box.get("size"), 3)))
    except (ET.ParseError, ValueError, AttributeError, OSError) as exc:
        raise SceneError(f"cannot read URDF {urdf_path}: {exc}") from None
    return visuals, boxes


def urdf_receptacle_geometry(urdf_path: Path, rgba=(0.75, 0.75, 0.75, 1.0)
                             ) -> tuple[tuple[PartSpec, ...], tuple[SurfaceSpec, ...], tuple[float, float, float]]:
    """(parts, surfaces, footprint size (sx, sy, height)) of a URDF as static furniture (receptacle frame)."""
    visuals, boxes = urdf_root_geometry(urdf_path)
    if not visuals:
        raise SceneError(f"URDF {urdf_path} has no visual meshes")
    Z = make_T(R_HAB_TO_ZUP)  # noqa: N806
    # align: the first collision box's (else the first visual's) x axis with our x, to a multiple of 90 deg
    R_ref = (Z @ (boxes[0][0] if boxes else visuals[0][1]))[:3, :3]  # noqa: N806
    a = math.atan2(R_ref[1, 0], R_ref[0, 0]) if abs(R_ref[2, 0]) < 0.9 else 0.0
    front = KNOWN_FRONTS.get(urdf_path.stem, "-y")
    A = make_T(rot_z(_FRONT_YAW[front] - a)) @ Z  # noqa: N806
    pts = []
    for path, T, scale in visuals:
        if not path.is_file():
            raise SceneError(f"URDF {urdf_path} names mesh {path.name}, which does not exist")
        v = np.asarray(load_mesh_file(path, scale).vertices)
        pts.append(v @ (A @ T)[:3, :3].T + (A @ T)[:3, 3])
    allp = np.vstack(pts)
    lo, hi = allp.min(axis=0), allp.max(axis=0)
    A = make_T(t=[-(lo[0] + hi[0]) / 2, -(lo[1] + hi[1]) / 2, -lo[2]]) @ A  # noqa: N806
    parts: list[PartSpec] = []
    for path, T, scale in visuals:
        M = A @ T  # noqa: N806
        parts.append(PartSpec("mesh", tuple(np.round(M[:3, 3], 6)), mesh=str(path.resolve()),
                              scale=tuple(float(s) for s in scale), quat_xyzw=_q(M[:3, :3]), rgba=rgba, role="visual"))
    box_world = []
    for T, size in boxes:
        M = A @ T  # noqa: N806
        parts.append(PartSpec("box", tuple(np.round(M[:3, 3], 6)), size=tuple(float(s) for s in size),
                              quat_xyzw=_q(M[:3, :3]), rgba=rgba, role="collision"))
        ext = np.abs(M[:3, :3]) @ size  # world-axis extents of the (axis-aligned after snapping) box
        box_world.append((M[:3, 3] - ext / 2, M[:3, 3] + ext / 2))
    surfaces = support_surfaces_of_boxes(box_world)
    return tuple(parts), tuple(surfaces), (float(hi[0] - lo[0]), float(hi[1] - lo[1]), float(hi[2] - lo[2]))


def _q(R: np.ndarray) -> tuple[float, float, float, float]:  # noqa: N803
    return tuple(float(round(v, 6)) for v in R_to_quat_xyzw(R))  # type: ignore[return-value]


def _overlap_area(alo, ahi, blo, bhi) -> float:
    dx = min(ahi[0], bhi[0]) - max(alo[0], blo[0])
    dy = min(ahi[1], bhi[1]) - max(alo[1], blo[1])
    return max(0.0, dx) * max(0.0, dy)


def support_surfaces_of_boxes(boxes: list[tuple[np.ndarray, np.ndarray]], z_range=(0.25, 1.25), min_area=0.05,
              z_tol=0.005, clearance=0.3) -> list[SurfaceSpec]:
    """Tops of flat boxes in `z_range` that no other box covers (within `clearance` above, > 5% of the area)."""
    out = []
    for i, (lo, hi) in enumerate(boxes):
        size = hi - lo
        top, area = hi[2], size[0] * size[1]
        if size[2] > 0.1 or not z_range[0] <= top <= z_range[1] or area < min_area:
            continue
        covered = sum(_overlap_area(lo, hi, blo, bhi) for j, (blo, bhi) in enumerate(boxes)
                      if j != i and bhi[2] > top + z_tol and blo[2] < top + clearance)
        if covered > 0.05 * area:
            continue
        c = (lo + hi) / 2
        out.append(SurfaceSpec((round(float(c[0]), 4), round(float(c[1]), 4), round(float(top), 4)),
                               (round(float(size[0]) - 0.04, 4), round(float(size[1]) - 0.04, 4))))
    return out
