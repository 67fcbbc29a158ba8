"""Habitat scene datasets: habitat-sim's own dataset fixtures, the Habitat test assets in a dataset we write
here, malformed files, and a generated apartment exported and imported back."""

from __future__ import annotations

import json
import logging
import math
import shutil

import numpy as np
import pytest

from core.geometry import quat_xyzw_to_R, rot_z
from orchestrator.cli import main
from sim.habitat_dataset.attributes import SceneDataset
from sim.habitat_dataset.exporter import export_scene
from sim.habitat_dataset.frames import R_ZUP_FROM_HAB, asset_to_zup, quat_wxyz_to_R, rotation_angle_deg
from sim.habitat_dataset.importer import ImportConfig, import_scene
from sim.scene.fields import SceneError
from sim.scene.generator import generate_scene
from sim.scene.mesh_io import load_object_mesh
from sim.scene.spec import SceneSpec


@pytest.fixture(scope="module")
def fixtures(shared_data):
    return shared_data / "scenes" / "habitat_dataset_tests"


@pytest.fixture(scope="module")
def assets(shared_data):
    return shared_data / "scenes" / "habitat_test_assets"


# --- the dataset config -----------------------------------------------------------------------------------
def test_dataset_0_sections_globs_defaults_and_inheritance(fixtures):
    ds = SceneDataset.load(fixtures / "dataset_0" / "test_dataset_0.scene_dataset_config.json")
    stages = ds.section("stages")
    # ".glb" glob: the three glbs are stage templates, with the section's default origin
    glbs = [t for t in stages.values() if t.handle.endswith(".glb")]
    assert sorted(t.name for t in glbs) == ["glbload_test_stage0", "glbload_test_stage1", "glbload_test_stage2"]
    assert all(t.attrs["origin"] == [1.0, 2.0, 3.0] for t in glbs)
    # an inline config inherits its original_file and overrides it; the file's own origin beats the default
    mod = ds.template("stages", "modified_test_stage", "test")
    assert mod.attrs["render_asset"] == "dataset_test_stage.glb" and mod.attrs["origin"] == [0, 0, 0]
    assert mod.attrs["scale"] == [1, 1, 1] and mod.attrs["margin"] == 0.041
    assert (mod.base_dir / mod.attrs["render_asset"]).is_file()
    # a folder in `paths` stands for the config files in it; defaults apply under every file
    obj1 = ds.template("objects", "dataset_test_object1", "test")
    assert obj1.attrs["mass"] == 0.038 and obj1.attrs["inertia"] == [3, 2, 1]
    heavy = ds.template("objects", "modified_test_object1_1_slick_heavy", "test")
    assert heavy.attrs["mass"] == 3.5 and heavy.attrs["render_asset"] == "dataset_test_object1.glb"
    assert ds.template("objects", "dataset_test_object2", "test").attrs["mass"] == 10.0
    assert ds.scene_names() == ["dataset_test_scene"]


def test_dataset_0_scene_imports(fixtures):
    spec = import_scene(fixtures / "dataset_0" / "test_dataset_0.scene_dataset_config.json", "dataset_test_scene")
    # semantic descriptor via %%CONFIG_NAME_AS_ASSET_FILENAME%%: two regions -> two rooms (y-up -> z-up)
    assert {(r.label, r.min, r.max) for r in spec.rooms} == {("bedroom", (-25.0, -10.0), (-5.0, 10.0)),
                                                             ("bathroom", (5.0, -10.0), (25.0, 10.0))}
    assert len(spec.stages) == 1 and spec.stages[0].mesh.endswith("dataset_test_stage.glb")
    # object1 (0.23 m) is pickable, object2 (a 1 m box) is furniture
    assert [o.label for o in spec.objects] == ["dataset test"]  # from the template name dataset_test_object1
    assert len(spec.receptacles) == 1 and spec.receptacles[0].label == "dataset test"  # object2: a 1 m box
    # asset_local translation (0.1, 0.2, 0.3) in Habitat -> (0.1, -0.3, 0.2) in ours, then the floor shift
    # and the stage's translation (1.1, 2.2, 3.3) -> (1.1, -3.3, 2.2): both move down by the same floor height
    o, stage = spec.objects[0], spec.stages[0]
    assert o.position[:2] == pytest.approx((0.1, -0.3), abs=1e-6) and stage.pos[:2] == pytest.approx((1.1, -3.3))
    assert o.position[2] - stage.pos[2] == pytest.approx(0.2 - 2.2, abs=1e-6)


