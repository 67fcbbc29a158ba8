"""How a voxel map fuses frames (VoxelMapConfig) and what it records about itself (MapMetadata).

Kept apart from mapping.voxel_map so that mapping.persistence can read and write both without importing
the map class (VoxelMap.load passes itself in): no import cycle inside mapping.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field


@dataclass(frozen=True)
class VoxelMapConfig:
    """How frames are fused. Defaults are the CLI defaults (`ovmm scan`)."""

    voxel_size_m: float = 0.05
    """Voxel edge (m)."""
    min_depth_m: float = 0.1
    max_depth_m: float = 4.0
    """Depth beyond this is not fused: a stereo camera's error grows with the square of the range (a D435's
    is about 4 cm at 3.5 m and 13 cm at 6 m), and farther points smear walls and furniture into the floor."""
    mask_erode_px: int = 1
    """Erode object masks by this many pixels before fusing (0: off)."""
    min_mask_points: int = 5  # observations with fewer valid masked points are skipped

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> VoxelMapConfig:
        return cls(**{k: v for k, v in d.items() if k in cls.__dataclass_fields__})



@dataclass
class MapMetadata:
    """Provenance recorded with the map (saved in the file header)."""

    embedding_model_id: str | None = None
    perception: dict = field(default_factory=dict)
    frames: int = 0
    source: str | None = None
    instances: list[dict] = field(default_factory=list)
    """What the map's objects are called: perception.vocabulary.InstanceText dicts (label, description,
    phrases) of every instance (or detector label) fused; query hits are labelled with them."""
    query_calibration: dict = field(default_factory=dict)
    """The not-found threshold and ambiguity margin for this map's encoder (mapping.calibration)."""
    fingerprint: dict = field(default_factory=dict)
    """What the map was made from: {"kind": "scene"|"capture"|"robot", "name", "sha256"} (mapping.fingerprint)."""
    history: list[dict] = field(default_factory=list)
    """Updates made after the scan, oldest first (the last 32: orchestrator.live_map): when, what (a run and its
    request), frames fused, voxels added and removed, hits found stale."""
