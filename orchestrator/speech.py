"""Speech to text for spoken requests: WAV files or the microphone, transcribed with faster-whisper.

    transcriber = Transcriber(SpeechConfig(model="../shared/data/models/whisper-tiny.en-ct2"))
    text = transcriber.transcribe(load_wav("request.wav"))

Audio inside this module is float32 mono at 16 kHz in [-1, 1] (what Whisper expects). The microphone needs
the optional `sounddevice` package (and PortAudio); it is imported only when recording.
"""

from __future__ import annotations

import logging
import math
import os
import wave
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core.errors import InputError, OvmmError
from core.models import resolve_model

log = logging.getLogger(__name__)

SAMPLE_RATE = 16000
HUB_MODEL = "Systran/faster-whisper-tiny.en"
_SHARED_MODEL = Path(__file__).resolve().parents[2] / "shared" / "data" / "models" / "whisper-tiny.en-ct2"


class SpeechError(OvmmError):
    """Recording or transcription failed (no microphone, missing package, unusable audio)."""


def default_model() -> str:
    """OVMM_WHISPER_MODEL if set, else the shared tiny.en copy if present, else the hub id."""
    env = os.environ.get("OVMM_WHISPER_MODEL")
    if env:
        return env
    return str(_SHARED_MODEL) if _SHARED_MODEL.is_dir() else HUB_MODEL


@dataclass
class SpeechConfig:
    """Whisper settings. `model`: a local CTranslate2 directory or a hub id (resolved by core.models)."""

    model: str = ""  # empty: default_model()
    device: str = "cpu"
    compute_type: str = "int8"  # int8 or float32 on CPU
    cpu_threads: int = 0  # 0: CTranslate2's default
    language: str = "en"
    beam_size: int = 5
    initial_prompt: str | None = None  # e.g. object names to bias the vocabulary
    temperature: float = 0.0  # 0: deterministic decoding (no sampling fallback)


@dataclass
class RecordConfig:
    """Microphone recording: a fixed `duration_s`, or until `silence_s` of quiet after speech (at most
    `max_s`). A block counts as speech when its RMS exceeds `threshold` (full scale = 1)."""

    duration_s: float | None = None
    max_s: float = 10.0
    silence_s: float = 1.0
    threshold: float = 0.02
    block_s: float = 0.05
    device: str | int | None = None


# --- audio files -------------------------------------------------------------------------------------------


