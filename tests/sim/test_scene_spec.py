"""Scene spec: JSON round trip and strict validation (each error names the bad item)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from sim.scene.spec import SceneError, SceneSpec

EXAMPLE = Path(__file__).resolve().parents[2] / "sim" / "data" / "example_scene.json"


@pytest.fixture()
def example_dict() -> dict:
    return json.loads(EXAMPLE.read_text())


def test_example_round_trip(tmp_path):
    spec = SceneSpec.load(EXAMPLE)
    assert [o.description for o in spec.objects] == ["red coffee mug", "blue plastic bowl"]
    assert spec.instance_descriptions() == {1: "brown wooden table", 2: "red coffee mug", 3: "blue plastic bowl"}
    assert spec.instance_labels()[2] == "mug"
    assert SceneSpec.from_dict(spec.to_dict()) == spec
    out = tmp_path / "copy.json"
    spec.save(out)
    assert out.read_text() == spec.to_json()
    again = SceneSpec.load(out)
    assert again == spec
    xmin, ymin, xmax, ymax = spec.bounds_xy()
    assert xmin == pytest.approx(-0.05) and ymax == pytest.approx(4.05)
    assert spec.receptacle("kitchen_table").surfaces[0].pos[2] == pytest.approx(0.75)
    with pytest.raises(SceneError, match="no object 'nope'"):
        spec.object("nope")


def test_relative_mesh_paths_follow_the_file(tmp_path, example_dict):
    (tmp_path / "meshes").mkdir()
    import trimesh

    trimesh.creation.box(extents=(0.05, 0.05, 0.1)).export(tmp_path / "meshes" / "block.stl")
    d = copy.deepcopy(example_dict)
    d["objects"][0].update(mesh="meshes/block.stl", procedural=None)
    src = tmp_path / "scene.json"
    src.write_text(json.dumps(d))
    spec = SceneSpec.load(src)
    sub = tmp_path / "elsewhere" / "deeper"
    spec.save(sub / "scene.json")
    moved = SceneSpec.load(sub / "scene.json")
    assert moved.resolve_mesh(moved.objects[0].mesh).resolve() == (tmp_path / "meshes" / "block.stl").resolve()


def _expect(d: dict, tmp_path: Path, *fragments: str) -> None:
    p = tmp_path / "bad.json"
    p.write_text(json.dumps(d))
    with pytest.raises(SceneError) as info:
        SceneSpec.load(p)
    msg = str(info.value)
    assert "\n" not in msg
    for f in fragments:
        assert f in msg, msg


def test_unknown_field_names_item(example_dict, tmp_path):
    example_dict["objects"][1]["colour"] = "blue"
    _expect(example_dict, tmp_path, "object 'bowl_0'", "'colour'")


def test_missing_mesh_names_item(example_dict, tmp_path):
    example_dict["objects"][0].update(mesh="missing/mug.stl", procedural=None)
    _expect(example_dict, tmp_path, "object 'mug_0'", "does not exist")


def test_duplicate_ids_and_instance_ids(example_dict, tmp_path):
    d = copy.deepcopy(example_dict)
    d["objects"][1]["id"] = "mug_0"
    _expect(d, tmp_path, "duplicate", "'mug_0'")
    d = copy.deepcopy(example_dict)
    d["objects"][1]["instance_id"] = 1
    _expect(d, tmp_path, "duplicate instance id", "1")
    d = copy.deepcopy(example_dict)
    d["objects"][1]["description"] = "red coffee mug"
    _expect(d, tmp_path, "duplicate description", "red coffee mug")


def test_object_inside_wall(example_dict, tmp_path):
    example_dict["objects"][0]["position"] = [4.01, 2.0, 0.0]
    _expect(example_dict, tmp_path, "object 'mug_0'", "inside wall 'wall_east'")


def test_wrong_types_and_references(example_dict, tmp_path):
    d = copy.deepcopy(example_dict)
    d["objects"][0]["instance_id"] = "2"
    _expect(d, tmp_path, "object 'mug_0' field 'instance_id'", "integer")
    d = copy.deepcopy(example_dict)
    d["receptacles"][0]["parts"][0]["size"] = [1.2, 0.8]
    _expect(d, tmp_path, "receptacle 'kitchen_table' part 0 field 'size'")
    d = copy.deepcopy(example_dict)
    d["objects"][0]["on"] = "sofa"
    _expect(d, tmp_path, "object 'mug_0'", "unknown receptacle 'sofa'")
    d = copy.deepcopy(example_dict)
    d["objects"][0]["rgba"] = [1, 0, 0, 2]
    _expect(d, tmp_path, "object 'mug_0' field 'rgba'")
    d = copy.deepcopy(example_dict)
    d["objects"][0]["procedural"] = {"kind": "teapot"}
    _expect(d, tmp_path, "object 'mug_0'", "teapot")


def test_format_version_and_bad_json(example_dict, tmp_path):
    d = copy.deepcopy(example_dict)
    d["version"] = 99
    _expect(d, tmp_path, "version 99")
    d = copy.deepcopy(example_dict)
    d["format"] = "something-else"
    _expect(d, tmp_path, "'format'")
    p = tmp_path / "broken.json"
    p.write_text('{"format": ')
    with pytest.raises(SceneError, match="not valid JSON"):
        SceneSpec.load(p)
    with pytest.raises(SceneError, match="cannot read scene file"):
        SceneSpec.load(tmp_path / "absent.json")
