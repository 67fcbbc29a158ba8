"""Evaluation of a home that changes (`ovmm eval --changes K`): objects move between the scan and the requests.

For each apartment, after its scan and before its requests, `plan_changes` picks K objects and what happens
to each, and `apply_changes` does it in the simulated world (teleport, then physics settles it):

- `other_receptacle`: put on another receptacle, in another room where there is one;
- `same_room`: put on another receptacle of its room (or the same one, at least 0.5 m away);
- `removed`: taken out of the home (put on the floor far outside the walls, where no camera sees it).

In a set share of the apartment's episodes (`EvalConfig.changed_target_share`) the requested object is among
the K; the kinds cycle over those targets, so all three occur. Destinations are feasible by ground truth
(the Stretch can pick the object there: sim.scene.episodes.pick_reachable). Then the apartment's requests run
one after another in that one world, with the one map carried from request to request and kept current
(orchestrator.live_map; the search for moved objects, orchestrator.object_search). `--changes 0
--carry-map` runs the same sequence with nothing changed: the baseline the changed run is compared with.

Each record carries `when` (the wall-clock UTC time its request started; the map history entry of its
`report.map_update` has the time it ended), `change` (what happened to its requested object, or None) and `not_found_correct` (a
removed object reported not found without picking anything); every record of an apartment carries
`apartment_changes`: its changes and, at the end of its sequence, which of the changed objects' old places
the map still answers for (stale hits left) and whether the moved ones are in the map at their new place.
`changes_summary` turns the records into the JSON's "changes" block.
"""

from __future__ import annotations

import copy
import hashlib
import logging
import math
import os
import socket
import time
from dataclasses import dataclass, replace

import numpy as np

from core.errors import OvmmError

log = logging.getLogger(__name__)

CHANGE_KINDS = ("other_receptacle", "same_room", "removed")
_STALE_RADIUS_M = 0.35
_SAME_SPOT_MIN_M = 0.5


@dataclass(frozen=True)
class Change:
    """What happened to one object after the scan."""

    object_id: str
    description: str
    kind: str
    from_xyz: tuple[float, float, float]
    to_xyz: tuple[float, float, float] | None  # None: removed
    receptacle_id: str | None  # where it was put (None: removed)

    def to_dict(self) -> dict:
        def r(v):
            return None if v is None else [round(float(c), 3) for c in v]

        return {"object_id": self.object_id, "description": self.description, "kind": self.kind,
                "from": r(self.from_xyz), "to": r(self.to_xyz), "receptacle_id": self.receptacle_id}


def _room_of(spec, rec) -> str | None:
    if rec.room:
        return rec.room
    x, y = rec.pose[0], rec.pose[1]
    return next((r.id for r in spec.rooms if r.contains(x, y)), None)


def _rest_offset(spec, obj) -> float:
    """Height of the object's frame above the surface it rests on."""
    if obj.on is None:
        return float(obj.position[2])
    rec = spec.receptacle(obj.on)
    tops = [s.pos[2] for s in rec.surfaces if s.pos[2] <= obj.position[2] + 0.02]
    return float(obj.position[2] - (max(tops) if tops else 0.0))


