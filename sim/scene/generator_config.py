"""Options of the apartment generator (sim.scene.generator; the `ovmm sim generate` flags default from these)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.stretch import STRETCH
from sim.scene.floorplan import FloorPlanConfig


@dataclass(frozen=True)
class GeneratorConfig:
    """Options of `generate_scene`; the `ovmm sim generate` flags default from these."""

    rooms: tuple[str, ...] | None = None
    """Room labels, e.g. kitchen,living room,bedroom (default: a random number of random rooms, see --room-count)."""
    num_rooms: tuple[int, int] = (2, 5)
    """Range of the number of random rooms when no labels are given."""
    num_receptacles: tuple[int, int] = (4, 12)
    """Range of the number of receptacles (tables, counters, shelves, ...)."""
    num_objects: tuple[int, int] = (5, 25)
    """Range of the number of pickable objects."""
    floor_plan: FloorPlanConfig = field(default_factory=FloorPlanConfig)
    robot_radius_m: float = STRETCH.base_radius_m
    access_depth_m: float = 0.7
    """Free strip kept in front of (around) each receptacle (m)."""
    reach_m: float = 0.9
    """A receptacle must have reachable free space this close (m)."""
    surface_margin_m: float = 0.03
    """Objects keep this far inside a surface's edge (m)."""
    object_gap_m: float = 0.03
    """Gap between object footprints (m)."""
    grid_resolution_m: float = 0.05
    max_attempts: int = 60
