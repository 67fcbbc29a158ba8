"""`ovmm listen`: hear a spoken request (microphone or WAV), understand it against the home's names, say what
the robot understood (or why it cannot), optionally ask for a yes/no, and run it when a map and a robot are
given."""

from __future__ import annotations

import argparse
import json
import sys
import threading

from orchestrator.commands.run import add_robot_arguments, add_threshold_argument, robot_options, task_config
from orchestrator.config_options import Option, add_config_options, config_from_args
from orchestrator.home_vocabulary import MAX_PROMPT_TOKENS
from orchestrator.listen_config import COMPUTE_TYPES, ListenConfig
from orchestrator.speech import Transcriber, load_wav, record

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
    )
    add_config_options(p, ListenConfig, {
        "compute_type": Option(choices=COMPUTE_TYPES),
        "vocabulary": Option(metavar="NAMES|@FILE"),
        "input_device": Option(metavar="DEV"),
    })
    p.add_argument("--map", dest="map_path", help="a saved map: its names guide recognition; run the request")
    add_robot_arguments(p)
    add_threshold_argument(p)
    p.add_argument("--log", dest="log_path", help="with --map: write the run report (JSON) here")
    p.set_defaults(func=run)


def _robot_voice(args: argparse.Namespace):
    """A `say` function that speaks on the real robot (through the robot server), or None for local speakers."""
    if args.kind != "stretch" or not args.map_path:
        return None
    from orchestrator.run_task import open_robot

    def say(text: str):
        with open_robot(robot_options(args)) as robot:
            return robot.say(text)

    return say


def _recorder(cfg: ListenConfig, out):
    """A function recording one utterance from the microphone, with the terminal prompts."""
    config = cfg.record_config()

    def listen_once(on_block=None):
        if cfg.push_to_talk:
            print("press Enter, speak, then press Enter again", file=out, flush=True)
            input()
            stop = threading.Event()
            waiter = threading.Thread(target=lambda: (input(), stop.set()), daemon=True)
            print("listening... (Enter to stop)", file=out, flush=True)
            waiter.start()
            return record(config, stop=stop)
        until = f"{cfg.duration:g} s" if cfg.duration else f"{cfg.silence:g} s of silence"
        print(f"listening... speak now (stops after {until})", file=out, flush=True)
        return record(config, on_block=on_block)

    return listen_once


def run(args: argparse.Namespace) -> int:
    from orchestrator.spoken_request import RequestListener
    from orchestrator.voice_answers import request_text
    from orchestrator.voice_session import Voice, ask_yes_no, load_home

    cfg = config_from_args(ListenConfig, args)
    out = sys.stderr if cfg.json else sys.stdout
    home = load_home(args.map_path, args.scene, cfg.vocabulary)  # before listening: bad files fail first
    run_config = task_config(args) if args.map_path else None  # a bad --threshold fails before listening too
    vocabulary = home.vocabulary if cfg.map_vocabulary else None
    transcriber = Transcriber(cfg.speech_config())
    listener = RequestListener(transcriber, vocabulary, home.encoder if vocabulary else None,
                               cfg.correction_config(), use_prompt=cfg.prompt is None,
                               max_prompt_tokens=MAX_PROMPT_TOKENS, **cfg.listener_options())
    voice = Voice(cfg.speaker_config(), _robot_voice(args), out)
    listen_once = None if cfg.wav else _recorder(cfg, out)

    early = None  # from the microphone until silence: recognition starts while the end-pointer waits
    if listen_once is not None and not cfg.push_to_talk and not cfg.duration and 0 < cfg.early_after < cfg.silence:
        from orchestrator.early_hearing import EarlyHearing

        early = EarlyHearing(listener.hear, transcriber.speech_part, cfg.early_after)
    if cfg.wav:
        heard = listener.hear(load_wav(cfg.wav))
    elif early is not None:
        heard = early.result(listen_once(early.on_block))
        heard.timings["early"] = float(early.early)
        heard.timings["after_recording_s"] = early.wait_s
    else:
        heard = listener.hear(listen_once())
    print(f"heard: {heard.transcript!r}", file=out, flush=True)
    for c in heard.corrections:
        print(f"  '{c.heard}' -> '{c.corrected}' (a name in this home, score {c.score:.0f})", file=out)
    if heard.error and not cfg.json:
        print(f"  ({heard.error})", file=out)
    voice.say(heard.answer)
    result = {**heard.to_dict(), "vocabulary": vocabulary.source if vocabulary else None}
    confirmed = None
    if heard.actionable and cfg.confirm:
        def spoken_reply() -> str:
            return transcriber.transcribe(listen_once()) if listen_once else ""

        confirmed = ask_yes_no(voice, spoken_reply if listen_once else None)
        if not confirmed:
            voice.say("OK, I won't.")
    result.update({"confirmed": confirmed, "spoken": [s.to_dict() for s in voice.said]})
    if cfg.json:
        print(json.dumps(result))
    if not heard.actionable:
        return EXIT_NOT_UNDERSTOOD
    if confirmed is False:
        return EXIT_DECLINED
    if not args.map_path:
        return 0
    from orchestrator.run_task import run_request
    from orchestrator.summary import phase_table

    report = run_request(request_text(heard.task), args.map_path, robot_options(args), config=run_config,
                         log_path=args.log_path)
    print("\n".join(report.log), file=out)
    print(phase_table(report), file=out)
    return 0 if report.success else EXIT_RUN_FAILED
