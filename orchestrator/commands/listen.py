"""`ovmm listen`: hear a spoken request (microphone or WAV), transcribe it, parse it into a task, and run it
through the task runner when a map and a robot are given."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import inspect
import json

from orchestrator.requests import RequestError, parse_request
from orchestrator.speech import RecordConfig, SpeechConfig, Transcriber, load_wav, record

_SPEECH = SpeechConfig()
_RECORD = RecordConfig()


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "listen",
        help="transcribe a spoken request (microphone or --wav) and parse it into a pick-and-place task",
        description="Record from the microphone (until silence, or --duration seconds) or read --wav FILE, "
        "transcribe with faster-whisper and print the transcript and the parsed task. With --map, run the task.",
    )
    p.add_argument("--wav", help="read this WAV file instead of recording from the microphone")
    p.add_argument("--duration", type=float, default=_RECORD.duration_s,
                   help=f"record for this many seconds (default: until {_RECORD.silence_s:.1f} s of silence)")
    p.add_argument("--max-seconds", type=float, default=_RECORD.max_s, help="longest recording (s)")
    p.add_argument("--silence", type=float, default=_RECORD.silence_s, help="quiet time that ends a recording (s)")
    p.add_argument("--input-device", default=None, help="sounddevice input device (name or index)")
    p.add_argument("--model", default=_SPEECH.model,
                   help="Whisper model: a local CTranslate2 directory or a hub id "
                        "(default: $OVMM_WHISPER_MODEL, ../shared/data/models/whisper-tiny.en-ct2, or "
                        "Systran/faster-whisper-tiny.en)")
    p.add_argument("--compute-type", default=_SPEECH.compute_type, choices=["int8", "float32", "int8_float32"],
                   help="CTranslate2 compute type on the CPU")
    p.add_argument("--threads", type=int, default=_SPEECH.cpu_threads, help="CPU threads (0: default)")
    p.add_argument("--beam-size", type=int, default=_SPEECH.beam_size)
    p.add_argument("--prompt", default=_SPEECH.initial_prompt, help="text that biases the vocabulary")
    p.add_argument("--map", dest="map_path", help="a saved map: run the request on the robot")
    p.add_argument("--robot", choices=["sim", "stretch"], default="sim", help="robot to run the task on")
    p.add_argument("--robot-host", default=None, help="address of `ovmm robot-server` (with --robot stretch)")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


def _run_task(text: str, args: argparse.Namespace):
    """Call orchestrator.run_task.run_request if that module exists; None when it does not."""
    if importlib.util.find_spec("orchestrator.run_task") is None:
        return None
    module = importlib.import_module("orchestrator.run_task")
    run_request = module.run_request
    kwargs = {}
    params = inspect.signature(run_request).parameters
    if args.robot_host is not None and "robot_host" in params:
        kwargs["robot_host"] = args.robot_host
    return run_request(text, args.map_path, args.robot, **kwargs)


def run(args: argparse.Namespace) -> int:
    if args.wav:
        audio = load_wav(args.wav)
    else:
        audio = record(RecordConfig(duration_s=args.duration, max_s=args.max_seconds, silence_s=args.silence,
                                    device=args.input_device))
    config = SpeechConfig(model=args.model, compute_type=args.compute_type, cpu_threads=args.threads,
                          beam_size=args.beam_size, initial_prompt=args.prompt)
    text = Transcriber(config).transcribe(audio)
    try:
        task = parse_request(text)
        error = None
    except RequestError as exc:
        task, error = None, str(exc)
    if args.json:
        print(json.dumps({"transcript": text, "task": task.to_dict() if task else None, "error": error}))
    else:
        print(f"heard: {text!r}")
        print(f"task: {task.describe()}" if task else f"not a task: {error}")
    if task is None:
        return 1
    if not args.map_path:
        return 0
    result = _run_task(text, args)
    if result is None:
        print("the task runner (orchestrator.run_task) is not available in this installation; "
              f"run it with: ovmm run --map {args.map_path} --robot {args.robot} {text!r}")
        return 1
    if isinstance(result, int):
        return result
    ok = getattr(result, "success", True)
    print(f"result: {result}")
    return 0 if ok is not False else 1
