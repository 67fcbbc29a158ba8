"""The robot server's config (ServerConfig: address, watchdog, limits, faults) and its checks (the key)."""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass, field

from core.errors import RobotError
from robots import motion_limits
from robots.faults import FaultConfig
from robots.transport import SocketLimits

MAX_WATCHDOG_S = 60.0


def check_watchdog_s(value: float) -> float:
    """The watchdog period if it is a finite number in (0, 60] s; ValueError otherwise (nan/inf turn it off)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not 0 < value <= MAX_WATCHDOG_S:
        raise ValueError(f"the watchdog period must be a finite number of seconds in (0, {MAX_WATCHDOG_S:g}], "
                         f"got {value!r}")
    return float(value)


@dataclass
class ServerConfig:
    host: str = "127.0.0.1"
    """Address to listen on (0.0.0.0 for all interfaces; a network address needs a key)."""
    port: int = 5555
    """TCP port, 1-65535 (0 in code: a free port, see RobotServer.port)."""
    watchdog_s: float = 0.5
    """Stop the robot when the client that started a motion is silent for this long (finite, 0 < S <= 60)."""
    max_request_bytes: int = 256 << 10
    max_clock_skew_s: float = 30.0
    poll_s: float = 0.02
    insecure_loopback: bool = False
    """Serve without a key (no authentication, no encryption): only on a loopback address, for tests."""
    motion_limits: motion_limits.MotionLimits = field(default_factory=lambda: motion_limits.MotionLimits())
    """What one motion command may ask (robots.motion_limits); violations are refused and counted."""
    limits: SocketLimits = field(default_factory=SocketLimits)
    faults: FaultConfig | None = None
    """Injected network faults (robots.faults; `--faults FILE.json`): dropped or late replies, a restart."""

    def __post_init__(self) -> None:
        self.watchdog_s = check_watchdog_s(self.watchdog_s)
        if isinstance(self.port, bool) or not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ValueError(f"port must be an integer in 1..65535 (0: any free port), got {self.port!r}")
        for name in ("max_clock_skew_s", "poll_s"):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ValueError(f"{name} must be a finite positive number, got {v!r}")
        if self.max_request_bytes < 1024 or self.limits.max_connections < 1:
            raise ValueError("max_request_bytes must be at least 1024 and max_connections at least 1")


def is_loopback(host: str) -> bool:
    if host in ("localhost", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_key(config: ServerConfig, key) -> None:
    """Refuse (RobotError) to serve without a robot key unless --insecure-loopback on a loopback host."""
    if key is not None:
        return
    if not config.insecure_loopback:
        raise RobotError("refusing to serve without a robot key: give --key-file (make one with "
                         "`ovmm robot-server --new-key FILE`), or --insecure-loopback for a test on 127.0.0.1")
    if not is_loopback(config.host):
        raise RobotError(f"refusing to listen on {config.host} without a key: --insecure-loopback "
                         "serves 127.0.0.1 only (anyone on the network could drive the robot otherwise)")
