"""`StreamFrameSource`: a FrameSource over frames that already exist (a live robot or simulator stream).

The frames must already follow the project's conventions (OpenCV camera, world z up, metres); nothing is
converted. A list or other sequence gives random access, `len` and `poses()`; a one-shot iterator can be
iterated once, and its length is known only if given.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence

import numpy as np

from core.types import CameraIntrinsics, RGBDFrame
from mapping.sources.base import CaptureError, FrameSource


class StreamFrameSource(FrameSource):
    """Wrap an iterable of RGBDFrames (e.g. a generator reading the robot's head camera)."""

    format = "stream"

    def __init__(
        self,
        frames: Iterable[RGBDFrame],
        intrinsics: CameraIntrinsics | None = None,
        length: int | None = None,
        name: str = "stream",
    ) -> None:
        super().__init__(None, name=name)
        self._seq: Sequence[RGBDFrame] | None = frames if isinstance(frames, Sequence) else None
        self._iter: Iterator[RGBDFrame] | None = None if self._seq is not None else iter(frames)
        self._length = len(self._seq) if self._seq is not None else length
        self._intrinsics = intrinsics
        self._peeked: RGBDFrame | None = None
        self._consumed = False

    @property
    def length(self) -> int | None:
        """Number of frames, or None when unknown (a live stream)."""
        return self._length

    def __bool__(self) -> bool:
        return self._length is None or self._length > 0

    def __len__(self) -> int:
        if self._length is None:
            raise TypeError(f"{self.name} is a live stream of unknown length")
        return self._length

    @property
    def intrinsics(self) -> CameraIntrinsics:
        if self._intrinsics is None:
            first = self._first()
            if first is None:
                raise CaptureError(f"{self.name} is an empty stream (no frames)")
            self._intrinsics = first.intrinsics
        return self._intrinsics

    def _first(self) -> RGBDFrame | None:
        if self._seq is not None:
            return self._seq[0] if len(self._seq) else None
        if self._peeked is None and not self._consumed:
            self._peeked = next(self._iter, None)  # type: ignore[arg-type]
        return self._peeked

    def frame(self, i: int) -> RGBDFrame:
        if self._seq is None:
            raise CaptureError(f"{self.name} is a live stream: frames can only be read in order")
        return self._seq[self._index(i)]

    def poses(self) -> np.ndarray:
        if self._seq is None:
            raise CaptureError(f"{self.name} is a live stream: its poses are known only as frames arrive")
        return np.stack([f.T_world_cam for f in self._seq]) if len(self._seq) else np.zeros((0, 4, 4))

    def timestamps(self) -> np.ndarray:
        if self._seq is None:
            raise CaptureError(
                f"{self.name} is a live stream: its timestamps are known only as frames arrive"
            )
        return np.asarray([f.timestamp for f in self._seq], dtype=np.float64)

    def __iter__(self) -> Iterator[RGBDFrame]:
        if self._seq is not None:
            yield from self._seq
            return
        if self._consumed:
            raise CaptureError(f"{self.name} is a live stream and has already been read")
        self._consumed = True
        if self._peeked is not None:
            first, self._peeked = self._peeked, None
            yield first
        assert self._iter is not None
        yield from self._iter
