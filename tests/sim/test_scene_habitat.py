"""Habitat test assets -> SceneSpec: z-up conversion, floor at z = 0, URDF furniture, objects at rest."""

from __future__ import annotations

import numpy as np
import pytest

from core.geometry import quat_xyzw_to_R
from sim.scene.generator import check_navigable
from sim.scene.habitat import HabitatSceneConfig, asset_to_zup, load_habitat_scene
from sim.scene.objects import load_mesh_file, load_object_mesh
from sim.scene.spec import SceneError, SceneSpec


@pytest.fixture(scope="module")
def habitat_scene(shared_data) -> SceneSpec:
    return load_habitat_scene(shared_data / "scenes" / "habitat_test_assets", HabitatSceneConfig(extra_objects=3))


def test_habitat_axes():
    R = asset_to_zup(np.array([0.0, 1.0, 0.0]), np.array([0.0, 0.0, -1.0]))  # Habitat's default
    assert np.allclose(R @ [0, 1, 0], [0, 0, 1]) and np.allclose(R @ [0, 0, -1], [0, 1, 0])
    assert np.isclose(np.linalg.det(R), 1.0)
    assert np.allclose(asset_to_zup(np.array([0.0, 0.0, 1.0]), np.array([0.0, 1.0, 0.0])), np.eye(3))


def test_simple_room_converts(habitat_scene, tmp_path):
    s = habitat_scene
    assert len(s.stages) == 1 and s.stages[0].mesh.endswith("simple_room.glb")
    stage = s.stages[0]
    mesh = load_mesh_file(stage.mesh, stage.scale)
    v = np.asarray(mesh.vertices) @ quat_xyzw_to_R(stage.quat_xyzw).T + np.asarray(stage.pos)
    assert -0.3 < v[:, 2].min() < 0.0 and 1.8 < v[:, 2].max() < 2.5  # z up, floor top at z = 0
    xmin, ymin, xmax, ymax = s.bounds_xy()
    assert 9.0 < xmax - xmin < 12.0 and 9.0 < ymax - ymin < 12.0
    assert {r.id for r in s.receptacles} == {"kitchen_counter", "fridge", "cabinet"}
    counter = s.receptacle("kitchen_counter")
    assert any(0.8 < surf.pos[2] < 0.95 for surf in counter.surfaces)
    assert {p.role for p in counter.parts} == {"visual", "collision"}
    fridge = s.receptacle("fridge")
    zs = [np.asarray(load_mesh_file(p.mesh, p.scale).vertices) @ quat_xyzw_to_R(p.quat_xyzw).T + p.pos
          for p in fridge.parts if p.type == "mesh"]
    allz = np.vstack(zs)[:, 2]
    assert allz.min() == pytest.approx(0.0, abs=0.01) and 1.7 < allz.max() < 2.1  # standing upright
    assert check_navigable(s) is None
    s.save(tmp_path / "h.json")
    assert SceneSpec.load(tmp_path / "h.json").to_json() == s.to_json()


def test_habitat_objects_rest(habitat_scene):
    s = habitat_scene
    chair = s.object("chair_0")
    v = np.asarray(load_object_mesh(chair, None).vertices) @ quat_xyzw_to_R(chair.quat_xyzw).T + chair.position
    assert v[:, 2].min() == pytest.approx(0.0, abs=0.01) and 0.8 < v[:, 2].max() < 1.0  # upright chair
    donut = s.object("donut_0")
    v = np.asarray(load_object_mesh(donut, None).vertices) @ quat_xyzw_to_R(donut.quat_xyzw).T + donut.position
    tops = [surf.pos[2] for surf in s.receptacle(donut.on).surfaces]
    assert min(abs(v[:, 2].min() - t) for t in tops) < 0.01 and np.ptp(v[:, 2]) < 0.1  # lying flat
    assert len(s.objects) == 2 + 3


def test_missing_assets(tmp_path):
    with pytest.raises(SceneError, match="not found"):
        load_habitat_scene(tmp_path / "nope")
    with pytest.raises(SceneError, match="cannot read Habitat config"):
        load_habitat_scene(tmp_path)
