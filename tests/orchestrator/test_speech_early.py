"""Recognition started during the end-pointer's silence (orchestrator.early_hearing) and the readings skipped
where the primed and plain ones agree: real espeak-ng speech, real Whisper tiny.en, blocks fed as a
microphone would give them."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest

from orchestrator.early_hearing import EarlyHearing
from orchestrator.speech import SAMPLE_RATE, RecordConfig, SpeechConfig, Transcriber, load_wav, record
from orchestrator.spoken_request import RequestListener

ESPEAK = shutil.which("espeak-ng")
pytestmark = pytest.mark.skipif(ESPEAK is None, reason="espeak-ng is not installed (apt install espeak-ng)")
BLOCK = int(0.05 * SAMPLE_RATE)


@pytest.fixture(scope="module")
def transcriber(shared_data):
    path = shared_data / "models" / "whisper-tiny.en-ct2"
    if not (path / "model.bin").is_file():
        pytest.skip(f"Whisper tiny.en not found at {path}")
    return Transcriber(SpeechConfig(model=str(path), cpu_threads=2, beam_size=1))


def speak(tmp_path, text: str) -> np.ndarray:
    path = tmp_path / "said.wav"
    subprocess.run([ESPEAK, "-v", "en-us", "-s", "140", "-w", str(path), text], check=True, timeout=30)
    return load_wav(path)


def room(n: int, seed: int = 0) -> np.ndarray:
    """A fan: brown noise, quiet beside the speech."""
    brown = np.cumsum(np.random.default_rng(seed).standard_normal(n))
    brown -= np.convolve(brown, np.ones(801) / 801, mode="same")
    return (0.01 * brown / np.std(brown)).astype(np.float32)


def microphone(audio: np.ndarray):
    """Blocks of `audio`, then the room for ever (what a microphone gives after the speaker stops)."""
    tail = room(SAMPLE_RATE, seed=1)
    for i in range(0, audio.size, BLOCK):
        yield audio[i:i + BLOCK]
    while True:
        yield from (tail[i:i + BLOCK] for i in range(0, tail.size, BLOCK))


def test_recognition_started_in_the_pause_is_the_whole_recordings(transcriber, tmp_path):
    listener = RequestListener(transcriber)
    speech = speak(tmp_path, "Put the lemon on the bed.")
    audio = np.concatenate([room(SAMPLE_RATE // 2), speech + room(speech.size, seed=2)])
    early = EarlyHearing(listener.hear, transcriber.speech_part, start_after_s=0.6)
    got = record(RecordConfig(silence_s=1.0, max_s=10.0), blocks=microphone(audio), on_block=early.on_block)
    heard = early.result(got)
    assert early.attempts == 1 and early.early  # started in the pause, and kept: the same speech part
    assert got.size > audio.size + 0.6 * SAMPLE_RATE  # the recording went on after it started
    whole = listener.hear(got)
    assert (heard.transcript, heard.task) == (whole.transcript, whole.task)
    assert heard.task is not None and heard.task.object_phrase == "lemon"


def test_speech_after_the_pause_drops_the_early_result(transcriber, tmp_path):
    listener = RequestListener(transcriber)
    heard_sizes: list[int] = []

    def hear(audio):
        heard_sizes.append(audio.size)
        return listener.hear(audio)

    first = speak(tmp_path, "Pick up the banana")
    rest = speak(tmp_path, "and put it on the sofa.")
    gap = room(int(1.2 * SAMPLE_RATE), seed=3)  # longer than start_after_s, shorter than silence_s
    audio = np.concatenate([room(SAMPLE_RATE // 2), first, gap, rest])
    early = EarlyHearing(hear, transcriber.speech_part, start_after_s=0.6)
    got = record(RecordConfig(silence_s=2.5, max_s=10.0), blocks=microphone(audio), on_block=early.on_block)
    early.result(got)
    assert got.size > audio.size  # the recording held all the speech
    # "Pick up the banana" alone was heard in the gap and dropped; what counts is heard from all the speech
    # (the whole recording, or a second early attempt after the last words when the first was done by then)
    assert heard_sizes[0] < audio.size - rest.size and heard_sizes[-1] >= audio.size
    assert early.early == (early.attempts > 1 and heard_sizes[-1] < got.size)


def test_primed_and_plain_readings_that_agree_skip_the_hotwords_decode(transcriber, tmp_path):
    from orchestrator.home_vocabulary import HomeVocabulary

    vocabulary = HomeVocabulary.from_words("lemon, bed, banana, sofa, red mug")
    decodes: list[int] = []
    decode = transcriber.decode_readings

    def counted(encoded, prompts, beam_size=None):
        decodes.append(len(prompts))
        return decode(encoded, prompts, beam_size)

    transcriber.decode_readings = counted
    try:
        audio = np.concatenate([room(SAMPLE_RATE // 2), speak(tmp_path, "Could you put the red mug on the bed?")])
        lazy = RequestListener(transcriber, vocabulary).hear(audio)
        assert decodes == [2]  # primed and plain agree on a request of this home: no third decode
        decodes.clear()
        full = RequestListener(transcriber, vocabulary, agree_early=False).hear(audio)
        assert decodes == [3] and full.task == lazy.task
        assert (lazy.task.object_phrase, lazy.task.receptacle_phrase) == ("red mug", "bed")
        decodes.clear()  # a thing this home lacks: the readings do not agree on a home request
        RequestListener(transcriber, vocabulary).hear(speak(tmp_path, "Put the television on the sofa."))
        assert decodes == [2, 1]
    finally:
        del transcriber.decode_readings
