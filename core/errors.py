"""User-facing errors.

Every error a user can cause (bad input, missing model, unreachable goal) is an `OvmmError` subclass whose
message is one clear sentence saying what is wrong and, where it applies, which file or item. The CLI prints
the message on one line and exits non-zero; it never shows a traceback for these.
"""

from __future__ import annotations


class OvmmError(Exception):
    """Base class for errors reported to the user as one line."""


class InputError(OvmmError):
    """A file or argument given by the user is invalid (corrupt capture, bad scene, bad map...)."""


class ModelNotFoundError(OvmmError):
    """A model could not be found locally and could not be downloaded."""


class RobotError(OvmmError):
    """The robot (real or simulated) could not do what was asked, or disconnected."""
