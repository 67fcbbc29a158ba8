"""The Robot protocol and its backends (the real Stretch over stretch_body, and a network client)."""

from robots.client import ClientConfig, RobotClient
from robots.keys import RobotKey, load_key
from robots.protocol import MotionResult, Robot, RobotObservation

__all__ = ["ClientConfig", "MotionResult", "Robot", "RobotClient", "RobotKey", "RobotObservation", "load_key"]
