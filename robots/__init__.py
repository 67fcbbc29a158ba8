"""The Robot protocol and its backends (the real Stretch over stretch_body, and a network client)."""

from robots.client import ClientConfig, RobotClient
from robots.protocol import MotionResult, Robot, RobotObservation
from robots.wire import load_key

__all__ = ["ClientConfig", "MotionResult", "Robot", "RobotClient", "RobotObservation", "load_key"]
