"""The names of the things in one home: what a spoken request may name, and what Whisper is primed with.

A `HomeVocabulary` holds one entry per way of naming an instance: its label ("mug"), its description
("yellow coffee mug") and short forms of the description ("yellow mug", "coffee mug"). It comes from

- a simulated scene (`from_scene`: every receptacle's and object's label and description),
- a map that records its instances' labels (`from_map`, when the map's metadata holds them), or
- words the user gives (`from_words`: "mug, red cup, kitchen table"), e.g. for a real home's map.

`prompt(count_tokens, max_tokens)` is the initial prompt for Whisper: the home's names, as many as fit in `max_tokens` (Whisper keeps at most 223 prompt tokens; labels first,
then descriptions, each group in the order given).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["object", "receptacle", "thing"]

# Whisper's decoder keeps the last n_text_ctx // 2 - 1 = 223 prompt tokens; stay a little below.
MAX_PROMPT_TOKENS = 200
PROMPT_LEAD = "Things in this home:"


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
        """True when `phrase` is one of the home's names, or every word of it is in one name ("coffee mug"
        in "yellow coffee mug"; "the red mug" is not known when no mug is red)."""
        p = plain(phrase)
        if not p:
            return False
        words = set(p.split())
        return any(p == q or words <= set(q.split()) for q in self.phrases(kinds))

    # --- Whisper ---

    def prompt(self, count_tokens: Callable[[str], int] | None = None, max_tokens: int = MAX_PROMPT_TOKENS) -> str:
        """Whisper's initial prompt: "Things in this home:", the labels, then the descriptions, as many as
        fit in `max_tokens` tokens by `count_tokens` (default: a conservative 1.6 tokens per word)."""
        count = count_tokens or (lambda s: int(len(s.split()) * 1.6) + 2)
        labels = self.labels()
        rest = [p for p in self.phrases() if p not in labels]
        chosen: list[str] = []
        for name in labels + rest:
            trial = _prompt_text([*chosen, name])
            if count(trial) > max_tokens:
                break
            chosen.append(name)
        return _prompt_text(chosen) if chosen else ""

    def describe(self, kinds: Iterable[Kind] | None = None, limit: int = 12) -> str:
        """A short list for answers: "the mug, the sofa, the sink counter and 5 more"."""
        labels = self.labels(kinds)
        shown = labels[:limit]
        text = ", ".join(f"the {x}" for x in shown)
        if len(labels) > limit:
            text += f" and {len(labels) - limit} more"
        return text


def _prompt_text(names: Sequence[str]) -> str:
    return f"{PROMPT_LEAD} {', '.join(names)}."
