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
import threading
import time
import wave
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
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
    hotwords: str | None = None  # faster-whisper hotwords (also a prompt; keep both within 223 tokens)
    temperature: float = 0.0  # 0: deterministic decoding (no sampling fallback)
    vad_filter: bool = True  # drop non-speech with Silero VAD before decoding (faster-whisper's vad_filter)
    no_speech_threshold: float = 0.6  # a segment Whisper rates this likely to be non-speech ...
    min_avg_logprob: float = -1.0  # ... and decodes with a mean log-probability below this is dropped
    # Forced scoring (`Transcriber.score`) attends to all 1500 positions of Whisper's 30 s window (None), or
    # to those holding speech plus this many (20 ms each): cheaper, but at 50 it ranked "put the red wall on
    # the sofa" above what was said on tests/orchestrator/test_speech_audio.py's recording.
    score_margin: int | None = None


@dataclass
class RecordConfig:
    """Microphone recording: a fixed `duration_s`; or push-to-talk (until the caller's stop event); or until
    `silence_s` of non-speech after speech (at most `max_s`; nothing heard after `no_speech_s` ends it too).
    Speech is found by Silero VAD (`vad`, faster-whisper's model, probability >= `vad_threshold`), or where
    that is unavailable or `vad` is False by block RMS above `threshold` (full scale = 1)."""

    duration_s: float | None = None
    max_s: float = 10.0
    silence_s: float = 1.0
    no_speech_s: float = 6.0
    threshold: float = 0.02
    vad: bool = True
    vad_threshold: float = 0.5
    vad_check_s: float = 0.2
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
    """Decides when a recording ends by block loudness: after `silence_s` of quiet that follows speech, at
    `max_s`, after `no_speech_s` with no speech at all, or at `duration_s` when that is set."""

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
        return self._done()

    def _done(self) -> bool:
        c = self.config
        if self.total_s >= c.max_s:
            return True
        if not self.heard_speech:
            return self.total_s >= c.no_speech_s
        return self.quiet_s >= c.silence_s


class VadEndpointer(SilenceEndpointer):
    """The same rules with speech found by Silero VAD (faster-whisper's ONNX model) instead of loudness, so a
    fan or a running tap does not keep the recording open. Every `vad_check_s` of audio it re-runs the VAD
    over what was recorded and measures the time since the last speech ended."""

    def __init__(self, config: RecordConfig, sample_rate: int = SAMPLE_RATE) -> None:
        super().__init__(config, sample_rate)
        from faster_whisper.vad import VadOptions, get_speech_timestamps  # noqa: PLC0415 - speech extra

        self._vad = get_speech_timestamps
        self._options = VadOptions(threshold=config.vad_threshold, min_silence_duration_ms=int(config.silence_s * 500),
                                   speech_pad_ms=0, min_speech_duration_ms=150)
        self._chunks: list[np.ndarray] = []
        self._since_check = 0.0

    def feed(self, block: np.ndarray) -> bool:
        block = np.asarray(block, dtype=np.float32).reshape(-1)
        dur = len(block) / self.rate
        self.total_s += dur
        self._since_check += dur
        self._chunks.append(block)
        if self.config.duration_s is not None:
            return self.total_s >= self.config.duration_s
        if self._since_check >= self.config.vad_check_s or self.total_s >= self.config.max_s:
            self._since_check = 0.0
            audio = np.concatenate(self._chunks)
            if self.rate != SAMPLE_RATE:
                audio = resample(audio, self.rate, SAMPLE_RATE)
            spans = self._vad(audio, self._options, sampling_rate=SAMPLE_RATE)
            if spans:
                self.heard_speech = True
                self.quiet_s = (audio.size - spans[-1]["end"]) / SAMPLE_RATE
        return self._done()


