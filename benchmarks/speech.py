"""Spoken-request benchmark: word error rate, request accuracy and latency on synthesised household requests.

Requests are phrased as people say them (politeness, pronouns, "this/that", two-step requests, in/into/on/
onto/next to) about the things of generated apartments, spoken by espeak-ng voices at two speeds, clean and
with household noise (a fan, a kitchen: synthesised here) mixed in at --snr-db, and recognised by Whisper
(faster-whisper, as `ovmm listen` runs it) with and without the home's vocabulary (initial prompt +
correction of the parsed phrases, orchestrator.spoken_request). Prints one JSON object.

Splits: "tune" (apartments 3 and 7, the tuning templates, voices en-us / en-gb / en-us+f3 / en-gb-scotland) was used
to choose the prompt and correction settings; "held_out" (apartments 0 and 5, other templates, voices
en-029 / en-gb-x-rp+f4 / en-us-nyc+m3) never was, and is what the figures are reported on.

    nice -n 5 python benchmarks/speech.py [--split held_out|tune|both] [--limit N] [--threads 2]
                                          [--snr-db 10] [--cache DIR] [--endpoint-every K]

A request is right when both its object and its receptacle name what the speaker meant: the same words
(content letters), or a name of the home that denotes the same instances. Latency is from the end of the
audio to the parsed (and corrected) request; `endpoint_delay_s` measures separately how long the microphone
path's VAD end-pointer waits after the speech ends (silence_s plus its checking interval), and
`microphone_latency_s` the whole microphone path on the same recordings fed in real time: from the end of
the speech to the parsed request, recognition starting during the end-pointer's silence (--early-after).
`cpu_mean_s` is the process's CPU time (all threads) per request, a fairer figure on a loaded machine.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.early_hearing import START_AFTER_S, EarlyHearing  # noqa: E402
from orchestrator.home_vocabulary import HomeVocabulary, plain  # noqa: E402
from orchestrator.request_correction import CorrectionConfig  # noqa: E402
from orchestrator.speech import (  # noqa: E402
    SAMPLE_RATE,
    RecordConfig,
    SpeechConfig,
    Transcriber,
    VadEndpointer,  # noqa: E402
    default_model,
    load_wav,
    record,
)
from orchestrator.spoken_request import NAME_BONUS, SWITCH_MARGIN, WIDE_BONUS, RequestListener  # noqa: E402

SPLITS = {
    "tune": {"homes": (3, 7), "voices": ("en-us", "en-gb", "en-us+f3", "en-gb-scotland"), "templates": "tune"},
    "held_out": {"homes": (0, 5), "voices": ("en-029", "en-gb-x-rp+f4", "en-us-nyc+m3"), "templates": "held_out"},
}
SPEEDS = (140, 180)  # espeak-ng words per minute

# {o}: an object as people name it, {r}: a receptacle; (text, object spoken?, receptacle spoken?)
TEMPLATES = {
    "tune": [
        "Put the {o} on the {r}.",
        "Could you please put the {o} on the {r}?",
        "Can you grab the {o} and put it on the {r}?",
        "Take the {o} and drop it in the {r}.",
        "Hey robot, bring the {o} to the {r}.",
        "Put this {o} onto the {r}.",
        "Pick up the {o}, then put it next to the {r}.",
        "Set the {o} down on the {r}, thanks.",
        "Pick up the {o}.",
        "Put it on the {r}.",
    ],
    "held_out": [
        "Would you mind putting the {o} on the {r}?",
        "Please move the {o} into the {r}.",
        "I'd like you to put that {o} on top of the {r}.",
        "Okay, take that {o} over to the {r}, please.",
        "First pick up the {o} and then place it on the {r}.",
        "Could you grab the {o} for me and put it onto the {r}?",
        "Place the {o} next to the {r}.",
        "Grab the {o}.",
        "Now put that in the {r}.",
        "Stretch, put the {o} on the {r} please.",
        "Can you bring this {o} to the {r}?",
        "Move the {o} from here to the {r}.",
    ],
}


@dataclass(frozen=True)
class Request:
    text: str
    obj: str | None
    rec: str | None
    home: int


def spoken_names(spec) -> tuple[list[str], list[str]]:
    """How people would name the home's objects and receptacles: the label when it is unique in the home,
    else the colour (first word of the description) and the label."""
    def names(items):
        count: dict[str, int] = {}
        for it in items:
            count[plain(it.label)] = count.get(plain(it.label), 0) + 1
        out = []
        for it in items:
            lab = plain(it.label)
            first = plain(it.description).split()[0] if it.description else ""
            name = lab if count[lab] == 1 else f"{first} {lab}"
            if name not in out:
                out.append(name)
        return out
    return names(spec.objects), names(spec.receptacles)


def build_requests(split: str, specs: dict[int, object]) -> list[Request]:
    out = []
    templates = TEMPLATES[SPLITS[split]["templates"]]
    for home in SPLITS[split]["homes"]:
        objs, recs = spoken_names(specs[home])
        for i, t in enumerate(templates):
            for k in range(2 if split == "tune" else 1):
                o = objs[(3 * i + 5 * k + home) % len(objs)]
                r = recs[(2 * i + 3 * k + home) % len(recs)]
                o_said = o if "{o}" in t else None
                r_said = r if "{r}" in t else None
                out.append(Request(t.format(o=o, r=r), o_said, r_said, home))
    return out


# --- audio -----------------------------------------------------------------------------------------------------


def synthesise(text: str, voice: str, speed: int, cache: Path) -> np.ndarray:
    key = hashlib.sha1(f"{voice}|{speed}|{text}".encode()).hexdigest()[:16]
    path = cache / f"{key}.wav"
    if not path.is_file():
        tmp = path.with_suffix(".tmp.wav")
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(tmp), text], check=True, timeout=60)
        os.replace(tmp, path)
    return load_wav(path)


def household_noise(kind: str, n: int, rng: np.random.Generator) -> np.ndarray:
    """A fan (brown noise, mains hum, blade-rate wobble) or a kitchen (running water, dish clinks, a fridge)."""
    t = np.arange(n) / SAMPLE_RATE
    white = rng.standard_normal(n)
    if kind == "fan":
        brown = np.cumsum(white)
        brown -= np.convolve(brown, np.ones(801) / 801, mode="same")  # remove the drift (high-pass ~20 Hz)
        hum = sum(0.3 / h * np.sin(2 * np.pi * 50 * h * t + rng.uniform(0, 6.28)) for h in (1, 2, 3))
        wobble = 1.0 + 0.25 * np.sin(2 * np.pi * 18.0 * t)
        noise = brown / (np.std(brown) + 1e-9) * wobble + hum
    else:
        spec = np.fft.rfft(white)
        f = np.fft.rfftfreq(n, 1.0 / SAMPLE_RATE)
        spec *= ((f > 400) & (f < 5000)) * (1.0 + 0.5 * np.sin(f / 300.0))
        water = np.fft.irfft(spec, n)
        water *= 1.0 + 0.4 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6.28))
        clinks = np.zeros(n)
        for start in rng.integers(0, max(1, n - 4000), size=max(1, n // (SAMPLE_RATE // 2))):
            k = np.arange(min(4000, n - start))
            clinks[start:start + k.size] += (3.0 * np.exp(-k / 400.0)
                                             * np.sin(2 * np.pi * rng.uniform(2500, 5000) * k / SAMPLE_RATE))
        fridge = 0.3 * np.sin(2 * np.pi * 120 * t)
        noise = water / (np.std(water) + 1e-9) + clinks + fridge
    return noise.astype(np.float32)


def with_noise(speech: np.ndarray, kind: str, snr_db: float, seed: int, pad_s: float = 0.4) -> np.ndarray:
    """Speech padded with `pad_s` on both sides, noise mixed in at `snr_db` (speech power over the voiced part)."""
    pad = np.zeros(int(pad_s * SAMPLE_RATE), np.float32)
    clean = np.concatenate([pad, speech, pad])
    if kind == "clean":
        return clean
    rng = np.random.default_rng(seed)
    noise = household_noise(kind, clean.size, rng)
    voiced = speech[np.abs(speech) > 0.01 * np.abs(speech).max()]
    p_speech = float(np.mean(np.square(voiced if voiced.size else speech)))
    p_noise = float(np.mean(np.square(noise)))
    noise *= np.sqrt(p_speech / (p_noise * 10 ** (snr_db / 10.0)))
    mixed = clean + noise
    return (mixed / max(1.0, float(np.abs(mixed).max()))).astype(np.float32)


# --- scoring ---------------------------------------------------------------------------------------------------


def words(text: str) -> list[str]:
    from orchestrator.requests import normalise  # noqa: PLC0415

    return re.sub(r"[^a-z0-9' ]", " ", normalise(text)).split()


def edit_distance(a: list[str], b: list[str]) -> int:
    d = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, d[0] = d[0], i
        for j, y in enumerate(b, 1):
            prev, d[j] = d[j], min(d[j] + 1, d[j - 1] + 1, prev + (x != y))
    return d[-1]


def same_thing(said: str | None, got: str | None, vocab: HomeVocabulary) -> bool:
    if said is None or got is None:
        return said is None and got is None
    if re.sub(r"[^a-z]", "", said) == re.sub(r"[^a-z]", "", got):
        return True
    a = {i for e in vocab.entries_for(said) for i in e.instance_ids}
    b = {i for e in vocab.entries_for(got) for i in e.instance_ids}
    return bool(a) and a == b


def is_right(req: Request, task, vocab: HomeVocabulary) -> bool:
    """Both the object and the receptacle of the task name what the speaker meant."""
    if task is None:
        return False
    return same_thing(req.obj, task.object_phrase, vocab) and same_thing(req.rec, task.receptacle_phrase, vocab)


def summarise(rows: list[dict]) -> dict:
    if not rows:
        return {}
    lat = np.array([r["latency_s"] for r in rows])
    cpu = np.array([r["cpu_s"] for r in rows])
    three = [r["latency_s"] for r in rows if 2.5 <= r["speech_s"] <= 3.5]
    errs = sum(r["word_errors"] for r in rows)
    ref = sum(r["ref_words"] for r in rows)
    return {
        "n": len(rows), "request_accuracy": round(float(np.mean([r["right"] for r in rows])), 3),
        "wer": round(errs / max(ref, 1), 3), "latency_mean_s": round(float(lat.mean()), 3),
        "latency_p95_s": round(float(np.percentile(lat, 95)), 3),
        "cpu_mean_s": round(float(cpu.mean()), 3),  # CPU time of the process (all threads) per request
        "latency_3s_utterance_mean_s": round(float(np.mean(three)), 3) if three else None,
        "latency_3s_utterance_max_s": round(float(np.max(three)), 3) if three else None,
        "corrections": sum(r["corrections"] for r in rows),
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--split", choices=["held_out", "tune", "both"], default="held_out")
    ap.add_argument("--limit", type=int, default=0, help="only the first N requests of each split (0: all)")
    ap.add_argument("--offset", type=int, default=0, help="skip the first N requests of each split")
    ap.add_argument("--voices", default="", help="comma-separated espeak-ng voices instead of the split's")
    ap.add_argument("--model", default="")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam-size", type=int, default=1)
    ap.add_argument("--snr-db", type=float, default=10.0)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "ovmm-speech-bench"),
                    help="folder for the synthesised WAVs (reused between runs)")
    ap.add_argument("--endpoint-every", type=int, default=8,
                    help="measure the VAD end-pointer on every K-th noisy recording (0: never)")
    ap.add_argument("--no-mic", dest="mic", action="store_false",
                    help="do not feed the end-pointed recordings in real time as a microphone (with early hearing)")
    ap.add_argument("--early-after", type=float, default=START_AFTER_S,
                    help="seconds of pause after which the microphone path starts recognising (0: after the end)")
    ap.add_argument("--no-second-opinion", action="store_true",
                    help="trust the primed reading only (no second decode without the prompt)")
    ap.add_argument("--no-hotwords", action="store_true", help="no decode with the home's names as hotwords")
    ap.add_argument("--no-agree-early", action="store_true",
                    help="always decode with the hotwords too, even where the primed and plain readings agree")
    ap.add_argument("--no-rescore", action="store_true",
                    help="no choice by Whisper's likelihood between readings naming different home things")
    ap.add_argument("--name-bonus", type=float, default=NAME_BONUS,
                    help="log-probability a home name may cost a transcript and still replace a heard phrase")
    ap.add_argument("--no-wide-names", action="store_true",
                    help="try only names spelt like the chosen reading's phrase, not those like every reading's")
    ap.add_argument("--wide-bonus", type=float, default=WIDE_BONUS)
    ap.add_argument("--switch-margin", type=float, default=SWITCH_MARGIN)
    ap.add_argument("--score-margin", type=int, default=-1,
                    help="encoder positions past the speech that forced scoring attends to (-1: all 1500)")
    ap.add_argument("--no-spans", action="store_true", help="no home name found inside a longer heard phrase")
    ap.add_argument("--misses", type=int, default=25, help="list at most this many wrong requests")
    ap.add_argument("--modes", default="map,no_map", help="comma-separated: map (the home's vocabulary), no_map")
    ap.add_argument("--rows", default="", help="also write one JSON line per decoded recording here (as it goes)")
    args = ap.parse_args()
    if shutil.which("espeak-ng") is None:
        print(json.dumps({"error": "espeak-ng is not installed (apt install espeak-ng)"}))
        return 1
    from sim.scene.generator import generate_scene  # noqa: PLC0415

    cache = Path(args.cache)
    cache.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    transcriber = Transcriber(SpeechConfig(model=args.model, cpu_threads=args.threads, beam_size=args.beam_size,
                                           score_margin=None if args.score_margin < 0 else args.score_margin))
    load_s = time.perf_counter() - t0
    splits = ["tune", "held_out"] if args.split == "both" else [args.split]
    load0 = os.getloadavg()
    result: dict = {"model": args.model or default_model(), "compute_type": "int8", "threads": args.threads,
                    "hotwords": not args.no_hotwords, "rescore": not args.no_rescore, "name_bonus": args.name_bonus,
                    "wide_names": not args.no_wide_names, "wide_bonus": args.wide_bonus,
                    "switch_margin": args.switch_margin, "agree_early": not args.no_agree_early, "score_margin": args.score_margin,
                    "beam_size": args.beam_size, "snr_db": args.snr_db, "speeds_wpm": list(SPEEDS),
                    "load_s": round(load_s, 2), "cpu_count": os.cpu_count(), "splits": {}}
    from perception.text_encoder import SentenceEncoder  # noqa: PLC0415 - the ground-truth maps' encoder

    encoder = SentenceEncoder()
    rows_out = open(args.rows, "w") if args.rows else None  # noqa: SIM115 - open for the whole run
    for split in splits:
        cfg = SPLITS[split]
        specs = {h: generate_scene(h) for h in cfg["homes"]}
        vocabs = {h: HomeVocabulary.from_scene(s, f"apartment {h}") for h, s in specs.items()}
        correction = CorrectionConfig(spans=not args.no_spans)
        modes = args.modes.split(",")
        listeners = {h: {m: lis for m, lis in (("map", RequestListener(transcriber, v, encoder, correction,
                                                                   second_opinion=not args.no_second_opinion,
                                                                   hotwords=not args.no_hotwords,
                                                                   rescore=not args.no_rescore,
                                                                   name_bonus=args.name_bonus,
                                                                   wide_names=not args.no_wide_names,
                                                                   wide_bonus=args.wide_bonus,
                                                                   switch_margin=args.switch_margin,
                                                                   agree_early=not args.no_agree_early)),
                                           ("no_map", RequestListener(transcriber))) if m in modes}
                     for h, v in vocabs.items()}
        requests = build_requests(split, specs)
        requests = requests[args.offset:]
        if args.limit:
            requests = requests[: args.limit]
        # the same requests as written (no recogniser): what parsing and grounding alone get right
        text_reader = {h: RequestListener(None, v, encoder, correction) for h, v in vocabs.items()}
        text_right = [is_right(req, text_reader[req.home].understand(req.text).task, vocabs[req.home])
                      for req in requests]
        voices = args.voices.split(",") if args.voices else list(cfg["voices"])
        rows: dict[str, list[dict]] = {}
        misses: list[dict] = []
        endpoint: list[float] = []
        mic: list[tuple[float, bool]] = []
        k = 0
        for qi, req in enumerate(requests):
            for voice in voices:
                for speed in SPEEDS:
                    speech = synthesise(req.text, voice, speed, cache)
                    for noise in ("clean", "fan" if (qi + len(voice)) % 2 else "kitchen"):
                        audio = with_noise(speech, noise, args.snr_db, seed=qi * 1000 + speed + len(voice))
                        k += 1
                        if noise != "clean" and args.endpoint_every and k % args.endpoint_every == 0:
                            endpoint.append(endpoint_delay(audio, speech.size))
                            if args.mic and "map" in listeners[req.home]:
                                mic.append(mic_latency(listeners[req.home]["map"], transcriber, audio, speech.size,
                                                       args.early_after))
                        for mode, listener in listeners[req.home].items():
                            t, cpu = time.perf_counter(), time.process_time()
                            heard = listener.hear(audio)
                            latency, cpu = time.perf_counter() - t, time.process_time() - cpu
                            task = heard.task
                            right = is_right(req, task, vocabs[req.home])
                            ref = words(req.text)
                            row = {"right": bool(right), "latency_s": latency, "cpu_s": cpu, "speech_s": speech.size / SAMPLE_RATE,
                                   "word_errors": edit_distance(ref, words(heard.transcript)), "ref_words": len(ref),
                                   "corrections": len(heard.corrections)}
                            cond = f"{mode}/{'clean' if noise == 'clean' else 'noisy'}"
                            rows.setdefault(cond, []).append(row)
                            rows.setdefault(f"{mode}/{'clean' if noise == 'clean' else 'noisy'}/{voice}", []).append(row)
                            if rows_out is not None:
                                rows_out.write(json.dumps({
                                    "split": split, "mode": mode, "said": req.text, "obj": req.obj, "rec": req.rec,
                                    "voice": voice, "wpm": speed, "noise": noise, "heard": heard.transcript,
                                    "alternatives": heard.alternatives, "task": task.to_dict() if task else None, "status": heard.status, **row}) + "\n")
                                rows_out.flush()
                            if not right and mode == "map" and len(misses) < args.misses:
                                misses.append({"said": req.text, "voice": voice, "wpm": speed, "noise": noise,
                                               "heard": heard.transcript, "task": task.describe() if task else None,
                                               "status": heard.status})
        result["splits"][split] = {
            "homes": list(cfg["homes"]), "voices": voices, "requests": len(requests),
            "text_request_accuracy": round(float(np.mean(text_right)), 3),
            "recordings": sum(len(v) for c, v in rows.items() if c.count("/") == 1) // 2,
            "conditions": {c: summarise(v) for c, v in sorted(rows.items()) if c.count("/") == 1},
            "per_voice": {c: summarise(v)["request_accuracy"] for c, v in sorted(rows.items()) if c.count("/") == 2},
            "endpoint_delay_s": ({"n": len(endpoint), "mean": round(float(np.mean(endpoint)), 3),
                                  "max": round(float(np.max(endpoint)), 3),
                                  "silence_s": RecordConfig().silence_s} if endpoint else None),
            "microphone_latency_s": ({"n": len(mic), "mean": round(float(np.mean([m[0] for m in mic])), 3),
                                      "median": round(float(np.median([m[0] for m in mic])), 3),
                                      "max": round(float(np.max([m[0] for m in mic])), 3),
                                      "early_share": round(float(np.mean([m[1] for m in mic])), 3),
                                      "early_after_s": args.early_after} if mic else None),
            "misses_with_map": misses,
        }
    load1 = os.getloadavg()
    result["load_average_1min"] = {"start": round(load0[0], 2), "end": round(load1[0], 2)}
    result["wall_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(result))
    return 0


def endpoint_delay(audio: np.ndarray, speech_n: int, block_s: float = 0.05) -> float:
    """Seconds from the end of the speech until the VAD end-pointer stops the recording (trailing noise fed
    as long as needed, as a microphone would)."""
    config = RecordConfig()
    ep = VadEndpointer(config)
    pad_n = (audio.size - speech_n) // 2
    speech_end = pad_n + speech_n
    tail = np.resize(audio[speech_end:], int((config.silence_s + 2.0) * SAMPLE_RATE))
    stream = np.concatenate([audio[:speech_end], tail])
    n = int(block_s * SAMPLE_RATE)
    for i in range(0, stream.size, n):
        if ep.feed(stream[i:i + n]):
            return (i + n - speech_end) / SAMPLE_RATE
    return float("inf")


def mic_latency(listener: RequestListener, transcriber: Transcriber, audio: np.ndarray, speech_n: int,
                early_after: float, block_s: float = 0.05) -> tuple[float, bool]:
    """(seconds from the end of the speech to the parsed request, early result used?) with the recording fed
    in real time as a microphone gives it (`ovmm listen`'s path: the VAD end-pointer, recognition started
    once the speech has paused for `early_after`, orchestrator.early_hearing)."""
    config = RecordConfig()
    pad_n = (audio.size - speech_n) // 2
    speech_end = pad_n + speech_n
    tail = np.resize(audio[speech_end:], int((config.silence_s + 2.0) * SAMPLE_RATE))
    stream = np.concatenate([audio[:speech_end], tail])
    n = int(block_s * SAMPLE_RATE)
    t0 = time.perf_counter()

    def blocks():
        for i in range(0, stream.size, n):
            wait = t0 + (i + n) / SAMPLE_RATE - time.perf_counter()  # the block is complete then
            if wait > 0:
                time.sleep(wait)
            yield stream[i:i + n]

    if early_after > 0:
        early = EarlyHearing(listener.hear, transcriber.speech_part, early_after)
        early.result(record(config, blocks=blocks(), on_block=early.on_block))
        used = early.early
    else:
        listener.hear(record(config, blocks=blocks()))
        used = False
    return time.perf_counter() - (t0 + speech_end / SAMPLE_RATE), used


if __name__ == "__main__":
    sys.exit(main())
