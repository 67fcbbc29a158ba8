"""Telling apart by looking: a request more specific than every map instance it is ambiguous between.

The find_object phase refuses a phrase that two different instances of the map match almost equally
(orchestrator.task_lookup). When the user was vaguer than the map ("the coffee mug" in a home with a white
and a yellow one), that is right: the robot asks which one, before it moves. But when the phrase names
something none of the candidates' descriptions has ("the orange cup" among a blue, a green and a white cup),
the map itself is the likely culprit: a detector gave the orange cup another cup's label, or merged it with
a cup beside it, while it scanned (the realistic profile's label confusion; apartment 10485). Then the robot
drives to each candidate in turn, looks with a fresh close view, and takes the first where a mask of the
phrase, within `near_m` of the candidate, matches the phrase clearly better (`margin`) than it matches any
candidate's description; if none does, the phrase stays ambiguous, with what each look saw.

The same words tell masks apart at the pick (`phrase_masks`): a mask the phrase roughly fits that reads
clearly more like a thing of another colour the map knows ("green cardboard box" for "orange cardboard box":
the map had only the green box, and a detector's confused label put the phrase on it; apartment 10703) is
not the object, so the pick does not grasp it and tries the phrase's next hit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

import numpy as np

from core.stretch import head_look_at
from core.text import clean_text
from grasping.motion import clear_view
from grasping.object_points import mask_centre
from orchestrator.task_report import PhaseResult

if TYPE_CHECKING:
    from mapping.hits import Hit
    from orchestrator.task_report import TaskReport


@dataclass(frozen=True)
class TellConfig:
    """When and how the find phase looks to tell ambiguous candidates apart (see the module docstring)."""

    enabled: bool = True
    candidates: int = 3
    """Candidates driven to and looked at, best first."""
    margin: float = 0.03
    """A mask in a fresh view must match the phrase by this much more (cosine of its feature with the text)
    than it matches every candidate's description: it is not what the map named it. Colours move MiniLM's
    text embeddings little: an orange cup seen up close leads "blue plastic cup" by 0.06 for "orange plastic
    cup", a yellow mug trails it by 0.07 for "red coffee mug" (apartments 10485, 10488)."""
    looks: int = 3
    """Head-camera frames per candidate (a detector misses a quarter of what it sees in a frame)."""
    near_m: float = 0.4
    """Masks whose points lie farther than this from the candidate (horizontally) are something else (a
    realistic map's hit can lie 0.3-0.4 m from its object, smeared onto the furniture under it)."""
    other_margin: float = 0.03
    """At the pick and the place, a mask whose feature matches one of the map's instance descriptions of
    another colour by this much more than the phrase is that other thing (`phrase_masks`). 0: off."""


def _words(text: str | None) -> set[str]:
    return set(clean_text(text or "").lower().replace(",", " ").split())


def _text_rows(runner, texts: list[str]) -> np.ndarray:
    """(N, D) unit-length text embeddings in the map's feature space."""
    emb = np.asarray(runner.perception.encode_text(texts), dtype=np.float64)
    return emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)


def _unit(feature) -> np.ndarray:
    f = np.asarray(feature, dtype=np.float64)
    return f / (np.linalg.norm(f) or 1.0)


def names_more_than_the_map(phrase: str, candidates: list[Hit]) -> bool:
    """Whether the phrase has a word that no candidate's description has (so no candidate is simply a more
    precise name for what the user said): the map may have mislabelled the object."""
    words = _words(phrase)
    return bool(words) and all(h.description is not None and not words <= _words(h.description)
                               for h in candidates)


def tell_by_looking(runner, report: TaskReport, phrase: str, candidates: list[Hit],
                    config: TellConfig) -> tuple[Hit | None, list[str]]:
    """Drive to each candidate and look; (the candidate the phrase is seen at, what each look saw)."""
    emb = _text_rows(runner, [phrase, *dict.fromkeys(h.description for h in candidates if h.description)])
    seen: list[str] = []
    for k, hit in enumerate(candidates[: config.candidates]):
        where = f"{hit.name or 'candidate'} at ({hit.center[0]:.1f}, {hit.center[1]:.1f})"
        nav, _ = runner._navigate(report, [hit], "find_object")
        if not nav.success:
            seen.append(f"{where}: not reached ({nav.reason})")
            continue
        lead = _fresh_lead(runner, hit, phrase, emb, config)
        seen.append(f"{where}: " + ("nothing like it in view" if lead is None else
                                    f"the phrase leads what the map named by {lead:+.2f}"))
        runner._note(report, f"find_object: looked at candidate {k + 1}, {seen[-1]} (needs {config.margin:+.2f})")
        if lead is not None and lead >= config.margin:
            return hit, seen
    return None, seen


