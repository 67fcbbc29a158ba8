"""The task machine's search hooks: which hits the pick phase tries, and the search when they are stale.

`PickAttempts(runner, report, phrase, hits, modes, config)` is what the pick phase of
orchestrator.task_machine iterates over: (hit, reach mode, navigator) in turn. With the search on
(`SearchConfig.enabled`) those come from orchestrator.object_search (the map's hits, each confirmed with a
fresh look once the robot parked, `confirmed`; stale ones skipped; then what the search's stages find);
off, every hit with every reach mode, unconfirmed. `not_found(nav_failures)` is the navigate_to_object
failure when every hit was stale and the search did not see the object: one line with where it looked.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING

from orchestrator.object_search import ObjectSearch, SearchConfig
from orchestrator.task_report import PhaseResult

if TYPE_CHECKING:
    from mapping.hits import Hit
    from orchestrator.task_report import TaskReport


class PickAttempts:
    """The attempts of one pick phase (see the module docstring)."""

    def __init__(self, runner, report: TaskReport, phrase: str, hits: list[Hit], modes: dict,
                 config: SearchConfig) -> None:
        self.report = report
        self.hits = hits
        self.modes = modes
        self.search = ObjectSearch(runner, phrase, config) if config.enabled else None
        self._confirmed: set[int] = set()

    def __iter__(self) -> Iterator[tuple]:
        if self.search is not None:  # hits marked stale, then what the search finds (orchestrator.object_search)
            yield from self.search.attempts(self.report, self.hits, self.modes)
            return
        for hit in self.hits:
            for mode, navigator in self.modes.items():
                yield hit, mode, navigator

    def confirmed(self, hit: Hit) -> bool:
        """Parked at `hit`: is the object there? (Always, without the search; a hit is looked at once.)"""
        if self.search is None or id(hit) in self._confirmed:
            return True
        if not self.search.confirm(self.report, hit):
            return False  # stale: the search's next hit
        self._confirmed.add(id(hit))
        return True

    def not_found(self, nav_failures: list[PhaseResult]) -> PhaseResult | None:
        """The failure to report when every hit tried was stale (None when none was)."""
        search = self.search
        if search is None or not search.stale:
            return None
        return PhaseResult("navigate_to_object", False, search.not_found_reason(),
                           sum(f.seconds for f in nav_failures), {"not_found": True, **search.to_dict()})
