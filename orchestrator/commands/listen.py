"""`ovmm listen`: hear a spoken request (microphone or WAV), understand it against the home's names, say what
the robot understood (or why it cannot), optionally ask for a yes/no, and run it when a map and a robot are
given."""

from __future__ import annotations

import argparse
import json
import sys
import threading

from orchestrator.commands.run import add_robot_arguments, add_threshold_argument, robot_options, task_config
from orchestrator.home_vocabulary import MAX_PROMPT_TOKENS
from orchestrator.request_correction import CorrectionConfig
from orchestrator.speech import RecordConfig, SpeechConfig, Transcriber, load_wav, record
from robots.speaker import SpeakerConfig

_SPEECH = SpeechConfig()
_RECORD = RecordConfig()
_CORRECT = CorrectionConfig()
_SPEAKER = SpeakerConfig()

EXIT_NOT_UNDERSTOOD = 1  # also: the home lacks a named thing
EXIT_RUN_FAILED = 3
EXIT_DECLINED = 4


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "listen",
        help="hear a spoken request (microphone or --wav), say what was understood, and with --map run it",
        description="Record from the microphone (until silence, push-to-talk, or --duration seconds) or read "
        "--wav FILE; transcribe with faster-whisper primed with the home's names (--map / --scene / "
        "--vocabulary); correct misheard names towards things the home has; print and speak the answer "
        "(espeak-ng; on the robot with --robot stretch). With --map, run the task.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    p.add_argument("--wav", help="read this WAV file instead of recording from the microphone")
    p.add_argument("--duration", type=float, default=_RECORD.duration_s,
                   help="record exactly this many seconds (None: until --silence seconds without speech)")
    p.add_argument("--push-to-talk", action="store_true",
                   help="microphone: press Enter to start speaking and Enter again to stop")
    p.add_argument("--max-seconds", type=float, default=_RECORD.max_s, help="longest recording (s)")
    p.add_argument("--silence", type=float, default=_RECORD.silence_s,
                   help="time without speech that ends a recording (s)")
    p.add_argument("--no-vad", action="store_true",
                   help="find speech by loudness instead of Silero VAD (recording end and decoding)")
    p.add_argument("--input-device", default=None, help="sounddevice input device (name or index)")
    p.add_argument("--model", default=_SPEECH.model,
                   help="Whisper model: a local CTranslate2 directory or a hub id "
                        "(empty: $OVMM_WHISPER_MODEL, ../shared/data/models/whisper-tiny.en-ct2, or "
                        "Systran/faster-whisper-tiny.en)")
    p.add_argument("--compute-type", default=_SPEECH.compute_type, choices=["int8", "float32", "int8_float32"],
                   help="CTranslate2 compute type on the CPU")
    p.add_argument("--threads", type=int, default=_SPEECH.cpu_threads, help="CPU threads (0: library default)")
    p.add_argument("--beam-size", type=int, default=1, help="decoding beam (1 is fastest)")
    p.add_argument("--prompt", default=None,
                   help="Whisper's initial prompt (default: the home's names, when a vocabulary is known)")
    p.add_argument("--vocabulary", default=None, metavar="NAMES|@FILE",
                   help="names of things in the home, comma separated, or @FILE (added to the map's/scene's)")
    p.add_argument("--no-map-vocabulary", action="store_true",
                   help="take the request as heard: no priming with the home's names, no correction")
    p.add_argument("--min-score", type=float, default=_CORRECT.min_score,
                   help="rapidfuzz score (0-100) a home name needs to replace a misheard phrase")
    p.add_argument("--confirm", action="store_true",
                   help="ask 'Shall I?' and act only on a yes (spoken when recording, else typed)")
    p.add_argument("--no-speak", action="store_true", help="print the answers only; do not speak them")
    p.add_argument("--voice", default=_SPEAKER.voice, help="espeak-ng voice of the answers")
    p.add_argument("--map", dest="map_path", help="a saved map: its names guide recognition; run the request")
    add_robot_arguments(p)
    add_threshold_argument(p)
    p.add_argument("--log", dest="log_path", help="with --map: write the run report (JSON) here")
    p.add_argument("--json", action="store_true", help="print one JSON object (answers go to stderr)")
    p.set_defaults(func=run)