def test_dataset_1_ambiguous_template_and_missing_semantics(fixtures, caplog):
    path = fixtures / "dataset_1" / "test_dataset_1.scene_dataset_config.json"
    ds = SceneDataset.load(path)
    assert ds.scene_names() == ["dataset_test_scene_0", "dataset_test_scene_1"]
    with caplog.at_level(logging.WARNING):
        spec = import_scene(ds, "dataset_test_scene_1")
    # 'modified_test_stage' matches two handles: the first, with a warning; 'dataset_test_object1' -> *_0
    assert "matches 2 templates" in caplog.text and spec.stages[0].mesh.endswith("dataset_test_stage_0.glb")
    assert "semantic scene descriptor" in caplog.text and [r.id for r in spec.rooms] == ["room"]
    assert spec.objects[0].mesh.endswith("dataset_test_object1_0.glb")


def test_frames():
    R = asset_to_zup([0, 1, 0], [0, 0, -1])
    assert np.allclose(R, R_ZUP_FROM_HAB)
    assert np.allclose(R_ZUP_FROM_HAB @ [0, 1, 0], [0, 0, 1]) and np.allclose(R_ZUP_FROM_HAB @ [0, 0, -1], [0, 1, 0])
    q = [math.cos(0.25), 0.0, math.sin(0.25), 0.0]  # 0.5 rad about Habitat's y (up)
    Rh = quat_wxyz_to_R(q, "x")
    assert np.allclose(R_ZUP_FROM_HAB @ Rh @ R_ZUP_FROM_HAB.T, rot_z(0.5))
    with pytest.raises(SceneError, match="unit quaternion"):
        quat_wxyz_to_R([2.0, 0.0, 0.0, 0.0], "x")


# --- a dataset over the Habitat test assets ----------------------------------------------------------------
def _write(path, obj):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(obj))


