"""ZMQ sockets of the robot bridge: CURVE-encrypted, ZAP-authenticated, size-, frame- and connection-limited.

The server is a ROUTER socket (each reply is addressed to the connection that asked, so one peer's garbage
or disconnect cannot cost another peer its reply) with the CURVE server role; a ZAP handler
(pyzmq's `zmq.auth.thread.ThreadAuthenticator`) admits only peers that prove the client key of the robot key
during the handshake. Before that handshake completes a peer can send only ZMTP handshake commands: libzmq
drops the connection on a frame over ZMQ_MAXMSGSIZE, on a failed handshake, or when the handshake takes
longer than `handshake_s`; so an unauthenticated peer costs at most one bounded frame buffer, for at most
`handshake_s`. A monitor caps the number of open TCP connections (`max_connections`): connections beyond
it are shut down as soon as they are accepted.

Without a key (`insecure_loopback`) the sockets use ZMQ's NULL mechanism: no authentication, no
encryption; servers allow it only on a loopback address.
"""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
from dataclasses import dataclass

from core.errors import RobotError
from robots.keys import RobotKey, require_curve

log = logging.getLogger(__name__)

ZAP_DOMAIN = "ovmm-robot"


@dataclass
class SocketLimits:
    max_frame_bytes: int = 256 << 10  # ZMQ_MAXMSGSIZE: larger frames drop the connection
    max_connections: int = 64  # open TCP connections (authenticated or not)
    handshake_s: float = 2.0  # ZMQ_HANDSHAKE_IVL: unauthenticated connections are dropped after this


def raise_fd_limit(target: int = 65536) -> int:
    """Raise the soft open-file limit towards the hard limit (idle peers must not exhaust 1,024 fds)."""
    try:
        import resource  # noqa: PLC0415 - POSIX only
    except ImportError:
        return -1
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = target if hard == resource.RLIM_INFINITY else min(target, hard)
    if soft != resource.RLIM_INFINITY and soft < want:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
            soft = want
    return soft


class _ClientKeyCheck:
    """ZAP credentials provider: the one client public key of the robot key."""

    def __init__(self, client_public: bytes) -> None:
        self.client_public = client_public
        self.refused = 0

    def callback(self, domain: str, key: bytes) -> bool:
        ok = key == self.client_public
        if not ok:
            self.refused += 1
            log.warning("refused a peer whose CURVE key is not this robot's client key")
        return ok


