"""The Stretch's base box in core.stretch (navigation's footprint) is the simulator's base collision shape."""

from __future__ import annotations

import numpy as np
import pytest
import trimesh

from core.stretch import STRETCH
from navigation.footprint import Footprint
from sim.mujoco.stretch_model import parse_urdf, urdf_path


def test_core_base_box_is_the_urdf_collision_box():
    links, _ = parse_urdf(urdf_path())
    geom = links["base_link"].collisions[0]
    mesh = trimesh.load(urdf_path().parent / geom.mesh, force="mesh")
    lo, hi = mesh.bounds[0] + geom.xyz, mesh.bounds[1] + geom.xyz
    assert (lo[0], hi[0]) == pytest.approx(STRETCH.base_x_m, abs=0.005)
    assert (lo[1], hi[1]) == pytest.approx(STRETCH.base_y_m, abs=0.005)
    fp = Footprint()
    assert np.allclose([fp.x_min, fp.x_max, fp.y_min, fp.y_max], [*STRETCH.base_x_m, *STRETCH.base_y_m])