@pytest.fixture()
def asset_dataset(tmp_path, assets):
    root = tmp_path / "ds"
    # simple_room (a z-up asset) has a 1.36 m box whose top is 1.152 m above the asset origin at (0.253, 0.252):
    # a receptacle volume there, given in the stage's Habitat frame (y up)
    _write(root / "stages" / "room.stage_config.json",
           {"render_asset": str(assets / "simple_room.glb"), "up": [0, 0, 1], "front": [0, 1, 0],
            "user_defined": {"receptacle_aabb_box_top": {"name": "receptacle_aabb_box_top",
                                                          "position": [0.253, 1.2018, -0.252],
                                                          "scale": [0.6, 0.05, 0.6]}}})
    _write(root / "objects" / "chair.object_config.json",
           {"render_asset": str(assets / "chair.glb"), "mass": 5.0, "semantic_id": 7})
    # a semantic config with one region and an HM3D-style descriptor naming semantic id 7
    _write(root / "semantics" / "home.semantic_config.json", {
        "semantic_descriptor_filename": "home.semantic.txt",
        "region_annotations": [{"name": "living", "label": "living_room",
                                "poly_loop": [[-5, 0, 5], [5, 0, 5], [5, 0, -5], [-5, 0, -5]]}]})
    (root / "semantics" / "home.semantic.txt").write_text('HM3D Semantic Annotations\n7,A0B0C0,"dining chair",0\n')
    _write(root / "objects" / "donut.object_config.json",
           {"render_asset": str(assets / "donut.glb"), "mass": 0.1, "user_defined": {"object_category": "donut"}})
    _write(root / "urdf" / "cabinet.ao_config.json", {"urdf_filepath": str(assets / "URDF/cabinet/cabinet.urdf")})
    quarter = [math.cos(math.pi / 4), 0.0, math.sin(math.pi / 4), 0.0]  # +90 deg about Habitat's up
    scene = {"stage_instance": {"template_name": "room"}, "translation_origin": "asset_local",
             "semantic_scene_instance": "home.semantic_config.json",
             "object_instances": [
                 {"template_name": "chair", "translation": [-2.0, 0.0, -1.5], "rotation": quarter, "motion_type": "STATIC"},
                 {"template_name": "donut", "translation": [1.0, 0.0, 1.0], "motion_type": "DYNAMIC",
                  "translation_origin": "COM"}],
             "articulated_object_instances": [
                 {"template_name": "cabinet", "translation": [-4.5, 0.0, 1.5], "rotation": quarter, "fixed_base": True,
                  "initial_joint_pose": {"left_slide": 0.3}}]}
    _write(root / "scenes" / "home.scene_instance.json", scene)
    _write(root / "test.scene_dataset_config.json", {
        "stages": {"paths": {".json": ["stages/*.json"]}}, "objects": {"paths": {".json": ["objects"]}},
        "articulated_objects": {"paths": {".json": ["urdf"]}}, "scene_instances": {"paths": {".json": ["scenes"]}},
        "semantic_scene_descriptor_instances": {"paths": {".json": ["semantics/*"]}}})
    return root / "test.scene_dataset_config.json"


def test_test_assets_dataset(asset_dataset):
    spec = import_scene(asset_dataset, "home")
    # the region -> a room (Habitat z -> our -y); the chair's label comes from the semantic descriptor
    assert [(r.id, r.label, r.min, r.max) for r in spec.rooms] == [("living", "living room", (-5.0, -5.0), (5.0, 5.0))]
    assert len(spec.stages) == 1
    # the stage's receptacle volume: a receptacle at the box top, colliding with boxes cut from the stage mesh
    box = next(r for r in spec.receptacles if r.label == "box top")
    floor = -spec.stages[0].pos[2]  # the asset's floor height (moved to z = 0)
    assert box.pose[:2] == pytest.approx((0.253, 0.252), abs=1e-3)
    assert box.surfaces[0].pos[2] == pytest.approx(1.1518 - floor, abs=2e-3) and box.surfaces[0].size == (1.2, 1.2)
    tops = [p.pos[2] + p.size[2] / 2 for p in box.parts]
    assert box.parts and max(tops) == pytest.approx(box.surfaces[0].pos[2], abs=0.01)
    # donut: COM translation -> its bounding-box centre sits at (1, -1) ours, above the floor
    assert [o.label for o in spec.objects] == ["donut"]
    donut = spec.objects[0]
    v = np.asarray(load_object_mesh(donut).vertices) @ quat_xyzw_to_R(donut.quat_xyzw).T + np.asarray(donut.position)
    centre = (v.min(axis=0) + v.max(axis=0)) / 2
    assert centre[:2] == pytest.approx((1.0, -1.0), abs=1e-3)
    chair = next(r for r in spec.receptacles if r.label == "dining chair")
    assert chair.pose[2] == pytest.approx(math.pi / 2, abs=1e-3)  # +90 deg about Habitat up = +90 deg yaw
    cab = next(r for r in spec.receptacles if r.label == "cabinet")
    tops = sorted(s.pos[2] for s in cab.surfaces)
    bottom = min(p.pos[2] - abs(p.size[2]) / 2 for p in cab.parts if p.type == "box")
    assert tops and 0.7 < tops[-1] - bottom < 0.85  # the cabinet top, ~0.78 m above its bottom
    assert {p.role for p in cab.parts} == {"visual", "collision"}
    # the prismatic door joint at 0.3 m moves that door's parts by 0.3 m compared to the closed cabinet
    closed = json.loads(asset_dataset.parent.joinpath("scenes/home.scene_instance.json").read_text())
    closed["articulated_object_instances"][0].pop("initial_joint_pose")
    asset_dataset.parent.joinpath("scenes/home.scene_instance.json").write_text(json.dumps(closed))
    cab0 = next(r for r in import_scene(asset_dataset, "home").receptacles if r.label == "cabinet")
    moved = [np.linalg.norm(np.subtract(a.pos, b.pos)) for a, b in zip(cab.parts, cab0.parts, strict=True)]
    assert max(moved) == pytest.approx(0.3, abs=0.01) and min(moved) < 1e-6


