"""Object library: procedural meshes, YCB entries, library.json folders and their errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import trimesh

from sim.scene.generator import GeneratorConfig, generate_scene
from sim.scene.objects import (
    ObjectLibraryError,
    load_library_dir,
    load_object_mesh,
    make_procedural_mesh,
    procedural_library,
    ycb_library,
)
from sim.scene.spec import ObjectSpec


def test_procedural_meshes_are_deterministic_and_upright():
    for entry in procedural_library():
        a, b = make_procedural_mesh(entry.procedural), make_procedural_mesh(dict(entry.procedural))
        assert np.array_equal(a.vertices, b.vertices) and np.array_equal(a.faces, b.faces)
        assert a.bounds[0][2] == pytest.approx(0.0, abs=1e-9), entry.key
        assert 0.02 < a.extents.max() < 0.3, entry.key
    mug = make_procedural_mesh({"kind": "mug", "radius": 0.04, "height": 0.1})
    assert mug.extents[0] > mug.extents[1] + 0.02  # the handle sticks out along +x
    cup = make_procedural_mesh({"kind": "cup"})
    assert cup.is_watertight and cup.volume < 0.3 * cup.convex_hull.volume  # hollow: the inside is empty
    # graspable: the smaller horizontal extent of every non-bowl procedural object fits the 0.12 m gripper
    for entry in procedural_library():
        if entry.procedural["kind"] != "bowl":
            assert min(make_procedural_mesh(entry.procedural).extents[:2]) < 0.12, entry.key


def test_procedural_errors_name_the_problem():
    from sim.scene.spec import SceneError

    with pytest.raises(SceneError, match="teapot"):
        make_procedural_mesh({"kind": "teapot"})
    with pytest.raises(SceneError, match="handle_colour"):
        make_procedural_mesh({"kind": "mug", "handle_colour": 1.0})
    with pytest.raises(SceneError, match="'radius'"):
        make_procedural_mesh({"kind": "cup", "radius": -1})


def test_ycb_library(shared_data):
    entries = ycb_library(shared_data / "objects" / "ycb")
    assert len(entries) == 17
    assert len({e.description for e in entries}) == 17
    mug = next(e for e in entries if e.label == "mug")
    assert mug.description == "red coffee mug" and mug.rgba[0] > 0.5 > mug.rgba[2]
    obj = ObjectSpec("mug_0", 1, "mug", mug.description, (0.0, 0.0, 0.0), mesh=mug.mesh)
    mesh = load_object_mesh(obj, None)
    assert 0.08 < mesh.extents.max() < 0.13  # metres
    assert Path(mug.mesh).is_absolute()


def _write_library(folder: Path, entries: list[dict]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    trimesh.creation.box(extents=(0.05, 0.06, 0.12)).export(folder / "block.stl")
    trimesh.creation.cylinder(radius=0.03, height=0.1).export(folder / "tin.obj")
    (folder / "library.json").write_text(json.dumps({"format": "ovmm-object-library", "version": 1, "objects": entries}))


GOOD = [
    {"mesh": "block.stl", "label": "block", "description": "green toy block", "rgba": [0.1, 0.7, 0.2, 1.0], "mass": 0.1},
    {"mesh": "tin.obj", "label": "tin", "description": "silver tin", "rgba": [0.7, 0.7, 0.72, 1.0], "scale": 1.0},
    {"mesh": "block.stl", "label": "block", "description": "big red block", "rgba": [0.8, 0.1, 0.1, 1.0], "scale": 1.5},
]


def test_library_dir_loads_and_generates(tmp_path):
    _write_library(tmp_path / "lib", GOOD)
    entries = load_library_dir(tmp_path / "lib")
    assert [e.description for e in entries] == ["green toy block", "silver tin", "big red block"]
    assert all(Path(e.mesh).is_absolute() for e in entries)
    spec = generate_scene(2, GeneratorConfig(num_objects=(3, 3)), library=entries)
    assert sorted(o.description for o in spec.objects) == sorted(e.description for e in entries)
    big = next(o for o in spec.objects if o.description == "big red block")
    assert big.scale == 1.5
    # the tin's mesh is centred on its origin: it must still rest on its surface
    tin = next(o for o in spec.objects if o.label == "tin")
    top = spec.receptacle(tin.on).surfaces
    assert any(abs(tin.position[2] - 0.05 - s.pos[2]) < 1e-3 for s in top)


@pytest.mark.parametrize(
    ("change", "fragment"),
    [
        ({"colour": "red"}, "unknown field(s) colour"),
        ({"mesh": "nothere.stl"}, "does not exist"),
        ({"rgba": [1, 0, 0]}, "'rgba'"),
        ({"scale": 1000.0}, "extents"),
        ({"label": ""}, "'label'"),
        ({"up": "x"}, "'up'"),
    ],
)
def test_library_entry_errors(tmp_path, change, fragment):
    bad = dict(GOOD[0], **change)
    _write_library(tmp_path / "lib", [bad, GOOD[1]])
    with pytest.raises(ObjectLibraryError) as info:
        load_library_dir(tmp_path / "lib")
    assert "entry 0" in str(info.value) and fragment in str(info.value)


def test_library_file_errors(tmp_path):
    with pytest.raises(ObjectLibraryError, match="no library.json"):
        load_library_dir(tmp_path)
    (tmp_path / "library.json").write_text("{not json")
    with pytest.raises(ObjectLibraryError, match="cannot read"):
        load_library_dir(tmp_path)
    _write_library(tmp_path / "dup", [GOOD[0], dict(GOOD[1], description="green toy block")])
    with pytest.raises(ObjectLibraryError, match="'green toy block' is used by more than one entry"):
        load_library_dir(tmp_path / "dup")
    (tmp_path / "v2").mkdir()
    (tmp_path / "v2" / "library.json").write_text(json.dumps({"format": "ovmm-object-library", "version": 2, "objects": []}))
    with pytest.raises(ObjectLibraryError, match="version 2"):
        load_library_dir(tmp_path / "v2")
