"""`ovmm eval --object-library DIR`: generated apartments hold any library's objects; a bad library is one
error line before anything runs."""

from __future__ import annotations

import json
from dataclasses import replace

import trimesh

from orchestrator.cli import main
from orchestrator.configs import EvalConfig
from orchestrator.eval_scenes import eval_scene, library_digest


def _library(folder):
    folder.mkdir(parents=True, exist_ok=True)
    trimesh.creation.box(extents=(0.05, 0.06, 0.12)).export(folder / "block.stl")
    trimesh.creation.cylinder(radius=0.03, height=0.1).export(folder / "tin.obj")
    colours = {"green": [0.1, 0.7, 0.2, 1], "red": [0.8, 0.1, 0.1, 1], "blue": [0.1, 0.2, 0.8, 1],
               "yellow": [0.9, 0.85, 0.1, 1], "white": [0.9, 0.9, 0.9, 1], "black": [0.1, 0.1, 0.1, 1]}
    entries = [{"mesh": mesh, "label": label, "description": f"{c} toy {label}", "rgba": rgba}
               for c, rgba in colours.items() for mesh, label in (("block.stl", "block"), ("tin.obj", "tin"))]
    (folder / "library.json").write_text(json.dumps({"format": "ovmm-object-library", "version": 1,
                                                     "objects": entries}))
    return folder


def test_apartments_hold_only_the_library_objects_and_are_cached_apart(tmp_path):
    lib = _library(tmp_path / "lib")
    tag, build = eval_scene(5, replace(EvalConfig(), object_library=str(lib)))
    default_tag, _ = eval_scene(5, EvalConfig())
    assert tag != default_tag and tag.startswith("seed-5-lib-")
    spec = build()
    assert spec.objects and all(o.description.split()[1:] in (["toy", "block"], ["toy", "tin"]) for o in spec.objects)
    before = library_digest(str(lib))
    (lib / "library.json").write_text((lib / "library.json").read_text().replace("green toy tin", "golden toy tin"))
    assert library_digest(str(lib)) != before  # an edited library is re-generated and re-scanned


def test_a_bad_library_is_one_error_line(tmp_path, capsys):
    (tmp_path / "lib").mkdir()
    code = main(["eval", "--episodes", "1", "--object-library", str(tmp_path / "lib"),
                 "--cache-dir", str(tmp_path / "c")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code != 0 and len(err) == 1 and "no library.json" in err[0]
    assert not (tmp_path / "c").exists()