# --- malformed files: one error line naming the file and the field -------------------------------------------
def _cli_error(capsys, argv) -> str:
    assert main(argv) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: ")
    return err[0]


@pytest.mark.parametrize("case", ["missing_template", "bad_rotation", "unknown_asset", "empty_glob", "bad_origin"])
def test_malformed_files(asset_dataset, tmp_path, capsys, case):
    root = asset_dataset.parent
    scene_file = root / "scenes" / "home.scene_instance.json"
    scene = json.loads(scene_file.read_text())
    if case == "missing_template":
        scene["object_instances"][0]["template_name"] = "sofa_that_is_not_there"
        want = ["home.scene_instance.json", "object_instances[0].template_name", "sofa_that_is_not_there"]
    elif case == "bad_rotation":
        scene["object_instances"][1]["rotation"] = [1.0, 0.0, 0.0]
        want = ["home.scene_instance.json", "object_instances[1]", "'rotation'"]
    elif case == "unknown_asset":
        _write(root / "objects" / "donut.object_config.json", {"render_asset": "no_such_donut.glb"})
        want = ["donut.object_config.json", "'render_asset'", "no_such_donut.glb"]
    elif case == "empty_glob":
        d = json.loads(asset_dataset.read_text())
        d["objects"]["paths"][".json"].append("more_objects/*")
        asset_dataset.write_text(json.dumps(d))
        want = ["test.scene_dataset_config.json", "objects.paths", "more_objects/*"]
    else:
        scene["translation_origin"] = "centre"
        want = ["home.scene_instance.json", "translation_origin"]
    scene_file.write_text(json.dumps(scene))
    out = tmp_path / "out.json"
    err = _cli_error(capsys, ["sim", "import-habitat", str(asset_dataset), "--scene", "home", "--out", str(out)])
    for w in want:
        assert w in err, (w, err)
    assert not out.exists()


# --- round trip ---------------------------------------------------------------------------------------------
def _world_vertices(spec: SceneSpec, o) -> np.ndarray:
    return np.asarray(load_object_mesh(o, spec.base_dir).vertices) @ quat_xyzw_to_R(o.quat_xyzw).T + np.asarray(o.position)


@pytest.fixture(scope="module")
def round_trip(tmp_path_factory):
    spec = generate_scene(11)
    out = tmp_path_factory.mktemp("export") / "apartment"
    config = export_scene(spec, out, episodes=4, seed=1)
    return spec, config


