"""What the robot server keeps per motion (a job), per parked `wait` and per observe handed to the camera."""

from __future__ import annotations

import threading
import time

from robots.protocol import MotionResult


class _Job:
    def __init__(self, job_id: int, cmd: str, owner: bytes) -> None:
        self.id = job_id
        self.cmd = cmd
        self.owner = owner  # routing id of the connection that started it
        self.fed_at = time.monotonic()  # last accepted heartbeat from the owner
        self.done = threading.Event()
        self.result: MotionResult | None = None
        self.error: str | None = None
        self.stopped_by: str | None = None
        self.stop_sent_at = 0.0  # when robot.stop() was last called for it


class _Wait:
    """A `wait` for a running job, answered by the network thread when the job ends or at `due`."""

    __slots__ = ("nonce", "job", "peer", "due", "envelope")

    def __init__(self, nonce: str, job: _Job, peer: bytes, due: float) -> None:
        self.nonce, self.job, self.peer, self.due = nonce, job, peer, due
        self.envelope: list[bytes] = []


class _Observe:
    """An observe request handed to the camera thread."""

    __slots__ = ("nonce",)

    def __init__(self, nonce: str) -> None:
        self.nonce = nonce
