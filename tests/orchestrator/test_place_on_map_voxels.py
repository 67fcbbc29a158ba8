"""Placing on the map's voxels of a receptacle when the head camera's view of it has no support surface."""

from __future__ import annotations

import numpy as np

from grasping.place import support_surfaces
from mapping.hits import Hit
from orchestrator.task_place import no_surface_seen, receptacle_voxels, top_voxels

VOXEL = 0.05


def _shelf_voxels() -> np.ndarray:
    """Integer voxel coords of a 0.8 m wide, 0.35 m deep, 1.1 m tall shelf: two sides, a back and boards
    at 0.3, 0.7 and 1.05 m, against a 1.4 m wide wall that the masks spilled onto (as a scan's semantic
    voxels of it: apartment 10715's bedroom shelf)."""
    vox = set()
    nx, ny, nz = 16, 7, 22
    for x in range(nx):
        for z in range(nz):
            vox.add((x, ny - 1, z))  # the back
    for y in range(ny):
        for z in range(nz):
            vox.add((0, y, z))
            vox.add((nx - 1, y, z))  # the sides
    for x in range(-6, nx + 6):
        for z in range(nz + 2):
            for y in (ny, ny + 1):
                vox.add((x, y, z))  # the wall behind, two voxels thick
    for zb in (6, 14, 21):
        for x in range(nx):
            for y in range(ny):
                vox.add((x, y, zb))
    return np.array(sorted(vox), dtype=np.int64)


def test_top_voxels_let_the_plane_fit_find_every_board():
    coords = _shelf_voxels()
    pts = (coords + 0.5) * VOXEL
    tops = top_voxels(coords)
    boards = sorted(round(s.z, 3) for s in support_surfaces((tops + 0.5) * VOXEL))
    assert {0.325, 0.725, 1.075} <= set(boards)  # (and the wall's top row at 1.175)
    # The sides, the back and the wall keep only their top rows; every board voxel stays a top.
    top_keys = set(map(tuple, tops.tolist()))
    assert all((x, y, 21) in top_keys for x in range(16) for y in range(7))
    assert not any((0, 3, z) in top_keys for z in range(1, 6))
    assert len(tops) < 0.5 * len(pts)
    assert len(top_voxels(np.zeros((0, 3), np.int64))) == 0


def _hit(rows, lo, hi, description):
    lo, hi = np.asarray(lo, float), np.asarray(hi, float)
    return Hit(center=(lo + hi) / 2, extent=hi - lo, score=0.9, voxels=np.asarray(rows, np.int64),
               description=description)


def test_receptacle_voxels_join_the_parts_of_the_same_receptacle():
    counter = _hit(np.arange(100), (4.0, 3.7, 0.0), (5.6, 4.3, 0.95), "black granite kitchen counter")
    foot = _hit([500], (4.15, 3.75, 0.0), (4.2, 3.8, 0.05), "black granite kitchen counter")
    far = _hit([600, 601], (7.0, 1.0, 0.0), (7.5, 1.5, 0.9), "black granite kitchen counter")
    other = _hit([700], (4.1, 3.6, 0.0), (4.3, 3.7, 0.9), "grey granite sink counter")
    hits = [counter, foot, far, other]
    rows = receptacle_voxels(foot, hits)
    assert set(rows.tolist()) == set(range(100)) | {500}  # the foot's counter; not the far one nor the sink
    assert set(receptacle_voxels(far, hits).tolist()) == {600, 601}
    assert set(receptacle_voxels(other, hits).tolist()) == {700}


def test_no_surface_reason_is_recognised():
    assert no_surface_seen("no horizontal support surface found on the shelf (12 points, need a plane of 40)")
    assert not no_surface_seen("cannot place on the shelf: surface at 0.72 m: no free spot is reachable")
