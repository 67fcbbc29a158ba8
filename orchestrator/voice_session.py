"""The pieces `ovmm listen` puts together: the home's vocabulary, the robot's voice and the yes/no question.

- `load_home(map_path, scene, words)`: the HomeVocabulary (the sim scene's labels and descriptions, else the
  map's recorded instances, plus the user's words) and the map's text encoder.
- `Voice`: says answers, on the robot through the bridge (`--robot stretch`: the robot server's `say`
  command) or on this computer's speakers (robots.speaker), and always prints them.
- `ask_yes_no`: the `--confirm` question, answered by voice (microphone) or typed.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError, OvmmError
from orchestrator.home_vocabulary import HomeVocabulary
from orchestrator.voice_answers import CONFIRM_QUESTION, interpret_yes_no
from robots.speaker import SayResult, Speaker, SpeakerConfig

log = logging.getLogger(__name__)


@dataclass
class Home:
    vocabulary: HomeVocabulary
    encoder: object | None = None  # the map's text encoder (encode_text), when a map was given


def read_words(spec: str) -> str:
    """--vocabulary "mug, sofa" or --vocabulary @names.txt (one name per line or comma separated)."""
    if not spec.startswith("@"):
        return spec
    path = Path(spec[1:]).expanduser()
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the vocabulary file {path}: {exc}") from exc


def load_home(map_path: str | None, scene: str | None, words: str | None) -> Home:
    """The home's names from the sim scene (else the map's recorded instances) and `words`, and the
    map's text encoder. Errors (missing map, unreadable scene) are InputErrors naming the file."""
    vocabulary = HomeVocabulary()
    encoder = None
    if scene:  # a sim scene knows which things are objects and which receptacles
        from sim.scene.spec import SceneSpec

        vocabulary = HomeVocabulary.from_scene(SceneSpec.load(scene), f"scene {Path(scene).name}")
    if map_path:
        from mapping.map_encoder import load_query_encoder
        from mapping.voxel_map import VoxelMap

        voxel_map = VoxelMap.load(map_path)
        if not vocabulary:
            vocabulary = HomeVocabulary.from_map(voxel_map) or vocabulary
        try:
            encoder = load_query_encoder(voxel_map)
        except OvmmError as exc:  # a map without a usable encoder: matching by spelling only
            log.warning("no text encoder for %s (%s); matching names by spelling only", map_path, exc)
    if words:
        vocabulary = vocabulary.merged(HomeVocabulary.from_words(read_words(words)))
    return Home(vocabulary, encoder)


class Voice:
    """Prints every answer and speaks it: through `robot_say` (the robot's loudspeaker) when given, else on
    this computer with espeak-ng. `out`: where printed answers go (stdout; stderr when printing JSON)."""

    def __init__(self, config: SpeakerConfig | None = None, robot_say: Callable[[str], SayResult] | None = None,
                 out=None) -> None:
        self.speaker = Speaker(config)
        self.robot_say = robot_say
        self.out = out
        self.said: list[SayResult] = []

    def say(self, text: str) -> SayResult:
        print(f"robot: {text}", file=self.out or sys.stdout, flush=True)
        if not self.speaker.config.enabled:
            result = SayResult(text, False, reason="speech output is off")
        elif self.robot_say is not None:
            try:
                result = self.robot_say(text)
            except OvmmError as exc:
                log.warning("the robot could not say it (%s)", exc)
                result = SayResult(text, False, reason=str(exc))
        else:
            result = self.speaker.say(text)
        self.said.append(result)
        return result


def ask_yes_no(voice: Voice, listen: Callable[[], str] | None, read_line: Callable[[], str] = input,
               tries: int = 2) -> bool:
    """Ask CONFIRM_QUESTION; `listen()` returns a transcript of the spoken reply (None: type it). An unclear
    reply is asked again, typed; no clear yes (or end of input) counts as no."""
    voice.say(CONFIRM_QUESTION)
    for attempt in range(tries):
        if listen is not None and attempt == 0:
            reply = listen()
            print(f"heard: {reply!r}", file=voice.out or sys.stdout, flush=True)
        else:
            print("type yes or no: ", end="", file=voice.out or sys.stdout, flush=True)
            try:
                reply = read_line()
            except EOFError:
                return False
        answer = interpret_yes_no(reply)
        if answer is not None:
            return answer
        if attempt + 1 < tries:
            voice.say("Sorry, was that a yes or a no?")
    return False
