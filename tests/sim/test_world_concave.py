"""Hollow objects (bowls, plates, cups, mugs) collide as convex parts: their interior is empty."""

from __future__ import annotations

import json
import math
from dataclasses import replace

import mujoco
import numpy as np
import pytest
import trimesh

import sim.mujoco.world_build as world_build
from sim.mujoco.collision_parts import cache_path_for, has_open_top, mesh_parts, object_collision_parts
from sim.mujoco.grasp_rule import check_grasp
from sim.mujoco.stretch_model import GROUP_COLLISION
from sim.mujoco.world import SimWorld
from sim.robot import SimRobot
from sim.scene.objects import load_mesh_file
from sim.scene.spec import SceneSpec
from tests.sim.world_fixtures import EXAMPLE_SCENE, top_grasp_pose

TABLE_TOP = 0.75
BOWL = {"kind": "bowl", "radius": 0.075, "height": 0.05}  # wall 4 mm (procedural default)
BOWL_XY = (2.25, 3.1)


def _scene(objects: list[dict]) -> SceneSpec:
    d = json.loads(EXAMPLE_SCENE.read_text())
    d["objects"] = [{"label": o["id"], "description": o["id"] + " thing", "mesh": None, "procedural": None,
                     "scale": 1.0, "rgba": [0.5, 0.5, 0.5, 1.0], "mass": 0.2, "quat_xyzw": [0, 0, 0, 1],
                     "on": "kitchen_table", "instance_id": 2 + i, **o} for i, o in enumerate(objects)]
    return SceneSpec.from_dict(d)


def _ray(world: SimWorld, start: np.ndarray, direction: np.ndarray, collision_only: bool) -> float:
    """Distance to the first surface hit (collision parts only, or drawn geoms only); -1 if none."""
    groups = np.zeros(6, dtype=np.uint8)
    groups[GROUP_COLLISION if collision_only else 0] = 1
    geomid = np.array([-1], dtype=np.int32)
    return mujoco.mj_ray(world.model, world.data, np.asarray(start, float), np.asarray(direction, float), groups, 1,
                         -1, geomid)


def _ray_down(world: SimWorld, x: float, y: float, collision_only: bool = True) -> float:
    """Height of the first surface hit by a vertical ray from 1.5 m; -1 if none."""
    dist = _ray(world, np.array([x, y, 1.5]), np.array([0.0, 0.0, -1.0]), collision_only)
    return 1.5 - dist if dist >= 0 else -1.0


@pytest.fixture(scope="module")
def bowl_world():
    """A procedural bowl on the table and a 2.5 cm cube dropped into it from above the rim."""
    world = SimWorld(_scene([
        {"id": "bowl", "procedural": BOWL, "position": [*BOWL_XY, TABLE_TOP]},
        {"id": "cube", "procedural": {"kind": "box", "size_x": 0.025, "size_y": 0.025, "size_z": 0.025},
         "mass": 0.05, "position": [BOWL_XY[0] + 0.01, BOWL_XY[1], TABLE_TOP + 0.07]},
    ]))
    yield world
    world.close()


def test_bowl_collision_parts_leave_its_interior_empty(bowl_world):
    world = bowl_world
    assert len(world.object_geoms("bowl")) > 10  # visual geom + parts
    lo, hi = world.object_aabb("bowl")
    cx, cy = 0.5 * (lo[:2] + hi[:2])
    # Inside the bowl (away from the cube, which rests near the centre) a ray reaches the inner floor or the
    # lower inner wall, not the rim: with the convex hull it would stop at the top.
    for ang in np.linspace(0.5, 2 * math.pi - 0.5, 5):
        for r in (0.03, 0.045):
            z = _ray_down(world, cx + r * math.cos(ang), cy + r * math.sin(ang))
            assert lo[2] < z < lo[2] + 0.02, (ang, r, z - lo[2])
    # The collision wall follows the drawn inner wall (horizontal rays from the axis) within 3 mm.
    vis = world.model.geom("obj/bowl").id
    for ang in np.linspace(0.0, 2 * math.pi, 13)[:-1] + 0.05:
        for dz in (0.01, 0.025, 0.04):
            d = np.array([math.cos(ang), math.sin(ang), 0.0])
            start = np.array([cx, cy, lo[2] + dz])
            r_col = _ray(world, start, d, True)
            r_vis = mujoco.mj_rayMesh(world.model, world.data, vis, start, d)
            assert r_vis > 0 and abs(r_col - r_vis) < 0.003, (ang, dz, r_col, r_vis)


