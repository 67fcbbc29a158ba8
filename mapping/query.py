"""Text queries against the voxel map: similarity -> clusters of voxels -> ranked hits.

`query_map(map, text_embedding)`:
1. cosine similarity of every semantic voxel's feature with the (L2-normalised) text embedding: one
   float32 matrix-vector product divided by the cached feature norms. Maps with at least
   `index_min_voxels` voxels, from their second query on, first take an int8 pass (mapping.query_index,
   ~6x faster) and re-score in float32 only the voxels that can be within the margin (same result);
2. candidates = voxels within `candidate_margin` of the best similarity (relative threshold), at most the
   `max_candidates` best;
3. connected components of the candidates over the 26-neighbourhood (packed keys, searchsorted for the 13
   forward neighbour offsets, scipy.sparse.csgraph.connected_components);
4. each component is a hit: score = mean of its `score_top_n` best similarities (a robust max), centre and
   extent = the axis-aligned box of its "core" voxels (those within `core_margin` of the component's best),
   sorted by score; hits within `support_margin` of the best come in order of support (frames that saw
   them), and with `recency_margin` > 0 hits within that of the best come most recently seen first
   (Hit.last_seen, the latest frame that observed any of their voxels): prefer recent evidence.

`query_text(map, text, encode_text)` also understands relational phrases ("the mug on the table"), see
mapping.relations. A hit's score is comparable across queries: below `QueryConfig.not_found_threshold`
the object is reported as not found; that threshold is a property of the map's encoder, calibrated at scan
time and stored in the map (mapping.calibration, `threshold_of`); hits are mapping.hits.Hit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from core.errors import InputError
from core.text import clean_text
from mapping.hits import Hit
from mapping.voxel_keys import pack_keys

log = logging.getLogger(__name__)

# The 13 "forward" offsets of the 26-neighbourhood (the other 13 are their negatives).
_FORWARD_OFFSETS = np.array(
    [(dx, dy, dz) for dx in (-1, 0, 1) for dy in (-1, 0, 1) for dz in (-1, 0, 1) if (dx, dy, dz) > (0, 0, 0)],
    dtype=np.int64,
)


@dataclass(frozen=True)
class QueryConfig:
    """Query parameters; the CLI flags of `ovmm query` default to these."""

    top_k: int = 5
    candidate_margin: float = 0.2  # candidates: similarity >= best - margin
    max_candidates: int = 20000  # only the best this many voxels are clustered
    core_margin: float = 0.1  # a hit's box: its voxels with similarity >= its best - core_margin
    score_top_n: int = 5  # hit score = mean of its best n similarities
    min_cluster_voxels: int = 1
    support_margin: float = 0.04
    """Hits scoring within this of the best are ranked by their support (Hit.support: how many frames saw
    them) before their score: one frame's confused or spurious detection carries the same pure feature as
    the real object, and would otherwise tie with it."""
    single_frame_margin: float = 0.2
    """A hit seen in fewer than `confirmed_support` frames goes after the best hit seen in more that scores at
    most this much below it: a detector's false positive or confused label is one frame's pure text feature
    (it outscores the real object, whose voxels mix the detections of its neighbours), a real object is seen
    again (exploration aims second looks at what it saw once). 0: off."""
    confirmed_support: int = 2
    recency_margin: float = 0.0
    """Hits scoring within this of the best are ranked by when they were last seen (Hit.last_seen), most recent
    first, before support: of two equally good answers the one seen last is where the thing is now. 0 (the
    default): off. Off because every frame of a scan is "recent" in turn: on a map that has not changed it
    only ranks by which scan stop came later, while negative evidence (mapping.negative_evidence) already
    removes what a later frame saw gone and the task machine's search (orchestrator.object_search) marks a
    hit stale when the object is not there; turn it on (e.g. 0.05) where a home changes faster than the
    robot re-looks at old places."""
    not_found_threshold: float | None = None
    """Top score below this = "not found"; None: the map's own calibrated threshold (mapping.calibration.threshold_of)."""
    relations: bool = True  # parse "X on/in/near Y" phrases in query_text
    relation_candidates: int = 10  # hits of each phrase considered when ranking a relation
    index_min_voxels: int = 50_000  # maps this big use the int8 first pass (mapping.query_index)


