"""The task machine's live-map hooks: where a request keeps its map current (orchestrator.live_map).

`TaskLiveMap(robot, voxel_map, perception, config)` is made once per TaskRunner. With live updates on
(`LiveMapConfig.enabled`) its `robot` is the runner's robot wrapped in a MapUpdatingRobot, so every frame
the task machine takes (looks of a pick or a place, search looks, one after each drive) is fused; off, it is
the robot itself and every hook does nothing. The hooks:

- `keep_hits(hits, reset)`: the request's query hits stay on their voxels while fusion shifts the rows;
- `grid_changed()`: enough occupied voxels changed that the obstacle grid should be rebuilt (moved chairs);
- `record(report, search)`: the request's entry in the map's history (what the live map changed, what the
  search found stale), also set on the report (`map_update`, `search`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from orchestrator.live_map import LiveMap, LiveMapConfig, MapUpdatingRobot

if TYPE_CHECKING:
    from mapping.hits import Hit
    from mapping.voxel_map import VoxelMap
    from orchestrator.task_report import TaskReport
    from robots.protocol import Robot


class TaskLiveMap:
    """The live-map side of one TaskRunner (see the module docstring)."""

    def __init__(self, robot: Robot, voxel_map: VoxelMap, perception, config: LiveMapConfig) -> None:
        self.live = LiveMap(voxel_map, perception, config) if config.enabled else None
        self.robot: Robot = robot if self.live is None else MapUpdatingRobot(robot, self.live)

    def keep_hits(self, hits: list[Hit], reset: bool = False) -> None:
        """The hits' voxel rows shift as frames are fused: keep them on their voxels."""
        if self.live is not None:
            self.live.keep_hits(hits, reset=reset)

    def grid_changed(self) -> bool:
        """Whether the live map emptied or added enough occupied voxels for a new obstacle grid."""
        return self.live is not None and self.live.obstacles_changed()

    def record(self, report: TaskReport, search=None) -> None:
        """Put the search's places (if it marked hits stale) and the map history entry on the report."""
        if search is not None and search.stale:
            report.search = search.to_dict()
        if self.live is not None:
            report.map_update = self.live.record("run", request=report.request, success=report.success,
                                                 stale_hits=(report.search or {}).get("stale", []))
