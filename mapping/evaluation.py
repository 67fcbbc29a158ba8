"""Query accuracy of a map against known object centres (used by the map tests and benchmarks/map_quality.py).

For every object, its description and one paraphrase are queried; a query is correct when the top hit's
centre is within `tolerance_m` (0.25 m) of the object's true centre.

Paraphrases (`paraphrase`) keep the colour, which is what tells same-kind objects apart in a scene, and
reword the noun with the first matching rule of `PARAPHRASE_RULES` ("coffee mug" -> "coffee cup", "soda
can" -> "can of soda", "cardboard box" -> "box made of cardboard", "table" -> "desk", ...). A description that no rule
matches gets "the " in front.

Everyday phrasings (`everyday_phrasings`): what people call an object without its colour: its label
("soda can"), the label's last word ("can") and "the " + label. Several objects answer to "can"; such a
query recalls an object when one of its hits above the map's not-found threshold lies within `tolerance_m`
of it (query recall, `AccuracyReport.recall()`).

Absent objects (`ABSENT_QUERIES`, things no generated scene contains) measure the scores of wrong answers,
from which the not-found threshold is calibrated.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

# (regex on the description, replacement); the first rule that matches is used.
PARAPHRASE_RULES: tuple[tuple[str, str], ...] = (
    (r"\bcoffee mug\b", "coffee cup"),
    (r"\bmug\b", "cup"),
    (r"\bplastic cup\b", "cup made of plastic"),
    (r"\bcup\b", "drinking cup"),
    (r"\bplastic bowl\b", "bowl made of plastic"),
    (r"\bbowl\b", "serving bowl"),
    (r"\bcardboard box\b", "box made of cardboard"),
    (r"\bcracker box\b", "box of crackers"),
    (r"\b(\w+) box\b", r"box of \1"),
    (r"\b(\w+) bottle\b", r"bottle of \1"),
    (r"\btomato soup can\b", "can of tomato soup"),
    (r"\b(\w+) can\b", r"can of \1"),
    (r"\bplate\b", "dinner plate"),
    (r"\brubiks cube\b", "puzzle cube"),
    (r"\bwooden block\b", "block of wood"),
    (r"\bsponge\b", "kitchen sponge"),
    (r"\btable\b", "desk"),
    (r"\bcabinet\b", "cupboard"),
    (r"\bsofa\b", "couch"),
    (r"\bcounter\b", "countertop"),
    (r"\bshelf\b", "shelving unit"),
    (r"\bbed\b", "bed frame"),
)


ABSENT_QUERIES: tuple[str, ...] = (
    "purple elephant", "bicycle", "television", "laptop computer", "piano", "umbrella", "guitar",
    "toothbrush", "car tire", "potted cactus", "fire extinguisher", "teddy bear",
)


def everyday_phrasings(label: str) -> list[str]:
    """What people call an object of this label (see the module docstring)."""
    words = label.split()
    return list(dict.fromkeys([label, words[-1], f"the {label}"])) if words else []


def paraphrase(description: str) -> str:
    """One paraphrase of an object description (see the module docstring)."""
    for pattern, repl in PARAPHRASE_RULES:
        new, n = re.subn(pattern, repl, description, count=1)
        if n:
            return new
    return f"the {description}"


@dataclass
class QueryOutcome:
    object_id: str
    query: str
    kind: str  # "description" or "paraphrase"
    error_m: float
    score: float


@dataclass
class AccuracyReport:
    outcomes: list[QueryOutcome] = field(default_factory=list)
    absent_scores: list[float] = field(default_factory=list)
    tolerance_m: float = 0.25

    def accuracy(self, kind: str | None = None) -> float:
        sel = [o for o in self.outcomes if kind is None or o.kind == kind]
        return float(np.mean([o.error_m <= self.tolerance_m for o in sel])) if sel else float("nan")

    def failures(self) -> list[QueryOutcome]:
        return [o for o in self.outcomes if o.error_m > self.tolerance_m and o.kind != "everyday"]

    def recall(self) -> float:
        """Share of everyday phrasings whose found hits include their object."""
        sel = [o for o in self.outcomes if o.kind == "everyday"]
        return float(np.mean([o.error_m <= self.tolerance_m for o in sel])) if sel else float("nan")

    def missed(self) -> list[QueryOutcome]:
        return [o for o in self.outcomes if o.kind == "everyday" and o.error_m > self.tolerance_m]

    def score_quantiles(self, kind: str) -> list[float]:
        s = [o.score for o in self.outcomes if o.kind == kind]
        return [round(float(q), 3) for q in np.quantile(s, [0.0, 0.05, 0.5])] if s else []


def evaluate_queries(voxel_map, encoder, objects: dict[str, tuple[str, np.ndarray]], config=None,
                     tolerance_m: float = 0.25, absent: tuple[str, ...] = ABSENT_QUERIES,
                     labels: dict[str, str] | None = None) -> AccuracyReport:
    """Query every object's description and paraphrase; objects: id -> (description, true centre (3,)).
    With `labels` (id -> label), also its everyday phrasings (query recall at the map's threshold)."""
    from mapping.calibration import threshold_of
    from mapping.query import QueryConfig

    cfg = config or QueryConfig()
    report = AccuracyReport(tolerance_m=tolerance_m)
    threshold = threshold_of(voxel_map, cfg)
    for oid, label in (labels or {}).items():
        centre = np.asarray(objects[oid][1])
        for text in everyday_phrasings(label):
            hits = [h for h in voxel_map.query_text(text, encoder, cfg) if h.score >= threshold]
            err = min((float(np.linalg.norm(h.center - centre)) for h in hits), default=float("inf"))
            report.outcomes.append(QueryOutcome(oid, text, "everyday", err, hits[0].score if hits else 0.0))
    for oid, (desc, centre) in objects.items():
        for kind, text in (("description", desc), ("paraphrase", paraphrase(desc))):
            hits = voxel_map.query_text(text, encoder, cfg)
            err = float(np.linalg.norm(hits[0].center - np.asarray(centre))) if hits else float("inf")
            report.outcomes.append(QueryOutcome(oid, text, kind, err, hits[0].score if hits else 0.0))
    for text in absent:
        hits = voxel_map.query_text(text, encoder, cfg)
        report.absent_scores.append(hits[0].score if hits else 0.0)
    return report