def _normalise(v: np.ndarray, what: str) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32).reshape(-1)
    n = float(np.linalg.norm(v))
    if not np.isfinite(n) or n < 1e-12:
        raise InputError(f"the {what} is zero or not finite")
    return v / n


def similarities(voxel_map, text_embedding: np.ndarray) -> np.ndarray:
    """Cosine similarity (N,) float32 of every semantic voxel with a text embedding."""
    sem = voxel_map.semantic
    if len(sem) == 0 or sem.feature_dim is None:
        return np.zeros(0, np.float32)
    t = _normalise(text_embedding, "text embedding")
    if t.size != sem.feature_dim:
        raise InputError(
            f"the text embedding has {t.size} dimensions but the map's features have {sem.feature_dim}; "
            "query with the text encoder the map was built with"
        )
    dots = sem.features @ t
    return dots / np.maximum(sem.norms, 1e-12)


def connected_components(coords: np.ndarray) -> np.ndarray:
    """Component labels (N,) of voxels (N, 3) under 26-connectivity."""
    import scipy.sparse
    import scipy.sparse.csgraph

    n = len(coords)
    if n == 0:
        return np.zeros(0, np.int64)
    keys = pack_keys(coords)
    order = np.argsort(keys)
    sorted_keys = keys[order]
    src, dst = [], []
    c = coords.astype(np.int64)
    for off in _FORWARD_OFFSETS:
        nk = pack_keys(c + off)
        pos = np.minimum(np.searchsorted(sorted_keys, nk), n - 1)
        hit = sorted_keys[pos] == nk
        src.append(np.flatnonzero(hit))
        dst.append(order[pos[hit]])
    s = np.concatenate(src)
    d = np.concatenate(dst)
    graph = scipy.sparse.coo_matrix((np.ones(s.size, np.int8), (s, d)), shape=(n, n))
    _, labels = scipy.sparse.csgraph.connected_components(graph, directed=False)
    return labels.astype(np.int64)


def candidate_similarities(voxel_map, text_embedding: np.ndarray, config: QueryConfig
                           ) -> tuple[np.ndarray, np.ndarray]:
    """(rows, exact similarities) of the voxels within `candidate_margin` of the best (at most
    `max_candidates`), using the int8 first pass on big maps (see the module docstring)."""
    sem = voxel_map.semantic
    if len(sem) == 0 or sem.feature_dim is None:
        return np.zeros(0, np.int64), np.zeros(0, np.float32)
    index = None
    if len(sem) >= config.index_min_voxels:
        index = voxel_map.query_index(build=voxel_map.count_query() >= 2)
    if index is None:
        sims = similarities(voxel_map, text_embedding)
        cand = np.flatnonzero(sims >= sims.max() - config.candidate_margin)
        s = sims[cand]
    else:
        t = _normalise(text_embedding, "text embedding")
        if t.size != sem.feature_dim:
            similarities(voxel_map, t)  # raises the dimension error
        approx, eps = index.approx(t)
        pre = np.flatnonzero(approx >= approx.max() - config.candidate_margin - 2.0 * eps)
        s_pre = (sem.features[pre] @ t) / np.maximum(sem.norms[pre], 1e-12)
        keep = s_pre >= s_pre.max() - config.candidate_margin
        cand, s = pre[keep], s_pre[keep]
    if cand.size > config.max_candidates:
        part = np.argpartition(-s, config.max_candidates - 1)[: config.max_candidates]
        cand, s = cand[part], s[part]
    return cand, s.astype(np.float32)


