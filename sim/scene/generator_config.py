"""Options of the apartment generator (sim.scene.generator; the `ovmm sim generate` flags default from these)."""

from __future__ import annotations

from dataclasses import dataclass, field

from core.stretch import STRETCH
from sim.scene.floorplan import FloorPlanConfig


@dataclass(frozen=True)
class GeneratorConfig:
    """Options of `generate_scene`; the `ovmm sim generate` flags default from these."""

    rooms: tuple[str, ...] | None = None  # room labels, e.g. ("kitchen", "living room"); None: 2-5 random
    num_rooms: tuple[int, int] = (2, 5)
    num_receptacles: tuple[int, int] = (4, 12)
    num_objects: tuple[int, int] = (5, 25)
    floor_plan: FloorPlanConfig = field(default_factory=FloorPlanConfig)
    robot_radius_m: float = STRETCH.base_radius_m
    access_depth_m: float = 0.7  # free strip kept in front of (around) each receptacle
    reach_m: float = 0.9  # a receptacle must have reachable free space this close
    surface_margin_m: float = 0.03  # objects keep this far inside a surface's edge
    object_gap_m: float = 0.03  # between object footprints
    grid_resolution_m: float = 0.05
    max_attempts: int = 60
