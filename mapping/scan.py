"""The scan loop: frames -> perception -> voxel map. Reused by `ovmm scan`, the demo and the evaluation."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from core.types import Observation, RGBDFrame
from mapping.voxel_map import VoxelMap

log = logging.getLogger(__name__)

Perceive = Callable[[RGBDFrame], list[Observation]]


@dataclass
class ScanStats:
    """Totals of one scan."""

    frames: int = 0
    observations: int = 0
    points: int = 0
    perception_s: float = 0.0
    fusion_s: float = 0.0

    @property
    def fusion_fps(self) -> float:
        return self.frames / self.fusion_s if self.fusion_s > 0 else 0.0


def scan_frames(
    frames: Iterable[RGBDFrame],
    perception: Perceive | None,
    voxel_map: VoxelMap,
    on_frame: Callable[[int, RGBDFrame, list[Observation]], None] | None = None,
) -> ScanStats:
    """Run perception on every frame and fuse the frame and its observations into `voxel_map`.

    perception: callable frame -> observations (e.g. perception.build_perception(...)), or None to fuse
    geometry only. on_frame: called after each fused frame with (frame number, frame, observations), e.g.
    to advance a progress bar. Returns totals (timings split into perception and fusion).
    """
    stats = ScanStats()
    for frame in frames:
        t0 = time.perf_counter()
        observations = list(perception(frame)) if perception is not None else []
        t1 = time.perf_counter()
        fused = voxel_map.add_frame(frame, observations)
        t2 = time.perf_counter()
        stats.frames += 1
        stats.observations += fused.observations_fused
        stats.points += fused.points
        stats.perception_s += t1 - t0
        stats.fusion_s += t2 - t1
        if on_frame is not None:
            on_frame(stats.frames, frame, observations)
    log.info("scanned %d frames: %d observations, perception %.1f s, fusion %.1f s (%.1f frames/s)",
             stats.frames, stats.observations, stats.perception_s, stats.fusion_s, stats.fusion_fps)
    return stats
