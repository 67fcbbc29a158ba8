"""Speech-request benchmark: Whisper transcription latency and request-parsing accuracy on synthesised speech.

Speaks each request with espeak-ng, transcribes it with faster-whisper (model as `ovmm listen` resolves it),
parses it, and compares (object, receptacle) on content letters. Prints one JSON object.

    python benchmarks/speech.py [--quick] [--model DIR] [--compute-type int8] [--threads 2] [--beam-size 1]
                                [--vocabulary-prompt]
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from orchestrator.requests import RequestError, parse_request  # noqa: E402
from orchestrator.speech import SpeechConfig, Transcriber, default_model, load_wav  # noqa: E402

REQUESTS = [
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
    ("Move the soup can into the sink.", "soup can", "sink"),
    ("Could you put the red cup on the shelf?", "red cup", "shelf"),
    ("Grab the bottle and drop it in the trash bin.", "bottle", "trash bin"),
    ("Put the towel in the basket.", "towel", "basket"),
    ("Bring the bowl to the counter.", "bowl", "counter"),
    ("Put the book on the desk.", "book", "desk"),
]


def _content(s: str | None) -> str | None:
    return None if s is None else re.sub(r"[^a-z]", "", s.lower())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="first 5 requests only")
    ap.add_argument("--model", default="")
    ap.add_argument("--compute-type", default="int8")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--beam-size", type=int, default=1)
    ap.add_argument("--vocabulary-prompt", action="store_true",
                    help="bias Whisper with the object and place names (as a map's labels would)")
    args = ap.parse_args()
    espeak = shutil.which("espeak-ng")
    if espeak is None:
        print(json.dumps({"error": "espeak-ng is not installed"}))
        return 1
    requests = REQUESTS[:5] if args.quick else REQUESTS
    t0 = time.perf_counter()
    prompt = None
    if args.vocabulary_prompt:
        names = sorted({n for _, o, r in REQUESTS for n in (o, r) if n})
        prompt = "Objects and places in this home: " + ", ".join(names) + "."
    transcriber = Transcriber(SpeechConfig(model=args.model, compute_type=args.compute_type,
                                           cpu_threads=args.threads, beam_size=args.beam_size,
                                           initial_prompt=prompt))
    load_s = time.perf_counter() - t0
    latencies, correct, misses = [], 0, []
    with tempfile.TemporaryDirectory() as tmp:
        for i, (text, obj, rec) in enumerate(requests):
            wav = Path(tmp) / f"{i}.wav"
            subprocess.run([espeak, "-v", "en-us", "-s", "130", "-w", str(wav), text], check=True)
            audio = load_wav(wav)
            t = time.perf_counter()
            heard = transcriber.transcribe(audio)
            latencies.append(time.perf_counter() - t)
            try:
                task = parse_request(heard)
                got = (_content(task.object_phrase), _content(task.receptacle_phrase))
            except RequestError:
                got = None
            if got == (_content(obj), _content(rec)):
                correct += 1
            else:
                misses.append({"said": text, "heard": heard})
    latencies.sort()
    print(json.dumps({
        "model": args.model or default_model(), "compute_type": args.compute_type, "threads": args.threads,
        "beam_size": args.beam_size, "vocabulary_prompt": args.vocabulary_prompt, "requests": len(requests), "parsed_correctly": correct,
        "accuracy": round(correct / len(requests), 3), "load_s": round(load_s, 3),
        "transcribe_mean_s": round(sum(latencies) / len(latencies), 3),
        "transcribe_max_s": round(latencies[-1], 3), "misses": misses,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
