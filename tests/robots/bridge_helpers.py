"""Helpers for the robot-bridge tests (not a test module): raw peers, requests, lift checks."""

from __future__ import annotations

import socket
import time

import zmq
from zmq.utils.monitor import recv_monitor_message

from core.bounded_json import loads_bounded
from robots import wire
from robots.keys import RobotKey
from robots.transport import client_socket


def raw_request(port: int, frames: list[bytes], key: RobotKey | None, timeout_s: float = 3.0) -> dict | None:
    """Send frames on a fresh REQ socket (CURVE with `key`, else NULL); the reply header, or None if none came."""
    ctx = zmq.Context.instance()
    sock = client_socket(ctx, key, 64 << 20)
    sock.connect(f"tcp://127.0.0.1:{port}")
    try:
        sock.send_multipart(frames)
        if not sock.poll(int(timeout_s * 1000)):
            return None
        return loads_bounded(sock.recv_multipart()[0], 1 << 20)
    finally:
        sock.close(0)


def request(cmd: str, args: dict | None = None, **header) -> list[bytes]:
    return wire.encode({"kind": "req", "cmd": cmd, "args": args or {}, **header})


def lift_targets(body) -> list[float]:
    """Lift targets commanded as motions (holding the current position on stop() passes no speed)."""
    return [c[2][0] for c in body.commands("lift.move_to") if c[3].get("v_m") is not None]


def wait_for(predicate, timeout_s: float = 3.0, step_s: float = 0.01) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(step_s)
    return predicate()


def zmtp_garbage_peer(port: int, payload: bytes = b"", hold_s: float = 0.0) -> None:
    """A raw TCP peer that sends a ZMTP-3 looking greeting (NULL mechanism) plus `payload`, then closes."""
    greeting = b"\xff" + b"\x00" * 8 + b"\x7f" + b"\x03\x00" + b"NULL".ljust(20, b"\x00") + b"\x00" + b"\x00" * 31
    with socket.create_connection(("127.0.0.1", port), timeout=2.0) as s:
        try:
            s.sendall(greeting[:11])
            s.sendall(greeting[11:] + payload)
            if hold_s:
                time.sleep(hold_s)
        except OSError:
            pass  # the server dropped us: that is the point


def handshake_events(sock, timeout_s: float) -> list[int]:
    """Monitor events of `sock` for up to timeout_s (the socket must have a monitor)."""
    mon = sock.get_monitor_socket()
    out = []
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            if mon.poll(50):
                out.append(recv_monitor_message(mon)["event"])
    finally:
        sock.disable_monitor()
        mon.close(0)
    return out


def rss_mb(pid: int | str = "self") -> float:
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024.0
    return float("nan")
