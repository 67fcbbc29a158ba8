"""The not-found threshold and the ambiguity margin of a map: a property of its text/image encoder pair.

Similarity scales differ by model: the ground-truth sentence encoder scores a matching phrase 0.7-1.0 and an
unrelated one 0.2-0.45, real CLIP scores matches 0.25-0.35 and non-matches 0.15-0.22. A fixed threshold fits
one of them only, so each map carries its own (`MapMetadata.query_calibration`), calibrated at scan time on
the map's own instances (`calibrate`):

- positives: for every instance the map knows (`MapMetadata.instances`), the best hit score of each of its
  phrases (description, label, synonyms) whose best hit is that instance;
- negatives: the best hit score of everyday household things that share no word with anything in the map
  (`DISTRACTORS`, e.g. "bicycle", "grand piano");
- threshold = `THRESHOLD_POSITION` (0.4) of the way up the gap from the 90th percentile of the negatives to
  the 10th percentile of the positives (a little nearer the negatives: a request with two close candidates is
  stopped by the margin anyway, a real object missed is not); margin (two different instances scoring within it of each other are ambiguous) =
  `MARGIN_FRACTION` of that gap.

Where there are too few samples or the two sets overlap, the documented per-model default (`DEFAULTS`,
matched on the embedding model id's prefix) is used and the record says why. `threshold_for(map)` is what
the CLI and the task machine use; `--threshold` overrides it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass

import numpy as np

log = logging.getLogger(__name__)

# Everyday things a home map rarely holds; those sharing a word with the map's own phrases are skipped.
DISTRACTORS: tuple[str, ...] = (
    "bicycle", "grand piano", "television", "guitar", "umbrella", "toothbrush", "refrigerator", "teddy bear",
    "laptop computer", "potted plant", "wall clock", "running shoe", "hair dryer", "skateboard", "suitcase",
    "vacuum cleaner", "washing machine", "dog", "cat", "bathtub", "toilet", "ceiling lamp", "mirror",
    "backpack", "tennis racket", "hammer", "scissors", "keyboard", "printer", "fire extinguisher",
)

MARGIN_FRACTION = 0.12
THRESHOLD_POSITION = 0.4
MIN_POSITIVES = 4
MIN_NEGATIVES = 5


@dataclass(frozen=True)
class QueryCalibration:
    """Not-found threshold and ambiguity margin for one map (or a model's default)."""

    threshold: float
    margin: float
    method: str  # "calibrated" or "default"
    model: str = ""
    positives: int = 0
    negatives: int = 0
    positive_p10: float | None = None
    negative_p90: float | None = None
    note: str = ""

    def to_dict(self) -> dict:
        return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    @classmethod
    def from_dict(cls, d: dict) -> QueryCalibration | None:
        try:
            thr, margin = float(d["threshold"]), float(d["margin"])
        except (KeyError, TypeError, ValueError):
            return None
        if not (np.isfinite(thr) and np.isfinite(margin) and margin >= 0):
            return None
        known = {k: d[k] for k in cls.__dataclass_fields__ if k in d and k not in ("threshold", "margin")}
        return cls(threshold=thr, margin=margin, **{"method": "calibrated", **known})


# embedding model id prefix -> (threshold, margin). Sentence: measured on generated apartments with
# ground-truth perception (docs/map.md); CLIP/OWL: the usual ranges of real ViT-B models' cosine scores.
DEFAULTS: dict[str, tuple[float, float]] = {
    "sentence:": (0.55, 0.04),
    "clip:": (0.24, 0.01),
    "owl:": (0.12, 0.01),
}
FALLBACK_DEFAULT = (0.55, 0.04)


def default_calibration(model_id: str | None, note: str = "") -> QueryCalibration:
    """The documented default of a model family (matched on the id's prefix)."""
    model_id = model_id or ""
    thr, margin = next((v for k, v in DEFAULTS.items() if model_id.startswith(k)), FALLBACK_DEFAULT)
    return QueryCalibration(thr, margin, "default", model_id, note=note or "per-model default")


def calibration_of(voxel_map) -> QueryCalibration:
    """The map's stored calibration, else its model's default."""
    stored = QueryCalibration.from_dict(voxel_map.metadata.query_calibration or {})
    return stored or default_calibration(voxel_map.metadata.embedding_model_id,
                                         "the map records no calibration (made before calibration existed)")


def _words(text: str) -> set[str]:
    return {w for w in text.lower().replace("-", " ").split() if len(w) > 2}


def calibrate(voxel_map, encode_text, instances: list[dict] | None = None,
              distractors: tuple[str, ...] = DISTRACTORS) -> QueryCalibration:
    """Calibrate the threshold and margin on the map's own instances (see the module docstring)."""
    from mapping.query import QueryConfig, label_hits, query_map
    from perception.vocabulary import InstanceText

    model = voxel_map.metadata.embedding_model_id or ""
    texts = [InstanceText.from_dict(d) for d in (instances if instances is not None
                                                 else voxel_map.metadata.instances)]
    if len(voxel_map) == 0 or not texts:
        return default_calibration(model, "no instances to calibrate on")
    own_words = set().union(*(_words(p) for t in texts for p in (t.phrases or (t.description,))))
    negatives_text = [d for d in distractors if not (_words(d) & own_words)]
    pos_text = [(t, p) for t in texts for p in dict.fromkeys(t.phrases or (t.description,))]
    phrases = [p for _, p in pos_text] + negatives_text
    emb = np.asarray(encode_text(phrases), dtype=np.float32)
    cfg = QueryConfig(relations=False)
    pos, neg = [], []
    for k, (t, _) in enumerate(pos_text):
        hits = query_map(voxel_map, emb[k], cfg, top_k=1)
        if hits:
            label_hits(voxel_map, hits, encode_text)
            if hits[0].description == t.description:  # the phrase finds its own instance first
                pos.append(hits[0].score)
    for k in range(len(negatives_text)):
        hits = query_map(voxel_map, emb[len(pos_text) + k], cfg, top_k=1)
        if hits:
            neg.append(hits[0].score)
    if len(pos) < MIN_POSITIVES or len(neg) < MIN_NEGATIVES:
        return default_calibration(model, f"too few samples to calibrate ({len(pos)} positive, {len(neg)} negative)")
    p10, n90 = float(np.percentile(pos, 10)), float(np.percentile(neg, 90))
    if p10 <= n90:
        d = default_calibration(model, f"positives (p10 {p10:.3f}) and negatives (p90 {n90:.3f}) overlap")
        return QueryCalibration(d.threshold, d.margin, "default", model, len(pos), len(neg), p10, n90, d.note)
    gap = p10 - n90
    return QueryCalibration(n90 + THRESHOLD_POSITION * gap, MARGIN_FRACTION * gap, "calibrated", model, len(pos), len(neg), p10, n90,
                            f"{len(pos)} own phrases vs {len(neg)} absent things")


def threshold_of(voxel_map, config=None) -> float:
    """The not-found threshold for queries on this map: `config.not_found_threshold` when set, else the
    map's calibration (`calibration_of`). `config`: a mapping.query.QueryConfig or None."""
    if config is not None and config.not_found_threshold is not None:
        return float(config.not_found_threshold)
    return calibration_of(voxel_map).threshold
