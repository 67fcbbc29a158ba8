"""Simulator backends by name, and the one place that builds a simulated world or robot from a scene.

A backend is a class (or function) `factory(spec, config, base_dir) -> World` (sim.protocol). It is named
here as "module:attribute" and imported only when used, so an optional simulator (habitat-sim, ...) costs
nothing until asked for and a missing one gives one clear error. Adding a backend is one line in `BACKENDS`:

    BACKENDS = {
        "mujoco": Backend("sim.mujoco.world:SimWorld", "mujoco"),
        "habitat": Backend("sim.habitat_sim.world:HabitatWorld", "habitat_sim"),
    }

(the second field is the import that must succeed for the backend to be available; docs/architecture.md).
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError
from robots.faults import FaultConfig, FaultyRobot
from sim.config import SimConfig
from sim.protocol import World
from sim.realism import RealismConfig
from sim.robot import SimRobot
from sim.scene.spec import SceneSpec

WorldFactory = Callable[[SceneSpec, SimConfig | None, Path | None], World]


@dataclass(frozen=True)
class Backend:
    """Where a backend's World factory lives ("module:attribute") and the package it needs."""

    target: str
    requires: str
    install_hint: str = ""

    def available(self) -> bool:
        return importlib.util.find_spec(self.requires) is not None

    def load(self) -> WorldFactory:
        module, _, attr = self.target.partition(":")
        return getattr(importlib.import_module(module), attr)


BACKENDS: dict[str, Backend] = {
    "mujoco": Backend("sim.mujoco.world:SimWorld", "mujoco", "pip install mujoco"),
    "habitat": Backend("sim.habitat_sim.world:HabitatWorld", "habitat_sim",
                       "no Linux pip wheel: conda install habitat-sim headless -c conda-forge -c aihabitat"),
}
DEFAULT_BACKEND = "mujoco"


def backend(name: str) -> Backend:
    """The registered backend `name`, available here (InputError naming the choices or what to install)."""
    if name not in BACKENDS:
        raise InputError(f"unknown simulator backend {name!r}; use one of {', '.join(sorted(BACKENDS))}")
    b = BACKENDS[name]
    if not b.available():
        hint = f" ({b.install_hint})" if b.install_hint else ""
        raise InputError(f"simulator backend {name!r} needs the {b.requires!r} package, which is not installed{hint}")
    return b


def make_world(spec: SceneSpec, config: SimConfig | None = None, base_dir: str | Path | None = None,
               backend_name: str = DEFAULT_BACKEND) -> World:
    """Build the scene in a simulator backend. `base_dir` resolves the spec's relative mesh paths (default:
    the folder the spec was loaded from)."""
    factory = backend(backend_name).load()
    return factory(spec, config, Path(base_dir) if base_dir is not None else None)


def load_world(scene: str | Path, config: SimConfig | None = None, backend_name: str = DEFAULT_BACKEND) -> World:
    """A scene file -> a built world (its meshes resolved next to the file)."""
    path = Path(scene)
    return make_world(SceneSpec.load(path), config, path.parent, backend_name)


def make_sim_robot(scene: SceneSpec | str | Path | None = None, config: SimConfig | None = None,
                   base_dir: str | Path | None = None, backend_name: str = DEFAULT_BACKEND,
                   world: World | None = None, realism: RealismConfig | None = None,
                   faults: FaultConfig | None = None) -> SimRobot | FaultyRobot:
    """The one place a simulated Stretch is made: in `world`, or in a new world built from `scene` (a spec or
    a scene file). Not yet connected (use it as a context manager); whoever built the world closes it
    (`robot.world.close()`), or use `simulated_robot`."""
    if world is None:
        if scene is None:
            raise InputError("a simulated robot needs a scene (scene.json) or a built world")
        if isinstance(scene, SceneSpec):
            world = make_world(scene, config, base_dir, backend_name)
        else:
            world = load_world(scene, config, backend_name)
    robot = SimRobot(world, realism)
    return robot if faults is None else FaultyRobot(robot, faults)  # robots.faults: `--faults FILE.json`


@contextlib.contextmanager
def simulated_robot(scene: SceneSpec | str | Path | None = None, config: SimConfig | None = None,
                    base_dir: str | Path | None = None, backend_name: str = DEFAULT_BACKEND,
                    world: World | None = None, realism: RealismConfig | None = None,
                    faults: FaultConfig | None = None) -> Iterator[SimRobot | FaultyRobot]:
    """`make_sim_robot` as a context manager: connected inside; on exit stopped, disconnected, and the world
    closed if it was built here."""
    robot = make_sim_robot(scene, config, base_dir, backend_name, world, realism, faults)
    try:
        with robot:
            yield robot
    finally:
        if world is None:
            robot.world.close()
