"""The seams of docs/architecture.md, checked on the real import graph (grimp, which import-linter uses).

import-linter (pyproject.toml) checks the package layering and that no package has import cycles; these
tests check what its contracts cannot say without listing every module: only a simulator backend's own
package imports its engine, and every backend named in sim.backends is where it says.
"""

from __future__ import annotations

import importlib.util

import grimp
import pytest

from sim.backends import BACKENDS, backend

PACKAGES = ("core", "perception", "mapping", "navigation", "grasping", "robots", "sim", "orchestrator")
ENGINES = {"mujoco": "sim.mujoco", "habitat_sim": "sim.habitat_sim"}


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, include_external_packages=True, cache_dir=None)


@pytest.mark.parametrize("engine", sorted(ENGINES))
def test_only_the_backend_package_imports_its_engine(graph, engine):
    importers = graph.find_modules_that_directly_import(engine) if engine in graph.modules else set()
    outside = sorted(m for m in importers if not (m == ENGINES[engine] or m.startswith(ENGINES[engine] + ".")))
    assert not outside, f"{engine} imported outside {ENGINES[engine]}: {outside}"


def test_the_engine_neutral_scene_package_reaches_no_engine(graph):
    for engine in ENGINES:
        if engine in graph.modules:
            chains = graph.find_shortest_chains(importer="sim.scene", imported=engine)
            assert not chains, f"sim.scene reaches {engine}: {sorted(chains)}"


def test_every_registered_backend_names_a_module_and_its_engine():
    for name, b in BACKENDS.items():
        module, _, attr = b.target.partition(":")
        assert attr, f"backend {name}: target must be 'module:attribute'"
        assert importlib.util.find_spec(module) is not None, f"backend {name}: no module {module}"
        assert b.requires in ENGINES, f"backend {name}: engine {b.requires} has no package rule in this test"


def test_the_default_backend_builds_a_world_that_satisfies_the_protocol():
    from sim.backends import make_world
    from sim.protocol import World
    from sim.scene.spec import SceneSpec
    from tests.sim.world_fixtures import EXAMPLE_SCENE

    world = make_world(SceneSpec.load(EXAMPLE_SCENE), base_dir=EXAMPLE_SCENE.parent)
    try:
        assert isinstance(world, World)
        oid = world.object_ids()[0]
        c = world.object_center(oid)
        down = world.cast_rays(c[None] + [0.0, 0.0, 1.0], [[0.0, 0.0, -1.0]])
        lo, hi = world.object_aabb(oid)
        # the ray meets the object between its top and its bottom (a cup's inside floor, a box's lid)
        assert 1.0 - (hi[2] - c[2]) - 0.01 <= down[0] <= 1.0 + (c[2] - lo[2]) + 0.01
        assert world.cast_rays([[0.0, 0.0, 50.0]], [[0.0, 0.0, 1.0]])[0] == float("inf")
    finally:
        world.close()


def test_an_unknown_or_missing_backend_is_one_clear_error():
    from core.errors import InputError

    with pytest.raises(InputError, match="unknown simulator backend 'nope'"):
        backend("nope")
    if importlib.util.find_spec("habitat_sim") is None:
        with pytest.raises(InputError, match="needs the 'habitat_sim' package"):
            backend("habitat")
