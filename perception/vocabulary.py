"""What an instance answers to: its label, its description and plain synonyms/categories.

People say "the sink", "a can", "the couch" for what a scene describes as a "white marble sink counter", an
"orange soda can", a "blue sofa". An instance's text feature (ground-truth perception) is therefore the
weighted mean of the embeddings of its phrases (`instance_text`): the description (base weight
`DESCRIPTION_WEIGHT`), then the label and the synonyms/categories of the label's words (the rest, shared
equally). A plain mean is dominated by the phrases that resemble each other ("orange soda can", "soda can"),
leaving an odd one out ("can", which the sentence encoder reads as a verb) far away, so the weights are
balanced in `BALANCE_ROUNDS` rounds: each phrase's weight is its base weight divided by the square of its
cosine with the current mean. The description keeps the largest base weight, so the exact description of an
object still finds that object first (its colour tells two mugs apart); the other phrases lift everyday words.

For CLIP, `prompt_ensemble` embeds a phrase through several prompt templates ("a photo of a {}.", ...) and
averages them, the usual zero-shot recipe (Radford et al. 2021), which is steadier than one bare phrase.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

DESCRIPTION_WEIGHT = 0.5
BALANCE_ROUNDS = 4

# A label's last words -> plain words people use for it (kept short: every synonym dilutes the description).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "sink counter": ("sink", "counter", "kitchen counter"),
    "counter": ("countertop",),
    "sofa": ("couch",),
    "couch": ("sofa",),
    "bed": (),
    "cabinet": ("cupboard",),
    "shelf": ("shelves", "bookshelf"),
    "side table": ("table", "end table"),
    "office table": ("table", "desk"),
    "dining table": ("table",),
    "kitchen table": ("table",),
    "table": (),
    "desk": ("table",),
    "chair": ("seat",),
    "mug": ("cup", "coffee cup"),
    "coffee mug": ("mug", "cup"),
    "cup": ("mug",),
    "plastic cup": ("cup",),
    "soda can": ("can", "soda", "drink"),
    "soup can": ("can", "soup"),
    "coffee can": ("can", "coffee"),
    "can": (),
    "water bottle": ("bottle",),
    "mustard bottle": ("bottle", "mustard"),
    "bleach bottle": ("bottle", "cleaner"),
    "bottle": (),
    "bowl": ("dish",),
    "plate": ("dish",),
    "sugar box": ("box", "sugar"),
    "cracker box": ("box", "crackers"),
    "cardboard box": ("box",),
    "box": (),
    "wood block": ("block", "toy block"),
    "wooden block": ("block", "toy block"),
    "apple": ("fruit",),
    "banana": ("fruit",),
    "lemon": ("fruit", "citrus"),
    "orange": ("fruit",),
    "tennis ball": ("ball",),
    "rubiks cube": ("cube", "puzzle"),
    "sponge": ("dish sponge",),
}

CLIP_TEMPLATES: tuple[str, ...] = (
    "a photo of a {}.",
    "a photo of the {}.",
    "a close-up photo of a {}.",
    "a {} in a home.",
    "a photo of a {} on a table.",
)


@dataclass(frozen=True)
class InstanceText:
    """The words for one instance: `label` (a class name, "coffee mug"), `description` ("white coffee mug")
    and `phrases` (description, label, synonyms; the description first)."""

    label: str
    description: str
    phrases: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict:
        return {"label": self.label, "description": self.description, "phrases": list(self.phrases)}

    @classmethod
    def from_dict(cls, d: dict) -> InstanceText:
        return cls(str(d.get("label") or d.get("description") or ""), str(d.get("description") or ""),
                   tuple(str(p) for p in d.get("phrases") or ()))


def _synonyms_of(text: str) -> list[str]:
    """Synonyms of the longest SYNONYMS keys that `text` ends with (word-aligned), longest first."""
    words = text.lower().split()
    out: list[str] = []
    for n in range(len(words), 0, -1):
        tail = " ".join(words[-n:])
        if tail in SYNONYMS:
            if n < len(words) or not out:
                out.append(tail)
            out.extend(SYNONYMS[tail])
    return out


def derive_label(description: str) -> str:
    """A class name for a description without one: the longest SYNONYMS key it ends with, else its last word."""
    words = description.lower().split()
    for n in range(len(words), 0, -1):
        tail = " ".join(words[-n:])
        if tail in SYNONYMS:
            return tail
    return words[-1] if words else description


def instance_text(description: str, label: str | None = None) -> InstanceText:
    """The InstanceText of a described instance (label derived from the description when not given)."""
    description = " ".join(description.split())
    label = " ".join((label or derive_label(description)).split())
    phrases = [description, label, *_synonyms_of(label), *_synonyms_of(description)]
    seen: dict[str, None] = {}
    for p in phrases:
        if p and p.lower() not in {q.lower() for q in seen}:
            seen[p] = None
    return InstanceText(label, description, tuple(seen))


def phrase_weights(n: int, description_weight: float = DESCRIPTION_WEIGHT) -> np.ndarray:
    """Weights of an instance's n phrases: the description `description_weight`, the rest share the remainder."""
    if n <= 1:
        return np.ones(max(n, 0), np.float64)
    return np.array([description_weight] + [(1.0 - description_weight) / (n - 1)] * (n - 1))


def ensemble_features(encode_text: Callable[[Sequence[str]], np.ndarray], texts: Sequence[InstanceText]
                      ) -> np.ndarray:
    """(N, D) unit-norm features: per instance, the weighted mean of its phrases' embeddings (one batch)."""
    texts = list(texts)
    if not texts:
        return np.zeros((0, 0), np.float32)
    flat = [p for t in texts for p in (t.phrases or (t.description,))]
    emb = np.asarray(encode_text(flat), dtype=np.float64)
    out, k = [], 0
    for t in texts:
        n = len(t.phrases or (t.description,))
        out.append(balanced_mean(emb[k: k + n], phrase_weights(n)))
        k += n
    return np.asarray(out, dtype=np.float32)


def balanced_mean(emb: np.ndarray, base: np.ndarray, rounds: int = BALANCE_ROUNDS) -> np.ndarray:
    """Unit-norm weighted mean of unit embeddings (n, D), re-weighted so that no phrase is left far away
    (see the module docstring)."""
    w = base / base.sum()
    for _ in range(rounds + 1):
        f = (w[:, None] * emb).sum(axis=0)
        f /= max(float(np.linalg.norm(f)), 1e-12)
        w = base / np.clip(emb @ f, 0.05, 1.0) ** 2
        w /= w.sum()
    return f


def prompt_ensemble(encode_raw: Callable[[list[str]], np.ndarray], texts: Sequence[str],
                    templates: Sequence[str] = CLIP_TEMPLATES) -> np.ndarray:
    """(N, D) unit-norm text features: each text through every template, embedded, averaged, re-normalised."""
    texts = list(texts)
    if not texts:
        return np.asarray(encode_raw([]), dtype=np.float32)
    flat = [tpl.format(t) for t in texts for tpl in templates]
    emb = np.asarray(encode_raw(flat), dtype=np.float64).reshape(len(texts), len(templates), -1)
    f = emb.mean(axis=1)
    f /= np.maximum(np.linalg.norm(f, axis=1, keepdims=True), 1e-12)
    return f.astype(np.float32)
