"""The shared data's random solids as library entries (sim.scene.random_shapes)."""

from __future__ import annotations

import shutil

import pytest

from sim.scene.random_shapes import colour_name, random_shapes_dir, random_shapes_library

SHARED = random_shapes_dir()


@pytest.mark.skipif(SHARED is None, reason="../shared/data/objects/random_shapes is absent")
def test_entries_take_mesh_scale_mass_and_colour_from_the_urdf_and_keep_what_fits(tmp_path):
    for stem in ("000", "001"):
        shutil.copytree(SHARED / stem, tmp_path / stem)
    big = tmp_path / "001" / "001.urdf"  # the same solid made ten times larger: no side fits the gripper
    big.write_text(big.read_text().replace('scale="0.015 0.015 0.015"', 'scale="0.15 0.15 0.15"'))
    lib = random_shapes_library(tmp_path)
    assert [e.key for e in lib] == ["random_shapes/000"]
    e = lib[0]
    assert e.scale == 0.015 and e.mass == 0.1 and e.description == "blue random solid 000" and e.label == "solid"
    assert e.mesh_upright().extents.max() < 0.2
    assert random_shapes_library(tmp_path, max_width_m=0.001) == []


def test_colour_names():
    assert colour_name((0.04, 0.07, 0.91, 1)) == "blue" and colour_name((0.9, 0.9, 0.95)) == "white"
