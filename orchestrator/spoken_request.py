"""From a recording to a request the robot can act on, with the answer it gives (`ovmm listen`).

    reader = RequestListener(Transcriber(...), vocabulary=HomeVocabulary.from_scene(spec), encoder=encoder)
    heard = reader.hear(load_wav("request.wav"))
    heard.status   # "ok" | "unknown" (the home lacks a thing) | "not_understood" | "nothing_heard"
    heard.answer   # "Putting the red mug on the kitchen table."

With a vocabulary, Whisper is primed with the home's names (its initial prompt) and the parsed phrases are
corrected towards them (orchestrator.request_correction); without one the request is taken as heard.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from orchestrator.home_vocabulary import MAX_PROMPT_TOKENS, HomeVocabulary, plain
from orchestrator.request_correction import (
    OBJECT_KINDS,
    Correction,
    CorrectionConfig,
    RequestCorrector,
    spelling_score,
)
from orchestrator.requests import RequestError, Task, normalise, parse_request
from orchestrator.speech import SAMPLE_RATE, Transcriber
from orchestrator.voice_answers import (
    NOTHING_HEARD,
    answer_not_understood,
    answer_task,
    answer_unknown,
)

Status = Literal["ok", "unknown", "not_understood", "nothing_heard"]

# How much less likely (Whisper log-probability of the whole transcript) a home name may make a transcript
# than the phrase heard in its place and still replace it (RequestListener._rescore_names; tuning split).
NAME_BONUS = 8.0
# The home names spelt like what any reading heard are also tried in a heard phrase's place: one replaces a
# phrase that is no home name when it costs at most WIDE_BONUS, a home name when it gains more than
# SWITCH_MARGIN (chosen before measuring; checked on the tuning split).
WIDE_BONUS = 2.0
WIDE_NAMES = 3  # names of the home spelt most like each reading's phrase
SWITCH_MARGIN = 1.0
MAX_RESCORED_WORDS = 4  # longer heard phrases hold more than a misheard name

# Quieter than this (RMS, full scale 1) over the whole recording is "nothing heard" without decoding.
SILENT_RMS = 1e-3


@dataclass
class HeardRequest:
    """The outcome of one spoken (or typed) request. `task` is the corrected task (None unless parsed),
    `heard_task` the task as parsed from the transcript, `unknown` the phrases the home lacks."""

    status: Status
    transcript: str
    answer: str
    task: Task | None = None
    heard_task: Task | None = None
    corrections: list[Correction] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    error: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    alternatives: list[str] = field(default_factory=list)  # every decode's transcript (hear)

    @property
    def actionable(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return {
            "status": self.status, "transcript": self.transcript, "answer": self.answer,
            "task": self.task.to_dict() if self.task else None,
            "heard_task": self.heard_task.to_dict() if self.heard_task else None,
            "corrections": [c.to_dict() for c in self.corrections], "unknown": self.unknown, "error": self.error,
            "timings": {k: round(v, 3) for k, v in self.timings.items()}, "alternatives": self.alternatives,
        }


class RequestListener:
    """Transcribes, parses, corrects and answers requests for one home.

    vocabulary: the home's names (None or empty: no priming, no correction, no "I don't see" check);
    encoder: the map's text encoder (encode_text), used to keep heard phrases that already mean a home thing;
    use_prompt: prime Whisper with the vocabulary (False: only correct after recognition);
    second_opinion: with a prompt, also decode without it and keep that reading when it names only things of
    the home (a primed recogniser can echo the prompt's names instead of what was said: "Put the black on the
    black cabinet" for "put the lemon on the black cabinet"), else the primed reading;
    hotwords: also decode with the home's names as hotwords; rescore: Whisper's likelihood chooses between
    readings naming different home things and replaces misheard names (`_rescore_names`, `name_bonus`,
    at most `rescore_names` names spelt like the heard phrase; with `wide_names` the names of the home for
    the role spelt like any reading's phrase too, `wide_bonus`, `switch_margin`);
    agree_early: decode with the hotwords only when the primed and the plain readings understand different
    requests (or one that is not of this home): where they agree the third reading costs a decode and rarely
    changes the request.
    """

    def __init__(self, transcriber: Transcriber | None, vocabulary: HomeVocabulary | None = None, encoder=None,
                 correction: CorrectionConfig | None = None, use_prompt: bool = True,
                 max_prompt_tokens: int = MAX_PROMPT_TOKENS, second_opinion: bool = True,
                 hotwords: bool = True, rescore: bool = True, name_bonus: float = NAME_BONUS,
                 rescore_names: int = 4, wide_names: bool = True, wide_bonus: float = WIDE_BONUS,
                 switch_margin: float = SWITCH_MARGIN, agree_early: bool = True) -> None:
        self.agree_early = agree_early
        self.wide_names = wide_names
        self.wide_bonus = wide_bonus
        self.switch_margin = switch_margin
        self.second_opinion = second_opinion
        self.rescore = rescore
        self.name_bonus = name_bonus
        self.rescore_names = rescore_names
        self.transcriber = transcriber
        self.vocabulary = vocabulary or HomeVocabulary()
        self.corrector = RequestCorrector(self.vocabulary, encoder, correction)
        self.prompt: str | None = None
        count = transcriber.count_tokens if transcriber is not None else None
        if self.vocabulary and use_prompt:
            self.prompt = self.vocabulary.prompt(count, max_prompt_tokens) or None
        self.hotwords: str | None = None
        if self.vocabulary and hotwords:
            self.hotwords = self.vocabulary.hotwords(count, max_prompt_tokens) or None

    def hear(self, audio: np.ndarray) -> HeardRequest:
        """Transcribe float32 mono 16 kHz audio and understand it (`timings`: transcribe_s, understand_s).

        The audio is encoded once and decoded several ways (`readings`); every reading and each of its
        sentences is understood, and the best outcome wins: a request naming only things of the home before
        one naming something the home lacks, before one that does not parse, before nothing. Among different
        requests that all name home things, Whisper's own likelihood of each (forced decoding without the
        prompt, `Transcriber.score`) picks the one that fits the audio best."""
        if self.transcriber is None:
            raise ValueError("this RequestListener has no transcriber; use understand(text)")
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if audio.size < SAMPLE_RATE // 10 or float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) < SILENT_RMS:
            return HeardRequest("nothing_heard", "", NOTHING_HEARD, timings={"transcribe_s": 0.0, "understand_s": 0.0})
        t0 = time.perf_counter()
        encoded = self.transcriber.encode(audio)
        if encoded is None:  # the VAD found no speech
            return HeardRequest("nothing_heard", "", NOTHING_HEARD,
                                timings={"transcribe_s": time.perf_counter() - t0, "understand_s": 0.0})
        readings = self.readings()
        # with `agree_early`, the hotwords reading only where the primed and the plain one disagree
        first = 2 if self.agree_early and len(readings) == 3 and readings[1] == (None, None) else len(readings)
        transcripts = self.transcriber.decode_readings(encoded, readings[:first])
        transcribe_s = time.perf_counter() - t0
        understood: dict[str, HeardRequest] = {}
        outcomes = self._understand_all(transcripts, readings, understood)
        if first < len(readings) and not _agreed([o for o, whole in outcomes if whole]):
            t2 = time.perf_counter()
            transcripts += self.transcriber.decode_readings(encoded, readings[first:])
            transcribe_s += time.perf_counter() - t2
            outcomes = self._understand_all(transcripts, readings, understood)
        outcomes = [o for o, _ in outcomes]
        best = self._choose(outcomes, encoded)
        if self.rescore and self.vocabulary:
            best = self._rescore_names(best, outcomes, encoded)
        best.alternatives = list(dict.fromkeys(t.text for t in transcripts))
        best.timings = {"transcribe_s": transcribe_s, "understand_s": time.perf_counter() - t0 - transcribe_s}
        return best

    def _understand_all(self, transcripts, readings, understood: dict) -> list[tuple[HeardRequest, bool]]:
        """(outcome, whole transcript?) of every reading and each of its sentences, the plain decode first: on
        ties its reading (what was said, not the prompt's echo) is the one kept. `understood`: text -> outcome,
        filled as it goes."""
        order = sorted(range(len(transcripts)), key=lambda i: readings[i] != (None, None))
        out = []
        for i in order:
            for k, text in enumerate(dict.fromkeys([transcripts[i].text, *_sentences(transcripts[i].text)])):
                if text not in understood:
                    understood[text] = self.understand(text)
                out.append((understood[text], k == 0))
        return out

    def _rescore_names(self, heard: HeardRequest, outcomes: list[HeardRequest], encoded) -> HeardRequest:
        """Each heard object or receptacle phrase is put against other names of the home in its place, the
        transcript with each scored by Whisper (forced decoding, no prompt):

        - a phrase that is not a name of the home as it stands ("red wall", "blue marks", "black carbonate")
          against the home names spelt most like it and the names other readings heard in that role: one
          replaces it when its transcript scores at most `name_bonus` log-probability below the phrase's own
          (the home's names are likelier a priori than an arbitrary phrase) and best among them;
        - with `wide_names`, also against the names of the home for that role (`spoken_names`) spelt most
          like what each reading heard there (`WIDE_NAMES` each) and, for a name of several things ("mug"),
          their longer names; unless the phrase is a home name of one thing that every reading heard alike
          (then it costs nothing): one
          replaces a phrase that is no home name when it scores at most `wide_bonus` below it, and a home
          name when it scores more than `switch_margin` above it (what a primed reading echoed: "blue box"
          heard where "rubiks cube" was said; "black" for "banana"; "mug" for "white mug").

        A request for a thing the home lacks ("the grand piano") stays as heard: no name fits that audio
        nearly as well."""
        if heard.heard_task is None:
            return heard
        from rapidfuzz import process  # noqa: PLC0415 - the speech extra

        base = f" {plain(heard.transcript)} "
        changed: list[Correction] = []
        for role, kinds in (("object", OBJECT_KINDS), ("receptacle", None)):
            phrase = plain(getattr(heard.heard_task, f"{role}_phrase") or "")
            if (not phrase or f" {phrase} " not in base or phrase in _PRONOUN_WORDS
                    or len(phrase.split()) > MAX_RESCORED_WORDS):  # "old but bring the red bowl": not one name
                continue
            home = self.vocabulary.phrases(kinds)
            known = phrase in home
            near: list[str] = []
            if not known:
                near = [n for n, _, _ in process.extract(phrase, home, scorer=spelling_score, limit=self.rescore_names)]
                near += [plain(getattr(o.task, f"{role}_phrase") or "") for o in outcomes if o.task is not None]
            heard_here = {plain(getattr(o.heard_task, f"{role}_phrase") or "") for o in outcomes if o.heard_task}
            heard_here.discard("")
            wide: list[str] = []
            # more names only where the readings disagree, or the heard name is not one thing ("mug" of two)
            ambiguous = known and self._ambiguous(phrase, kinds)
            if self.wide_names and (not known or len(heard_here) > 1 or ambiguous):
                spoken = self.vocabulary.spoken_names(kinds)
                if role == "receptacle":  # a receptacle can be an object's name too; keep to the receptacles
                    spoken = [n for n in spoken if n in self.vocabulary.phrases(["receptacle"])] or spoken
                for h in sorted(heard_here | {phrase}):  # the names spelt most like what any reading heard
                    wide += [n for n, _, _ in process.extract(h, spoken, scorer=spelling_score, limit=WIDE_NAMES)]
                if ambiguous:  # "white mug", "yellow mug" for "mug"
                    wide += [n for n in spoken if n.split()[-len(phrase.split()):] == phrase.split()]
            names = [n for n in dict.fromkeys([*near, *wide])
                     if n and n != phrase and self.vocabulary.knows(n, kinds)]
            if not names:
                continue
            texts = [base.replace(f" {phrase} ", f" {n} ", 1).strip() for n in [phrase, *names]]
            article = re.search(rf" (?:the|a|this|that) {re.escape(phrase)} ", base)
            if (role == "object" and not known and self.wide_names and article and heard.task is not None
                    and heard.heard_task.kind == "pick_and_place" and heard.task.object_phrase in heard.unknown):  # "put the ton on ..." for
                names.append("it")  # "put it on ...": the held object, when Whisper finds that as likely
                texts.append(base.replace(article.group(0), " it ", 1).strip())
            scores = self.transcriber.score(encoded, texts)
            near_set = set(near)
            best, best_i = None, 0
            for i, n in enumerate(names, 1):
                if n == "it":
                    fits = scores[i] + self.wide_bonus >= scores[0]
                elif known:
                    fits = scores[i] > scores[0] + self.switch_margin
                else:
                    fits = (n in near_set and scores[i] + self.name_bonus >= scores[0]) or \
                        scores[i] + self.wide_bonus >= scores[0]
                if fits and (best is None or scores[i] > best):
                    best, best_i = scores[i], i
            if best_i:
                base = f" {texts[best_i]} "
                changed.append(Correction(role, phrase, names[best_i - 1], round(scores[best_i] - scores[0], 1)))
        if not changed:
            return heard
        rescored = self.understand(base.strip())
        if rescored.status != "ok" and heard.status == "ok":
            return heard
        rescored.transcript, rescored.heard_task = heard.transcript, heard.heard_task
        rescored.corrections = changed + rescored.corrections
        return rescored

    def _ambiguous(self, phrase: str, kinds) -> bool:
        """True when a home name denotes instances another, longer name tells apart ("mug": two mugs)."""
        ids = {i for e in self.vocabulary.entries_for(phrase) for i in e.instance_ids
               if kinds is None or e.kind in kinds}
        return len(ids) > 1

    def readings(self) -> list[tuple[str | None, str | None]]:
        """(initial prompt, hotwords) of each decode: primed with the home's requests, plain, and (with
        `hotwords`) the home's names as faster-whisper-style hotwords; plain only without a vocabulary."""
        out: list[tuple[str | None, str | None]] = []
        if self.prompt:
            out.append((self.prompt, None))
        if not self.prompt or self.second_opinion:
            out.append((None, None))
        if self.hotwords:
            out.append((None, self.hotwords))
        return out

    def _choose(self, outcomes: list[HeardRequest], encoded) -> HeardRequest:
        """The best-ranked outcome (`hear`); `outcomes` come in order of preference on ties."""
        rank = {"ok": 0, "unknown": 1, "not_understood": 2, "nothing_heard": 3}
        best_rank = min(rank[o.status] for o in outcomes)
        tied = [o for o in outcomes if rank[o.status] == best_rank]
        distinct: dict[tuple, HeardRequest] = {}
        for o in tied:
            distinct.setdefault(_task_key(o.task), o)
        choices = list(distinct.values())
        if best_rank == rank["ok"]:  # "Pick up the pink cup." is half of "pick up the pink cup, then put it ..."
            # ... of the same reading: a primed echo "Put the purple box on the shelf." does not swallow "pick up
            # the purple box" heard by another
            choices = [o for o in choices if not any(_part_of(o.task, other.task) and plain(o.transcript)
                                                     in plain(other.transcript) for other in choices)]
        if best_rank != rank["ok"] or len(choices) == 1 or not self.rescore:
            return choices[0]
        scores = self.transcriber.score(encoded, [_realised(o) for o in choices])
        return choices[int(np.argmax(scores))]

    def understand(self, text: str) -> HeardRequest:
        """Parse, correct against the home and phrase the answer for a transcript or typed request."""
        t0 = time.perf_counter()
        if not text.strip():
            return HeardRequest("nothing_heard", "", NOTHING_HEARD, timings={"understand_s": 0.0})
        try:
            heard_task = parse_request(text)
        except RequestError as exc:
            recovered = self._recover(text)
            if recovered is None:
                return HeardRequest("not_understood", text, answer_not_understood(text), error=str(exc),
                                    timings={"understand_s": time.perf_counter() - t0})
            heard_task = recovered
        task, corrections = self.corrector.correct(heard_task)
        roles = self.corrector.unknown_roles(task)
        if roles:  # "put your please put the lemon on ...": a reading that names known things wins
            recovered = self._recover(text)
            # ... of the same kind: "put the lemon on the black carbonate" is not "grab the lemon ..."
            if recovered is not None and recovered.kind == heard_task.kind:
                task, corrections = self.corrector.correct(recovered)
                roles = []
        unknown = [p for _, p in roles]
        if unknown:
            status: Status = "unknown"
            kinds = None if len({r for r, _ in roles}) > 1 else [roles[0][0]]
            answer = answer_unknown(unknown, self.vocabulary, kinds)
        else:
            status, answer = "ok", answer_task(task)
        return HeardRequest(status, text, answer, task, heard_task, corrections, unknown,
                            timings={"understand_s": time.perf_counter() - t0})

    def _recover(self, text: str) -> Task | None:
        """A task from a transcript whose request verb was misheard ("cut your please put the lemon on ...",
        "bit of a purple box on the shelf", "can you grant the mug and put it ..."): the first reading from
        `frame_candidates` that parses and whose phrases, once corrected, all name things in this home.
        None without a vocabulary (nothing to check a guess against) or when no reading fits."""
        if not self.vocabulary:
            return None
        words = normalise(text).replace(",", " ").split()
        for candidate in frame_candidates(text):
            try:
                task = parse_request(candidate)
            except RequestError:
                continue
            if task.kind == "place":  # "... grant the year normal and put it on the table": "it" was named
                continue
            if task.kind == "pick" and _PUT_VERBS & set(words):  # "would you mind putting the box under ..."
                continue  # is not a request to pick the box up
            corrected, _ = self.corrector.correct(task)
            if not self.corrector.unknown_phrases(corrected):
                return task
        return None


def _agreed(outcomes: list[HeardRequest]) -> bool:
    """True when every reading understood the same request, naming only things of the home."""
    return bool(outcomes) and all(o.status == "ok" for o in outcomes) and len({_task_key(o.task) for o in outcomes}) == 1


def _sentences(text: str) -> list[str]:
    """The sentences of a transcript that holds more than one ("Put the amount of the. Put the box on ...")."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?])\s+", text.strip()) if p.strip()]
    return parts if len(parts) > 1 else []


def _part_of(part: Task | None, whole: Task | None) -> bool:
    """True when `part` is one step of the two-step request `whole`: picking its object, or placing the held
    object where it goes (a reading cut at a sentence end hears only that step)."""
    if part is None or whole is None or whole.kind != "pick_and_place":
        return False
    if part.kind == "pick":
        return part.object_phrase == whole.object_phrase
    return part.kind == "place" and (part.relation, part.receptacle_phrase) == (whole.relation, whole.receptacle_phrase)


def _task_key(task: Task | None) -> tuple:
    return (task.kind, task.object_phrase, task.relation, task.receptacle_phrase) if task else ()


def _realised(heard: HeardRequest) -> str:
    """The transcript as the request was understood: lower case, its misheard phrases replaced by the home
    names they were corrected to ("could you put the red mud on the sofa" -> "... red mug ...")."""
    text = f" {plain(heard.transcript)} "
    for c in heard.corrections:
        if set(c.corrected.split()) < set(c.heard.split()):  # a name inside a longer phrase: keep the words
            continue
        if f" {c.heard} " in text:
            text = text.replace(f" {c.heard} ", f" {c.corrected} ", 1)
    return text.strip()


_PRONOUN_WORDS = {"it", "that", "this", "them", "those", "these", "that one", "this one"}
_VERBS = {"put", "place", "grab", "take", "bring", "move", "pick", "set", "drop", "get", "carry"}
_PUT_VERBS = {"put", "putting", "place", "placing", "move", "moving", "bring", "bringing", "set", "drop", "carry"}
_DETERMINERS = {"the", "a", "an", "this", "that", "it", "my", "these", "those", "them"}
_GUESSED_VERBS = ("put", "grab")


def frame_candidates(text: str, max_words: int = 6) -> list[str]:
    """Readings of a transcript with its opening words replaced: from a later request verb on ("... put the
    lemon on the bed" -> "put the lemon on the bed"), or a verb guessed in front of one of the first
    determiners ("bit of a purple box on the shelf" -> "put a purple box on the shelf"); longest first."""
    words = normalise(text).replace(",", " ").split()
    out: list[str] = []
    for i in range(1, min(len(words), max_words + 2)):
        if words[i] in _VERBS:
            out.append(" ".join(words[i:]))
    for i in range(0, min(len(words), max_words)):
        if words[i] in _DETERMINERS:
            out += [f"{verb} {' '.join(words[i:])}" for verb in _GUESSED_VERBS]
    return sorted(dict.fromkeys(out), key=lambda c: -len(c.split()))  # readings that keep the most words first
