"""The Robot protocol and its backends (the real Stretch over stretch_body, and a network client)."""

from robots.protocol import MotionResult, Robot, RobotObservation

__all__ = ["MotionResult", "Robot", "RobotObservation"]
