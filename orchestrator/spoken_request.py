"""From a recording to a request the robot can act on, with the answer it gives (`ovmm listen`).

    reader = RequestListener(Transcriber(...), vocabulary=HomeVocabulary.from_scene(spec), encoder=encoder)
    heard = reader.hear(load_wav("request.wav"))
    heard.status   # "ok" | "unknown" (the home lacks a thing) | "not_understood" | "nothing_heard"
    heard.answer   # "Putting the red mug on the kitchen table."

With a vocabulary, Whisper is primed with the home's names (its initial prompt) and the parsed phrases are
corrected towards them (orchestrator.request_correction); without one the request is taken as heard.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from orchestrator.home_vocabulary import MAX_PROMPT_TOKENS, HomeVocabulary
from orchestrator.request_correction import Correction, CorrectionConfig, RequestCorrector
from orchestrator.requests import RequestError, Task, normalise, parse_request
from orchestrator.speech import SAMPLE_RATE, Transcriber
from orchestrator.voice_answers import (
    NOTHING_HEARD,
    answer_not_understood,
    answer_task,
    answer_unknown,
)

Status = Literal["ok", "unknown", "not_understood", "nothing_heard"]

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

    @property
    def actionable(self) -> bool:
        return self.status == "ok"

    def to_dict(self) -> dict:
        return {
            "status": self.status, "transcript": self.transcript, "answer": self.answer,
            "task": self.task.to_dict() if self.task else None,
            "heard_task": self.heard_task.to_dict() if self.heard_task else None,
            "corrections": [c.to_dict() for c in self.corrections], "unknown": self.unknown, "error": self.error,
            "timings": {k: round(v, 3) for k, v in self.timings.items()},
        }


class RequestListener:
    """Transcribes, parses, corrects and answers requests for one home.

    vocabulary: the home's names (None or empty: no priming, no correction, no "I don't see" check);
    encoder: the map's text encoder (encode_text), used to keep heard phrases that already mean a home thing;
    use_prompt: prime Whisper with the vocabulary (False: only correct after recognition);
    second_opinion: with a prompt, also decode without it and keep that reading when it names only things of
    the home (a primed recogniser can echo the prompt's names instead of what was said: "Put the black on the
    black cabinet" for "put the lemon on the black cabinet"), else the primed reading.
    """

    def __init__(self, transcriber: Transcriber | None, vocabulary: HomeVocabulary | None = None, encoder=None,
                 correction: CorrectionConfig | None = None, use_prompt: bool = True,
                 max_prompt_tokens: int = MAX_PROMPT_TOKENS, second_opinion: bool = True) -> None:
        self.second_opinion = second_opinion
        self.transcriber = transcriber
        self.vocabulary = vocabulary or HomeVocabulary()
        self.corrector = RequestCorrector(self.vocabulary, encoder, correction)
        self.prompt: str | None = None
        if self.vocabulary and use_prompt:
            count = transcriber.count_tokens if transcriber is not None else None
            self.prompt = self.vocabulary.prompt(count, max_prompt_tokens) or None

    def hear(self, audio: np.ndarray) -> HeardRequest:
        """Transcribe float32 mono 16 kHz audio and understand it (`timings`: transcribe_s, understand_s)."""
        if self.transcriber is None:
            raise ValueError("this RequestListener has no transcriber; use understand(text)")
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if audio.size < SAMPLE_RATE // 10 or float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) < SILENT_RMS:
            return HeardRequest("nothing_heard", "", NOTHING_HEARD, timings={"transcribe_s": 0.0, "understand_s": 0.0})
        transcript = self.transcriber.transcribe_detailed(audio, prompt=self.prompt)
        heard = self.understand(transcript.text)
        heard.timings = {"transcribe_s": transcript.transcribe_s, **heard.timings}
        if self.prompt and self.second_opinion:
            plain_transcript = self.transcriber.transcribe_detailed(audio, prompt="")
            unprimed = self.understand(plain_transcript.text)
            timings = {"transcribe_s": heard.timings["transcribe_s"] + plain_transcript.transcribe_s,
                       "understand_s": heard.timings["understand_s"] + unprimed.timings["understand_s"]}
            if unprimed.status == "ok" or heard.status == "nothing_heard" and unprimed.status != "nothing_heard":
                heard = unprimed
            heard.timings = timings
        return heard

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
            if recovered is not None:
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
        for candidate in frame_candidates(text):
            try:
                task = parse_request(candidate)
            except RequestError:
                continue
            corrected, _ = self.corrector.correct(task)
            if not self.corrector.unknown_phrases(corrected):
                return task
        return None


_VERBS = {"put", "place", "grab", "take", "bring", "move", "pick", "set", "drop", "get", "carry"}
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
