"""Map-aware correction of a heard request: "red mud" becomes "red mug" only when the home has a red mug.

Speech recognisers mishear short nouns ("mug" -> "mud", "bowl" -> "bowel"). Once a request is parsed, its
object and receptacle phrases are compared with the names of the things in the home (a HomeVocabulary):

1. a phrase the home knows ("mug", "coffee mug", "yellow mug") is kept;
1b. a phrase holding one of the home's names among extra words the recogniser or the grammar let in ("white
   mug and put it", "green and blue bowl") becomes that name: the longest such name, only when no other
   thing's name of that length is in the phrase too (`spans`);
2. a phrase the text encoder finds close in meaning to one of the home's names (cosine >= `keep_similarity`:
   "couch" beside "sofa") is kept, since the map's query will find it as it is;
3. otherwise the closest name by spelling (rapidfuzz's Indel ratio, 0-100, on the phrase, on its letters
   without spaces, and word by word) replaces it when it scores at least `min_score` and beats the best name of another
   thing by `margin` points;
4. anything else is kept as heard (the answer then says the home does not have it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

import numpy as np

from orchestrator.home_vocabulary import HomeVocabulary, Kind, plain
from orchestrator.requests import Task

OBJECT_KINDS: tuple[Kind, ...] = ("object",)  # what can be picked (a receptacle can hold objects or be one)


@dataclass
class CorrectionConfig:
    """min_score: rapidfuzz ratio (0-100) a home name needs to replace a heard phrase; margin: how far it
    must beat the best name of a different thing; keep_similarity: text-encoder cosine at which a heard phrase
    already names a home thing (all-MiniLM-L6-v2: "couch"/"sofa" 0.86, "red mud"/"red mug" 0.52); spans: look
    for a home name inside a longer heard phrase (rule 1b)."""

    min_score: float = 80.0
    margin: float = 4.0
    keep_similarity: float = 0.8
    spans: bool = True


@dataclass(frozen=True)
class Correction:
    """One phrase of a request replaced by a name of the home (`score`: rapidfuzz ratio)."""

    role: str  # "object" or "receptacle"
    heard: str
    corrected: str
    score: float

    def to_dict(self) -> dict:
        return {"role": self.role, "heard": self.heard, "corrected": self.corrected, "score": round(self.score, 1)}


def spelling_score(a: str, b: str, **_kwargs) -> float:
    """Indel similarity (0-100) of the phrases, of their letters without spaces ("soupcan"/"soup can"), or, for
    phrases of as many words, of the words one by one weighted by length ("right mug"/"white mug": 87.5)."""
    from rapidfuzz import fuzz  # noqa: PLC0415 - the speech extra

    score = max(fuzz.ratio(a, b), fuzz.ratio(a.replace(" ", ""), b.replace(" ", "")))
    wa, wb = a.split(), b.split()
    if len(wa) == len(wb) > 1:
        total = sum(len(x) + len(y) for x, y in zip(wa, wb, strict=True))
        aligned = sum(fuzz.ratio(x, y) * (len(x) + len(y)) for x, y in zip(wa, wb, strict=True)) / total
        score = max(score, aligned)
    return score


class RequestCorrector:
    """Corrects tasks against one home's vocabulary; `encoder` (encode_text) is the map's text encoder or None."""

    def __init__(self, vocabulary: HomeVocabulary, encoder=None, config: CorrectionConfig | None = None) -> None:
        self.vocabulary = vocabulary
        self.encoder = encoder
        self.config = config or CorrectionConfig()
        self._embeddings: dict[str, np.ndarray] = {}

    def _embed(self, phrases: list[str]) -> np.ndarray:
        todo = [p for p in phrases if p not in self._embeddings]
        if todo:
            for p, e in zip(todo, np.asarray(self.encoder.encode_text(todo), dtype=np.float32), strict=True):
                self._embeddings[p] = e / max(float(np.linalg.norm(e)), 1e-12)
        return np.stack([self._embeddings[p] for p in phrases])

    def means_a_home_thing(self, phrase: str, kinds: Iterable[Kind] | None = None) -> bool:
        """True when the home knows `phrase`, or (with an encoder) one of its names is close in meaning."""
        if self.vocabulary.knows(phrase, kinds):
            return True
        names = self.vocabulary.phrases(kinds)
        if self.encoder is None or not names or not plain(phrase):
            return False
        emb = self._embed([plain(phrase), *names])
        return float(np.max(emb[1:] @ emb[0])) >= self.config.keep_similarity

    def correct_phrase(self, phrase: str, role: str, kinds: Iterable[Kind] | None = None) -> tuple[str, Correction | None]:
        """(phrase to use, the Correction made or None)."""
        heard = plain(phrase)
        names = self.vocabulary.phrases(kinds)
        if not heard or not names or self.vocabulary.knows(heard, kinds):
            return phrase, None
        inner = self.name_within(heard, kinds) if self.config.spans else None
        if inner is not None:
            return inner, Correction(role, heard, inner, 100.0)
        if self.means_a_home_thing(heard, kinds):
            return phrase, None
        from rapidfuzz import process  # noqa: PLC0415 - the speech extra

        ranked = process.extract(heard, names, scorer=spelling_score, limit=8)
        best_name, best_score, _ = ranked[0]
        if best_score < self.config.min_score:
            return phrase, None
        best_labels = {e.label for e in self.vocabulary.entries_for(best_name)}
        rivals = [s for n, s, _ in ranked[1:]
                  if not best_labels & {e.label for e in self.vocabulary.entries_for(n)} and not _nested(n, best_name)]
        if rivals and best_score - max(rivals) < self.config.margin:
            return phrase, None
        return best_name, Correction(role, heard, best_name, float(best_score))

    def name_within(self, heard: str, kinds: Iterable[Kind] | None = None) -> str | None:
        """The longest run of the heard phrase's words that is a name of the home ("white mug and put it" ->
        "white mug"), None when there is none or runs of that length name different things."""
        words = heard.split()
        for n in range(len(words) - 1, 0, -1):
            found = [w for w in (" ".join(words[i:i + n]) for i in range(len(words) - n + 1))
                     if self.vocabulary.entries_for(w) and self.vocabulary.knows(w, kinds)]
            if found:
                labels = {frozenset(e.instance_ids or (e.label,)) for f in found for e in self.vocabulary.entries_for(f)}
                return found[0] if len(set(found)) == 1 or len(labels) == 1 else None
        return None

    def correct(self, task: Task) -> tuple[Task, list[Correction]]:
        """The task with its object and receptacle phrases corrected where the rules above allow."""
        corrections: list[Correction] = []
        obj, rec = task.object_phrase, task.receptacle_phrase
        if obj is not None:
            obj, c = self.correct_phrase(obj, "object", OBJECT_KINDS)
            corrections += [c] if c else []
        if rec is not None:
            rec, c = self.correct_phrase(rec, "receptacle")
            corrections += [c] if c else []
        return replace(task, object_phrase=obj, receptacle_phrase=rec), corrections

    def unknown_phrases(self, task: Task) -> list[str]:
        """The task's phrases that name nothing in this home (empty without a vocabulary)."""
        return [p for _, p in self.unknown_roles(task)]

    def unknown_roles(self, task: Task) -> list[tuple[str, str]]:
        """(role, phrase) for each phrase of the task that names nothing in this home."""
        if not self.vocabulary:
            return []
        return [(role, p) for role, p, kinds in (("object", task.object_phrase, OBJECT_KINDS),
                                                  ("receptacle", task.receptacle_phrase, None))
                if p is not None and not self.means_a_home_thing(p, kinds)]


def _nested(a: str, b: str) -> bool:
    """True when one phrase's words contain the other's ("mug" and "yellow mug" name the same kind of thing)."""
    wa, wb = set(a.split()), set(b.split())
    return wa <= wb or wb <= wa
