"""When does the simulated gripper hold an object? A geometric rule instead of a friction simulation.

When the gripper closes, the object counts as grasped if and only if, at the pose where the fingers start
closing (the current opening):

1. the object lies between the fingertip pads: some of its surface points are inside the box spanned by the
   two pads (along the approach axis and across the pad width, between the pads' inner faces);
2. it fits: where it overlaps the pads' slab, its extent along the closing axis is within the opening (no
   pad is inside the object) and at least `min_width_m` (5 mm); material separated from what is between the
   pads by at least 1.5 cm of empty space (a bowl's far wall when a finger is inside it, at its rim) does
   not count;
3. the fingers touch nothing else: no finger or fingertip collision shape penetrates another object, a
   receptacle or a wall.

The fingers then stop at the object's width and the object is welded kinematically to the grasp centre
(its pose relative to the gripper is frozen until release). Opening the gripper releases it; physics takes
over and the world steps until it comes to rest.

Differences from a real Stretch gripper: no slip, no pad friction or compliance (a 5 kg object would be held
as firmly as a 50 g one), no squeezing or re-centring of the object as the fingers close, and objects are
tested by sampled surface points (about 1 point per 0.5 cm^2) so a sliver thinner than the sample spacing can
be missed. Finger contact during closing is checked on the URDF's box collision shapes of the fingers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import mujoco
import numpy as np

from sim.config import SimConfig
from sim.mujoco.stretch_model import FINGERTIP_LINKS
from sim.mujoco.world_build import ROBOT_PREFIX
from sim.protocol import GraspCheck

MIN_WIDTH_M = 0.005
_FIT_TOL_M = 0.003
_FINGER_GAP_M = 0.015  # empty space along the closing axis wide enough for a fingertip (pad + shaft)


class MujocoGripperWorld(Protocol):
    """What the rule reads from the MuJoCo world (sim.mujoco.world.SimWorld, which calls the rule)."""

    model: mujoco.MjModel
    data: mujoco.MjData
    config: SimConfig
    finger_geoms: np.ndarray
    robot_geom_mask: np.ndarray

    def T_world_grasp(self) -> np.ndarray: ...  # noqa: N802
    def contacts(self) -> tuple[np.ndarray, np.ndarray]: ...
    def held_object(self) -> str | None: ...
    def object_ids(self) -> list[str]: ...
    def object_geoms(self, object_id: str) -> np.ndarray: ...
    def object_points_world(self, object_id: str) -> np.ndarray: ...


@dataclass(frozen=True)
class PadRegion:
    """The box between the fingertip pads in the grasp frame (x approach, y closing, z across the pads)."""

    x: tuple[float, float]
    y: tuple[float, float]  # (right pad inner face, left pad inner face)
    z: tuple[float, float]

    @property
    def opening_m(self) -> float:
        return self.y[1] - self.y[0]


def _geom_vertices_world(model: mujoco.MjModel, data: mujoco.MjData, gid: int) -> np.ndarray:
    R = data.geom_xmat[gid].reshape(3, 3)
    if model.geom_type[gid] == mujoco.mjtGeom.mjGEOM_MESH:
        mid = model.geom_dataid[gid]
        v = model.mesh_vert[model.mesh_vertadr[mid]: model.mesh_vertadr[mid] + model.mesh_vertnum[mid]]
    else:
        s = model.geom_size[gid]
        v = np.array([[x, y, z] for x in (-s[0], s[0]) for y in (-s[1], s[1]) for z in (-s[2], s[2])])
    return v @ R.T + data.geom_xpos[gid]


def pad_region(world: MujocoGripperWorld) -> PadRegion:
    """The region between the pads at the gripper's current opening."""
    m, d = world.model, world.data
    T = world.T_world_grasp()
    boxes = []
    for link in FINGERTIP_LINKS:
        b = m.body(ROBOT_PREFIX + link).id
        gids = [g for g in world.finger_geoms if m.geom_bodyid[g] == b]
        v = np.vstack([_geom_vertices_world(m, d, g) for g in gids])
        boxes.append((v - T[:3, 3]) @ T[:3, :3])
    left, right = boxes  # FINGERTIP_LINKS order: left pad on +y, right pad on -y
    x = (max(left[:, 0].min(), right[:, 0].min()), min(left[:, 0].max(), right[:, 0].max()))
    z = (max(left[:, 2].min(), right[:, 2].min()), min(left[:, 2].max(), right[:, 2].max()))
    return PadRegion(x=x, y=(float(right[:, 1].max()), float(left[:, 1].min())), z=z)


