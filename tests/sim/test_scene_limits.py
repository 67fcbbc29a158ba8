"""Scene files are read with bounds: size, JSON depth, non-finite numbers, room and scene extents."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.scene.spec import SceneError, SceneSpec

EXAMPLE = Path(__file__).resolve().parents[2] / "sim" / "data" / "example_scene.json"


def _write(tmp_path, d) -> Path:
    p = tmp_path / "scene.json"
    p.write_text(json.dumps(d) if not isinstance(d, str) else d)
    return p


def _load_error(path) -> str:
    with pytest.raises(SceneError) as info:
        SceneSpec.load(path, check_files=False)
    assert "\n" not in str(info.value)
    return str(info.value)


def test_deeply_nested_json_is_refused_without_recursion(tmp_path):
    assert "nested more than" in _load_error(_write(tmp_path, "[" * 50_000 + "]" * 50_000))
    assert "nested more than" in _load_error(_write(tmp_path, '{"rooms": ' + "[" * 100 + "]" * 100 + "}"))


def test_oversized_scene_file_is_refused_before_reading(tmp_path):
    p = tmp_path / "big.json"
    with open(p, "wb") as fh:
        fh.truncate((64 << 20) + 1)  # sparse: no disk used
    assert "more than the 67 MB" in _load_error(p)


@pytest.mark.parametrize(("edit", "message"), [
    (lambda d: d["objects"][0].update(position=[1e9, 0.0, 0.8]), "outside the scene bounds"),
    (lambda d: d["objects"][0].update(position=[10**400, 0.0, 0.8]), "finite|out of range"),
    (lambda d: d["rooms"][0].update(max=[d["rooms"][0]["min"][0] + 1e6, d["rooms"][0]["max"][1]]), "rooms must be"),
    (lambda d: d["objects"][0].update(position=[0.5, 0.5, 1e5]), "outside the scene bounds"),
])
def test_extents_are_bounded(tmp_path, edit, message):
    d = json.loads(EXAMPLE.read_text())
    edit(d)
    import re

    assert re.search(message, _load_error(_write(tmp_path, d)))


def test_example_scene_is_within_bounds():
    SceneSpec.load(EXAMPLE)
