"""A simulated apartment scanned with ground-truth perception (shared session fixture): query accuracy,
obstacle grid against the scene's ground truth, pictures and recordings from the CLI."""

from __future__ import annotations

import json

import numpy as np
import pytest
import scipy.ndimage
from fixtures_sim_map import scanned_apartment

from mapping.calibration import threshold_of
from mapping.evaluation import evaluate_queries
from mapping.obstacles import OBSTACLE
from orchestrator.cli import main


@pytest.fixture(scope="module")
def apartment():
    return scanned_apartment(0)


def test_every_object_found_by_description_and_paraphrase(apartment):
    a = apartment
    objects = {o.id: (o.description, a.world.object_center(o.id)) for o in a.spec.objects}
    report = evaluate_queries(a.voxel_map, a.perception, objects)
    assert len(report.outcomes) == 2 * len(objects) >= 20
    assert report.accuracy() >= 0.95, [(f.query, round(f.error_m, 2)) for f in report.failures()]
    # Absent things score below the map's calibrated not-found threshold; correct answers above it.
    threshold = threshold_of(a.voxel_map)
    assert a.voxel_map.metadata.query_calibration["method"] == "calibrated"
    assert max(report.absent_scores) < threshold
    assert np.quantile([o.score for o in report.outcomes if o.error_m <= 0.25], 0.05) >= threshold


def test_receptacles_found_in_their_footprint(apartment):
    a = apartment
    for r in a.spec.receptacles:
        hit = a.voxel_map.query_text(r.description, a.perception)[0]
        assert np.hypot(hit.center[0] - r.pose[0], hit.center[1] - r.pose[1]) < 0.5, r.description


def test_obstacle_grid_matches_the_scene(apartment):
    from sim.scene.ground_truth import occupancy_grid

    a = apartment
    grid = a.voxel_map.obstacle_grid()
    gt, origin, res = occupancy_grid(a.spec, resolution_m=grid.resolution_m, include_objects=True)
    gt_near = scipy.ndimage.binary_dilation(gt, iterations=2)
    rc = np.argwhere(grid.cells == OBSTACLE)
    xy = grid.cell_to_world(rc)
    g = np.floor((xy - origin) / res).astype(int)[:, ::-1]
    inside = (g[:, 0] >= 0) & (g[:, 0] < gt.shape[0]) & (g[:, 1] >= 0) & (g[:, 1] < gt.shape[1])
    precision = gt_near[g[inside, 0], g[inside, 1]].mean()
    assert inside.mean() > 0.99 and precision > 0.98
    # The robot's own body (seen by its head camera) is not mapped where it stood to look around.
    from sim.scene.walkthrough import scan_route

    stops = np.array([[st.pose.x, st.pose.y] for st in scan_route(a.spec) if st.head_pans])
    assert np.min(np.linalg.norm(xy[:, None, :] - stops[None], axis=2)) > 0.2
    # Most of the scene's obstacle cells next to free space were seen as obstacles.
    mine = np.zeros_like(gt)
    mine[g[inside, 0], g[inside, 1]] = True
    boundary = gt & scipy.ndimage.binary_dilation(~gt) & (scipy.ndimage.binary_dilation(grid_free(grid, gt, origin, res)))
    recall = scipy.ndimage.binary_dilation(mine, iterations=2)[boundary].mean()
    assert recall > 0.8


def grid_free(grid, gt, origin, res):
    """The map's FREE cells resampled onto the ground-truth grid."""
    from mapping.obstacles import FREE

    rc = np.argwhere(grid.cells == FREE)
    g = np.floor((grid.cell_to_world(rc) - origin) / res).astype(int)[:, ::-1]
    ok = (g[:, 0] >= 0) & (g[:, 0] < gt.shape[0]) & (g[:, 1] >= 0) & (g[:, 1] < gt.shape[1])
    out = np.zeros_like(gt)
    out[g[ok, 0], g[ok, 1]] = True
    return out


def test_cli_query_png_and_rerun(apartment, tmp_path, capsys):
    a = apartment
    obj = a.spec.objects[0]
    png, rrd = tmp_path / "q.png", tmp_path / "q.rrd"
    code = main(["query", str(a.map_path), obj.description, "--json", "--top-k", "3", "--png", str(png),
                 "--rerun", str(rrd)])
    assert code == 0
    hits = json.loads(capsys.readouterr().out)
    assert np.linalg.norm(np.array(hits[0]["xyz"]) - a.world.object_center(obj.id)) < 0.25
    from PIL import Image

    with Image.open(png) as im:
        assert im.format == "PNG" and im.size[0] > 400
        arr = np.asarray(im.convert("RGB"))
    assert len(np.unique(arr.reshape(-1, 3), axis=0)) > 50  # a picture, not a blank canvas
    assert rrd.stat().st_size > 10_000 and rrd.read_bytes()[:4] == b"RRF2"
    assert not list(tmp_path.glob(".*tmp*"))  # atomic writes leave no temp files


def test_cli_relational_query(apartment, capsys):
    a = apartment
    obj = next(o for o in a.spec.objects if o.on)
    rec = a.spec.receptacle(obj.on)
    code = main(["query", str(a.map_path), f"the {obj.description} on the {rec.description}", "--json"])
    assert code == 0
    hits = json.loads(capsys.readouterr().out)
    assert np.linalg.norm(np.array(hits[0]["xyz"]) - a.world.object_center(obj.id)) < 0.25
    assert hits[0]["relation"] == "on" and hits[0]["relation_support"] > 0.5
