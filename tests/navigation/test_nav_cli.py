"""`ovmm plan` end to end: a simulator scene (ground truth) and a saved voxel map."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from navgrids import fk_reach_error
from PIL import Image

from core.types import CameraIntrinsics, Pose2D, RGBDFrame
from orchestrator.cli import main

generator = pytest.importorskip("sim.scene.generator")


@pytest.fixture(scope="module")
def scene(tmp_path_factory):
    spec = generator.generate_scene(0)
    path = tmp_path_factory.mktemp("scene") / "scene.json"
    spec.save(path)
    return spec, path


def test_plan_to_a_point_writes_png_and_json(scene, tmp_path, capsys):
    spec, path = scene
    start = spec.robot_start
    png, js = tmp_path / "plan.png", tmp_path / "plan.json"
    code = main(["plan", str(path), "--from", f"{start.x},{start.y},{start.theta}", "--to", "2.5,4.5",
                 "--yaw", "1.0", "--png", str(png), "--json", str(js)])
    assert code == 0
    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 400
    plan = json.loads(js.read_text())
    assert plan["format"] == "ovmm-nav-plan" and plan["success"]
    last = plan["waypoints"][-1]
    assert math.hypot(last[0] - 2.5, last[1] - 4.5) < 0.35 and last[2] == 1.0
    assert "waypoints" in capsys.readouterr().out
    assert not list(tmp_path.glob(".*tmp*"))  # atomic writes leave no temp files


def test_plan_to_a_described_object_reaches_it(scene, tmp_path):
    spec, path = scene
    obj = spec.objects[2]  # "green coffee mug" in apartment-0
    js = tmp_path / "plan.json"
    assert main(["plan", str(path), "--to", obj.description, "--json", str(js)]) == 0
    plan = json.loads(js.read_text())
    bg = plan["base_goal"]
    assert np.allclose(bg["reach_xyz"], obj.position, atol=1e-6)
    assert fk_reach_error(Pose2D.from_list(bg["pose"]), np.asarray(obj.position)) < 0.03


def test_unreachable_targets_are_one_line_errors(scene, capsys):
    spec, path = scene
    assert main(["plan", str(path), "--to", "5,5,3.0"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: target height 3.00 m") and "\n" not in err
    assert main(["plan", str(path), "--to", "1,2,3,4"]) == 1
    assert main(["plan", str(path.parent / "missing.npz"), "--from", "0,0", "--to", "1,1"]) == 1
    assert "does not exist" in capsys.readouterr().err


def _overhead_frame(box_lo, box_hi, height: float, cam_z: float = 4.0) -> RGBDFrame:
    """A camera looking straight down at a 5 m x 5 m floor with one box on it (depth from geometry)."""
    w = h = 200
    f = 0.5 * w / math.tan(math.radians(35))
    K = CameraIntrinsics(f, f, (w - 1) / 2, (h - 1) / 2, w, h)
    T = np.eye(4)
    T[:3, :3] = np.diag([1.0, -1.0, -1.0])  # optical z points down, image x along world +x
    T[:3, 3] = [2.5, 2.5, cam_z]
    u, v = np.meshgrid(np.arange(w), np.arange(h))
    x = 2.5 + (u - K.cx) / f * cam_z
    y = 2.5 - (v - K.cy) / f * cam_z
    depth = np.full((h, w), cam_z, np.float32)
    on_box = (x >= box_lo[0]) & (x <= box_hi[0]) & (y >= box_lo[1]) & (y <= box_hi[1])
    depth[on_box] = cam_z - height
    return RGBDFrame(np.full((h, w, 3), 128, np.uint8), depth, K, T)


def test_plan_on_a_saved_voxel_map(tmp_path):
    from mapping.voxel_map import VoxelMap

    vmap = VoxelMap()
    vmap.add_frame(_overhead_frame((2.0, 1.0), (3.0, 4.0), 0.8))  # a 1 m x 3 m table across the middle
    path = tmp_path / "map.npz"
    vmap.save(path)
    js = tmp_path / "plan.json"
    assert main(["plan", str(path), "--from", "1.2,2.5,0", "--to", "3.8,2.5", "--json", str(js)]) == 0
    plan = json.loads(js.read_text())
    pts = np.array([plan["start"][:2]] + [w[:2] for w in plan["waypoints"]])
    assert plan["success"] and len(pts) >= 3  # it has to go around the table
    assert plan["length_m"] > 2.6 + 0.5
    # reaching a point on the table's near edge from the left side: a base goal with the arm over the table
    assert main(["plan", str(path), "--from", "1.2,2.5,0", "--to", "2.2,2.5,0.8", "--json", str(js)]) == 0
    bg = json.loads(js.read_text())["base_goal"]
    assert fk_reach_error(Pose2D.from_list(bg["pose"]), np.array([2.2, 2.5, 0.8])) < 0.03