def plan_changes(spec, k: int, seed: int, targets: tuple[str, ...] = (), kinds: tuple[str, ...] | None = None,
                 keep: tuple[str, ...] = ()) -> list[Change]:
    """Up to `k` changes, deterministic for (spec, seed): the `targets` (object ids) first, with kinds cycling
    over CHANGE_KINDS (or `kinds[i]` for target i), then other objects with seeded random kinds. An object
    with no feasible destination for its kind tries the other kinds; one with none is left where it is.
    Objects in `keep` (the other requests' objects) are never changed."""
    from sim.scene.episodes import ReachOracle, _footprint_radius, free_spots, pick_reachable

    rng = np.random.default_rng(seed)
    oracle = ReachOracle(spec)
    sizes = {o.id: _footprint_radius(o, spec.base_dir) for o in spec.objects}
    current = copy.copy(spec)
    current.objects = list(spec.objects)
    others = [o.id for o in (spec.objects[i] for i in rng.permutation(len(spec.objects))) if o.id not in targets and o.id not in keep]
    order = [t for t in targets if any(o.id == t for o in spec.objects)] + others
    first_kind = int(rng.integers(len(CHANGE_KINDS)))
    changes: list[Change] = []
    bounds_max = np.max([r.max for r in spec.rooms], axis=0) if spec.rooms else np.array([10.0, 10.0])

    def destination(obj, kind: str):
        if kind == "removed":
            n = sum(c.kind == "removed" for c in changes)
            return (float(bounds_max[0] + 6.0 + 0.6 * n), float(bounds_max[1] + 6.0), _rest_offset(spec, obj)), None
        here = spec.receptacle(obj.on) if obj.on else None
        room = _room_of(spec, here) if here is not None else None
        recs = [spec.receptacles[i] for i in rng.permutation(len(spec.receptacles))]
        if kind == "same_room":
            recs = [r for r in recs if _room_of(spec, r) == room and room is not None]
            recs.sort(key=lambda r: r.id == obj.on)  # another receptacle first, then the same one elsewhere
        else:
            recs = [r for r in recs if r.id != obj.on]
            recs.sort(key=lambda r: _room_of(spec, r) == room)  # another room first
        radius, _ = sizes[obj.id]
        offset = _rest_offset(spec, obj)
        for rec in recs:
            spots = free_spots(current, rec, radius, sizes=sizes)
            if rec.id == obj.on:
                spots = spots[np.hypot(spots[:, 0] - obj.position[0], spots[:, 1] - obj.position[1]) >= _SAME_SPOT_MIN_M]
            for p in spots[rng.permutation(len(spots))][:6]:
                xyz = (float(p[0]), float(p[1]), float(p[2] + offset))
                if pick_reachable(oracle, replace(obj, position=xyz, on=rec.id)):
                    return xyz, rec.id
        return None

    for k_i, oid in enumerate(order):
        if len(changes) >= k:
            break
        obj = next(o for o in current.objects if o.id == oid)
        if obj.on is None:
            continue
        is_target = oid in targets
        if is_target and kinds is not None and k_i < len(kinds):
            kind0 = kinds[k_i]
        elif is_target:
            kind0 = CHANGE_KINDS[(first_kind + k_i) % 3]
        else:
            kind0 = CHANGE_KINDS[int(rng.integers(3))]
        for kind in (kind0, *[c for c in CHANGE_KINDS if c != kind0]):
            dest = destination(obj, kind)
            if dest is None:
                continue
            xyz, rec_id = dest
            changes.append(Change(oid, obj.description, kind, tuple(float(v) for v in obj.position),
                                  None if kind == "removed" else xyz, rec_id))
            moved = replace(obj, position=xyz, on=rec_id)
            current.objects = [moved if o.id == oid else o for o in current.objects]
            break
    return changes


def apply_changes(world, changes: list[Change], spec) -> None:
    """Do the changes in a running world (teleport at rest, then let physics settle them)."""
    for c in changes:
        T = world.object_pose(c.object_id).copy()
        if c.to_xyz is None:
            obj = next(o for o in spec.objects if o.id == c.object_id)
            far = np.max([r.max for r in spec.rooms], axis=0) if spec.rooms else np.array([10.0, 10.0])
            n = [x.object_id for x in changes if x.to_xyz is None].index(c.object_id)
            T[:3, 3] = (far[0] + 6.0 + 0.6 * n, far[1] + 6.0, _rest_offset(spec, obj) + 0.01)
        else:
            T[:3, 3] = np.asarray(c.to_xyz) + np.array([0.0, 0.0, 0.01])
        world.set_object_pose(c.object_id, T)
    world.settle()


