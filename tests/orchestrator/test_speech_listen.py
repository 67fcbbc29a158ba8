"""Speech: real Whisper tiny.en (faster-whisper) on WAVs synthesised with espeak-ng, parsed into tasks."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import wave

import numpy as np
import pytest

from core.errors import InputError, ModelNotFoundError
from orchestrator.cli import main
from orchestrator.requests import parse_request
from orchestrator.speech import (
    SAMPLE_RATE,
    RecordConfig,
    SilenceEndpointer,
    SpeechConfig,
    SpeechError,
    Transcriber,
    load_wav,
    record,
)

# (spoken text, expected object, expected receptacle); None = not part of the task.
SPOKEN = [
    ("Put the blue mug on the kitchen table.", "blue mug", "kitchen table"),
    ("Bring the banana to the sofa.", "banana", "sofa"),
    ("Pick up the sponge.", "sponge", None),
    ("Please put the apple in the bowl.", "apple", "bowl"),
    ("Take the remote and put it on the couch.", "remote", "couch"),
    ("Place it on the dining table.", None, "dining table"),
    ("Bring the plate to the kitchen counter.", "plate", "kitchen counter"),
    ("Move the lamp to the desk.", "lamp", "desk"),
    ("Pick up the soup can.", "soup can", None),
    ("Put the phone on the chair.", "phone", "chair"),
]


def content(phrase: str | None) -> str | None:
    """Content letters only, so "soup can", "soupcan" and "soup-can" compare equal."""
    return None if phrase is None else re.sub(r"[^a-z]", "", phrase.lower())


def _write_wav(path, samples: np.ndarray, rate: int, width: int = 2, channels: int = 1) -> None:
    samples = np.repeat(samples[:, None], channels, axis=1)
    if width == 1:
        data = (samples * 127 + 128).astype(np.uint8).tobytes()
    elif width == 2:
        data = (samples * 32767).astype("<i2").tobytes()
    else:
        v = (samples * (2**23 - 1)).astype(np.int32).reshape(-1)
        data = np.stack([v & 0xFF, (v >> 8) & 0xFF, (v >> 16) & 0xFF], axis=1).astype(np.uint8).tobytes()
    with wave.open(str(path), "wb") as w:
        w.setnchannels(channels)
        w.setsampwidth(width)
        w.setframerate(rate)
        w.writeframes(data)


@pytest.fixture(scope="module")
def whisper_dir(shared_data):
    path = shared_data / "models" / "whisper-tiny.en-ct2"
    if not (path / "model.bin").is_file():
        pytest.skip(f"Whisper tiny.en not found at {path}")
    return path


@pytest.fixture(scope="module")
def transcriber(whisper_dir):
    return Transcriber(SpeechConfig(model=str(whisper_dir), compute_type="int8", cpu_threads=2, beam_size=1))


@pytest.fixture(scope="module")
def spoken_wavs(tmp_path_factory):
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        pytest.skip("espeak-ng is not installed (apt install espeak-ng); cannot synthesise speech")
    folder = tmp_path_factory.mktemp("speech")
    paths = []
    for i, (text, _, _) in enumerate(SPOKEN):
        path = folder / f"request_{i}.wav"
        subprocess.run([espeak, "-v", "en-us", "-s", "130", "-w", str(path), text], check=True, timeout=30)
        paths.append(path)
    return paths


def test_spoken_requests_parse_to_the_right_object_and_receptacle(transcriber, spoken_wavs):
    wrong = []
    for path, (text, obj, rec) in zip(spoken_wavs, SPOKEN, strict=True):
        heard = transcriber.transcribe(load_wav(path))
        task = parse_request(heard)
        if (content(task.object_phrase), content(task.receptacle_phrase)) != (content(obj), content(rec)):
            wrong.append((text, heard, task))
    assert not wrong, f"misparsed spoken requests: {wrong}"


def test_listen_cli_prints_transcript_and_task(whisper_dir, spoken_wavs, capsys):
    code = main(["listen", "--wav", str(spoken_wavs[0]), "--model", str(whisper_dir), "--threads", "2",
                 "--beam-size", "1", "--json"])
    out = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert code == 0
    assert content(out["task"]["object_phrase"]) == "bluemug"
    assert out["task"]["relation"] == "on" and out["error"] is None


def test_listen_cli_with_a_missing_map_is_one_clear_error(whisper_dir, spoken_wavs, tmp_path, capsys):
    missing = tmp_path / "home.npz"
    code = main(["listen", "--wav", str(spoken_wavs[2]), "--model", str(whisper_dir), "--threads", "2",
                 "--beam-size", "1", "--map", str(missing), "--robot", "sim"])
    captured = capsys.readouterr()
    assert code == 1
    assert "heard" not in captured.out  # the map is opened before anything is heard
    err = captured.err.strip().splitlines()
    assert len(err) == 1 and str(missing) in err[0] and "Traceback" not in captured.err


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ModelNotFoundError, match="Whisper"):
        Transcriber(SpeechConfig(model=str(tmp_path / "no-such-model")))


def test_load_wav_formats_and_resampling(tmp_path):
    t = np.arange(22050) / 22050.0
    tone = (0.5 * np.sin(2 * np.pi * 440.0 * t)).astype(np.float32)
    for width, channels in [(1, 1), (2, 2), (3, 1)]:
        path = tmp_path / f"tone_{width}_{channels}.wav"
        _write_wav(path, tone, 22050, width=width, channels=channels)
        audio = load_wav(path)
        assert audio.dtype == np.float32
        assert abs(audio.size - SAMPLE_RATE) <= 2  # one second at 16 kHz
        assert 0.3 < float(np.sqrt(np.mean(audio[100:-100] ** 2))) < 0.4  # RMS of a 0.5 sine is 0.354
        spectrum = np.abs(np.fft.rfft(audio))
        assert abs(np.argmax(spectrum) * SAMPLE_RATE / audio.size - 440.0) < 3.0


def test_load_wav_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"RIFF\x00\x00\x00\x00not a wave file")
    with pytest.raises(InputError, match="bad.wav"):
        load_wav(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_wav(tmp_path / "missing.wav")


def test_endpointer_stops_after_silence_following_speech():
    block = int(0.05 * SAMPLE_RATE)
    quiet = np.zeros(block, np.float32)
    loud = 0.2 * np.ones(block, np.float32)
    stream = [quiet] * 10 + [loud] * 20 + [quiet] * 100
    audio = record(RecordConfig(silence_s=0.5, max_s=10.0, vad=False), blocks=iter(stream))  # loudness rule
    # 0.5 s leading quiet + 1 s speech + 0.5 s trailing quiet
    assert audio.size == pytest.approx(2.0 * SAMPLE_RATE, abs=block)
    e = SilenceEndpointer(RecordConfig(max_s=1.0, vad=False))
    assert not any(e.feed(quiet) for _ in range(19)) and e.feed(quiet)  # only quiet: stops at max_s
    fixed = record(RecordConfig(duration_s=0.3), blocks=iter([loud] * 100))
    assert fixed.size == pytest.approx(0.3 * SAMPLE_RATE, abs=block)


def test_microphone_without_sounddevice_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "sounddevice", None)  # import raises ImportError
    with pytest.raises(SpeechError, match="sounddevice"):
        record(RecordConfig(duration_s=1.0))


def test_listen_passes_threshold_and_recogniser_options_through():
    from orchestrator.cli import build_parser
    from orchestrator.commands.run import task_config
    from orchestrator.config_options import config_from_args
    from orchestrator.listen_config import ListenConfig

    args = build_parser().parse_args(["listen", "--wav", "r.wav", "--map", "home.npz", "--threshold", "0.31",
                                      "--no-hotwords", "--name-bonus", "3.5", "--no-wide-names",
                                      "--wide-bonus", "1.5", "--no-agree-early", "--early-after", "0.4"])
    assert task_config(args).threshold == 0.31
    options = config_from_args(ListenConfig, args).listener_options()
    assert options == {"second_opinion": True, "hotwords": False, "rescore": True, "name_bonus": 3.5,
                       "wide_names": False, "wide_bonus": 1.5, "switch_margin": 1.0, "agree_early": False}
    assert config_from_args(ListenConfig, args).early_after == 0.4
    with pytest.raises(InputError, match="--threshold"):
        task_config(build_parser().parse_args(["listen", "--map", "home.npz", "--threshold", "nan"]))