def _robot_voice(args: argparse.Namespace):
    """A `say` function that speaks on the real robot (through the robot server), or None for local speakers."""
    if args.robot != "stretch" or not args.map_path:
        return None
    from orchestrator.run_task import open_robot

    def say(text: str):
        with open_robot(robot_options(args)) as robot:
            return robot.say(text)

    return say


def _recorder(args: argparse.Namespace, out):
    """A function recording one utterance from the microphone, with the terminal prompts."""
    config = RecordConfig(duration_s=args.duration, max_s=args.max_seconds, silence_s=args.silence,
                          device=args.input_device, vad=not args.no_vad)

    def listen_once():
        if args.push_to_talk:
            print("press Enter, speak, then press Enter again", file=out, flush=True)
            input()
            stop = threading.Event()
            waiter = threading.Thread(target=lambda: (input(), stop.set()), daemon=True)
            print("listening... (Enter to stop)", file=out, flush=True)
            waiter.start()
            return record(config, stop=stop)
        until = f"{args.duration:g} s" if args.duration else f"{args.silence:g} s of silence"
        print(f"listening... speak now (stops after {until})", file=out, flush=True)
        return record(config)

    return listen_once


def run(args: argparse.Namespace) -> int:
    from orchestrator.spoken_request import RequestListener
    from orchestrator.voice_answers import request_text
    from orchestrator.voice_session import Voice, ask_yes_no, load_home

    out = sys.stderr if args.json else sys.stdout
    home = load_home(args.map_path, args.scene, args.vocabulary)  # before listening: bad files fail first
    vocabulary = None if args.no_map_vocabulary else home.vocabulary
    transcriber = Transcriber(SpeechConfig(model=args.model, compute_type=args.compute_type,
                                           cpu_threads=args.threads, beam_size=args.beam_size,
                                           initial_prompt=args.prompt, vad_filter=not args.no_vad))
    listener = RequestListener(transcriber, vocabulary, home.encoder if vocabulary else None,
                               CorrectionConfig(min_score=args.min_score), use_prompt=args.prompt is None,
                               max_prompt_tokens=MAX_PROMPT_TOKENS)
    voice = Voice(SpeakerConfig(voice=args.voice, enabled=not args.no_speak), _robot_voice(args), out)
    listen_once = None if args.wav else _recorder(args, out)

    audio = load_wav(args.wav) if args.wav else listen_once()
    heard = listener.hear(audio)
    print(f"heard: {heard.transcript!r}", file=out, flush=True)
    for c in heard.corrections:
        print(f"  '{c.heard}' -> '{c.corrected}' (a name in this home, score {c.score:.0f})", file=out)
    if heard.error and not args.json:
        print(f"  ({heard.error})", file=out)
    voice.say(heard.answer)
    result = {**heard.to_dict(), "vocabulary": vocabulary.source if vocabulary else None}
    confirmed = None
    if heard.actionable and args.confirm:
        def spoken_reply() -> str:
            return transcriber.transcribe(listen_once()) if listen_once else ""

        confirmed = ask_yes_no(voice, spoken_reply if listen_once else None)
        if not confirmed:
            voice.say("OK, I won't.")
    result.update({"confirmed": confirmed, "spoken": [s.to_dict() for s in voice.said]})
    if args.json:
        print(json.dumps(result))
    if not heard.actionable:
        return EXIT_NOT_UNDERSTOOD
    if confirmed is False:
        return EXIT_DECLINED
    if not args.map_path:
        return 0
    from orchestrator.run_task import run_request
    from orchestrator.summary import phase_table

    report = run_request(request_text(heard.task), args.map_path, robot_options(args), config=task_config(args),
                         log_path=args.log_path)
    print("\n".join(report.log), file=out)
    print(phase_table(report), file=out)
    return 0 if report.success else EXIT_RUN_FAILED
