"""RGB-D frame sources: Record3D `.r3d`, Redwood/ICL-NUIM and TUM RGB-D captures, and live streams.

`open_capture(path)` detects a capture's format and returns a `FrameSource` of project-convention frames
(metres, OpenCV camera, world z up with the floor at z = 0). See docs/capture.md.
"""

from mapping.sources.base import CaptureConfig, CaptureError, FrameSource
from mapping.sources.open import open_capture
from mapping.sources.stream import StreamFrameSource

__all__ = ["CaptureConfig", "CaptureError", "FrameSource", "StreamFrameSource", "open_capture"]
