"""What `ovmm query` and `ovmm plan` take besides their positional arguments; their options are generated
from these fields (orchestrator.config_options), and defaults come from the configs of the parts they
drive (mapping.query.QueryConfig, navigation.occupancy.OccupancyConfig), so each default lives once."""

from __future__ import annotations

from dataclasses import dataclass, replace

from mapping.query import QueryConfig
from navigation.occupancy import OccupancyConfig

_OCC = OccupancyConfig()


@dataclass
class QueryCommandConfig:
    """One `ovmm query MAP TEXT...`: how many hits, the threshold, the output."""

    interactive: bool = False
    """After the texts, keep asking (one query per line; empty line or Ctrl-D ends)."""
    top_k: int = QueryConfig.top_k
    """Hits to report."""
    threshold: float | None = None
    """Hits scoring below this are 'not found' (none: the map's own threshold, calibrated for its encoder at
    scan time; --calibration shows it)."""
    calibration: bool = False
    """Print the map's threshold and margin, and how they were found."""
    json: bool = False
    """Print the hits as JSON."""
    all: bool = False
    """Also list hits below the threshold."""
    relations: bool = QueryConfig.relations
    """Parse 'X on/in/near Y' phrases; --no-relations: treat the text as one phrase."""
    png: str | None = None
    """Draw a top-down picture with the similarity and hits."""
    rerun: str | None = None
    """Write a Rerun recording of the map and the hits."""
    device: str = "cpu"
    """Device for the text encoder (cpu, cuda, auto)."""

    def query_config(self, threshold: float) -> QueryConfig:
        """The map query's settings, with the threshold to use (this one's, or the map's)."""
        return replace(QueryConfig(), top_k=self.top_k, not_found_threshold=threshold, relations=self.relations)


@dataclass
class PlanCommandConfig:
    """One `ovmm plan MAP --to TARGET`: where from, where to, and the grid the base drives on."""

    start: str | None = None
    """Robot pose 'x,y[,yaw]' (m, rad); none: the scene's robot start (scenes only)."""
    target: str | None = None
    """'x,y', 'x,y,z' or a text query such as 'blue mug'."""
    yaw: float | None = None
    """Final heading (rad) for an 'x,y' goal."""
    threshold: float | None = None
    """Text target: not-found threshold (none: the map's calibrated one; for a scene, the ground-truth
    sentence encoder's default)."""
    surface: bool = False
    """Text target: reach anywhere on the hit's top surface (placing) instead of its centre."""
    png: str | None = None
    """Write a picture of the grid, clearance, path and goal."""
    json_out: str | None = None
    """Write the plan as JSON (ovmm-nav-plan v1)."""
    resolution: float = _OCC.resolution_m
    """Grid cell (m)."""
    height_band: str = f"{_OCC.height_band_m[0]},{_OCC.height_band_m[1]}"
    """Obstacle heights above the floor 'lo,hi' (m)."""
    robot_radius: float = _OCC.robot_radius_m
    """Inflation radius (m)."""
    unknown_free: bool = not _OCC.unknown_is_blocked
    """Treat never-seen cells as free (default: blocked)."""
    min_hits: int = 1
    """Voxel map: voxels seen fewer times are ignored."""
