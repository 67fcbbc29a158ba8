"""Generated apartments: determinism, counts, resting objects, navigability, scan routes."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.geometry import quat_xyzw_to_R
from core.stretch import STRETCH
from sim.scene.generator import GeneratorConfig, generate_scene
from sim.scene.ground_truth import (
    component_at,
    free_components,
    free_space_connected,
    occupancy_grid_full,
    reachable_cells_near,
)
from sim.scene.objects import load_object_mesh, procedural_library
from sim.scene.spec import SceneSpec
from sim.scene.walkthrough import scan_route, segment_clear

SEEDS = range(20)


@pytest.fixture(scope="module")
def scenes() -> list[SceneSpec]:
    return [generate_scene(s) for s in SEEDS]


def test_same_seed_same_bytes_different_seeds_differ(tmp_path):
    a, b = generate_scene(3), generate_scene(3)
    a.save(tmp_path / "a.json")
    b.save(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    assert generate_scene(4).to_json() != a.to_json()
    assert SceneSpec.load(tmp_path / "a.json").to_json() == a.to_json()


def test_counts_in_range_and_unique_descriptions(scenes):
    for s in scenes:
        assert 2 <= len(s.rooms) <= 5, s.name
        assert 4 <= len(s.receptacles) <= 12, s.name
        assert 5 <= len(s.objects) <= 25, s.name
        descs = list(s.instance_descriptions().values())
        assert len(descs) == len(set(descs)) == len(s.receptacles) + len(s.objects)
        assert sorted(s.instance_descriptions()) == list(range(1, len(descs) + 1))
        for d in s.doors:
            assert d.width >= 0.9


def _world_vertices(obj, spec) -> np.ndarray:
    mesh = load_object_mesh(obj, spec.base_dir)
    return np.asarray(mesh.vertices) @ quat_xyzw_to_R(obj.quat_xyzw).T + np.asarray(obj.position)


def _sat_disjoint(a: np.ndarray, b: np.ndarray) -> bool:
    """True if the convex hulls of 2D point sets a and b do not overlap (separating axis test)."""
    from scipy.spatial import ConvexHull

    polys = [p[ConvexHull(p).vertices] for p in (a, b)]
    for poly in polys:
        edges = np.roll(poly, -1, axis=0) - poly
        for n in np.stack([-edges[:, 1], edges[:, 0]], axis=1):
            pa, pb = a @ n, b @ n
            if pa.max() < pb.min() or pb.max() < pa.min():
                return True
    return False


def test_objects_rest_on_surfaces_without_overlap(scenes):
    for s in scenes[:10]:
        footprints: dict[str, list[np.ndarray]] = {}
        for o in s.objects:
            v = _world_vertices(o, s)
            rec = s.receptacle(o.on)
            local = np.array([rec.to_local(x, y) for x, y in v[:, :2]])
            resting = None
            for si, surf in enumerate(rec.surfaces):
                inside = (np.abs(local[:, 0] - surf.pos[0]) <= surf.size[0] / 2 + 1e-3).all() and (
                    np.abs(local[:, 1] - surf.pos[1]) <= surf.size[1] / 2 + 1e-3).all()
                if inside and abs(v[:, 2].min() - surf.pos[2]) < 0.01:
                    resting = si
            assert resting is not None, f"{s.name}: {o.id} does not rest within a surface of {rec.id}"
            footprints.setdefault(f"{o.on} surface {resting}", []).append(v[:, :2])
        for rec_id, fps in footprints.items():
            for i in range(len(fps)):
                for j in range(i + 1, len(fps)):
                    assert _sat_disjoint(fps[i], fps[j]), f"{s.name}: objects on {rec_id} overlap"


def test_rooms_connected_and_receptacles_reachable(scenes):
    for s in scenes:
        grid = occupancy_grid_full(s)
        labels = free_components(grid, STRETCH.base_radius_m)
        start = component_at(grid, labels, s.robot_start.xy)
        assert start > 0, s.name
        for room in s.rooms:
            centres = grid.cell_to_world(np.argwhere(labels == start))
            inside = ((centres[:, 0] > room.min[0]) & (centres[:, 0] < room.max[0])
                      & (centres[:, 1] > room.min[1]) & (centres[:, 1] < room.max[1]))
            assert inside.any(), f"{s.name}: room {room.id} unreachable"
            assert free_space_connected(grid, s.robot_start.xy, centres[inside][0])
        rooms = {r.id: r for r in s.rooms}
        for rec in s.receptacles:
            assert start in reachable_cells_near(grid, labels, rec, 0.9, rooms[rec.room]), f"{s.name}: {rec.id}"
    # the outside of the apartment is not connected to the inside
    s = scenes[0]
    xmin, ymin, _, _ = s.bounds_xy()
    assert not free_space_connected(occupancy_grid_full(s), s.robot_start.xy, (xmin - 0.4, ymin - 0.4))


def test_scan_route_is_collision_free_and_covers_rooms(scenes):
    for s in scenes[:6]:
        stops = scan_route(s)
        grid = occupancy_grid_full(s)
        free = grid.free_inflated(STRETCH.base_radius_m)
        assert stops[0].pose == s.robot_start
        for a, b in zip(stops[:-1], stops[1:], strict=True):
            assert segment_clear(free, grid, a.pose.xy, b.pose.xy), f"{s.name}: {a.pose} -> {b.pose} blocked"
        scanning = [st for st in stops if st.head_pans]
        assert 0 < len(scanning) <= 45
        for room in s.rooms:
            assert any(room.contains(st.pose.x, st.pose.y) for st in scanning), f"{s.name}: {room.id} not scanned"
        pans = sorted(scanning[0].head_pans)
        gaps = np.diff(pans + [pans[0] + 2 * math.pi])
        assert len(pans) == 6 and gaps.max() <= math.radians(61)
        lo, hi = STRETCH.limits.head_pan
        assert all(lo <= p <= hi for p in pans)
        assert -0.7 < scanning[0].head_tilt < -0.3


def test_rooms_option_and_procedural_only_library():
    spec = generate_scene(5, GeneratorConfig(rooms=("kitchen", "bedroom")), library=procedural_library())
    assert sorted(r.label for r in spec.rooms) == ["bedroom", "kitchen"]
    assert all(o.procedural is not None and o.mesh is None for o in spec.objects)
    assert {r.label for r in spec.receptacles} >= {"sink counter", "bed"}


def test_ground_truth_grid_layout():
    from pathlib import Path

    from sim.scene.ground_truth import occupancy_grid

    spec = SceneSpec.load(Path(__file__).resolve().parents[2] / "sim" / "data" / "example_scene.json")
    grid = occupancy_grid_full(spec)

    def at(g, x, y):
        r, c = g.world_to_cell([x, y])[0]
        return bool(g.obstacle[r, c])

    assert at(grid, 4.0, 2.0) and at(grid, 2.0, 0.0)  # walls
    assert at(grid, 2.0, 3.0) and at(grid, 2.54, 3.34)  # table top and a leg
    assert not at(grid, 1.0, 1.0)
    # rows go along +y: the table (y = 2.6..3.4) sits in rows above the robot start (y = 1)
    r_table, r_start = grid.world_to_cell([2.0, 3.0])[0][0], grid.world_to_cell([1.0, 1.0])[0][0]
    assert r_table > r_start
    # a band above the table top leaves only the walls
    high = occupancy_grid_full(spec, height_band_m=(0.8, 1.5))
    assert not at(high, 2.0, 3.0) and not at(high, 2.54, 3.34) and at(high, 4.0, 2.0)
    obstacle, origin, res = occupancy_grid(spec)
    assert obstacle.dtype == bool and origin.shape == (2,) and res == 0.05
    assert (obstacle == grid.obstacle).all()
