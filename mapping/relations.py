"""Relational queries: "the mug on the table", "the bowl in the sink", "the cup near the sink".

A query is split at the first relation word that has words on both sides into (target, relation, anchor).
Relation words (longest match first):

| words                                  | relation | distance d used (metres)                                   |
|----------------------------------------|----------|------------------------------------------------------------|
| on, on top of, onto, upon, atop        | on       | horizontal distance from the target centre to the anchor's  |
|                                        |          | footprint + gap between target bottom and anchor top        |
| in, inside, inside of, into, within    | in       | distance from the target centre to the anchor box           |
| near, next to, beside, by, close to,   | near     | box-to-box distance                                         |
| nearby, at, besides                    |          |                                                             |
| under, below, beneath, underneath      | under    | footprint distance + how far the target top is above the   |
|                                        |          | anchor bottom                                               |
| above, over                            | above    | footprint distance + how far the target bottom is below the |
|                                        |          | anchor top                                                  |

Each target hit t gets relation support `r = max_a exp(-d(t, a) / scale) * score(a) / best anchor score`
and the final score `score(t) * (0.5 + 0.5 * r)`: a target that satisfies the relation keeps its score, one
that does not is halved (so it usually falls below the not-found threshold). Leading articles
("the", "a", "an", "my", "some") are dropped from both phrases.
"""

from __future__ import annotations

import re

import numpy as np

from mapping.hits import Hit

_RELATION_WORDS: dict[str, str] = {
    "on top of": "on", "on": "on", "onto": "on", "upon": "on", "atop": "on",
    "inside of": "in", "inside": "in", "in": "in", "into": "in", "within": "in",
    "next to": "near", "close to": "near", "near": "near", "beside": "near", "besides": "near",
    "by": "near", "nearby": "near", "at": "near",
    "under": "under", "below": "under", "beneath": "under", "underneath": "under",
    "above": "above", "over": "above",
}
_SCALE_M = {"on": 0.15, "in": 0.15, "near": 0.5, "under": 0.2, "above": 0.2}
_ARTICLES = ("the", "a", "an", "my", "some", "that", "this")
_PATTERN = re.compile(
    r"^(?P<target>.+?)\s+(?P<rel>" + "|".join(re.escape(w) for w in sorted(_RELATION_WORDS, key=len, reverse=True))
    + r")\s+(?P<anchor>.+)$",
    re.IGNORECASE,
)


def clean_phrase(text: str) -> str:
    """Collapse spaces, drop leading articles and surrounding punctuation (case is kept: the encoders'
    tokenizers lower-case themselves)."""
    words = re.sub(r"[\s]+", " ", text.strip().strip(".!?,;:")).split(" ")
    while len(words) > 1 and words[0].lower() in _ARTICLES:
        words = words[1:]
    return " ".join(words).strip()


def parse_relation(text: str) -> tuple[str, str, str] | None:
    """(target, relation, anchor) for a relational phrase, else None. relation is one of on/in/near/under/above."""
    m = _PATTERN.match(text.strip())
    if m is None:
        return None
    target, anchor = clean_phrase(m.group("target")), clean_phrase(m.group("anchor"))
    if not target or not anchor or target.lower() in _ARTICLES:
        return None
    return target, _RELATION_WORDS[m.group("rel").lower()], anchor


def _footprint_distance(p_xy: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float:
    d = np.maximum(np.maximum(lo[:2] - p_xy, p_xy - hi[:2]), 0.0)
    return float(np.linalg.norm(d))


def _box_distance(alo, ahi, blo, bhi) -> float:
    gap = np.maximum(np.maximum(alo - bhi, blo - ahi), 0.0)
    return float(np.linalg.norm(gap))


def relation_distance(target: Hit, anchor: Hit, relation: str) -> float:
    """How far (metres) `target` is from satisfying `relation` with respect to `anchor` (0 = satisfied)."""
    tc, tlo, thi = target.center, target.lo, target.hi
    alo, ahi = anchor.lo, anchor.hi
    if relation == "on":
        return float(np.hypot(_footprint_distance(tc[:2], alo, ahi), tlo[2] - ahi[2]))
    if relation == "in":
        return float(np.linalg.norm(np.maximum(np.maximum(alo - tc, tc - ahi), 0.0)))
    if relation == "near":
        return _box_distance(alo, ahi, tlo, thi)
    if relation == "under":
        return _footprint_distance(tc[:2], alo, ahi) + max(0.0, float(thi[2] - alo[2]))
    if relation == "above":
        return _footprint_distance(tc[:2], alo, ahi) + max(0.0, float(ahi[2] - tlo[2]))
    raise ValueError(f"unknown relation {relation!r}")


def rank_by_relation(targets: list[Hit], anchors: list[Hit], relation: str) -> list[Hit]:
    """Re-score target hits by how well they satisfy the relation to the anchor hits; best first."""
    if not targets:
        return []
    best_anchor = max((a.score for a in anchors), default=0.0)
    scale = _SCALE_M[relation]
    out = []
    for t in targets:
        support, best_d, best_a = 0.0, None, None
        for a in anchors:
            d = relation_distance(t, a, relation)
            r = float(np.exp(-d / scale)) * (a.score / best_anchor if best_anchor > 0 else 0.0)
            if r > support or best_a is None:
                support, best_d, best_a = max(r, support), d, a
        score = t.score * (0.5 + 0.5 * support)
        details = {"relation": relation, "relation_support": round(support, 4), "target_score": round(t.score, 4)}
        if best_a is not None:
            details["anchor"] = {"xyz": [round(float(v), 4) for v in best_a.center], "label": best_a.label,
                                 "description": best_a.description,
                                 "score": round(best_a.score, 4), "distance_m": round(float(best_d), 4)}
        out.append(Hit(center=t.center, extent=t.extent, score=score, voxels=t.voxels, label=t.label,
                       max_similarity=t.max_similarity, details={**t.details, **details},
                       description=t.description, query=t.query, support=t.support, last_seen=t.last_seen))
    out.sort(key=lambda h: -h.score)
    return out
