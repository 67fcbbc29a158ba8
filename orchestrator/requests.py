"""Parse what people say into a pick-and-place task (a small, deterministic regex grammar).

Accepted forms (case, punctuation, politeness and filler words are ignored; digits become number words):

    put|place|move|bring|take|carry|drop|throw|set|... OBJECT on|in|into|to|onto|on top of|... RECEPTACLE
    pick up|grab|take|get|... OBJECT and (then) put|place|drop|bring ... it PREP RECEPTACLE
    pick up|pick OBJECT up|grab|grasp|take|get|fetch|lift OBJECT            (pick only)
    put|place|drop|set ... it|that|them PREP RECEPTACLE                     (place the held object)
    put away OBJECT in RECEPTACLE, put OBJECT back on RECEPTACLE, move OBJECT from A to B

Anything else raises RequestError, whose message says what was understood and what is missing.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from typing import Literal

from core.errors import InputError
from core.text import ascii_words, clean_text, unreadable_words

Relation = Literal["on", "in", "to"]
Kind = Literal["pick_and_place", "pick", "place"]

EXAMPLE = "put the blue mug on the kitchen table"


class RequestError(InputError):
    """A spoken or typed request could not be turned into a task."""


@dataclass(frozen=True)
class Task:
    """A parsed request. `object_phrase` is None for place-only tasks (the held object);
    `receptacle_phrase` and `relation` are None for pick-only tasks."""

    object_phrase: str | None
    receptacle_phrase: str | None
    relation: Relation | None
    kind: Kind

    def __post_init__(self) -> None:
        needs_object = self.kind in ("pick", "pick_and_place")
        needs_place = self.kind in ("place", "pick_and_place")
        if needs_object != (self.object_phrase is not None):
            raise ValueError(f"a {self.kind} task {'needs' if needs_object else 'has no'} object phrase")
        if needs_place != (self.receptacle_phrase is not None) or needs_place != (self.relation is not None):
            raise ValueError(f"a {self.kind} task {'needs' if needs_place else 'has no'} receptacle and relation")

    def describe(self) -> str:
        if self.kind == "pick":
            return f"pick up '{self.object_phrase}'"
        target = f"{self.relation} '{self.receptacle_phrase}'"
        if self.kind == "place":
            return f"place the held object {target}"
        return f"put '{self.object_phrase}' {target}"

    def to_dict(self) -> dict:
        return asdict(self)


# --- vocabulary -------------------------------------------------------------------------------------------

_NUMBERS = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen "
    "sixteen seventeen eighteen nineteen twenty"
).split()

_LEADING_FILLERS = [
    r"hey", r"hi", r"hello", r"ok", r"okay", r"so", r"um+", r"uh+", r"er+", r"hmm+", r"well", r"now", r"then",
    r"robot", r"stretch", r"please", r"kindly", r"just", r"also", r"and",
    r"(?:could|can|would|will) you(?: please)?(?: kindly)?", r"i(?: want| need| would like|'d like| d like) you to",
    r"i want to", r"go ahead and", r"go and", r"go", r"try to", r"(?:would|do) you mind",
    r"let's", r"lets", r"first", r"first of all", r"mind", r"i'll", r"i will",
]
_TRAILING_FILLERS = [
    r"please", r"for me", r"thanks", r"thank you", r"now", r"right now", r"if you can", r"if you could",
    r"would you", r"will you", r"ok", r"okay", r"robot", r"stretch",
]
_DETERMINERS = r"(?:the|a|an|this|that|these|those|my|your|our|his|her|their|some|its)"
_PRONOUNS = {"it", "that", "this", "them", "those", "these", "that one", "this one", "the object", "the thing"}
_DEICTIC_PLACES = {"me", "us", "here", "there", "you", "him", "her", "them"}

# Verbs that take an object and a destination (pick-and-place or place).
_PLACE_VERBS = (
    r"put|place|move|bring|take|carry|drop|throw|toss|set|transfer|stick|leave|return|relocate|"
    r"deliver|stash|store|stow|dump|lay|hang|get"
)
# Verbs that only pick (also the first verb of "X and put it ...").
_PICK_VERBS = (
    r"pick up|pick|grab|grasp|take|get|fetch|lift|collect|hold|find|retrieve|snatch|go get|go grab|go fetch"
)
# Longest first so alternation prefers "on top of" over "on".
_PREPOSITIONS: list[tuple[str, Relation]] = [
    (r"on top of", "on"), (r"on to", "on"), (r"onto", "on"), (r"upon", "on"), (r"atop", "on"), (r"on", "on"),
    (r"inside of", "in"), (r"inside", "in"), (r"into", "in"), (r"in to", "in"), (r"within", "in"), (r"in", "in"),
    (r"over to", "to"), (r"up to", "to"), (r"next to", "to"), (r"in front of", "to"), (r"close to", "to"),
    (r"towards", "to"), (r"toward", "to"), (r"near", "to"), (r"beside", "to"), (r"by", "to"), (r"to", "to"),
    (r"at", "to"),
]
_PREP_RE = "|".join(sorted((p for p, _ in _PREPOSITIONS), key=len, reverse=True))
_RELATION = {p.replace(r"\s", " "): r for p, r in _PREPOSITIONS}
_PARTICLE_WORDS = "away|down|back|up|over"
_PARTICLES = f"(?:{_PARTICLE_WORDS})"

_CONJ = r"(?:,? and(?: then)?|,? then|,)"
_GERUNDS = {"grabb": "grab", "dropp": "drop", "plac": "place", "mov": "move", "tak": "take"}


def _compile(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern.replace("PLACEV", _PLACE_VERBS).replace("PICKV", _PICK_VERBS)
                      .replace("PREP", _PREP_RE).replace("PART", _PARTICLES).replace("CONJ", _CONJ))


_RE_CONJ = _compile(r"^(?:PICKV)(?: PART)? (?P<obj>.+?)(?: PART)?CONJ (?P<rest>.+)$")
# A clause with a place verb; the body holds the object and (maybe) a destination.
_RE_PLACE_VERB = _compile(r"^(?P<verb>PLACEV)(?: (?P<part>PART))? (?P<body>.+)$")
_RE_PREP = _compile(r"(?:^| )(?P<prep>PREP)(?= |$)")
_RE_TO_PERSON = _compile(r"^(?P<verb>PLACEV|PICKV) (?:me|us) (?P<obj>.+)$")
# "pick up the X" / "pick the X up" / "grab the X"
_RE_PICK = _compile(r"^(?P<verb>PICKV)(?: PART)? (?P<obj>.+?)(?: PART)?$")
# Prepositions that mark a destination unambiguously: split at the last one ("move the cup on the table to
# the sink"); otherwise split at the first one ("put the book on the shelf in the bedroom").
_DIRECTIONAL = {"to", "into", "onto", "on to", "in to", "over to", "towards", "toward", "up to"}


# --- normalisation ----------------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """NFKC, invisible characters removed, accents folded, lower-case, digits to number words, punctuation and
    filler words removed, single spaces (core.text; see parse_request for words it cannot read)."""
    s = ascii_words(text)
    s = re.sub(r"\b(\d+)\b", lambda m: _NUMBERS[int(m.group(1))] if int(m.group(1)) < len(_NUMBERS) else m.group(1), s)
    s = re.sub(r"(?<=\w)-(?=\w)", " ", s)  # "soup-can" -> "soup can"
    s = re.sub(r"[^a-z0-9' ,]+", " ", s)  # drop punctuation except commas (clause breaks) and apostrophes
    s = re.sub(r"\s*,\s*", ", ", s)
    s = re.sub(r"\s+", " ", s).strip(" ,'")
    leading = re.compile(r"^(?:" + "|".join(_LEADING_FILLERS) + r")\b,?\s*")
    trailing = re.compile(r",?\s*\b(?:" + "|".join(_TRAILING_FILLERS) + r")$")
    for _ in range(8):
        before = s
        s = leading.sub("", s).strip(" ,")
        s = trailing.sub("", s).strip(" ,")
        if s == before:
            break
    s = re.sub(r"\b(?:um+|uh+|er+)\b", " ", s)
    # "(would you mind) putting the mug ..." -> "put the mug ..."; "grab the mug for me and ..." -> "grab the mug and ..."
    s = re.sub(r"(^|(?:,? and|,? then|,) )(put|set|get|grabb|dropp|pick|plac|mov|bring|tak|carry|fetch)t?ing\b",
               lambda m: m.group(1) + _GERUNDS.get(m.group(2), m.group(2)), s.strip())
    s = re.sub(r" for me(?=,? and\b|,? then\b|,)", "", s)
    # Speech recognisers often hear a leading "put" as "but"; no request starts with "but the ...".
    s = re.sub(r"^but (?=(?:the|a|an|it|that|this|my|your|some|away|down|back)\b)", "put ", s.strip())
    return re.sub(r"\s+", " ", s).strip(" ,")


def _clean_phrase(phrase: str) -> str:
    """Strip determiners, particles and stray commas from a noun phrase ("the blue mug" -> "blue mug")."""
    p = phrase.strip(" ,")
    p = re.sub(r"(?:^|\s)(?:" + _PARTICLE_WORDS + r")$", "", p).strip()
    p = re.sub(r"^(?:all )?(?:of )?" + _DETERMINERS + r" ", "", p)
    p = re.sub(r"^(?:piece|bit) of ", "", p)
    if re.fullmatch(_DETERMINERS, p):
        return ""
    return p.strip(" ,")


def _is_pronoun(phrase: str) -> bool:
    return phrase.strip() in _PRONOUNS


def _hint(obj: str | None, rel: str = "on", rec: str = "table") -> str:
    return f"say e.g. 'put the {obj or 'blue mug'} {rel} the {rec}'"


# --- parsing ------------------------------------------------------------------------------------------------


def _destination(prep: str, rec_raw: str, understood: str, obj: str | None) -> tuple[Relation, str]:
    rec = _clean_phrase(rec_raw)
    relation = _RELATION[prep]
    if not rec or _is_pronoun(rec):
        raise RequestError(f"understood: {understood}; missing: which receptacle? {_hint(obj)}")
    if rec in _DEICTIC_PLACES:
        raise RequestError(
            f"understood: {understood} {prep} '{rec}'; missing: a place in the map (bringing things to a person "
            f"is not supported); {_hint(obj)}"
        )
    return relation, rec


def _split_destination(body: str) -> tuple[str, str, str] | None:
    """Split "the mug on the table" into (object, preposition, receptacle); None without a preposition."""
    matches = list(_RE_PREP.finditer(body))
    if not matches:
        return None
    directional = [m for m in matches if m.group("prep") in _DIRECTIONAL and m.start() > 0]
    m = directional[-1] if directional else matches[0]
    obj = body[: m.start()].strip()
    rec = body[m.end():].strip()
    return obj, m.group("prep"), rec


def _clean_object(phrase: str) -> str:
    """An object phrase without its source ("the mug from the table" -> "mug"); pronouns stay as they are."""
    if _is_pronoun(phrase):
        return phrase.strip()
    p = re.sub(r" (?:from|off of|off|out of) .*$", "", " " + phrase.strip()).strip()
    return _clean_phrase(p)


def _destination(prep: str, rec_raw: str, understood: str, obj: str | None) -> tuple[Relation, str]:
    rec = _clean_phrase(rec_raw)
    if not rec or _is_pronoun(rec):
        raise RequestError(f"understood: {understood}; missing: which receptacle? {_hint(obj)}")
    if rec in _DEICTIC_PLACES:
        raise RequestError(
            f"understood: {understood} {prep} '{rec}'; missing: a place in the map (bringing things to a person "
            f"is not supported); {_hint(obj)}"
        )
    return _RELATION[prep], rec


def _parse_place_clause(s: str, held_object: str | None) -> Task | None:
    """A clause with a place verb ("put X on Y", "put it on Y", "put X away"); None if it is not one.

    held_object: the object picked by a preceding clause ("pick up X and put it on Y"), else None.
    """
    m = _RE_PLACE_VERB.match(s)
    if m is None:
        return None
    verb, body = m.group("verb"), m.group("body")
    split = _split_destination(body)
    if split is None:
        obj = _clean_object(body)
        if held_object is not None and (not obj or _is_pronoun(obj) or obj == held_object):
            raise RequestError(f"understood: pick up '{held_object}'; missing: where to put it? {_hint(held_object)}")
        if not obj or _is_pronoun(obj):
            raise RequestError(f"understood: {verb} the held object; missing: where? {_hint(None)}")
        is_pick_verb = re.fullmatch(_PICK_VERBS, verb) is not None
        away = m.group("part") == "away" or re.search(r" away$", body) is not None
        if is_pick_verb and not away and held_object is None:
            return Task(obj, None, None, "pick")
        action = f"{verb} away" if away else verb
        raise RequestError(f"understood: {action} '{obj}'; missing: where to put it? {_hint(obj)}")
    obj_raw, prep, rec_raw = split
    obj = _clean_object(obj_raw)
    if not obj:
        rec = _clean_phrase(rec_raw)
        if held_object is not None:
            return Task(held_object, rec, _RELATION[prep], "pick_and_place") if rec else None
        raise RequestError(
            f"understood: {verb} something {prep} '{rec}'; missing: what to {verb}? {_hint(None, _RELATION[prep], rec)}"
        )
    if _is_pronoun(obj) or obj == held_object:
        target = held_object
    elif held_object is not None:
        raise RequestError(
            f"understood: pick up '{held_object}' and {verb} '{obj}'; these are two different objects; "
            f"{_hint(held_object)}"
        )
    else:
        target = obj
    understood = f"{verb} '{target}'" if target else f"{verb} the held object"
    relation, rec = _destination(prep, rec_raw, understood, target)
    if target is None:
        return Task(None, rec, relation, "place")
    return Task(target, rec, relation, "pick_and_place")


def _refuse_same_object(task: Task) -> Task:
    """A pick-and-place whose object and receptacle are the same phrase cannot be done: refuse before moving."""
    if task.kind == "pick_and_place" and task.object_phrase == task.receptacle_phrase:
        raise RequestError(f"understood: put '{task.object_phrase}' {task.relation} '{task.receptacle_phrase}'; the "
                           f"object and the receptacle are the same thing; {_hint(task.object_phrase)}")
    return task


def parse_request(text: str) -> Task:
    """Parse a request into a Task, or raise RequestError saying what was understood and what is missing."""
    unreadable = unreadable_words(text)
    if unreadable:
        words = ", ".join(repr(w) for w in unreadable[:5])
        raise RequestError(f"cannot read the word{'s' if len(unreadable) > 1 else ''} {words} in {clean_text(text)!r}: "
                           f"use plain letters (a-z) and digits; {_hint(None)}")
    s = normalise(text)
    if not s:
        raise RequestError(f"the request {text!r} is empty; {_hint(None)}")

    # "bring me the banana": a person as the destination.
    m = _RE_TO_PERSON.match(s)
    if m:
        obj = _clean_object(m.group("obj"))
        raise RequestError(
            f"understood: {m.group('verb')} '{obj}' to you; missing: a place in the map (bringing things to a "
            f"person is not supported); say e.g. 'pick up the {obj}' or 'put the {obj} on the table'"
        )

    # Two clauses: "pick up the X and put it on the Y".
    m = _RE_CONJ.match(s)
    if m:
        obj = _clean_object(m.group("obj"))
        rest = m.group("rest").strip()
        if obj and not _is_pronoun(obj) and _RE_PLACE_VERB.match(rest):
            task = _parse_place_clause(rest, held_object=obj)
            if task is not None:
                return _refuse_same_object(task)

    task = _parse_place_clause(s, held_object=None)
    if task is not None:
        return _refuse_same_object(task)

    m = _RE_PICK.match(s)
    if m:
        obj = _clean_object(m.group("obj"))
        if obj and not _is_pronoun(obj):
            return Task(obj, None, None, "pick")
        raise RequestError(f"understood: {m.group('verb')}; missing: which object? say e.g. 'pick up the sponge'")

    raise RequestError(
        f"could not understand {text.strip()!r}: expected a request such as '{EXAMPLE}', "
        "'pick up the sponge' or 'place it on the shelf'"
    )