def _fresh_lead(runner, hit: Hit, phrase: str, emb: np.ndarray, config: TellConfig) -> float | None:
    """Among masks of the phrase near the hit in `looks` fresh frames, the most that one matches the phrase
    (`emb[0]`) better than every candidate's description (`emb[1:]`); None when no mask lies near."""
    robot, pick = runner.robot, runner.config.pick
    centre = np.asarray(hit.center, dtype=float)
    clear_view(robot, float(centre[2]), [])
    robot.set_head(*head_look_at(robot.get_base_pose(), centre))
    best: float | None = None
    for _ in range(max(1, config.looks)):
        frame = robot.observe().frame
        for obs in runner.perception.segment_text(frame, phrase):
            if obs.feature is None or not np.any(obs.mask):
                continue
            c = mask_centre(frame, obs.mask, pick.points)
            if c is None or np.hypot(*(c - centre)[:2]) > config.near_m:
                continue
            sims = emb @ _unit(obs.feature)
            lead = float(sims[0] - (sims[1:].max() if len(sims) > 1 else -1.0))
            best = lead if best is None else max(best, lead)
    return best


# Basic colour terms: an object is not two of them at once, while a user's other words may be synonyms.
COLOUR_WORDS = frozenset({"black", "white", "grey", "gray", "red", "green", "blue", "yellow", "orange", "purple",
                          "pink", "brown", "beige", "violet", "silver", "gold", "navy", "teal", "turquoise",
                          "cyan", "magenta", "maroon", "cream"})


def colours(text: str | None) -> set[str]:
    return _words(text) & COLOUR_WORDS


def phrase_masks(runner, frame, phrase: str) -> list[tuple[np.ndarray, float]]:
    """(mask, score) of the phrase's masks in a frame, less those that are clearly another thing: the mask's
    feature reads more like one of the map's instance descriptions than like the phrase, by more than
    `TellConfig.other_margin`, and that description's colour is not the phrase's ("green cardboard box" for
    "orange cardboard box"). A synonym without a colour ("coffee cup" for the white coffee mug) keeps its
    masks: words other than colours may mean the same thing."""
    observations = runner.perception.segment_text(frame, phrase)
    names = _instance_names(runner, phrase)
    out = []
    for o in observations:
        if names is not None and o.feature is not None:
            emb, conflicting = names
            sims = emb @ _unit(o.feature)
            best = int(np.argmax(sims[1:])) + 1
            if conflicting[best - 1] and sims[best] - sims[0] > runner.config.tell.other_margin:
                continue
        out.append((o.mask, float(o.score)))
    return out


def _instance_names(runner, phrase: str) -> tuple[np.ndarray, list[bool]] | None:
    """(normalised embeddings of the phrase and the map's instance descriptions, whether each description's
    colours exclude the phrase's), cached per phrase; None when off, the phrase has no colour or the map
    records no instances."""
    config = runner.config.tell
    descriptions = list(dict.fromkeys(d.get("description") for d in runner.map.metadata.instances
                                      if d.get("description")))
    said = colours(phrase)
    if not config.enabled or config.other_margin <= 0 or not said or not descriptions:
        return None
    cache = runner.__dict__.setdefault("_instance_names", {})
    key = (phrase, tuple(descriptions))
    if key not in cache:
        cache[key] = (_text_rows(runner, [phrase, *descriptions]), [bool(colours(d)) and not colours(d) & said for d in descriptions])
    return cache[key]


def tell_phase(runner, report: TaskReport, task, found: PhaseResult,
               candidates: list[Hit]) -> tuple[PhaseResult, list[Hit]]:
    """The find_object phase for an ambiguous phrase: told by looking (with the one hit to pick), or the
    ambiguity as found, with what the looks saw. Nothing moves when the phrase is no more specific than the
    candidates, or when the request's receptacle is not in the map (the request fails there anyway)."""
    config = runner.config.tell
    if not config.enabled or not names_more_than_the_map(task.object_phrase, candidates):
        return found, []
    if task.kind == "pick_and_place" and not runner._find(task.receptacle_phrase, "find_receptacle")[0].success:
        return found, []
    t0 = time.perf_counter()
    runner._note(report, f"find_object: {found.reason}; the map may have mislabelled it: looking at each")
    hit, seen = tell_by_looking(runner, report, task.object_phrase, candidates, config)
    seconds = found.seconds + time.perf_counter() - t0
    details = {**found.details, "looked": seen}
    if hit is None:
        return replace(found, reason=f"{found.reason}; looked at each: {'; '.join(seen)}", seconds=seconds,
                       details=details), []
    details.update(score=round(float(hit.score), 3), xyz=[round(float(v), 3) for v in hit.center],
                   label=hit.label, description=hit.description, told_by_looking=True)
    return PhaseResult(found.name, True, "", seconds, details), [hit]