def cluster_hits(voxel_map, cand: np.ndarray, s: np.ndarray, config: QueryConfig, top_k: int,
                 label: str | None = None) -> list[Hit]:
    """Cluster candidate voxels (rows, similarities) into ranked hits (see the module docstring)."""
    if cand.size == 0:
        return []
    coords = voxel_map.semantic.coords[cand]
    labels = connected_components(coords)
    order = np.lexsort((-s, labels))  # grouped by component, best similarity first
    labels_o, cand_o, s_o, coords_o = labels[order], cand[order], s[order], coords[order]
    starts = np.flatnonzero(np.r_[True, labels_o[1:] != labels_o[:-1]])
    sizes = np.diff(np.r_[starts, labels_o.size])
    rank = np.arange(labels_o.size) - np.repeat(starts, sizes)
    comp = np.repeat(np.arange(starts.size), sizes)
    top = rank < config.score_top_n
    scores = np.bincount(comp[top], weights=s_o[top], minlength=starts.size) / np.minimum(sizes, config.score_top_n)
    scores[sizes < config.min_cluster_voxels] = -np.inf
    vs = voxel_map.voxel_size
    hits = []
    for ci in np.argsort(-scores, kind="stable")[:4 * top_k]:  # more, for rank_by_support and rank_confirmed_first
        if not np.isfinite(scores[ci]):
            break
        a, b = starts[ci], starts[ci] + sizes[ci]
        comp_s = s_o[a:b]
        core = comp_s >= comp_s[0] - config.core_margin
        cc = coords_o[a:b][core]
        lo = cc.min(axis=0).astype(np.float64) * vs
        hi = (cc.max(axis=0).astype(np.float64) + 1.0) * vs
        support = int(voxel_map.semantic.counts[cand_o[a:b]].max())
        last_seen = int(voxel_map.semantic.last_seen[cand_o[a:b]].max())
        hits.append(Hit(center=(lo + hi) / 2.0, extent=hi - lo, score=float(scores[ci]), voxels=cand_o[a:b].copy(),
                        label=label, max_similarity=float(comp_s[0]), query=label, support=support,
                        last_seen=last_seen, core=cand_o[a:b][core].copy()))
    hits = rank_confirmed_first(rank_by_support(hits, config.support_margin), config.single_frame_margin,
                                config.confirmed_support)
    return rank_by_recency(hits, config.recency_margin)[:top_k]


def rank_by_support(hits: list[Hit], margin: float) -> list[Hit]:
    """Best score first, except that hits within `margin` of the best score come in order of support."""
    hits = sorted(hits, key=lambda h: -h.score)
    if not hits or margin <= 0:
        return hits
    near = [h for h in hits if h.score >= hits[0].score - margin]
    return sorted(near, key=lambda h: (-h.support, -h.score)) + hits[len(near):]


def rank_confirmed_first(hits: list[Hit], margin: float, min_support: int) -> list[Hit]:
    """Hits seen in fewer than `min_support` frames that come before the first hit seen in more, scoring at most
    `margin` above it, move to just after it (the others keep their order). margin <= 0: unchanged."""
    if margin <= 0:
        return hits
    first = next((i for i, h in enumerate(hits) if h.support >= min_support), None)
    if not first:
        return hits
    ref = hits[first].score
    demoted = [h for h in hits[:first] if h.score - ref <= margin]
    kept = [h for h in hits[:first] if h.score - ref > margin]
    return kept + [hits[first]] + demoted + hits[first + 1:]


def rank_by_recency(hits: list[Hit], margin: float) -> list[Hit]:
    """Hits within `margin` of the best score first, most recently seen first (stable: otherwise in the order
    given); the others after them, as given. margin <= 0: unchanged."""
    if not hits or margin <= 0:
        return hits
    best = max(h.score for h in hits)
    near = [h for h in hits if h.score >= best - margin]
    far = [h for h in hits if h.score < best - margin]
    return sorted(near, key=lambda h: -h.last_seen) + far


def query_map(voxel_map, text_embedding: np.ndarray, config: QueryConfig = QueryConfig(),
              top_k: int | None = None, label: str | None = None) -> list[Hit]:
    """Ranked hits for one text embedding; empty when the map has no semantic voxels."""
    cand, s = candidate_similarities(voxel_map, text_embedding, config)
    return cluster_hits(voxel_map, cand, s, config, config.top_k if top_k is None else top_k, label)


EncodeText = Callable[[Sequence[str]], np.ndarray]


