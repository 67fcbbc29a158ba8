"""`ovmm sim render`: one PNG with the labelled top-down view and the head camera's views."""

from __future__ import annotations

import json

import numpy as np
from PIL import Image

from orchestrator.cli import main
from tests.sim.world_fixtures import EXAMPLE_SCENE


def test_sim_render_writes_a_png_with_visible_instances(tmp_path, capsys):
    out = tmp_path / "views.png"
    # Pan the head towards the table (north-east of the start pose) so the mug and bowl are in view.
    assert main(["sim", "render", str(EXAMPLE_SCENE), "--out", str(out), "--pan", "1.1", "--tilt", "-0.35"]) == 0
    summary = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert {1, 2, 3} <= set(summary["visible_instances"])
    img = np.asarray(Image.open(out))
    assert img.shape[0] >= 500 and img.shape[1] >= 800 and img.std() > 10
    assert [p.name for p in tmp_path.iterdir()] == ["views.png"]


def test_sim_render_reports_a_missing_scene_in_one_line(tmp_path, capsys):
    assert main(["sim", "render", str(tmp_path / "nope.json"), "--out", str(tmp_path / "v.png")]) == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error:") and "nope.json" in err and "\n" not in err
    assert not (tmp_path / "v.png").exists()