def make_endpointer(config: RecordConfig, sample_rate: int = SAMPLE_RATE) -> SilenceEndpointer:
    """VadEndpointer when `config.vad` and faster-whisper's VAD (onnxruntime) are available, else loudness."""
    if config.vad and config.duration_s is None:
        try:
            return VadEndpointer(config, sample_rate)
        except (ImportError, RuntimeError) as exc:
            log.info("Silero VAD unavailable (%s); ending recordings on loudness", exc)
    return SilenceEndpointer(config, sample_rate)


def _import_sounddevice():
    try:
        import sounddevice as sd  # noqa: PLC0415 - optional dependency, only for the microphone
    except (ImportError, OSError) as exc:
        raise SpeechError(
            "recording from the microphone needs the 'sounddevice' package and PortAudio "
            "(pip install sounddevice; apt install libportaudio2), or pass --wav FILE instead"
        ) from exc
    return sd


def microphone_blocks(config: RecordConfig) -> Iterator[np.ndarray]:
    """Blocks of `config.block_s` float32 samples from the microphone (sounddevice), until the caller stops."""
    sd = _import_sounddevice()
    block_n = max(1, int(config.block_s * SAMPLE_RATE))
    try:
        with sd.InputStream(samplerate=SAMPLE_RATE, channels=1, dtype="float32", blocksize=block_n,
                            device=config.device) as stream:
            while True:
                data, overflowed = stream.read(block_n)
                if overflowed:
                    log.warning("microphone buffer overflow: some audio was lost")
                yield np.asarray(data, dtype=np.float32).reshape(-1)
    except sd.PortAudioError as exc:
        raise SpeechError(f"could not record from the microphone ({exc}); check that one is connected, "
                          "or pass --wav FILE") from exc


def record(config: RecordConfig | None = None, blocks: Iterable[np.ndarray] | None = None,
           stop: threading.Event | None = None,
           on_block: Callable[[list[np.ndarray], SilenceEndpointer], None] | None = None) -> np.ndarray:
    """Record one utterance (float32 mono 16 kHz) from `blocks` (default: the microphone).

    stop: push-to-talk: record until this event is set (or `max_s`), ignoring silence.
    on_block: called with the blocks so far and the end-pointer after each block that does not end the
    recording (orchestrator.early_hearing starts recognising there once the speech has paused).
    """
    config = config or RecordConfig()
    endpointer = SilenceEndpointer(config) if stop is not None else make_endpointer(config)
    source = microphone_blocks(config) if blocks is None else blocks
    chunks: list[np.ndarray] = []
    try:
        for block in source:
            chunks.append(np.asarray(block, dtype=np.float32).reshape(-1))
            if stop is not None:
                endpointer.total_s += len(chunks[-1]) / SAMPLE_RATE
                if stop.is_set() or endpointer.total_s >= config.max_s:
                    break
            elif endpointer.feed(chunks[-1]):
                break
            elif on_block is not None:
                on_block(chunks, endpointer)
    finally:
        close = getattr(source, "close", None)
        if close is not None:
            close()  # a generator: closes the microphone stream
    return np.concatenate(chunks) if chunks else np.zeros(0, np.float32)


# --- transcription -------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transcript:
    """What Whisper heard: `text` ("" for nothing), the audio length and the decode time."""

    text: str
    audio_s: float
    transcribe_s: float
    dropped: tuple[str, ...] = ()  # segments dropped as likely non-speech (hallucinations on noise)
    avg_logprob: float | None = None  # mean log-probability per token of the kept text (decode_readings)


