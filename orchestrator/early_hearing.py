"""Recognising a spoken request while the microphone's end-pointer still waits out the silence after it.

The end-pointer stops a recording `silence_s` (1 s) after the speech ends, and recognition takes about as
long again. `EarlyHearing` starts recognising in a background thread once the speech has paused for
`start_after_s`, on the audio recorded so far, and keeps that result when the recording ends with the same
speech in it: the encoder is given only the speech part of a recording (`Transcriber.speech_part`: the
VAD's spans with their padding), so equal speech parts are heard alike, and the result is ready up to
`silence_s - start_after_s` sooner. If the speaker goes on after the pause, the early result is dropped
and the whole recording is heard after it ends.

    early = EarlyHearing(listener.hear, transcriber.speech_part)
    audio = record(config, on_block=early.on_block)
    heard = early.result(audio)          # listener.hear(audio), usually already done
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Generic, TypeVar

import numpy as np

from orchestrator.speech import SilenceEndpointer

log = logging.getLogger(__name__)

T = TypeVar("T")

START_AFTER_S = 0.6  # the decoder's VAD joins speech across pauses shorter than 0.5 s; start after that


class EarlyHearing(Generic[T]):
    """`on_block` (record's hook) starts `hear` on the recording so far once the end-pointer has measured
    `start_after_s` without speech after speech (one attempt per pause, one at a time); `result(audio)` is
    that outcome when `speech_part` of the finished recording equals the early one's, else `hear(audio)`.
    `early` and `wait_s` tell, after `result`, whether the early outcome was used and how long it waited."""

    def __init__(self, hear: Callable[[np.ndarray], T], speech_part: Callable[[np.ndarray], np.ndarray | None],
                 start_after_s: float = START_AFTER_S) -> None:
        self.hear = hear
        self.speech_part = speech_part
        self.start_after_s = start_after_s
        self._thread: threading.Thread | None = None
        self._paused = False  # an attempt was started in the current pause
        self._outcome: tuple[np.ndarray | None, T] | None = None
        self.attempts = 0
        self.early = False
        self.wait_s = 0.0

    def on_block(self, chunks: list[np.ndarray], endpointer: SilenceEndpointer) -> None:
        if not endpointer.heard_speech or endpointer.quiet_s < self.start_after_s:
            self._paused = False  # speech (again): a later pause may start another attempt
            return
        if self._paused or (self._thread is not None and self._thread.is_alive()):
            return
        self._paused = True
        self._outcome = None
        audio = np.concatenate(chunks)
        self.attempts += 1
        self._thread = threading.Thread(target=self._run, args=(audio,), name="early-hearing", daemon=True)
        self._thread.start()

    def _run(self, audio: np.ndarray) -> None:
        try:
            self._outcome = (self.speech_part(audio), self.hear(audio))
        except Exception as exc:  # noqa: BLE001 - the whole recording is heard again, and raises there
            log.info("early recognition failed (%s); hearing the whole recording", exc)

    def result(self, audio: np.ndarray) -> T:
        """The outcome of hearing `audio` (the finished recording)."""
        t0 = time.perf_counter()
        speech = self.speech_part(audio)
        if self._thread is not None:
            self._thread.join()
        outcome = self._outcome
        self.early = (outcome is not None and speech is not None and outcome[0] is not None
                      and np.array_equal(outcome[0], speech))
        heard = outcome[1] if self.early else self.hear(audio)
        self.wait_s = time.perf_counter() - t0
        return heard
