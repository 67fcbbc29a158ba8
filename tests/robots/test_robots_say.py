"""The robot speaks through the bridge: the client's `say` reaches the server, which synthesises the sentence with
espeak-ng and plays it on its audio output (faked here: the loudspeaker is the hardware boundary)."""

from __future__ import annotations

import shutil
import threading

import numpy as np
import pytest
from stretch_fixtures import fast_config

from core.errors import RobotError
from robots import keys
from robots.client import RobotClient
from robots.server import RobotServer, ServerConfig
from robots.speaker import RobotVoice, Speaker, SpeakerConfig

KEY = keys.new_key()
pytestmark = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


class Loudspeaker:
    name = "test loudspeaker"

    def __init__(self) -> None:
        self.played: list[tuple[np.ndarray, int]] = []
        self.done = threading.Event()

    def play(self, samples, rate):
        self.played.append((samples, rate))
        self.done.set()


@pytest.fixture
def served(make_stretch):
    robot, _body, _camera = make_stretch(fast_config())
    server = RobotServer(robot, KEY, ServerConfig(host="127.0.0.1", port=0)).start()
    yield server
    server.close()


def test_say_plays_the_sentence_on_the_robot(served):
    speaker = Loudspeaker()
    served.voice = RobotVoice(Speaker(SpeakerConfig(voice="en-us"), speaker))
    with RobotClient("127.0.0.1", served.port, KEY) as client:
        result = client.say("Putting the red mug on the kitchen table.")
        assert result.played and 1.0 < result.duration_s < 5.0
        assert speaker.done.wait(5.0)
        samples, rate = speaker.played[0]
        assert samples.size == pytest.approx(result.duration_s * rate, rel=1e-3)
        with pytest.raises(RobotError, match="say"):
            client.request("say", {"text": ""})  # an empty sentence is refused, the server keeps serving
        assert client.get_joints() is not None


def test_say_without_an_audio_device_answers_why(served, monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "sounddevice", None)
    real_which = shutil.which
    monkeypatch.setattr(shutil, "which", lambda n: None if n == "aplay" else real_which(n))
    served.voice = RobotVoice()
    with RobotClient("127.0.0.1", served.port, KEY) as client:
        result = client.say("hello")
    assert not result.played and "no audio output" in result.reason
