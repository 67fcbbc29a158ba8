"""Looking a request's phrase up in the map before anything moves (the task machine's find phases).

A phrase is not in the map when its best score is below the map's calibrated threshold
(mapping.calibration, or `--threshold`), and ambiguous when two different instances score within the
map's margin and neither is named exactly; both answers list the best candidates with their labels and
places. A found phrase gives the hits the task machine tries in turn: those of the best instance (its
description), or, on a map without instance labels, those scoring within `candidate_margin` of the best.
An ambiguous phrase gives the competing instances' best hits with its failure (details["ambiguous"]), for
orchestrator.task_tell to look at; a caller that only asks must not drive to them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from core.errors import OvmmError
from mapping.query import Hit, QueryConfig
from mapping.voxel_map import VoxelMap
from orchestrator.task_report import PhaseResult


@dataclass(frozen=True)
class LookupConfig:
    """How a phrase is decided found, missing or ambiguous (TaskConfig carries these fields)."""

    query: QueryConfig
    candidates: int
    candidate_margin: float
    threshold: float | None
    ambiguity_margin: float | None


def map_thresholds(voxel_map: VoxelMap, config: LookupConfig) -> tuple[float, float, str]:
    """(not-found threshold, ambiguity margin, where they come from)."""
    from mapping.calibration import calibration_of

    cal = calibration_of(voxel_map)
    thr = cal.threshold if config.threshold is None else float(config.threshold)
    margin = cal.margin if config.ambiguity_margin is None else float(config.ambiguity_margin)
    source = cal.method if config.threshold is None else "--threshold"
    return thr, margin, source


def find_in_map(voxel_map: VoxelMap, perception, phrase: str, name: str,
                config: LookupConfig) -> tuple[PhaseResult, list[Hit]]:
    """The phase `name` (find_object / find_receptacle) for `phrase`, and the hits to try when found."""
    t0 = time.perf_counter()
    try:
        hits = voxel_map.query_text(phrase, perception, config.query)
    except OvmmError as exc:
        return PhaseResult(name, False, str(exc), time.perf_counter() - t0), []
    dt = time.perf_counter() - t0
    thr, margin, source = map_thresholds(voxel_map, config)
    if not hits:
        return PhaseResult(name, False, f"'{phrase}' is not in the map (no matching voxels)", dt), []
    best = hits[0]
    details = {"score": round(float(best.score), 3), "xyz": [round(float(v), 3) for v in best.center],
               "threshold": round(thr, 4), "margin": round(margin, 4), "threshold_from": source,
               "label": best.label, "description": best.description,
               "candidates": [_candidate(h) for h in distinct_hits(hits)[:3]]}
    if best.score < thr:
        return PhaseResult(name, False, f"'{phrase}' is not in the map: the best matches are "
                                        f"{_listing(distinct_hits(hits)[:3])}, below the threshold {thr:.2f}",
                           dt, details), []
    rivals = ambiguous_rivals(hits, phrase, thr, margin)
    if rivals:
        details["ambiguous"] = [_candidate(h) for h in [best, *rivals[:2]]]
        return PhaseResult(name, False, f"'{phrase}' is ambiguous: {_listing([best, *rivals[:2]])} match "
                                        f"almost equally (within {margin:.2f}); say which one", dt, details), \
            [best, *rivals]
    if best.description is not None:
        good = [h for h in hits if h.description == best.description]
    else:
        good = [h for h in hits if h.score >= max(thr, best.score - config.candidate_margin)]
    return PhaseResult(name, True, "", dt, details), good[: config.candidates]


def ambiguous_rivals(hits: list[Hit], phrase: str, threshold: float, margin: float) -> list[Hit]:
    """The other instances that match `phrase` almost as well as the best hit (none when the best is named
    exactly or the map has no instance descriptions)."""
    best = hits[0]
    if best.description is None or best.description.lower() == phrase.strip().lower():
        return []
    return [h for h in distinct_hits(hits)[1:] if h.score >= threshold and h.score >= best.score - margin]


def distinct_hits(hits: list[Hit]) -> list[Hit]:
    """The best hit of each different instance (by description; unlabelled hits are all distinct)."""
    seen: set[str] = set()
    out = []
    for h in hits:
        if h.description is not None:
            if h.description in seen:
                continue
            seen.add(h.description)
        out.append(h)
    return out


def _candidate(hit: Hit) -> dict:
    return {"label": hit.label, "description": hit.description, "score": round(float(hit.score), 3),
            "xyz": [round(float(v), 2) for v in hit.center]}


def _listing(hits: list[Hit]) -> str:
    return ", ".join(f"{h.name or 'a match'} ({h.score:.2f}) at ({h.center[0]:.1f}, {h.center[1]:.1f})" for h in hits)
