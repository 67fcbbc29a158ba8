"""The real Stretch's planar lidar (a Slamtec RPLidar A1) read through the `rplidar-roboticia` driver.

On the robot, `ovmm robot-server` starts an `RPLidarReader` next to the stretch_body backend. A thread runs
the driver's `iter_scans()` (one list of (quality, angle_deg, distance_mm) per turn, 5.5 Hz) and keeps the
newest turn; `observe()` turns it into a `core.types.LaserScan` for the base pose of that observation, so
the field means the same on the real robot as in the simulator (sim/lidar.py):

- angles in the laser frame of the Stretch URDF (`joint_laser`, core.stretch.LASER_XYZ / laser_pose),
  counter-clockwise, binned to `bins` equal steps starting at -pi (the simulator's 1-degree steps). The
  A1 reports angles clockwise seen from above; like Slamtec's rplidar_ros node the laser-frame angle is
  `angle_offset_rad - raw` (`clockwise`), with the URDF's laser frame on top of it;
- each bin keeps the nearest return that falls in it (a conservative range: an obstacle is never pushed
  away by a farther return in the same degree); ranges outside [min_m, max_m] and empty bins are inf;
- a scan older than `max_age_s`, or with fewer than `min_returns` valid returns, is not returned (None), and
  `status` says why: no lidar attached, the port could not be opened, the driver stopped with an error, or
  the scans are stale. The thread reconnects after driver errors (`retry_s`).

rplidar-roboticia (PyPI, pure Python over pyserial) is used rather than writing the serial protocol: it
parses the A1's normal scan mode, checks its descriptors and health, and starts/stops the motor.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from core.stretch import LASER_XYZ, laser_pose
from core.types import LaserScan, Pose2D

log = logging.getLogger(__name__)


class LidarDriver(Protocol):
    """What is used of rplidar.RPLidar."""

    def iter_scans(self, max_buf_meas: int = ..., min_len: int = ...) -> Iterable[list[tuple[int, float, float]]]: ...

    def stop(self) -> None: ...

    def stop_motor(self) -> None: ...

    def disconnect(self) -> None: ...


@dataclass(frozen=True)
class RPLidarConfig:
    """Where the lidar is and how its scans become LaserScans."""

    port: str = "/dev/hello-lrf"
    """Serial port; the Stretch's udev rules name the RPLidar /dev/hello-lrf."""
    baudrate: int = 115200
    """The A1's serial rate."""
    min_m: float = 0.15
    max_m: float = 12.0
    """Valid range (A1M8 datasheet)."""
    bins: int = 360
    """Angular bins per turn (360: 1 degree, as the simulated lidar)."""
    clockwise: bool = True
    """The driver's angles grow clockwise seen from above (the A1's convention)."""
    angle_offset_rad: float = math.pi
    """Laser-frame angle = offset - raw angle (clockwise) or raw - offset; pi as Slamtec's rplidar_ros."""
    min_quality: int = 0
    """Returns with a lower signal quality (0-63) are dropped."""
    min_returns: int = 30
    """A turn with fewer valid returns is not a scan (the lidar is blocked or still spinning up)."""
    max_age_s: float = 0.6
    """Scans older than this are stale and not returned (about 3 turns at 5.5 Hz)."""
    retry_s: float = 2.0
    """Wait before reopening the port after a driver error."""
    max_buffer_bytes: int = 3000
    """The driver restarts the scan when more than this is queued (the reader fell behind)."""


def default_driver(config: RPLidarConfig) -> LidarDriver:
    """rplidar.RPLidar on the configured port (raises RuntimeError with the reason when it cannot)."""
    try:
        from rplidar import RPLidar  # noqa: PLC0415 - the robot extra
    except ImportError as exc:
        raise RuntimeError("the lidar needs rplidar-roboticia: pip install 'ovmm[robot]'") from exc
    try:
        return RPLidar(config.port, baudrate=config.baudrate)
    except Exception as exc:  # noqa: BLE001 - RPLidarException or a serial error: the reason is the message
        raise RuntimeError(f"cannot open the lidar on {config.port}: {exc}") from exc


