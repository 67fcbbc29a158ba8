"""What a request did: the phases of the task machine (orchestrator.task_machine) and its report.

`TaskReport` lists the phases in the order they ran (`RUN_ORDER`), each a `PhaseResult` with success, reason,
seconds and details, plus the step log and geometry for pictures; `to_dict()` is the `ovmm-run-report`
JSON (version 1).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from orchestrator.requests import Task

PHASES = ("find_object", "navigate_to_object", "pick", "find_receptacle", "navigate_to_receptacle", "place")
"""The phases of a pick-and-place (tables list them in this order; find_receptacle runs second, before
anything moves)."""
RUN_ORDER = ("find_object", "find_receptacle", "navigate_to_object", "pick", "navigate_to_receptacle", "place")
"""The order phases run (and appear in a report) in."""


@dataclass
class PhaseResult:
    name: str
    success: bool
    reason: str = ""
    seconds: float = 0.0
    details: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"name": self.name, "success": self.success, "reason": self.reason,
                "seconds": round(self.seconds, 3), "details": self.details}


@dataclass
class TaskReport:
    """What happened: the phases in order, the step log, and geometry for pictures."""

    request: str
    task: Task | None
    phases: list[PhaseResult] = field(default_factory=list)
    log: list[str] = field(default_factory=list)
    paths_xy: list[np.ndarray] = field(default_factory=list)
    object_xyz: np.ndarray | None = None
    receptacle_xyz: np.ndarray | None = None
    grasp_xyz: np.ndarray | None = None
    place_xyz: np.ndarray | None = None
    seconds: float = 0.0
    map_update: dict | None = None
    """What the live map did during the request (orchestrator.live_map: the map history entry)."""
    search: dict | None = None
    """Where the object search looked, if it had to (orchestrator.object_search)."""

    @property
    def success(self) -> bool:
        return bool(self.phases) and all(p.success for p in self.phases) and self._complete()

    def _complete(self) -> bool:
        names = {p.name for p in self.phases}
        need = {"pick_and_place": PHASES, "pick": PHASES[:3], "place": PHASES[3:]}[self.task.kind] if self.task else ()
        return set(need) <= names

    @property
    def failure(self) -> PhaseResult | None:
        return next((p for p in self.phases if not p.success), None)

    def phase(self, name: str) -> PhaseResult | None:
        return next((p for p in self.phases if p.name == name), None)

    def to_dict(self) -> dict:
        def xyz(v):
            return None if v is None else [round(float(c), 4) for c in v]

        f = self.failure
        return {
            "format": "ovmm-run-report", "version": 1,
            "request": self.request, "task": None if self.task is None else self.task.to_dict(),
            "success": self.success, "failed_phase": None if f is None else f.name,
            "reason": "" if f is None else f.reason, "seconds": round(self.seconds, 3),
            "phases": [p.to_dict() for p in self.phases], "log": list(self.log),
            "object_xyz": xyz(self.object_xyz), "receptacle_xyz": xyz(self.receptacle_xyz),
            "grasp_xyz": xyz(self.grasp_xyz), "place_xyz": xyz(self.place_xyz),
            "paths_xy": [np.round(p, 3).tolist() for p in self.paths_xy],
            "map_update": self.map_update, "search": self.search,
        }
