"""The robot's voice: text to speech with espeak-ng, played on an audio output device.

    Speaker().say("Putting the red mug on the kitchen table")

Used on the robot (the robot server's `say` command) and on a workstation (`ovmm listen` answering through
the local speakers). Synthesis runs the `espeak-ng` program (Debian package `espeak-ng`, offline, CPU, about
20 ms per sentence); playback goes to an `AudioOutput`, the hardware boundary: the `sounddevice` package
(PortAudio) when installed, else ALSA's `aplay` program. Speaking never raises for a missing program or
device: `say` returns a `SayResult` whose `played` is False and whose `reason` says why.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import threading
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from core.errors import OvmmError

log = logging.getLogger(__name__)

MAX_TEXT_CHARS = 500


class SpeakerError(OvmmError):
    """Text could not be synthesised or played."""


@dataclass
class SpeakerConfig:
    """espeak-ng settings: `voice` (espeak-ng --voices lists them, e.g. en-us, en-gb, en-us+f3),
    `words_per_minute`, `volume` (0-200, espeak's amplitude), `enabled` (False: print only, never play)."""

    voice: str = "en-us"
    words_per_minute: int = 165
    volume: int = 100
    enabled: bool = True


@dataclass(frozen=True)
class SayResult:
    text: str
    played: bool
    duration_s: float = 0.0
    reason: str | None = None  # why nothing was played

    def to_dict(self) -> dict:
        return {"text": self.text, "played": self.played, "duration_s": round(self.duration_s, 3),
                "reason": self.reason}


class AudioOutput(Protocol):
    """Where sound goes: `play(samples float32 mono in [-1, 1], rate)` returns when it has been played."""

    name: str

    def play(self, samples: np.ndarray, rate: int) -> None: ...


def synthesise(text: str, config: SpeakerConfig | None = None) -> tuple[np.ndarray, int]:
    """espeak-ng's rendering of `text` as (float32 mono samples, sample rate)."""
    config = config or SpeakerConfig()
    exe = shutil.which("espeak-ng")
    if exe is None:
        raise SpeakerError("text to speech needs espeak-ng (apt install espeak-ng)")
    text = " ".join(text.split())[:MAX_TEXT_CHARS]
    if not text:
        raise SpeakerError("nothing to say")
    cmd = [exe, "-v", config.voice, "-s", str(int(config.words_per_minute)), "-a", str(int(config.volume)),
           "--stdout", text]
    try:
        proc = subprocess.run(cmd, capture_output=True, timeout=30, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SpeakerError(f"espeak-ng failed ({exc})") from exc
    if proc.returncode != 0 or not proc.stdout:
        why = proc.stderr.decode(errors="replace").strip() or f"exit status {proc.returncode}"
        raise SpeakerError(f"espeak-ng could not speak with voice {config.voice!r} ({why})")
    return wav_bytes_to_samples(proc.stdout)


def wav_bytes_to_samples(data: bytes) -> tuple[np.ndarray, int]:
    """16-bit PCM WAV bytes -> (float32 mono samples, rate). Reads the data chunk to the end of the bytes, since
    espeak-ng's streamed header gives no real length."""
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise SpeakerError("espeak-ng wrote unreadable audio (no RIFF/WAVE header)")
    pos, fmt = 12, None
    while pos + 8 <= len(data):
        cid, size = data[pos:pos + 4], int.from_bytes(data[pos + 4:pos + 8], "little")
        if cid == b"fmt ":
            fmt = data[pos + 8:pos + 8 + 16]
        elif cid == b"data":
            if fmt is None or len(fmt) < 16:
                break
            channels = int.from_bytes(fmt[2:4], "little")
            rate = int.from_bytes(fmt[4:8], "little")
            bits = int.from_bytes(fmt[14:16], "little")
            if bits != 16 or channels < 1:
                raise SpeakerError(f"espeak-ng wrote {bits}-bit audio with {channels} channel(s); expected 16-bit")
            pcm = data[pos + 8:]
            pcm = pcm[: len(pcm) // (2 * channels) * 2 * channels]
            samples = np.frombuffer(pcm, "<i2").astype(np.float32) / 32768.0
            return samples.reshape(-1, channels).mean(axis=1), rate
        pos += 8 + size + (size & 1)
    raise SpeakerError("espeak-ng wrote unreadable audio (no data chunk)")


class SoundDeviceOutput:
    """The default output device through `sounddevice` (PortAudio)."""

    name = "sounddevice"

    def __init__(self, device: str | int | None = None) -> None:
        try:
            import sounddevice  # noqa: PLC0415 - optional (the `mic` extra)
        except (ImportError, OSError) as exc:
            raise SpeakerError("sounddevice (and PortAudio) is not installed") from exc
        self._sd = sounddevice
        self.device = device

    def play(self, samples: np.ndarray, rate: int) -> None:
        try:
            self._sd.play(samples, rate, device=self.device, blocking=True)
        except self._sd.PortAudioError as exc:
            raise SpeakerError(f"could not play sound ({exc})") from exc


class AplayOutput:
    """ALSA's `aplay` program (package alsa-utils), fed 16-bit PCM on stdin."""

    name = "aplay"

    def __init__(self) -> None:
        self.exe = shutil.which("aplay")
        if self.exe is None:
            raise SpeakerError("aplay (alsa-utils) is not installed")

    def play(self, samples: np.ndarray, rate: int) -> None:
        pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype("<i2").tobytes()
        cmd = [self.exe, "-q", "-t", "raw", "-f", "S16_LE", "-c", "1", "-r", str(int(rate))]
        try:
            proc = subprocess.run(cmd, input=pcm, capture_output=True, timeout=60, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise SpeakerError(f"aplay failed ({exc})") from exc
        if proc.returncode != 0:
            raise SpeakerError(f"aplay could not play sound ({proc.stderr.decode(errors='replace').strip()})")


def default_output() -> AudioOutput:
    """sounddevice if importable, else aplay; SpeakerError saying what to install when neither is."""
    reasons = []
    for make in (SoundDeviceOutput, AplayOutput):
        try:
            return make()
        except SpeakerError as exc:
            reasons.append(str(exc))
    raise SpeakerError("no audio output: " + "; ".join(reasons))


class Speaker:
    """Synthesise and play sentences. `output`: an AudioOutput, or None for `default_output()` on first use."""

    def __init__(self, config: SpeakerConfig | None = None, output: AudioOutput | None = None) -> None:
        self.config = config or SpeakerConfig()
        self._output = output

    def output(self) -> AudioOutput:
        """The audio output (the default one is opened on first use; SpeakerError when there is none)."""
        if self._output is None:
            self._output = default_output()
        return self._output

    def say(self, text: str) -> SayResult:
        """Speak `text` (blocking until played); never raises for missing programs or devices."""
        if not self.config.enabled:
            return SayResult(text, False, reason="speech output is off")
        try:
            samples, rate = synthesise(text, self.config)
            self.output().play(samples, rate)
        except SpeakerError as exc:
            log.info("not spoken: %s", exc)
            return SayResult(text, False, reason=str(exc))
        return SayResult(text, True, samples.size / float(rate))


class RobotVoice:
    """The robot server's `say` command: synthesises at once (so errors are answered) and plays in a background
    thread, so a long sentence never holds up the server's heartbeats; a new sentence waits for the last."""

    def __init__(self, speaker: Speaker | None = None) -> None:
        self.speaker = speaker or Speaker()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def say_async(self, text: str) -> dict:
        """{"played": True, "duration_s": ...} once playback has started, or {"played": False, "reason": ...}."""
        config = self.speaker.config
        if not config.enabled:
            return SayResult(text, False, reason="speech output is off on the robot").to_dict()
        try:
            samples, rate = synthesise(text, config)
            output = self.speaker.output()
        except SpeakerError as exc:
            return SayResult(text, False, reason=str(exc)).to_dict()

        def play() -> None:
            with self._lock:
                try:
                    output.play(samples, rate)
                except SpeakerError as exc:
                    log.warning("could not play %r: %s", text, exc)

        self._thread = threading.Thread(target=play, name="robot-voice", daemon=True)
        self._thread.start()
        return SayResult(text, True, samples.size / float(rate)).to_dict()

    def wait(self, timeout_s: float | None = None) -> None:
        """Block until the last sentence has been played (tests, shutdown)."""
        if self._thread is not None:
            self._thread.join(timeout_s)