@dataclass
class EncodedAudio:
    """One utterance as Whisper's encoder saw it (`Transcriber.encode`): reused by every decode of it and by
    `score` (forced scoring of candidate texts)."""

    output: object  # ctranslate2.StorageView, [1, 1500, d_model]
    frames: int  # mel frames holding speech (not padding)
    audio_s: float  # seconds of audio before the VAD trimmed it
    encode_s: float
    _trimmed: dict = field(default_factory=dict, repr=False)

    def trimmed(self, margin: int | None):
        """The encoder output cut to the positions holding speech plus `margin` (None: all of it), cached."""
        if margin is None:
            return self.output
        keep = min(1500, self.frames // 2 + margin)
        if keep not in self._trimmed:
            import ctranslate2  # noqa: PLC0415 - speech extra

            whole = np.asarray(self.output)
            if keep >= whole.shape[1]:
                return self.output
            self._trimmed[keep] = ctranslate2.StorageView.from_array(np.ascontiguousarray(whole[:, :keep]))
        return self._trimmed[keep]


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

    def count_tokens(self, text: str) -> int:
        """Whisper tokens in `text` (as a prompt: with its leading space)."""
        return len(self.model.hf_tokenizer.encode(" " + text.strip(), add_special_tokens=False).ids)

    def transcribe(self, audio: np.ndarray, prompt: str | None = None, hotwords: str | None = None) -> str:
        """Text of float32 mono 16 kHz audio (empty string for silence)."""
        return self.transcribe_detailed(audio, prompt, hotwords).text

    def transcribe_detailed(self, audio: np.ndarray, prompt: str | None = None,
                            hotwords: str | None = None) -> Transcript:
        """A Transcript of the audio. `prompt`/`hotwords` override the config's for this call (e.g. a home's
        vocabulary; "" for none at all). Raises SpeechError for audio shorter than 0.1 s."""
        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if audio.size < SAMPLE_RATE // 10:
            raise SpeechError(f"the recording is too short ({audio.size / SAMPLE_RATE:.2f} s) to transcribe")
        c = self.config
        t0 = time.perf_counter()
        segments, _info = self.model.transcribe(
            audio, language=c.language, beam_size=c.beam_size,
            initial_prompt=(prompt if prompt is not None else c.initial_prompt) or None,
            hotwords=(hotwords if hotwords is not None else c.hotwords) or None,
            condition_on_previous_text=False, temperature=c.temperature, vad_filter=c.vad_filter,
            vad_parameters={"min_silence_duration_ms": 500, "speech_pad_ms": 300} if c.vad_filter else None,
        )
        kept, dropped = [], []
        for seg in segments:
            text = seg.text.strip()
            if seg.no_speech_prob >= c.no_speech_threshold and seg.avg_logprob < c.min_avg_logprob:
                dropped.append(text)
            elif text:
                kept.append(text)
        return Transcript(" ".join(kept).strip(), audio.size / SAMPLE_RATE, time.perf_counter() - t0, tuple(dropped))

    # --- one encode, several decodes (`ovmm listen`) ---

    def _tokenizer(self):
        if getattr(self, "_tok", None) is None:
            from faster_whisper.tokenizer import Tokenizer  # noqa: PLC0415 - speech extra

            self._tok = Tokenizer(self.model.hf_tokenizer, self.model.model.is_multilingual, task="transcribe",
                                  language=self.config.language)
        return self._tok

    def encode(self, audio: np.ndarray) -> EncodedAudio | None:
        """Whisper's encoder output for one utterance of at most 30 s (after the VAD filter when the config
        has one); None when the VAD finds no speech. Raises SpeechError for audio shorter than 0.1 s."""
        from faster_whisper.audio import pad_or_trim  # noqa: PLC0415 - speech extra

        audio = np.asarray(audio, dtype=np.float32).reshape(-1)
        if audio.size < SAMPLE_RATE // 10:
            raise SpeechError(f"the recording is too short ({audio.size / SAMPLE_RATE:.2f} s) to transcribe")
        t0 = time.perf_counter()
        speech = self.speech_part(audio)
        if speech is None:
            return None
        extractor = self.model.feature_extractor
        features = extractor(speech)
        frames = min(features.shape[-1], extractor.nb_max_frames)
        output = self.model.encode(pad_or_trim(features[:, :extractor.nb_max_frames]))
        return EncodedAudio(output, frames, audio.size / SAMPLE_RATE, time.perf_counter() - t0)

    def speech_part(self, audio: np.ndarray) -> np.ndarray | None:
        """What the encoder is given: the audio's speech (the VAD's spans, 0.3 s padding, joined) when the
        config has a VAD filter, else all of it; None when the VAD finds no speech. Two recordings with the same
        speech part are heard alike (`encode`)."""
        if not self.config.vad_filter:
            return audio
        from faster_whisper.vad import VadOptions, collect_chunks, get_speech_timestamps  # noqa: PLC0415

        spans = get_speech_timestamps(audio, VadOptions(min_silence_duration_ms=500, speech_pad_ms=300))
        return np.concatenate(collect_chunks(audio, spans)[0]) if spans else None

    def prompt_tokens(self, prompt: str | None = None, hotwords: str | None = None) -> list[int]:
        """The decoder's start: [sot_prev, hotwords, prompt (its last 223 tokens)], sot, no-timestamps."""
        tok = self._tokenizer()
        half = self.model.max_length // 2 - 1
        out: list[int] = []
        if prompt or hotwords:
            out.append(tok.sot_prev)
            if hotwords:
                out += tok.encode(" " + hotwords.strip())[:half]
            if prompt:
                out += tok.encode(" " + prompt.strip())[-half:]
        return [*out, *tok.sot_sequence, tok.no_timestamps]

    def decode_readings(self, encoded: EncodedAudio, prompts: list[tuple[str | None, str | None]],
                        beam_size: int | None = None) -> list[Transcript]:
        """One Transcript per (prompt, hotwords) pair, all decoded from the same encoder output (greedy with
        beam 1, else beam search); a reading Whisper rates as probably not speech with a low log-probability
        comes back empty, its text in `dropped`. `transcribe_s` of each is the encoding plus its decode."""
        from faster_whisper.transcribe import get_suppressed_tokens  # noqa: PLC0415 - speech extra

        tok = self._tokenizer()
        c = self.config
        suppress = list(get_suppressed_tokens(tok, [-1]))
        beam = beam_size or c.beam_size
        out = []
        for prompt, hotwords in prompts:
            t0 = time.perf_counter()
            start = self.prompt_tokens(prompt, hotwords)
            result = self.model.model.generate(
                encoded.output, [start], beam_size=beam, max_length=min(self.model.max_length, len(start) + 120),
                return_scores=True, return_no_speech_prob=True, suppress_blank=True, suppress_tokens=suppress,
            )[0]
            ids = result.sequences_ids[0]
            text = tok.decode(ids).strip()
            avg = result.scores[0] * len(ids) / (len(ids) + 1) if ids else -10.0
            dropped: tuple[str, ...] = ()
            if result.no_speech_prob >= c.no_speech_threshold and avg < c.min_avg_logprob:
                text, dropped = "", (text,)
            out.append(Transcript(text, encoded.audio_s, encoded.encode_s + time.perf_counter() - t0, dropped, avg))
        return out

    def score(self, encoded: EncodedAudio, texts: list[str], prompt: str | None = None) -> list[float]:
        """Log-probability Whisper gives each text (then end of text) for this audio, by forced decoding from
        the prompt: higher is a better fit. Used to choose between readings that differ in a name."""
        if not texts:
            return []
        tok = self._tokenizer()
        start = self.prompt_tokens(prompt)
        memory = encoded.trimmed(self.config.score_margin)
        out = []
        for text in texts:  # one at a time: a batch copies the encoder output per text and was slower here
            tokens = tok.encode(" " + text.strip()) + [tok.eot]
            result = self.model.model.align(memory, start, [tokens], encoded.frames // 2)[0]
            probs = np.maximum(np.asarray(result.text_token_probs, dtype=np.float64), 1e-12)
            out.append(float(np.sum(np.log(probs))))
        return out
