"""`ovmm listen`: hear a spoken request (microphone or WAV), transcribe it, parse it into a task, and run it
through the task runner when a map and a robot are given."""

from __future__ import annotations

import argparse
import json

from orchestrator.commands.run import add_robot_arguments, robot_options
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
    add_robot_arguments(p)
    p.add_argument("--log", dest="log_path", help="with --map: write the run report (JSON) here")
    p.add_argument("--json", action="store_true", help="print one JSON object instead of text")
    p.set_defaults(func=run)


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
    from orchestrator.run_task import run_request
    from orchestrator.summary import phase_table

    report = run_request(text, args.map_path, robot_options(args), log_path=args.log_path)
    print("\n".join(report.log))
    print(phase_table(report))
    return 0 if report.success else 3