class ServerTransport:
    """The bound ROUTER socket with its authenticator and connection monitor."""

    def __init__(self, key: RobotKey | None, limits: SocketLimits) -> None:
        self.key = key
        self.limits = limits
        self.ctx = None
        self.sock = None
        self.port = 0
        self.auth = None
        self._keycheck: _ClientKeyCheck | None = None
        self._monitor_thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._open_fds: set[int] = set()
        self.connections_refused = 0

    @property
    def auth_refused(self) -> int:
        return self._keycheck.refused if self._keycheck else 0

    @property
    def open_connections(self) -> int:
        return len(self._open_fds)

    def bind(self, host: str, port: int):
        import zmq  # noqa: PLC0415

        if self.key is not None:
            require_curve()
        raise_fd_limit()
        # Two I/O threads: encrypting one client's camera frame (3 MB) does not hold up another's small reply.
        self.ctx = zmq.Context(io_threads=2)
        sock = self.ctx.socket(zmq.ROUTER)
        sock.setsockopt(zmq.LINGER, 0)
        sock.setsockopt(zmq.ROUTER_MANDATORY, 1)  # a reply to a vanished peer raises instead of vanishing
        sock.setsockopt(zmq.ROUTER_HANDOVER, 1)  # a client's reconnect keeps its routing id (its motion)
        sock.setsockopt(zmq.MAXMSGSIZE, self.limits.max_frame_bytes)
        sock.setsockopt(zmq.HANDSHAKE_IVL, max(1, int(self.limits.handshake_s * 1000)))
        sock.setsockopt(zmq.SNDTIMEO, 1000)
        sock.setsockopt(zmq.RCVHWM, 64)
        sock.setsockopt(zmq.SNDHWM, 64)
        if self.key is not None:
            from zmq.auth.thread import ThreadAuthenticator  # noqa: PLC0415

            self.auth = ThreadAuthenticator(self.ctx, log=logging.getLogger("robots.transport.zap"))
            self.auth.start()
            self._keycheck = _ClientKeyCheck(self.key.client_public)
            self.auth.configure_curve_callback(domain=ZAP_DOMAIN, credentials_provider=self._keycheck)
            sock.setsockopt(zmq.ZAP_DOMAIN, ZAP_DOMAIN.encode())
            sock.setsockopt(zmq.CURVE_SERVER, 1)
            sock.setsockopt(zmq.CURVE_SECRETKEY, self.key.server_secret)
            sock.setsockopt(zmq.CURVE_PUBLICKEY, self.key.server_public)
        bracket = f"[{host}]" if ":" in host else host
        if ":" in host:
            sock.setsockopt(zmq.IPV6, 1)
        monitor = sock.get_monitor_socket(zmq.EVENT_ACCEPTED | zmq.EVENT_DISCONNECTED | zmq.EVENT_CLOSED)
        try:
            if port == 0:
                self.port = sock.bind_to_random_port(f"tcp://{bracket}")
            else:
                sock.bind(f"tcp://{bracket}:{port}")
                self.port = port
        except zmq.ZMQError as exc:
            monitor.close(0)
            sock.close(0)
            self.close()
            raise RobotError(f"cannot listen on tcp://{bracket}:{port}: {exc}") from exc
        self.sock = sock
        self._stop.clear()
        self._monitor_thread = threading.Thread(target=self._monitor_loop, args=(monitor,), name="robot-conn-limit",
                                                daemon=True)
        self._monitor_thread.start()
        return sock

    # --- connection limit ---

    def _is_ours(self, fd: int) -> bool:
        """Whether fd is (still) a TCP connection accepted on our port (guards against a reused fd number)."""
        try:
            s = socket.socket(fileno=fd)
        except OSError:
            return False
        try:
            return s.type == socket.SOCK_STREAM and s.getsockname()[1] == self.port
        except OSError:
            return False
        finally:
            s.detach()

    def _shut(self, fd: int) -> None:
        s = socket.socket(fileno=fd)
        try:
            s.shutdown(socket.SHUT_RDWR)  # libzmq sees the connection end and closes it itself
        except OSError:
            pass
        finally:
            s.detach()

    def _monitor_loop(self, monitor) -> None:
        import zmq  # noqa: PLC0415
        from zmq.utils.monitor import recv_monitor_message  # noqa: PLC0415

        try:
            while not self._stop.is_set():
                if not monitor.poll(100):
                    continue
                try:
                    event = recv_monitor_message(monitor)
                except zmq.ZMQError:
                    break
                fd = int(event.get("value", -1))
                if event["event"] == zmq.EVENT_ACCEPTED:
                    self._open_fds = {f for f in self._open_fds if self._is_ours(f)}
                    if len(self._open_fds) >= self.limits.max_connections and self._is_ours(fd):
                        self.connections_refused += 1
                        if self.connections_refused in (1, 10, 100, 1000) or self.connections_refused % 10000 == 0:
                            log.warning("connection limit (%d) reached: closed %d new connection(s) so far",
                                        self.limits.max_connections, self.connections_refused)
                        self._shut(fd)
                    else:
                        self._open_fds.add(fd)
                elif event["event"] in (zmq.EVENT_DISCONNECTED, zmq.EVENT_CLOSED):
                    self._open_fds.discard(fd)
        finally:
            monitor.close(0)

    def close(self) -> None:
        self._stop.set()
        if self.sock is not None:
            with contextlib.suppress(Exception):
                self.sock.disable_monitor()
        if self._monitor_thread is not None:
            self._monitor_thread.join(timeout=2.0)
            self._monitor_thread = None
        if self.sock is not None:
            self.sock.close(0)
            self.sock = None
        if self.auth is not None:
            self.auth.stop()
            self.auth = None
        if self.ctx is not None:
            self.ctx.term()
            self.ctx = None


def client_socket(ctx, key: RobotKey | None, max_reply_bytes: int, handshake_s: float = 5.0):
    """A REQ socket set up for the server's key (CURVE client) or, without a key, the NULL mechanism."""
    import secrets  # noqa: PLC0415

    import zmq  # noqa: PLC0415

    sock = ctx.socket(zmq.REQ)
    sock.setsockopt(zmq.LINGER, 0)
    sock.setsockopt(zmq.MAXMSGSIZE, max_reply_bytes)
    sock.setsockopt(zmq.HANDSHAKE_IVL, max(1, int(handshake_s * 1000)))
    sock.setsockopt(zmq.ROUTING_ID, b"ovmm-" + secrets.token_bytes(8))  # the server's owner of a motion
    # A missed reply does not force a new connection (which a flood could keep out): the socket may send
    # again, and replies carry a request id so a late reply to an earlier request is dropped.
    sock.setsockopt(zmq.REQ_RELAXED, 1)
    sock.setsockopt(zmq.REQ_CORRELATE, 1)
    if key is not None:
        require_curve()
        sock.setsockopt(zmq.CURVE_SERVERKEY, key.server_public)
        sock.setsockopt(zmq.CURVE_PUBLICKEY, key.client_public)
        sock.setsockopt(zmq.CURVE_SECRETKEY, key.client_secret)
    return sock
