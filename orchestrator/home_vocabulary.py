"""The names of the things in one home: what a spoken request may name, and what Whisper is primed with.

A `HomeVocabulary` holds one entry per way of naming an instance: its label ("mug"), its description
("yellow coffee mug") and short forms of the description ("yellow mug", "coffee mug"). It comes from

- a simulated scene (`from_scene`: every receptacle's and object's label and description),
- a map that records its instances' labels (`from_map`, when the map's metadata holds them), or
- words the user gives (`from_words`: "mug, red cup, kitchen table"), e.g. for a real home's map.

`prompt(count_tokens, max_tokens)` is the initial prompt for Whisper: short requests naming the home's
things, as many as fit in `max_tokens` (Whisper keeps at most 223 prompt tokens).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["object", "receptacle", "thing"]

# Whisper's decoder keeps the last n_text_ctx // 2 - 1 = 223 prompt tokens; stay a little below.
MAX_PROMPT_TOKENS = 200


def plain(text: str) -> str:
    """Lower case letters, digits and single spaces ("Soup-Can!" -> "soup can")."""
    return re.sub(r"\s+", " ", re.sub(r"[^a-z0-9]+", " ", text.lower())).strip()


@dataclass(frozen=True)
class VocabularyEntry:
    """One way of naming a thing in the home: `phrase` names the instance(s) `instance_ids` of `label`."""

    phrase: str
    label: str
    kind: Kind
    instance_ids: tuple[int, ...] = ()


def name_variants(label: str, description: str | None) -> list[str]:
    """Ways people name an instance: the label, the description, and the description's first word or its
    words before the label dropped ("yellow coffee mug" -> "yellow mug", "coffee mug")."""
    label_p = plain(label)
    out = [label_p]
    desc = plain(description or "")
    if desc and desc != label_p:
        out.append(desc)
        words, lwords = desc.split(), label_p.split()
        if len(words) > len(lwords) and words[-len(lwords):] == lwords:
            head = words[: len(words) - len(lwords)]
            out.append(" ".join([head[0], *lwords]))  # "yellow mug"
            if len(head) > 1:
                out.append(" ".join([*head[1:], *lwords]))  # "coffee mug", "marble sink counter"
                out.append(" ".join([head[-1], *lwords]))  # "sink counter" <- "white marble sink counter"
    seen: list[str] = []
    for v in out:
        if v and v not in seen:
            seen.append(v)
    return seen


@dataclass
class HomeVocabulary:
    """The names of a home's things (see the module docstring). `source` says where they came from."""

    entries: list[VocabularyEntry] = field(default_factory=list)
    source: str = ""

    def __post_init__(self) -> None:
        self._by_phrase: dict[str, list[VocabularyEntry]] = {}
        for e in self.entries:
            self._by_phrase.setdefault(e.phrase, []).append(e)

    def __len__(self) -> int:
        return len(self.entries)

    def __bool__(self) -> bool:
        return bool(self.entries)

    # --- construction ---

    @classmethod
    def from_instances(cls, instances: Iterable[tuple[int, str, str | None, Kind]], source: str = "") -> HomeVocabulary:
        """From (instance id, label, description, kind) tuples; phrases shared by instances are merged."""
        merged: dict[tuple[str, str, str], list[int]] = {}
        for iid, label, description, kind in instances:
            for phrase in name_variants(label, description):
                merged.setdefault((phrase, plain(label), kind), []).append(int(iid))
        entries = [VocabularyEntry(p, lab, k, tuple(ids)) for (p, lab, k), ids in merged.items()]  # type: ignore[arg-type]
        return cls(entries, source)

    @classmethod
    def from_scene(cls, spec, source: str = "the scene") -> HomeVocabulary:
        """Every receptacle and object of a sim SceneSpec (labels and descriptions)."""
        items: list[tuple[int, str, str | None, Kind]] = [
            (r.instance_id, r.label, r.description, "receptacle") for r in spec.receptacles
        ]
        items += [(o.instance_id, o.label, o.description, "object") for o in spec.objects]
        return cls.from_instances(items, source)

    @classmethod
    def from_words(cls, words: str | Sequence[str], source: str = "the given words") -> HomeVocabulary:
        """From "mug, red cup; kitchen table" (comma, semicolon or newline separated) or a list of names."""
        parts = re.split(r"[,;\n]", words) if isinstance(words, str) else list(words)
        names = [plain(w) for w in parts if plain(w)]
        entries = []
        for n in dict.fromkeys(names):
            entries.append(VocabularyEntry(n, n.split()[-1], "thing"))
        return cls(entries, source)

    @classmethod
    def from_map(cls, voxel_map) -> HomeVocabulary | None:
        """The labels a map records for its instances (metadata `instances`: dicts with id, label,
        description and kind); None when the map records none (maps of real homes built from features)."""
        records = getattr(voxel_map.metadata, "instances", None) or []
        items: list[tuple[int, str, str | None, Kind]] = []
        for i, r in enumerate(records):
            if isinstance(r, dict) and isinstance(r.get("label"), str):
                kind = r.get("kind") if r.get("kind") in ("object", "receptacle") else "thing"
                items.append((int(r.get("id", i)), r["label"], r.get("description"), kind))
        if not items:
            return None
        return cls.from_instances(items, voxel_map.metadata.source or "the map")

    def merged(self, other: HomeVocabulary | None) -> HomeVocabulary:
        if not other:
            return self
        if not self:
            return other
        return HomeVocabulary(self.entries + other.entries, f"{self.source} and {other.source}")

    # --- lookups ---

    def phrases(self, kinds: Iterable[Kind] | None = None) -> list[str]:
        """Distinct phrases (in entry order), optionally of some kinds only ("thing" entries always count)."""
        allowed = None if kinds is None else {*kinds, "thing"}
        return list(dict.fromkeys(e.phrase for e in self.entries if allowed is None or e.kind in allowed))

    def labels(self, kinds: Iterable[Kind] | None = None) -> list[str]:
        allowed = None if kinds is None else {*kinds, "thing"}
        return list(dict.fromkeys(e.label for e in self.entries if allowed is None or e.kind in allowed))

    def entries_for(self, phrase: str) -> list[VocabularyEntry]:
        return list(self._by_phrase.get(plain(phrase), []))

    def knows(self, phrase: str, kinds: Iterable[Kind] | None = None) -> bool:
        """True when `phrase` is one of the home's names, or every word of it is in one name that ends with
        the same word ("coffee mug" in "yellow coffee mug"; not "red mug" when no mug is red, not "black" for
        "black cabinet")."""
        p = plain(phrase)
        if not p:
            return False
        words = p.split()
        return any(p == q or (set(words) <= set(q.split()) and q.split()[-1] == words[-1])
                   for q in self.phrases(kinds))

    # --- Whisper ---

    def spoken_names(self, kinds: Iterable[Kind] | None = None) -> list[str]:
        """How people name each instance: its label when that is unique in the home, else the shortest
        variant that tells it apart ("yellow mug" and "white mug" for two mugs); user words as they are."""
        allowed = None if kinds is None else {*kinds, "thing"}
        entries = [e for e in self.entries if allowed is None or e.kind in allowed]
        out: list[str] = []
        for label in dict.fromkeys(e.label for e in entries):
            of_label = [e for e in entries if e.label == label]
            ids = {i for e in of_label for i in e.instance_ids}
            if len(ids) <= 1:
                out.append(of_label[0].phrase if not ids else label)
                continue
            n = len(label.split()) + 1
            for iid in sorted(ids):
                options = [e for e in of_label if iid in e.instance_ids and len(e.phrase.split()) == n
                           and e.phrase.endswith(label)]
                out.append(min(options, key=lambda e: len(e.instance_ids)).phrase if options else label)
        return list(dict.fromkeys(out))

    def prompt(self, count_tokens: Callable[[str], int] | None = None, max_tokens: int = MAX_PROMPT_TOKENS) -> str:
        """Whisper's initial prompt: requests naming the home's things ("Put the yellow mug on the sofa. Put
        the lemon on the bed. ..."), every object once, receptacles in turn, then the remaining receptacles,
        as many sentences as fit in `max_tokens` tokens by `count_tokens` (default: 1.6 tokens per word).
        Request-shaped prompts beat a plain list of names on the tuning split (benchmarks/speech.py)."""
        count = count_tokens or (lambda s: int(len(s.split()) * 1.6) + 2)
        objects = self.spoken_names(["object"])
        places = self.spoken_names(["receptacle"]) or ["table"]
        shift = 1 if places == objects else 0  # user words (kind "thing") are both: never "the mug on the mug"
        sentences = [f"Put the {o} on the {places[(i + shift) % len(places)]}." for i, o in enumerate(objects)]
        sentences += [f"Put it on the {r}." for r in places[len(objects):]]
        chosen: list[str] = []
        for sentence in sentences:
            if count(" ".join([*chosen, sentence])) > max_tokens:
                break
            chosen.append(sentence)
        return " ".join(chosen)

    def hotwords(self, count_tokens: Callable[[str], int] | None = None, max_tokens: int = MAX_PROMPT_TOKENS) -> str:
        """faster-whisper-style hotwords: the home's names as people say them, objects first, then the
        receptacles ("yellow mug, lemon, sofa, bed"), as many as fit in `max_tokens`."""
        count = count_tokens or (lambda s: int(len(s.split()) * 1.6) + 2)
        chosen: list[str] = []
        for name in dict.fromkeys([*self.spoken_names(["object"]), *self.spoken_names(["receptacle"])]):
            if count(", ".join([*chosen, name])) > max_tokens:
                break
            chosen.append(name)
        return ", ".join(chosen)

    def describe(self, kinds: Iterable[Kind] | None = None, limit: int = 12) -> str:
        """A short list for answers: "the mug, the sofa, the sink counter and 5 more"."""
        labels = self.labels(kinds)
        shown = labels[:limit]
        text = ", ".join(f"the {x}" for x in shown)
        if len(labels) > limit:
            text += f" and {len(labels) - limit} more"
        return text