def _episode_targets(n_episodes: int, share: float, k: int, seed: int) -> list[int]:
    """Indices of the episodes whose requested object is changed: round(share * n), at most k."""
    if k <= 0 or share <= 0:
        return []
    m = min(k, n_episodes, max(1, int(round(share * n_episodes))))
    rng = np.random.default_rng(seed + 7919)
    return sorted(int(i) for i in rng.permutation(n_episodes)[:m])


def _near(hits, p) -> bool:
    return any(np.hypot(h.center[0] - p[0], h.center[1] - p[1]) < _STALE_RADIUS_M for h in hits)


def _map_state(vmap, perception, changes: list[Change], threshold: float, requested: tuple[str, ...] = ()
               ) -> list[dict]:
    """For each change: does the map still answer at the old place (a stale hit), and at the new place?"""
    out = []
    for c in changes:
        try:
            hits = [h for h in vmap.query_text(c.description, perception) if h.score >= threshold
                    and (h.description in (None, c.description))]
        except OvmmError:
            hits = []
        out.append({"object_id": c.object_id, "kind": c.kind, "requested": c.object_id in requested,
                    "stale_hit_left": _near(hits, c.from_xyz),
                    "found_at_new_place": None if c.to_xyz is None else _near(hits, c.to_xyz)})
    return out


def run_changed_apartment(config, apartment, indices: list[int], settings: str, progress=None) -> list[dict]:
    """Run the apartment's episodes in sequence in one world after `config.changes` changes; the records of
    the episodes in `indices` (the whole sequence always runs, so a resumed apartment sees the same home)."""
    from mapping.calibration import calibration_of
    from mapping.voxel_map import VoxelMap
    from orchestrator.eval_jobs import (
        RECORD_FORMAT,
        _local_folder,
        episode_key,
        loaded_scene,
        seed_everything,
    )
    from orchestrator.evaluation import MAP_FILE_NAME, PreparedScene, run_episode
    from orchestrator.live_map import utc_now
    from orchestrator.task_machine import TaskConfig
    from robots.faults import load_faults
    from sim.backends import make_world
    from sim.realism import load_realism

    shared = loaded_scene(config, apartment)
    folder = _local_folder(config, apartment)
    vmap = VoxelMap.load(folder / MAP_FILE_NAME)  # this apartment's own copy: the sequence updates it
    scene = PreparedScene(apartment.seed, shared.spec, shared.scene_path, vmap, shared.perception, cached=True)
    episodes = list(apartment.episodes)
    picked = _episode_targets(len(episodes), config.changed_target_share, config.changes, apartment.seed)
    targets = tuple(episodes[i].object_id for i in picked)
    keep = tuple(e.object_id for i, e in enumerate(episodes) if i not in picked)
    changes = plan_changes(scene.spec, config.changes, apartment.seed, targets, keep=keep) if config.changes > 0 else []
    by_object = {c.object_id: c for c in changes}
    threshold = calibration_of(vmap).threshold
    world = make_world(scene.spec, base_dir=scene.scene_path.parent)
    records: list[dict] = []
    try:
        apply_changes(world, changes, scene.spec)
        for i, ep in enumerate(episodes):
            if progress is not None:
                progress.status(f"apartment {apartment.seed}: {ep.request[:40]}")
            key = episode_key(apartment.seed, i, settings)
            seed_everything(key)
            realism = load_realism(config.realism).with_seed(int(hashlib.sha1(key.encode()).hexdigest()[:8], 16))
            t0, when = time.perf_counter(), utc_now()
            result = run_episode(scene, ep, TaskConfig(), world=world, realism=realism,
                                 faults=load_faults(config.faults), localize=config.localize)
            if world.held_object() is not None:  # a request that failed holding it: the next starts empty-handed
                world.detach()
                world.settle()
            change = by_object.get(ep.object_id)
            rec = {"format": RECORD_FORMAT, "key": key, "scene_seed": apartment.seed, "index": i,
                   "settings": settings, **result.to_dict()}
            rec["seconds"] = round(time.perf_counter() - t0, 2)
            rec["when"] = when  # the request's start (wall clock, UTC); its map_update's "when" is its end
            rec["worker"] = f"{socket.gethostname()}:{os.getpid()}"
            rec["change"] = None if change is None else change.to_dict()
            rec["not_found_correct"] = bool(change is not None and change.kind == "removed"
                                            and not result.ground_truth.get("pick", False)
                                            and _reported_not_found(result.report))
            records.append(rec)
        state = _map_state(vmap, scene.perception, changes, threshold, targets)
    finally:
        world.close()
    summary = {"changes": [c.to_dict() for c in changes], "map_after": state,
               "map_history": len(vmap.metadata.history)}
    for rec in records:
        rec["apartment_changes"] = summary
    wanted = set(indices)
    return [r for r in records if r["index"] in wanted]