def test_round_trip_gives_back_the_scene(round_trip, tmp_path, capsys):
    spec, exported = round_trip
    config = tmp_path / "ds" / exported.name
    shutil.copytree(exported.parent, config.parent)
    scene_file = tmp_path / "scenes" / "back.json"
    assert main(["sim", "import-habitat", str(config), "--scene", spec.name, "--out", str(scene_file)]) == 0
    back = SceneSpec.load(scene_file)
    assert [r.id for r in back.rooms] == [r.id for r in spec.rooms]
    assert [w.to_dict() for w in back.walls] == [w.to_dict() for w in spec.walls]
    assert [d.to_dict() for d in back.doors] == [d.to_dict() for d in spec.doors] and back.robot_start == spec.robot_start
    assert sorted(o.id for o in back.objects) == sorted(o.id for o in spec.objects)
    assert sorted(r.id for r in back.receptacles) == sorted(r.id for r in spec.receptacles)
    R_asset = R_ZUP_FROM_HAB  # the exported glbs are y-up: our object frame = asset frame turned z-up
    for a in spec.objects:
        b = back.object(a.id)
        assert (b.label, b.description, b.on, b.rgba) == (a.label, a.description, a.on, a.rgba)
        assert np.abs(_world_vertices(back, b) - _world_vertices(spec, a)).max() < 0.01
        assert np.linalg.norm(np.subtract(b.position, a.position)) < 0.01
        Ra, Rb = quat_xyzw_to_R(a.quat_xyzw), quat_xyzw_to_R(b.quat_xyzw) @ R_asset.T
        assert rotation_angle_deg(Ra, Rb) < 1.0
    for a in spec.receptacles:
        b = back.receptacle(a.id)
        assert (b.label, b.description, b.room) == (a.label, a.description, a.room)
        assert math.dist(a.pose[:2], b.pose[:2]) < 0.01
        assert abs((a.pose[2] - b.pose[2] + math.pi) % (2 * math.pi) - math.pi) < math.radians(1)
        assert len(a.surfaces) == len(b.surfaces)
        for sa, sb in zip(a.surfaces, b.surfaces, strict=True):
            wa = a.to_world(*sa.pos[:2])
            wb = b.to_world(*sb.pos[:2])
            assert math.dist(wa, wb) < 0.01 and abs(sa.pos[2] - sb.pos[2]) < 0.005
            assert np.allclose(sa.size, sb.size, atol=0.01)
    # the scene file is portable: relative mesh paths; the two folders move together and still load
    text = scene_file.read_text()
    assert '"mesh": "/' not in text and '"mesh": "../ds/' in text
    moved = tmp_path / "elsewhere"
    shutil.move(tmp_path / "scenes", moved / "scenes")
    shutil.move(tmp_path / "ds", moved / "ds")
    again = SceneSpec.load(moved / "scenes" / "back.json")
    assert again.resolve_mesh(again.objects[0].mesh).is_file()


def test_round_trip_without_ovmm_metadata(round_trip):
    """Import the export as any dataset: receptacle volumes, sizes and template names carry the scene."""
    spec, config = round_trip
    back = import_scene(config, spec.name, ImportConfig(use_ovmm_metadata=False))
    assert len(back.objects) == len(spec.objects) and len(back.receptacles) == len(spec.receptacles)
    assert sorted(o.label for o in back.objects) == sorted(label_of(o.id) for o in spec.objects)
    on = sum(o.on is not None for o in back.objects)
    assert on == len(back.objects)  # every object lies on a receptacle volume's bottom face
    assert not back.walls  # walls only come back through the ovmm block
    # the robot starts inside the apartment (not in the free ring around the stage's outside)
    assert any(r.contains(back.robot_start.x, back.robot_start.y, margin=0.3) for r in back.rooms)


def label_of(object_id: str) -> str:
    return " ".join(w for w in object_id.split("_") if not w.isdigit())