def query_text(voxel_map, text: str, encoder, config: QueryConfig = QueryConfig()) -> list[Hit]:
    """Hits for a text query; "X on/in/near Y" phrases are ranked by the relation (mapping.relations).

    encoder: an object with `encode_text(texts) -> (N, D)` and `embedding_model_id` (checked against the
    map's; a mismatch raises mapping.map_encoder.EncoderMismatchError), or a bare encode_text callable.
    """
    from mapping.map_encoder import check_encoder
    from mapping.relations import clean_phrase, parse_relation, rank_by_relation

    if hasattr(encoder, "encode_text"):
        check_encoder(voxel_map, encoder)
        encode_text: EncodeText = encoder.encode_text
    else:
        encode_text = encoder
    text = clean_text(text or "")  # NFKC, invisible characters removed (core.text)
    if not text:
        raise InputError("the query text is empty")
    if len(voxel_map) == 0:
        raise InputError("the map has no semantic voxels (no objects were observed during the scan)")
    parsed = parse_relation(text) if config.relations else None
    if parsed is None:
        phrase = clean_phrase(text)
        emb = np.asarray(encode_text([phrase]), dtype=np.float32).reshape(1, -1)[0]
        return _exact_first(label_hits(voxel_map, query_map(voxel_map, emb, config, label=phrase), encode_text),
                            phrase)
    target, relation, anchor = parsed
    embs = np.asarray(encode_text([target, anchor]), dtype=np.float32).reshape(2, -1)
    n = max(config.top_k, config.relation_candidates)
    targets = label_hits(voxel_map, query_map(voxel_map, embs[0], config, top_k=n, label=target), encode_text)
    anchors = label_hits(voxel_map, query_map(voxel_map, embs[1], config, top_k=n, label=anchor), encode_text)
    return rank_by_relation(targets, anchors, relation)[: config.top_k]


def _exact_first(hits: list[Hit], phrase: str) -> list[Hit]:
    """The exact description of an instance names it: such hits go first (stable otherwise)."""
    p = phrase.strip().lower()
    return sorted(hits, key=lambda h: 0 if (h.description or "").lower() == p else 1)


def instance_features(voxel_map, encode_text: EncodeText) -> tuple[list, np.ndarray]:
    """(InstanceTexts, (K, D) features) of the map's recorded instances, embedded once per map and encoder
    the same way ground-truth perception embeds them (perception.vocabulary.ensemble_features)."""
    from perception.vocabulary import InstanceText, ensemble_features

    entries = voxel_map.metadata.instances
    key = (voxel_map.metadata.embedding_model_id, len(entries), id(entries))
    cache = getattr(voxel_map, "_instance_cache", None)
    if cache is not None and cache[0] == key:
        return cache[1], cache[2]
    texts = [InstanceText.from_dict(d) for d in entries]
    feats = ensemble_features(encode_text, texts) if texts else np.zeros((0, 0), np.float32)
    voxel_map._instance_cache = (key, texts, feats)
    return texts, feats


def label_hits(voxel_map, hits: list[Hit], encode_text: EncodeText) -> list[Hit]:
    """Give each hit the label and description of the map instance its core voxels (Hit.core, those that make
    its box; all its voxels where it has none) most resemble (a vote of the voxels, weighted by fusion
    weight); hits keep the query as label where the map records no instances. The core, not the whole
    component: a small object seen in one or two frames is a few voxels joined to the many of what it stands
    against, which would outvote it and name the hit after that, so that a detector's false positive of
    the object's name (a pure patch on a wall) went first by its exact name (`_exact_first`)."""
    if not hits or not voxel_map.metadata.instances:
        return hits
    texts, feats = instance_features(voxel_map, encode_text)
    sem = voxel_map.semantic
    if feats.size == 0 or feats.shape[1] != sem.feature_dim:
        return hits
    for h in hits:
        rows = h.voxels if h.core is None or not len(h.core) else h.core
        f = sem.features[rows] / np.maximum(sem.norms[rows], 1e-12)[:, None]
        best = np.argmax(f @ feats.T, axis=1)
        votes = np.bincount(best, weights=sem.weights[rows], minlength=len(texts))
        k = int(np.argmax(votes))
        h.label, h.description = texts[k].label, texts[k].description
        h.details["label_share"] = round(float(votes[k] / max(votes.sum(), 1e-12)), 3)
    return hits
