"""Robot keys: the CURVE key pairs that authenticate and encrypt robot-server traffic (ZeroMQ CURVE/ZAP).

One key file, made by `ovmm robot-server --new-key`, holds two Curve25519 secret keys (Z85 text):

    # ovmm robot key (CURVE): keep it private (mode 600); copy it to the workstation
    server-secret: <40 characters>
    client-secret: <40 characters>

The robot-server uses the server secret and accepts only peers that prove the client key during the ZMQ
handshake; clients use the client secret and check the server's public key, so they never talk to (or send a
command to) a server without the key. Both machines hold the same file: anyone with it can drive the robot,
so it is created readable by its owner only and refused when group or others can read it.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from core.errors import InputError
from core.io import remove_stale_temps

DEFAULT_KEY_FILE = "~/.ovmm/robot.key"
KEY_FILE_ENV = "OVMM_ROBOT_KEY_FILE"
_HEADER = "# ovmm robot key (CURVE): keep it private (mode 600); copy it to the workstation\n"
_FIELDS = ("server-secret", "client-secret")
_MAX_KEY_FILE_BYTES = 4096


@dataclass(frozen=True)
class RobotKey:
    """Both CURVE secret keys (Z85 bytes, 40 characters) and their public keys."""

    server_secret: bytes
    client_secret: bytes
    source: str = ""

    @property
    def server_public(self) -> bytes:
        import zmq  # noqa: PLC0415 - pyzmq is the robot/client extra

        return zmq.curve_public(self.server_secret)

    @property
    def client_public(self) -> bytes:
        import zmq  # noqa: PLC0415

        return zmq.curve_public(self.client_secret)


def require_curve() -> None:
    """RobotError-free check that the installed libzmq was built with CURVE (libsodium or tweetnacl)."""
    try:
        import zmq  # noqa: PLC0415
    except ImportError as exc:
        raise InputError("the robot bridge needs pyzmq: pip install 'ovmm[robot]' (or 'ovmm[client]')") from exc
    if not zmq.has("curve"):
        raise InputError(f"this libzmq ({zmq.zmq_version()}) was built without CURVE security; install a pyzmq "
                         "wheel from PyPI (they bundle a libzmq with CURVE)")


def default_key_file() -> Path:
    return Path(os.environ.get(KEY_FILE_ENV) or DEFAULT_KEY_FILE).expanduser()


def _curve_secret() -> bytes:
    import zmq  # noqa: PLC0415

    return zmq.curve_keypair()[1]


def key_file_text(key: RobotKey) -> str:
    return (_HEADER + f"server-secret: {key.server_secret.decode('ascii')}\n"
            f"client-secret: {key.client_secret.decode('ascii')}\n")


def new_key() -> RobotKey:
    require_curve()
    return RobotKey(_curve_secret(), _curve_secret())


def write_new_key(path: str | os.PathLike) -> Path:
    """Write a fresh key to `path`, mode 0600 from the moment the file exists; never overwrites a file.

    The text goes to a private temp file (os.open with O_EXCL and mode 0o600) in the same folder, is synced,
    then hard-linked to `path` (which fails if `path` exists), so `path` is either absent or complete. The
    temp is named as core.io names its temps, so temps of killed writes of `path` are removed first.
    """
    target = Path(path).expanduser()
    if target.exists():
        raise InputError(f"{target} already exists; remove it first or choose another file")
    key = new_key()
    target.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    remove_stale_temps(target)
    tmp = target.with_name(f".{target.stem}.{os.getpid()}-{secrets.token_hex(6)}.tmp{''.join(target.suffixes)}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key_file_text(key))
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o600)  # a umask cannot widen it, but make the mode exact
        try:
            os.link(tmp, target)
        except FileExistsError:
            raise InputError(f"{target} already exists; remove it first or choose another file") from None
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return target


def load_key(key_file: str | os.PathLike | None = None) -> RobotKey:
    """The key in `key_file` (default: $OVMM_ROBOT_KEY_FILE or ~/.ovmm/robot.key); InputError if unusable."""
    require_curve()
    path = Path(key_file).expanduser() if key_file else default_key_file()
    try:
        st = path.stat()
    except FileNotFoundError:
        raise InputError(f"no robot key at {path}: make one with `ovmm robot-server --new-key {path}` and copy it "
                         "to the other machine (or give --key-file)") from None
    except OSError as exc:
        raise InputError(f"cannot read the robot key file {path}: {exc.strerror}") from None
    if not stat.S_ISREG(st.st_mode) or st.st_size > _MAX_KEY_FILE_BYTES:
        raise InputError(f"the robot key file {path} is not a key file (not a small regular file)")
    if os.name == "posix" and st.st_mode & 0o077:
        raise InputError(f"the robot key file {path} is readable by others (mode {stat.S_IMODE(st.st_mode):o}); "
                         f"run `chmod 600 {path}`")
    try:
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(f"cannot read the robot key file {path}: {exc}") from None
    return parse_key(text, str(path))


def parse_key(text: str, source: str = "the key") -> RobotKey:
    values: dict[str, bytes] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, value = line.partition(":")
        name, value = name.strip(), value.strip()
        if not sep or name not in _FIELDS:
            raise InputError(f"{source} is not an ovmm robot key (unexpected line {line[:30]!r}); old shared-secret "
                             "keys no longer work: make a new one with `ovmm robot-server --new-key FILE`")
        values[name] = value.encode("ascii")
    missing = [f for f in _FIELDS if f not in values]
    if missing:
        raise InputError(f"{source} lacks {', '.join(missing)}; make a new key with `ovmm robot-server --new-key`")
    import zmq  # noqa: PLC0415

    for name in _FIELDS:
        try:
            zmq.curve_public(values[name])
        except (ValueError, zmq.ZMQError):
            raise InputError(f"{source}: {name} is not a Z85 CURVE key of 40 characters") from None
    return RobotKey(values["server-secret"], values["client-secret"], source)