def bin_turn(measures: Iterable[tuple[int, float, float]], config: RPLidarConfig) -> tuple[np.ndarray, np.ndarray]:
    """(angles_rad, ranges_m) in the laser frame from one turn of (quality, angle_deg, distance_mm)."""
    n = config.bins
    angles = -math.pi + 2 * math.pi * np.arange(n) / n
    ranges = np.full(n, np.inf)
    m = np.asarray(list(measures), dtype=np.float64).reshape(-1, 3)
    if len(m):
        q, raw, dist = m[:, 0], np.radians(m[:, 1]), m[:, 2] / 1000.0
        ok = (q >= config.min_quality) & (dist >= config.min_m) & (dist <= config.max_m)
        a = (config.angle_offset_rad - raw) if config.clockwise else (raw - config.angle_offset_rad)
        k = np.round((np.remainder(a[ok] + math.pi, 2 * math.pi)) / (2 * math.pi) * n).astype(np.int64) % n
        np.minimum.at(ranges, k, dist[ok])
    return angles, ranges


class RPLidarReader:
    """Keeps the newest lidar turn in a background thread; `scan(base_pose)` gives it as a LaserScan."""

    def __init__(self, config: RPLidarConfig = RPLidarConfig(),
                 driver_factory: Callable[[RPLidarConfig], LidarDriver] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.config = config
        self._factory = driver_factory or default_driver
        self._clock = clock
        self._lock = threading.Lock()
        self._latest: tuple[float, np.ndarray, np.ndarray] | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._driver: LidarDriver | None = None
        self.error: str | None = None
        self.turns = 0

    # --- life cycle ---

    def start(self) -> RPLidarReader:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rplidar", daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        """Stop reading: the thread stops the motor and releases the port after the turn in progress; a
        lidar that has gone silent has its port closed under the driver instead (its read then fails)."""
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is None:
            return
        thread.join(timeout=1.0)
        if thread.is_alive():
            self._release()
            thread.join(timeout=1.0)

    def __enter__(self) -> RPLidarReader:
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def _release(self) -> None:
        driver, self._driver = self._driver, None
        if driver is None:
            return
        for step in (driver.stop, driver.stop_motor, driver.disconnect):
            try:
                step()
            except Exception as exc:  # noqa: BLE001 - best effort on the way out; the port may be gone
                log.debug("lidar shutdown step failed: %s", exc)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self._driver = self._factory(self.config)
                for turn in self._driver.iter_scans(max_buf_meas=self.config.max_buffer_bytes, min_len=5):
                    angles, ranges = bin_turn(turn, self.config)
                    with self._lock:
                        self._latest = (self._clock(), angles, ranges)
                        self.turns += 1
                        self.error = None
                    if self._stop.is_set():
                        break
                else:
                    self.error = "the lidar driver stopped delivering scans"
            except Exception as exc:  # noqa: BLE001 - any driver/serial failure: report, reconnect
                self.error = str(exc) or type(exc).__name__
                log.warning("lidar: %s (retrying in %.1f s)", self.error, self.config.retry_s)
            self._release()
            self._stop.wait(self.config.retry_s)

    # --- reading ---

    @property
    def status(self) -> str:
        """"ok", or why `scan()` gives None."""
        with self._lock:
            latest, error = self._latest, self.error
        if latest is None:
            return error or "no lidar scan received yet"
        age = self._clock() - latest[0]
        if age > self.config.max_age_s:
            return f"the newest lidar scan is {age:.1f} s old" + (f" ({error})" if error else "")
        if int(np.isfinite(latest[2]).sum()) < self.config.min_returns:
            return f"the lidar sees fewer than {self.config.min_returns} returns (blocked?)"
        return "ok"

    def scan(self, base_pose: Pose2D) -> LaserScan | None:
        """The newest turn as a LaserScan with the lidar at `base_pose`'s laser frame (None: see `status`)."""
        with self._lock:
            latest = self._latest
        if latest is None or self.status != "ok":
            return None
        stamp, angles, ranges = latest
        return LaserScan(angles_rad=angles.copy(), ranges_m=ranges.copy(), pose=laser_pose(base_pose),
                         height_m=LASER_XYZ[2], timestamp=stamp, min_m=self.config.min_m, max_m=self.config.max_m)
