"""Procedural apartments: `generate_scene(seed)` -> a SceneSpec (rooms, walls, doors, furniture, objects).

Deterministic: everything is drawn from numpy's Generator(seed) in a fixed order and floats are rounded
when written, so the same seed and the same object library give a byte-identical JSON file. A draw that
fails a check (furniture does not fit, a room or receptacle unreachable for the robot) is redrawn from the
same generator, which keeps determinism.

Checks done before a scene is returned (ground truth grid, robot radius from core.stretch):
all rooms connected through doors, every receptacle reachable (free space within `reach_m` of it in its
room, connected to the robot start), objects resting upright on surfaces without overlapping.
"""

from __future__ import annotations

import logging
import math

import numpy as np

from core.errors import InputError
from core.types import Pose2D
from sim.scene.floorplan import DEFAULT_LABELS, SIZE_RANK, FloorPlan, make_floor_plan
from sim.scene.generator_config import GeneratorConfig
from sim.scene.ground_truth import component_at, free_components, occupancy_grid_full, reachable_cells_near
from sim.scene.objects import LibraryEntry, default_library
from sim.scene.placement import place_objects, place_receptacles
from sim.scene.spec import SceneSpec, validate

log = logging.getLogger(__name__)

DEFAULT_CONFIG = GeneratorConfig()


def _room_labels(rng: np.random.Generator, cfg: GeneratorConfig) -> tuple[str, ...]:
    if cfg.rooms:
        unknown = [r for r in cfg.rooms if r not in SIZE_RANK]
        if unknown:
            raise InputError(f"unknown room label(s) {', '.join(map(repr, unknown))} (known: {', '.join(SIZE_RANK)})")
        if not 1 <= len(cfg.rooms) <= 6:
            raise InputError(f"an apartment needs 1 to 6 rooms, got {len(cfg.rooms)}")
        return tuple(cfg.rooms)
    lo, hi = cfg.num_rooms
    if not 2 <= lo <= hi <= 5:
        raise InputError(f"num_rooms must satisfy 2 <= min <= max <= 5, got {cfg.num_rooms}")
    return DEFAULT_LABELS[int(rng.integers(lo, hi + 1))]


def _robot_start(rng, plan: FloorPlan, grid, labels: np.ndarray, cfg: GeneratorConfig) -> Pose2D | None:
    """A start pose in the largest room, well clear of obstacles, in the biggest free component there."""
    room = max(plan.rooms, key=lambda r: ((r.max[0] - r.min[0]) * (r.max[1] - r.min[1]), r.id))
    clear = grid.free_inflated(cfg.robot_radius_m + 0.15)
    rc = np.argwhere(clear & (labels > 0))
    xy = grid.cell_to_world(rc)
    inside = ((xy[:, 0] > room.min[0]) & (xy[:, 0] < room.max[0]) & (xy[:, 1] > room.min[1]) & (xy[:, 1] < room.max[1]))
    if not inside.any():
        return None
    rc, xy = rc[inside], xy[inside]
    comp = labels[rc[:, 0], rc[:, 1]]
    main = np.bincount(comp).argmax()
    xy = xy[comp == main]
    x, y = xy[int(rng.integers(len(xy)))]
    return Pose2D(round(float(x), 3), round(float(y), 3), round(float(rng.uniform(-math.pi, math.pi)), 4))


def check_navigable(spec: SceneSpec, cfg: GeneratorConfig = DEFAULT_CONFIG) -> str | None:
    """None if every room and receptacle is reachable from the robot start, else the reason."""
    grid = occupancy_grid_full(spec, cfg.grid_resolution_m)
    labels = free_components(grid, cfg.robot_radius_m)
    start = component_at(grid, labels, spec.robot_start.xy)
    if start == 0:
        return "robot start is not in free space"
    for room in spec.rooms:
        rc = np.argwhere(labels == start)
        xy = grid.cell_to_world(rc)
        if not np.any((xy[:, 0] > room.min[0]) & (xy[:, 0] < room.max[0]) & (xy[:, 1] > room.min[1]) & (xy[:, 1] < room.max[1])):
            return f"room {room.id!r} is not reachable from the robot start"
    rooms = {r.id: r for r in spec.rooms}
    for rec in spec.receptacles:
        if start not in reachable_cells_near(grid, labels, rec, cfg.reach_m, rooms.get(rec.room)):
            return f"receptacle {rec.id!r} is not reachable from the robot start"
    return None


def generate_scene(seed: int, config: GeneratorConfig = DEFAULT_CONFIG,
                   library: list[LibraryEntry] | None = None) -> SceneSpec:
    """A random apartment for `seed` (see the module docstring for what is guaranteed)."""
    cfg = config
    lib = list(library) if library is not None else default_library()
    if not lib:
        raise InputError("the object library is empty")
    rng = np.random.default_rng(int(seed))
    labels_needed = _room_labels(rng, cfg)
    last_reason = "no floor plan fitted"
    for attempt in range(cfg.max_attempts):
        plan = make_floor_plan(rng, labels_needed, cfg.floor_plan)
        if plan is None:
            last_reason = "the rooms could not be connected by doors"
            continue
        receptacles = place_receptacles(rng, plan, cfg)
        if receptacles is None:
            last_reason = "the furniture did not fit"
            continue
        spec = SceneSpec(name=f"apartment-{seed}", seed=int(seed), rooms=plan.rooms, walls=plan.walls,
                         doors=plan.doors, receptacles=receptacles)
        grid = occupancy_grid_full(spec, cfg.grid_resolution_m)
        comp = free_components(grid, cfg.robot_radius_m)
        start = _robot_start(rng, plan, grid, comp, cfg)
        if start is None:
            last_reason = "no free start pose"
            continue
        spec.robot_start = start
        reason = check_navigable(spec, cfg)
        if reason is not None:
            last_reason = reason
            log.debug("seed %d attempt %d rejected: %s", seed, attempt, reason)
            continue
        objects = place_objects(rng, spec.receptacles, lib, cfg)
        if objects is None:
            last_reason = "too few objects fitted on the surfaces"
            continue
        spec.objects = objects
        validate(spec)
        log.info("seed %d: %d rooms, %d receptacles, %d objects (attempt %d)", seed, len(spec.rooms),
                 len(spec.receptacles), len(spec.objects), attempt + 1)
        return spec
    raise InputError(f"could not generate a scene for seed {seed} in {cfg.max_attempts} attempts ({last_reason})")
