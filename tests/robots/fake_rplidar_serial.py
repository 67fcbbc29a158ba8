"""A synthetic RPLidar A1 behind a fake serial port: the hardware boundary of robots.rplidar_scanner.

`FakeLidarSerial` stands in for `serial.Serial` inside the rplidar-roboticia driver. It answers the A1's
protocol (Slamtec's interface protocol: request A5 <cmd>, response descriptor A5 5A <size:30 bits, mode:2>
<type>): GET_HEALTH with a "Good" health reply, SCAN with a stream of 5-byte measurement packets (quality,
new-scan flag and its inverse, check bit, angle in 1/64 degree, distance in 1/4 mm), STOP ends the stream.
Each turn has `per_turn` samples from `distance_mm(angle_deg)` (0 = no return), clockwise like the A1.
"""

from __future__ import annotations

import struct
import threading
import time
from collections.abc import Callable

import serial


def scan_packet(new_scan: bool, quality: int, angle_deg: float, distance_mm: float) -> bytes:
    a = int(round(angle_deg * 64)) & 0x7FFF
    d = int(round(distance_mm * 4)) & 0xFFFF
    b0 = (quality << 2) | ((0 if new_scan else 1) << 1) | (1 if new_scan else 0)
    return bytes([b0, ((a & 0x7F) << 1) | 1, a >> 7, d & 0xFF, d >> 8])


def descriptor(size: int, multiple: bool, dtype: int) -> bytes:
    return b"\xa5\x5a" + struct.pack("<I", size | ((0x1 if multiple else 0) << 30)) + bytes([dtype])


class FakeLidarSerial:
    """Enough of pyserial's Serial for rplidar.RPLidar: write, read, inWaiting, flushInput, setDTR, close."""

    instances: list[FakeLidarSerial] = []
    distance_mm: Callable[[float], float] = staticmethod(lambda a: 2000.0)
    per_turn = 360
    turn_s = 0.02
    fail_after_turns: int | None = None  # the cable is pulled after this many turns (a SerialException)

    def __init__(self, port, baudrate=115200, **_kw) -> None:
        self.port, self.baudrate = port, baudrate
        self.buf = bytearray()
        self.scanning = False
        self.turns = 0
        self.sample = 0
        self.lock = threading.Lock()
        self.closed = False
        self.dtr_log: list[bool] = []  # the A1's motor runs while DTR is False
        FakeLidarSerial.instances.append(self)

    def write(self, data: bytes) -> int:
        cmd = bytes(data[:2])
        with self.lock:
            if cmd == b"\xa5\x52":  # GET_HEALTH
                self.buf += descriptor(3, False, 6) + b"\x00\x00\x00"
            elif cmd == b"\xa5\x20":  # SCAN
                self.buf += descriptor(5, True, 0x81)
                self.scanning = True
            elif cmd == b"\xa5\x25":  # STOP
                self.scanning = False
        return len(data)

    def _produce(self) -> None:
        """A quarter turn more whenever the host has nearly read what was sent (a 115200-baud link keeps the
        driver's input buffer far below its 3000-byte limit too)."""
        if not self.scanning or len(self.buf) >= 500:
            return
        fail = FakeLidarSerial.fail_after_turns
        if fail is not None and self.turns >= fail:
            raise serial.SerialException("device reports readiness to read but returned no data (unplugged?)")
        time.sleep(self.turn_s / 4)
        quarter = self.per_turn // 4
        for i in range(self.sample, self.sample + quarter):
            ang = 360.0 * (i % self.per_turn) / self.per_turn
            self.buf += scan_packet(i % self.per_turn == 0, 15, ang, self.distance_mm(ang))
        self.sample = (self.sample + quarter) % self.per_turn
        if self.sample == 0:
            self.turns += 1

    def inWaiting(self) -> int:  # noqa: N802 - pyserial's name
        if self.closed:
            raise serial.PortNotOpenError()
        with self.lock:
            self._produce()
            return len(self.buf)

    in_waiting = property(inWaiting)

    def read(self, n: int) -> bytes:
        if self.closed:
            raise serial.PortNotOpenError()
        with self.lock:
            self._produce()
            out, self.buf = bytes(self.buf[:n]), self.buf[n:]
            return out

    def flushInput(self) -> None:  # noqa: N802 - pyserial's name
        with self.lock:
            self.buf.clear()

    def setDTR(self, value: bool) -> None:  # noqa: N802 - pyserial's name
        self.dtr_log.append(value)

    def close(self) -> None:
        self.closed = True