def check_grasp(world: MujocoGripperWorld, min_width_m: float = MIN_WIDTH_M) -> GraspCheck:
    """Apply the rule at the current gripper pose and opening (call it before the fingers close)."""
    region = pad_region(world)
    if region.opening_m < min_width_m:
        return GraspCheck(None, 0.0, "the gripper is not open")
    T = world.T_world_grasp()
    best: tuple[int, str, np.ndarray] | None = None
    for oid in world.object_ids():
        if oid == world.held_object():
            continue
        p = (world.object_points_world(oid) - T[:3, 3]) @ T[:3, :3]
        slab = p[(p[:, 0] >= region.x[0]) & (p[:, 0] <= region.x[1]) & (p[:, 2] >= region.z[0]) & (p[:, 2] <= region.z[1])]
        inside = int(np.count_nonzero((slab[:, 1] >= region.y[0]) & (slab[:, 1] <= region.y[1])))
        if inside and (best is None or inside > best[0]):
            best = (inside, oid, slab)
    if best is None:
        return GraspCheck(None, 0.0, "nothing between the fingertip pads")
    _, oid, slab = best
    lo, hi, beyond = _held_span(slab[:, 1], region)
    width = hi - lo
    if lo < region.y[0] - _FIT_TOL_M or hi > region.y[1] + _FIT_TOL_M:
        if width > region.opening_m + _FIT_TOL_M:
            why = f"is wider ({width * 100:.1f} cm) than the opening ({region.opening_m * 100:.1f} cm)"
        else:
            why = "is not centred between the pads (a pad would be inside it)"
        return GraspCheck(None, width, f"object {oid} {why}")
    if width < min_width_m:
        return GraspCheck(None, width, f"object {oid} is thinner than {min_width_m * 1000:.0f} mm between the pads")
    blocker = finger_contact(world, ignore_object=None if beyond else oid)
    if blocker:
        return GraspCheck(None, width, f"a finger is in collision: {blocker}")
    return GraspCheck(oid, width, f"object {oid} is between the pads ({width * 100:.1f} cm wide)")


def _held_span(y: np.ndarray, region: PadRegion) -> tuple[float, float, bool]:
    """Extent along the closing axis of the material between the pads, and of material joined to it;
    material beyond a gap of at least `_FINGER_GAP_M` (room for a finger: the far wall of a bowl held by its
    rim) is not between the pads (third value True when some was left out; then rule 3 also checks the
    fingers against the object itself: the gap must be empty, not the inside of a solid)."""
    ys = np.sort(y)
    breaks = np.nonzero(np.diff(ys) >= _FINGER_GAP_M)[0]
    runs = np.split(ys, breaks + 1)
    keep = [r for r in runs if r[-1] >= region.y[0] - _FIT_TOL_M and r[0] <= region.y[1] + _FIT_TOL_M]
    if not keep:  # cannot happen when some points are between the pads; be safe
        keep = runs
    return float(min(r[0] for r in keep)), float(max(r[-1] for r in keep)), len(keep) < len(runs)


def finger_contact(world: MujocoGripperWorld, ignore_object: str | None = None) -> str | None:
    """Describe a finger/fingertip penetrating anything (except `ignore_object`), or None."""
    m = world.model
    g, dist = world.contacts()
    if len(g) == 0:
        return None
    finger = np.zeros(m.ngeom, dtype=bool)
    finger[world.finger_geoms] = True
    ignore = np.zeros(m.ngeom, dtype=bool)
    ignore[world.robot_geom_mask] = True
    if ignore_object is not None:
        ignore[world.object_geoms(ignore_object)] = True
    held = world.held_object()
    if held is not None:
        ignore[world.object_geoms(held)] = True
    hit = ((finger[g[:, 0]] & ~ignore[g[:, 1]]) | (finger[g[:, 1]] & ~ignore[g[:, 0]])) & (dist < -world.config.contact_tol_m)
    if not hit.any():
        return None
    k = int(np.nonzero(hit)[0][np.argmin(dist[hit])])
    other = g[k, 1] if finger[g[k, 0]] else g[k, 0]
    return f"it touches {m.geom(other).name or 'scene geometry'}"
