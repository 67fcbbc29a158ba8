"""What `ovmm listen` hears, recognises and answers with; its options are generated from these fields
(orchestrator.config_options), and the settings of the parts it drives are built from it.

Defaults come from the configs of those parts (RecordConfig, SpeechConfig, CorrectionConfig, SpeakerConfig)
except where listening to one request differs (`beam_size` 1: greedy decoding is fastest).
"""

from __future__ import annotations

from dataclasses import dataclass

from orchestrator.early_hearing import START_AFTER_S
from orchestrator.request_correction import CorrectionConfig
from orchestrator.speech import RecordConfig, SpeechConfig
from orchestrator.spoken_request import NAME_BONUS, SWITCH_MARGIN, WIDE_BONUS
from robots.speaker import SpeakerConfig

COMPUTE_TYPES = ("int8", "float32", "int8_float32")


@dataclass
class ListenConfig:
    """One `ovmm listen`: where the audio comes from, the recogniser, the correction and the spoken answers."""

    wav: str | None = None
    """Read this WAV file instead of recording from the microphone."""
    duration: float | None = RecordConfig.duration_s
    """Record exactly this many seconds (none: until --silence seconds without speech)."""
    push_to_talk: bool = False
    """Microphone: press Enter to start speaking and Enter again to stop."""
    max_seconds: float = RecordConfig.max_s
    """Longest recording (s)."""
    silence: float = RecordConfig.silence_s
    """Time without speech that ends a recording (s)."""
    early_after: float = START_AFTER_S
    """Microphone, until silence: start recognising once the speech has paused this long (s) while the
    recording waits for --silence; that result is kept when no more speech follows (0: recognise only after
    the recording ends)."""
    vad: bool = RecordConfig.vad
    """Find speech with Silero VAD (recording end and decoding); --no-vad: by loudness."""
    input_device: str | None = RecordConfig.device
    """sounddevice input device (name or index; none: the system default)."""
    model: str = SpeechConfig.model
    """Whisper model: a local CTranslate2 directory or a hub id (empty: $OVMM_WHISPER_MODEL,
    ../shared/data/models/whisper-tiny.en-ct2, or Systran/faster-whisper-tiny.en)."""
    compute_type: str = SpeechConfig.compute_type
    """CTranslate2 compute type on the CPU."""
    threads: int = SpeechConfig.cpu_threads
    """CPU threads (0: the library's default)."""
    beam_size: int = 1
    """Decoding beam (1 is fastest)."""
    prompt: str | None = None
    """Whisper's initial prompt (none: requests naming the home's things, when a vocabulary is known)."""
    vocabulary: str | None = None
    """Names of things in the home, comma separated, or @FILE (added to the map's/scene's)."""
    map_vocabulary: bool = True
    """Prime Whisper with the home's names and correct misheard names; --no-map-vocabulary: take the request
    as heard."""
    min_score: float = CorrectionConfig.min_score
    """rapidfuzz score (0-100) a home name needs to replace a misheard phrase."""
    spans: bool = CorrectionConfig.spans
    """Find a home name inside a longer heard phrase ("white mug and put it" -> "white mug")."""
    second_opinion: bool = True
    """With a prompt, also decode without it and keep that reading when it names only things of the home
    (a primed recogniser can echo the prompt's names instead of what was said)."""
    hotwords: bool = True
    """Also decode with the home's names as Whisper hotwords (one more decode of the same encoding)."""
    agree_early: bool = True
    """Decode with the hotwords only where the primed and plain readings understand different requests (or
    one that is not of this home); --no-agree-early: always."""
    rescore: bool = True
    """Let Whisper's likelihood choose between readings, and replace a misheard name by a home name whose
    transcript it finds nearly as likely (--name-bonus)."""
    name_bonus: float = NAME_BONUS
    """Log-probability a home name may cost the transcript and still replace the phrase heard."""
    wide_names: bool = True
    """Also try the home's names spelt like what any reading heard in a heard object's or receptacle's place
    (Whisper's likelihood decides, --wide-bonus / --switch-margin)."""
    wide_bonus: float = WIDE_BONUS
    """Log-probability any home name may cost the transcript and still replace a phrase that is no home name."""
    switch_margin: float = SWITCH_MARGIN
    """Log-probability another home name must gain over a heard home name to replace it."""
    confirm: bool = False
    """Ask 'Shall I?' and act only on a yes (spoken when recording, else typed)."""
    speak: bool = SpeakerConfig.enabled
    """Speak the answers (espeak-ng; on the robot with --robot stretch); --no-speak: print them only."""
    voice: str = SpeakerConfig.voice
    """espeak-ng voice of the answers."""
    json: bool = False
    """Print one JSON object on stdout (prompts and answers go to stderr)."""

    def record_config(self) -> RecordConfig:
        return RecordConfig(duration_s=self.duration, max_s=self.max_seconds, silence_s=self.silence,
                            device=self.input_device, vad=self.vad)

    def speech_config(self) -> SpeechConfig:
        return SpeechConfig(model=self.model, compute_type=self.compute_type, cpu_threads=self.threads,
                            beam_size=self.beam_size, initial_prompt=self.prompt, vad_filter=self.vad)

    def listener_options(self) -> dict:
        """RequestListener keyword arguments for the recogniser's readings and their rescoring."""
        return {"second_opinion": self.second_opinion, "hotwords": self.hotwords, "rescore": self.rescore,
                "name_bonus": self.name_bonus, "wide_names": self.wide_names, "wide_bonus": self.wide_bonus,
                "switch_margin": self.switch_margin, "agree_early": self.agree_early}

    def correction_config(self) -> CorrectionConfig:
        return CorrectionConfig(min_score=self.min_score, spans=self.spans)

    def speaker_config(self) -> SpeakerConfig:
        return SpeakerConfig(voice=self.voice, enabled=self.speak)