def test_cube_dropped_into_the_bowl_rests_inside_below_the_rim(bowl_world):
    world = bowl_world
    blo, bhi = world.object_aabb("bowl")
    clo, chi = world.object_aabb("cube")
    assert clo[2] < bhi[2] - 0.03  # near the bowl's floor, not on a hull over the opening
    assert clo[2] > blo[2] + 0.003  # not through the floor
    c = world.object_center("cube")[:2]
    assert np.linalg.norm(c - 0.5 * (blo[:2] + bhi[:2])) < 0.04
    assert world.surface_under("bowl") == "kitchen_table"
    assert abs(blo[2] - TABLE_TOP) < 0.003
    assert world.object_pose("bowl")[2, 2] > 0.999  # upright


def test_hollow_kinds_get_parts_and_solid_ones_keep_their_hull():
    spec = _scene([{"id": "bowl", "procedural": BOWL, "position": [*BOWL_XY, TABLE_TOP]},
                   {"id": "mug", "procedural": {"kind": "mug"}, "position": [1.8, 3.0, TABLE_TOP]},
                   {"id": "can", "procedural": {"kind": "can"}, "position": [2.5, 3.0, TABLE_TOP]}])
    from sim.scene.objects import load_object_mesh
    n = {o.id: object_collision_parts(o, load_object_mesh(o)) for o in spec.objects}
    assert n["can"] is None
    assert len(n["bowl"]) == 1 + 3 * 12 and len(n["mug"]) == 1 + 12 + 1
    # Parts stay within the drawn mesh's bounds (1 mm), so AABB, grasp points and is_on are unchanged.
    for oid in ("bowl", "mug"):
        mesh = load_object_mesh(spec.object(oid))
        v = np.vstack(n[oid])
        assert np.all(v.min(axis=0) >= mesh.bounds[0] - 0.001) and np.all(v.max(axis=0) <= mesh.bounds[1] + 0.001)


def _rim_grasp_descent(world: SimWorld, robot: SimRobot):
    """Put the open gripper (5 cm) 8 cm above the bowl's wall, pointing down, closing axis radial, and
    lower it until the fingertips are 2.5 cm below the rim (one finger inside the bowl, one outside)."""
    lo, hi = world.object_aabb("bowl")
    centre = np.array([*(0.5 * (lo[:2] + hi[:2])), hi[2] - 0.025])
    world.set_robot_state(*top_grasp_pose(centre, theta=math.pi, arm_m=0.45, gripper_m=0.05))
    closing = world.T_world_grasp()[:3, 1]
    target = centre + np.array([*(closing[:2] / np.linalg.norm(closing[:2]) * 0.066), 0.0])
    base, joints = top_grasp_pose(target, theta=math.pi, arm_m=0.45, gripper_m=0.05)
    world.set_robot_state(base, replace(joints, lift_m=joints.lift_m + 0.08))
    assert world.robot_contact() is None
    return robot.move_arm(lift_m=joints.lift_m), joints


