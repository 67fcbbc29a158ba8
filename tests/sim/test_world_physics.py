"""Physics and scene loading: objects settle on their receptacles; dropped objects land; Habitat scenes load."""

from __future__ import annotations

import numpy as np
import pytest

from core.errors import InputError
from core.stretch import T_world_headcam, head_look_at
from sim.mujoco.world import SimWorld
from sim.scene.generator import generate_scene
from sim.scene.spec import SceneSpec
from tests.sim.world_fixtures import EXAMPLE_SCENE


@pytest.fixture(scope="module")
def example_world():
    w = SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    yield w
    w.close()


@pytest.fixture(scope="module")
def generated_world():
    w = SimWorld(generate_scene(4))
    yield w
    w.close()


def _assert_resting_on_their_receptacles(world: SimWorld) -> None:
    surfaces = {}
    for rec in world.spec.receptacles:
        surfaces[rec.id] = [s.pos[2] for s in rec.surfaces]
    for obj in world.spec.objects:
        if obj.on is None:
            continue
        lo, _ = world.object_aabb(obj.id)
        gap = min(abs(lo[2] - z) for z in surfaces[obj.on])
        assert gap < 0.01, f"{obj.id} bottom is {gap * 100:.1f} cm from a surface of {obj.on}"
        assert world.is_on(obj.id, obj.on), obj.id
        assert world.object_speed(obj.id) < 5 * world.config.settle_speed_tol


def test_example_objects_rest_on_the_table(example_world):
    _assert_resting_on_their_receptacles(example_world)
    assert example_world.held_object() is None


def test_generated_scene_objects_rest_on_their_receptacles(generated_world):
    assert len(generated_world.spec.objects) >= 5
    _assert_resting_on_their_receptacles(generated_world)
    # Settled poses are recorded and the objects have not wandered from the spec's placement.
    for obj in generated_world.spec.objects:
        moved = np.linalg.norm(generated_world.settled_poses[obj.id][:2, 3] - np.asarray(obj.position[:2]))
        assert moved < 0.03, obj.id


def test_object_dropped_above_the_table_lands_on_it(example_world):
    w = example_world
    T = w.object_pose("bowl_0").copy()
    T[2, 3] += 0.2
    T[0, 3] -= 0.2
    w.set_object_pose("bowl_0", T)
    assert not w.is_on("bowl_0", "kitchen_table")
    w.settle()
    assert w.is_on("bowl_0", "kitchen_table")
    assert abs(w.object_aabb("bowl_0")[0][2] - 0.75) < 0.01
    assert abs(w.object_pose("bowl_0")[0, 3] - T[0, 3]) < 0.02


def test_unknown_ids_raise_input_errors(example_world):
    with pytest.raises(InputError, match="no object 'teapot'"):
        example_world.object_pose("teapot")
    with pytest.raises(InputError, match="no receptacle 'fridge'"):
        example_world.is_on("mug_0", "fridge")


def test_physics_is_deterministic():
    a, b = SimWorld(SceneSpec.load(EXAMPLE_SCENE)), SimWorld(SceneSpec.load(EXAMPLE_SCENE))
    try:
        for w in (a, b):
            T = w.object_pose("mug_0").copy()
            T[2, 3] += 0.3
            w.set_object_pose("mug_0", T)
            w.step_physics(0.7)
        assert np.array_equal(a.object_pose("mug_0"), b.object_pose("mug_0"))
    finally:
        a.close()
        b.close()


def test_habitat_simple_room_loads_and_renders(shared_data):
    from sim.scene.habitat import habitat_assets_dir, load_habitat_scene

    if habitat_assets_dir() is None:
        pytest.skip("Habitat test assets are not in the shared data")
    spec = load_habitat_scene()
    world = SimWorld(spec)
    try:
        assert spec.stages
        on_furniture = [o for o in spec.objects if o.on is not None]
        assert on_furniture
        for obj in on_furniture:
            assert world.surface_under(obj.id) == obj.on, obj.id
        pan, tilt = head_look_at(world.base_pose, world.object_center(on_furniture[0].id))
        rgb, depth, ids = world.render(T_world_headcam(world.base_pose, pan, tilt))
        assert rgb.std() > 5 and (depth > 0).mean() > 0.5  # the stage has no ceiling: some pixels see nothing
        assert on_furniture[0].instance_id in np.unique(ids)
    finally:
        world.close()


def test_an_object_on_the_counter_strip_beside_a_sink_is_on_the_sink_counter():
    """The sink counter's listed support surfaces are the top left of the basin and the basin floor; the
    25 cm strip of counter top right of the basin is a top face of one of its box parts: resting there is
    resting on the sink counter, and nowhere else."""
    spec = next(s for s in (generate_scene(k) for k in range(12))
                if any(r.id.endswith("sink_counter") for r in s.receptacles))
    rec = next(r for r in spec.receptacles if r.id.endswith("sink_counter"))
    strip = max((p for p in rec.parts if p.type == "box"), key=lambda p: p.pos[0])  # the +x end of the top
    top = strip.pos[2] + strip.size[2] / 2
    assert all(abs(s.pos[0] - strip.pos[0]) > s.size[0] / 2 for s in rec.surfaces)  # not a listed surface
    w = SimWorld(spec)
    try:
        obj = spec.objects[0]
        x, y = rec.to_world(strip.pos[0], strip.pos[1])
        T = w.object_pose(obj.id).copy()
        lo, _ = w.object_aabb(obj.id)
        T[:3, 3] += np.array([x, y, top + 0.02]) - np.array([T[0, 3], T[1, 3], lo[2]])
        w.set_object_pose(obj.id, T)
        w.settle()
        assert abs(w.object_aabb(obj.id)[0][2] - top) < 0.01  # it rests on the strip
        assert w.surface_under(obj.id) == rec.id
        assert w.is_on(obj.id, rec.id)
        assert not any(w.is_on(obj.id, r.id) for r in spec.receptacles if r.id != rec.id)
    finally:
        w.close()