def test_export_files_follow_habitat_format(round_trip):
    spec, config = round_trip
    root = config.parent
    ds = SceneDataset.load(config)
    assert ds.scene_names() == [spec.name]
    scene = json.loads((root / "scenes" / f"{spec.name}.scene_instance.json").read_text())
    assert scene["stage_instance"]["template_name"] == f"stages/{spec.name}"
    for inst in scene["object_instances"]:
        assert len(inst["rotation"]) == 4 and inst["motion_type"] in ("STATIC", "DYNAMIC")
        t = ds.template("objects", inst["template_name"], "test")
        assert (t.base_dir / t.attrs["render_asset"]).is_file()
        assert abs(np.linalg.norm(inst["rotation"]) - 1) < 1e-6
    table = json.loads((root / "objects" / f"{spec.receptacles[0].id}.object_config.json").read_text())
    vols = [v for k, v in table["user_defined"].items() if k.startswith("receptacle_aabb_")]
    assert len(vols) == len(spec.receptacles[0].surfaces) and all(len(v["scale"]) == 3 for v in vols)
    eps = json.loads((root / "episodes" / f"{spec.name}.episodes.json").read_text())["episodes"]
    assert 1 <= len(eps) <= 4 and all(e["scene_id"].endswith(".scene_instance.json") for e in eps)
    ids = {o.id for o in spec.objects}
    assert all(e["target_object"] in ids for e in eps)


def test_export_refuses_a_non_empty_folder(round_trip, capsys, tmp_path):
    spec, config = round_trip
    scene = tmp_path / "s.json"
    spec.save(scene)
    err = _cli_error(capsys, ["sim", "export-habitat", str(scene), str(config.parent)])
    assert "not empty" in err


def test_asset_root_paths(tmp_path, monkeypatch):
    from sim.scene.asset_paths import portable_path, resolve_mesh_path

    monkeypatch.setenv("MY_ASSETS", str(tmp_path / "assets"))
    p = tmp_path / "assets" / "a" / "mug.glb"
    assert portable_path(p, tmp_path / "scenes", roots=("MY_ASSETS",)) == "${MY_ASSETS}/a/mug.glb"
    assert resolve_mesh_path("${MY_ASSETS}/a/mug.glb", None) == p
    assert portable_path(p, tmp_path / "scenes", roots=()) == "../assets/a/mug.glb"
    monkeypatch.delenv("MY_ASSETS")
    with pytest.raises(SceneError, match="MY_ASSETS"):
        resolve_mesh_path("${MY_ASSETS}/a/mug.glb", None)


# --- furniture meshes -> collision boxes and support surfaces ------------------------------------------------
@pytest.mark.parametrize("kind,size", [("table", (1.2, 0.8, 0.75)), ("shelf", (0.9, 0.4, 1.0)),
                                       ("sink_counter", (1.6, 0.6, 0.9)), ("coffee_table", (1.0, 0.6, 0.44))])
def test_furniture_surfaces_from_a_mesh(kind, size):
    """A furniture template's boxes as one mesh (what a Habitat asset is): its support surfaces come back."""
    import trimesh

    from core.geometry import make_T
    from sim.habitat_dataset.furniture import furniture_geometry
    from sim.scene.receptacles import receptacle_geometry

    parts, surfaces = receptacle_geometry(kind, size, (0.5, 0.5, 0.5, 1.0))[:2]
    mesh = trimesh.util.concatenate([trimesh.creation.box(extents=p.size, transform=make_T(quat_xyzw_to_R(p.quat_xyzw), p.pos))
                                     for p in parts if p.type == "box"])
    boxes, found = furniture_geometry(mesh, (0.5, 0.5, 0.5, 1.0))
    assert boxes and all(b.role == "collision" for b in boxes)
    lo = np.min([np.subtract(b.pos, np.divide(b.size, 2)) for b in boxes], axis=0)
    hi = np.max([np.add(b.pos, np.divide(b.size, 2)) for b in boxes], axis=0)
    assert np.allclose(lo, mesh.bounds[0], atol=0.026) and np.allclose(hi, mesh.bounds[1], atol=0.026)
    for s in surfaces:  # every template surface is found at its height, nearly as large
        match = [f for f in found if abs(f.pos[2] - s.pos[2]) < 0.005 and abs(f.pos[0] - s.pos[0]) < 0.05
                 and abs(f.pos[1] - s.pos[1]) < 0.05]
        assert match, (kind, s, found)
        assert match[0].size[0] * match[0].size[1] > 0.8 * s.size[0] * s.size[1]