def test_rim_grasp_on_the_bowl_holds_it():
    world = SimWorld(_scene([{"id": "bowl", "procedural": BOWL, "position": [*BOWL_XY, TABLE_TOP]}]))
    try:
        with SimRobot(world) as robot:
            res, joints = _rim_grasp_descent(world, robot)
            assert res.success, res.reason
            check = check_grasp(world)
            assert check.ok and check.object_id == "bowl", check.reason
            assert check.width_m < 0.02  # the wall, not the bowl
            assert robot.set_gripper(0.0).success
            assert world.held_object() == "bowl"
            z0 = world.object_pose("bowl")[2, 3]
            assert robot.move_arm(lift_m=joints.lift_m + 0.1).success
            assert world.object_pose("bowl")[2, 3] == pytest.approx(z0 + 0.1, abs=0.005)
    finally:
        world.close()


def test_with_the_convex_hull_the_rim_grasp_descent_is_blocked(monkeypatch):
    """The contrast: with the old hull collision the inner finger hits the bowl's solid hull."""
    monkeypatch.setattr(world_build, "object_collision_parts", lambda *a, **k: None)
    world = SimWorld(_scene([{"id": "bowl", "procedural": BOWL, "position": [*BOWL_XY, TABLE_TOP]}]))
    try:
        with SimRobot(world) as robot:
            res, _ = _rim_grasp_descent(world, robot)
            assert not res.success and "object bowl" in res.reason
    finally:
        world.close()


def test_ycb_bowl_and_plate_are_decomposed_cached_and_settle(shared_data, tmp_path, monkeypatch):
    monkeypatch.setenv("OVMM_CACHE_DIR", str(tmp_path))
    ycb = shared_data / "objects" / "ycb"
    names = {"bowl": "024_bowl", "plate": "029_plate", "can": "005_tomato_soup_can"}
    if not all((ycb / f"{n}.stl").is_file() for n in names.values()):
        pytest.skip("YCB meshes not in the shared data")
    meshes = {k: load_mesh_file(ycb / f"{n}.stl") for k, n in names.items()}
    assert has_open_top(meshes["bowl"]) and has_open_top(meshes["plate"]) and not has_open_top(meshes["can"])
    parts = mesh_parts(meshes["bowl"])
    assert cache_path_for(meshes["bowl"]).is_file()
    again = mesh_parts(meshes["bowl"])  # from the cache, identical
    assert len(parts) == len(again) and all(np.array_equal(a, b) for a, b in zip(parts, again, strict=True))
    fresh = mesh_parts(meshes["bowl"], use_cache=False)  # deterministic
    assert all(np.array_equal(a, b) for a, b in zip(parts, fresh, strict=True))

    objs = []
    for oid, x in (("bowl", 1.75), ("plate", 2.2)):
        m = meshes[oid]
        c = 0.5 * (m.bounds[0] + m.bounds[1])
        objs.append({"id": oid, "mesh": str(ycb / f"{names[oid]}.stl"),
                     "position": [x - c[0], 3.0 - c[1], TABLE_TOP - m.bounds[0][2] + 0.002]})
    world = SimWorld(_scene(objs))
    try:
        for oid in ("bowl", "plate"):
            assert len(world.object_geoms(oid)) > 10
            assert world.is_on(oid, "kitchen_table"), oid
            assert world.object_pose(oid)[2, 2] > 0.995  # did not tip
            lo, hi = world.object_aabb(oid)
            assert abs(lo[2] - TABLE_TOP) < 0.006
            assert np.linalg.norm(world.settled_poses[oid][:2, 3] - np.array(objs[0 if oid == "bowl" else 1]["position"][:2])) < 0.01
        # The YCB bowl's interior is empty too: a ray near its centre reaches its floor.
        lo, hi = world.object_aabb("bowl")
        cx, cy = 0.5 * (lo[:2] + hi[:2])
        assert _ray_down(world, cx + 0.02, cy) < lo[2] + 0.015
    finally:
        world.close()


def test_revolved_parts_are_convex_solids():
    from sim.mujoco.collision_parts import revolved_parts
    from sim.scene.procedural import procedural_collision_pieces
    for kind in ("cup", "mug", "bowl"):
        for p in revolved_parts(*procedural_collision_pieces({"kind": kind})):
            hull = trimesh.convex.convex_hull(p)
            assert hull.volume > 1e-8, kind