def load_wav(path: str | os.PathLike) -> np.ndarray:
    """Read a PCM WAV file (8/16/24/32-bit, any rate, any channels) as float32 mono 16 kHz."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"audio file {path} does not exist")
    try:
        with wave.open(str(path), "rb") as w:
            channels, width, rate, n = w.getnchannels(), w.getsampwidth(), w.getframerate(), w.getnframes()
            raw = w.readframes(n)
    except (wave.Error, EOFError) as exc:
        raise InputError(f"audio file {path} is not a readable PCM WAV file ({exc})") from exc
    if n == 0 or not raw:
        raise InputError(f"audio file {path} holds no audio")
    if width == 1:
        samples = (np.frombuffer(raw, np.uint8).astype(np.float32) - 128.0) / 128.0
    elif width == 2:
        samples = np.frombuffer(raw, "<i2").astype(np.float32) / 32768.0
    elif width == 3:
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3).astype(np.int32)
        v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
        samples = (np.where(v >= 1 << 23, v - (1 << 24), v)).astype(np.float32) / float(1 << 23)
    elif width == 4:
        samples = np.frombuffer(raw, "<i4").astype(np.float32) / float(1 << 31)
    else:
        raise InputError(f"audio file {path} has an unsupported sample width of {width} bytes")
    samples = samples[: (samples.size // channels) * channels].reshape(-1, channels).mean(axis=1)
    return resample(samples, rate, SAMPLE_RATE)


def resample(audio: np.ndarray, rate: int, target: int = SAMPLE_RATE) -> np.ndarray:
    """Polyphase resampling to `target` Hz (float32 mono)."""
    audio = np.asarray(audio, dtype=np.float32).reshape(-1)
    if rate == target:
        return audio
    from scipy.signal import resample_poly

    g = math.gcd(int(rate), int(target))
    return resample_poly(audio, target // g, int(rate) // g).astype(np.float32)


# --- microphone ----------------------------------------------------------------------------------------------


class SilenceEndpointer:
    """Decides when a recording ends: after `silence_s` of quiet that follows speech, or at `max_s`."""

    def __init__(self, config: RecordConfig, sample_rate: int = SAMPLE_RATE) -> None:
        self.config = config
        self.rate = sample_rate
        self.heard_speech = False
        self.quiet_s = 0.0
        self.total_s = 0.0

    def feed(self, block: np.ndarray) -> bool:
        """Account for one block of samples; True when recording should stop."""
        dur = len(block) / self.rate
        self.total_s += dur
        if self.config.duration_s is not None:
            return self.total_s >= self.config.duration_s
        rms = float(np.sqrt(np.mean(np.square(block, dtype=np.float64)))) if len(block) else 0.0
        if rms > self.config.threshold:
            self.heard_speech = True
            self.quiet_s = 0.0
        elif self.heard_speech:
            self.quiet_s += dur
        return self.total_s >= self.config.max_s or (self.heard_speech and self.quiet_s >= self.config.silence_s)


def _import_sounddevice():
    try:
        import sounddevice as sd  # noqa: PLC0415 - optional dependency, only for the microphone
    except (ImportError, OSError) as exc:
        raise SpeechError(
            "recording from the microphone needs the 'sounddevice' package and PortAudio "
            "(pip install sounddevice; apt install libportaudio2), or pass --wav FILE instead"
        ) from exc
    return sd


def record(config: RecordConfig | None = None, blocks: Iterable[np.ndarray] | None = None) -> np.ndarray:
    """Record speech from the microphone (float32 mono 16 kHz).

    blocks: an iterable of float32 sample blocks to use instead of the microphone (a recorded stream).
    """
    config = config or RecordConfig()
    endpointer = SilenceEndpointer(config)
    chunks: list[np.ndarray] = []
    if blocks is not None:
        for block in blocks:
            chunks.append(np.asarray(block, dtype=np.float32).reshape(-1))
            if endpointer.feed(chunks[-1]):
                break
        return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)
    sd = _import_sounddevice()
    block_n = max(1, int(config.block_s * SAMPLE_RATE))
    try:
        with sd.InputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32", blocksize=block_n,
                            device=config.device) as stream:
            log.info("recording (max %.1f s)", config.duration_s or config.max_s)
            while True:
                data, overflowed = stream.read(block_n)
                if overflowed:
                    log.warning("microphone buffer overflow: some audio was lost")
                chunks.append(np.asarray(data, dtype=np.float32).reshape(-1))
                if endpointer.feed(chunks[-1]):
                    break
    except sd.PortAudioError as exc:
        raise SpeechError(f"could not record from the microphone ({exc}); check that one is connected, "
                          "or pass --wav FILE") from exc
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


# --- transcription -------------------------------------------------------------------------------------------


class Transcriber:
    """Whisper speech-to-text through faster-whisper (CTranslate2), loaded once and reused."""

    def __init__(self, config: SpeechConfig | None = None) -> None:
        self.config = config or SpeechConfig()
        spec = self.config.model or default_model()
        try:
            from faster_whisper import WhisperModel  # noqa: PLC0415 - optional dependency (speech extra)
        except ImportError as exc:
            raise SpeechError("speech recognition needs faster-whisper: pip install 'ovmm[speech]'") from exc
        path = resolve_model(spec, "Whisper speech-to-text model", required_files=("model.bin",))
        try:
            self.model = WhisperModel(
                str(path), device=self.config.device, compute_type=self.config.compute_type,
                cpu_threads=self.config.cpu_threads,
            )
        except (RuntimeError, ValueError, OSError) as exc:
            raise SpeechError(f"could not load the Whisper model from {path}: {exc}") from exc
        log.info("loaded Whisper model %s (%s, %s)", path, self.config.device, self.config.compute_type)

    def transcribe(self, audio: np.ndarray) -> str:
        """Text of float32 mono 16 kHz audio (empty string for silence)."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if audio.size < SAMPLE_RATE // 10:
            raise SpeechError(f"the recording is too short ({audio.size / SAMPLE_RATE:.2f} s) to transcribe")
        segments, _info = self.model.transcribe(
            audio, language=self.config.language, beam_size=self.config.beam_size,
            initial_prompt=self.config.initial_prompt, condition_on_previous_text=False,
            temperature=self.config.temperature,
        )
        return " ".join(seg.text.strip() for seg in segments).strip()
