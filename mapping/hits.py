"""One result of a text query against the voxel map (built by mapping.query, ranked by mapping.relations)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class Hit:
    """One clustered query result."""

    center: np.ndarray  # (3,) world xyz of the core box centre
    extent: np.ndarray  # (3,) size of the core box (metres)
    score: float
    voxels: np.ndarray  # int64 rows of the map's semantic layer behind the hit (the whole component)
    label: str | None = None
    """The instance's own label ("mug") where the map knows its instances (`label_hits`), else the query."""
    max_similarity: float = 0.0
    details: dict = field(default_factory=dict)
    description: str | None = None
    """The instance's own description ("white coffee mug"), where the map knows its instances."""
    query: str | None = None
    """The phrase this hit answers."""
    support: int = 0
    """How many observations saw it: the most frames fused into any one of its voxels (a detection confused
    in one frame makes a hit of support 1 or 2; an object seen from the scan's stops has tens)."""
    last_seen: int = -1
    """The latest frame that observed any of its voxels (the map's frame index: the scan's frames, then every
    frame fused while the robot worked; the map's history says when each run's frames were fused)."""
    core: np.ndarray | None = None
    """The rows of `voxels` that make the hit's box (within the query's core margin of its best similarity;
    mapping.query.label_hits names the hit after them); None once the rows may have moved."""

    @property
    def name(self) -> str:
        """What to call the hit: its description, else its label."""
        return self.description or self.label or ""

    @property
    def lo(self) -> np.ndarray:
        return self.center - 0.5 * self.extent

    @property
    def hi(self) -> np.ndarray:
        return self.center + 0.5 * self.extent

    def to_dict(self) -> dict:
        d = {
            "xyz": [round(float(v), 4) for v in self.center],
            "extent": [round(float(v), 4) for v in self.extent],
            "score": round(float(self.score), 4),
            "label": self.label,
            "description": self.description,
            "query": self.query,
            "voxels": int(self.voxels.size),
            "last_seen": int(self.last_seen),
        }
        d.update(self.details)
        return d