def _reported_not_found(report) -> bool:
    f = report.failure
    if f is None:
        return False
    return (f.name == "find_object" and "not in the map" in f.reason) or \
        (f.name == "navigate_to_object" and bool(f.details.get("not_found")))


def _rate(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def changes_summary(records: list[dict]) -> dict:
    """The "changes" block of the evaluation JSON from the records of a --changes / --carry-map run."""
    groups: dict[str, list[dict]] = {"unchanged": [], **{k: [] for k in CHANGE_KINDS}}
    for r in records:
        kind = (r.get("change") or {}).get("kind", "unchanged")
        groups.setdefault(kind, []).append(r)

    def placed(rs):
        return sum(bool(r["ground_truth"]["place"]) for r in rs)

    moved = groups["other_receptacle"] + groups["same_room"]
    removed = groups["removed"]
    correct_nf = sum(bool(r.get("not_found_correct")) for r in removed)
    out = {
        "unchanged_targets": {"episodes": len(groups["unchanged"]), "success": _rate(placed(groups["unchanged"]),
                                                                                   len(groups["unchanged"]))},
        "moved_targets": {"episodes": len(moved), "success": _rate(placed(moved), len(moved)),
                          "by_kind": {k: {"episodes": len(groups[k]), "success": _rate(placed(groups[k]), len(groups[k]))}
                                      for k in ("other_receptacle", "same_room")}},
        "removed_targets": {"episodes": len(removed), "correct_not_found": _rate(correct_nf, len(removed))},
        "changed_targets_success": _rate(placed(moved) + correct_nf, len(moved) + len(removed)),
    }
    apartments = {r["scene_seed"]: r.get("apartment_changes") or {} for r in records}
    after = [s for a in apartments.values() for s in a.get("map_after", [])]
    out["apartments"] = len(apartments)
    out["objects_changed"] = sum(len(a.get("changes", [])) for a in apartments.values())
    out["stale_hits_removed"] = _rate(sum(not s["stale_hit_left"] for s in after), len(after))
    asked = [s for s in after if s.get("requested")]
    out["stale_hits_removed_requested"] = _rate(sum(not s["stale_hit_left"] for s in asked), len(asked))
    moved_after = [s for s in after if s["found_at_new_place"] is not None]
    out["moved_in_map_at_new_place"] = _rate(sum(bool(s["found_at_new_place"]) for s in moved_after), len(moved_after))
    searches = [r["report"].get("search") for r in records if r["report"].get("search")]
    out["searches"] = len(searches)
    out["stale_hits_marked"] = sum(len(s.get("stale", [])) for s in searches)
    return out


def check_changes_options(config) -> None:
    """One error line for bad --changes / --changed-target-share values."""
    from core.errors import InputError

    if config.changes < 0:
        raise InputError(f"--changes must be 0 or more, got {config.changes}")
    if not (0.0 <= config.changed_target_share <= 1.0) or not math.isfinite(config.changed_target_share):
        raise InputError(f"--changed-target-share must be between 0 and 1, got {config.changed_target_share}")


def sequence_mode(config) -> bool:
    """Whether the evaluation runs apartments as sequences of requests in one world (--changes / --carry-map)."""
    return config.changes > 0 or config.carry_map

