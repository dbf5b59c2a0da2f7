"""The login file for ``peerqa serve --auth-file``: names and salted scrypt password hashes.

Format (JSON, mode 0600)::

    {"format": 1, "users": {"alice": {"salt": "<hex>", "hash": "<hex>", "n": 16384, "r": 8, "p": 1}}}
"""

from __future__ import annotations

import getpass
import hashlib
import hmac
import json
import os
import re
import secrets
import stat
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from assistant.errors import PeerqaError, UsageError

FORMAT = 1
MIN_PASSWORD = 8
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")
_N, _R, _P = 2**14, 8, 1  # scrypt cost: ~16 MB and a few tens of ms per check


class UsersFileError(PeerqaError):
    exit_code = 2


@dataclass(frozen=True)
class UserRecord:
    salt: bytes
    hash: bytes
    n: int = _N
    r: int = _R
    p: int = _P


Users = dict[str, UserRecord]


def hash_password(password: str, salt: bytes, n: int = _N, r: int = _R, p: int = _P) -> bytes:
    return hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, maxmem=64 * 1024 * 1024,
                          dklen=32)


def new_record(password: str) -> UserRecord:
    salt = secrets.token_bytes(16)
    return UserRecord(salt=salt, hash=hash_password(password, salt))


def check_password(users: Users, name: str, password: str) -> bool:
    """True when ``password`` is ``name``'s. Unknown names cost the same hash (no timing oracle)."""
    record = users.get(name)
    if record is None:
        hash_password(password, b"\0" * 16)
        return False
    candidate = hash_password(password, record.salt, record.n, record.r, record.p)
    return hmac.compare_digest(candidate, record.hash)


def make_auth(users: Users) -> Callable[[str, str], bool]:
    """The callable ``gr.Blocks.launch(auth=...)`` expects."""
    return lambda name, password: check_password(users, name or "", password or "")


MAX_FILE_BYTES = 1_000_000  # ~5,000 users; a bigger file is a mistake, not a users file
MAX_MEMORY = 64 * 1024 * 1024  # scrypt's maxmem in hash_password
_COST_LIMITS = {"n": (2**12, 2**20), "r": (1, 32), "p": (1, 16)}


def _read_json(path: Path, fix: str) -> object:
    """The parsed file, bounded in size and nesting; any problem is one UsersFileError."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):  # a FIFO or device would block or never end
            raise UsersFileError(f"{path} is not a regular file, so not a peerqa users file. {fix}")
        with open(path, "rb") as handle:
            raw = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError:
        raise UsersFileError(f"No users file at {path}. {fix}") from None
    except OSError as exc:
        raise UsersFileError(f"Cannot read users file {path} ({exc.__class__.__name__}).") from None
    if len(raw) > MAX_FILE_BYTES:
        raise UsersFileError(f"{path} is over {MAX_FILE_BYTES:,} bytes, so not a peerqa users "
                             f"file. {fix}")
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        raise UsersFileError(f"{path} is not UTF-8 text, so not a peerqa users file. {fix}"
                             ) from None
    except RecursionError:  # e.g. 100,000 nested brackets
        raise UsersFileError(f"{path} is nested too deeply, so not a peerqa users file. {fix}"
                             ) from None
    except ValueError:
        raise UsersFileError(f"{path} is not valid JSON, so not a peerqa users file. {fix}") from None


def _cost(rec: dict, key: str, default: int) -> int:
    value = rec.get(key, default)
    low, high = _COST_LIMITS[key]
    power = key == "n"  # OpenSSL refuses any other n
    if (type(value) is not int or not low <= value <= high  # bool and float are not accepted
            or (power and value & (value - 1))):
        kind = "a power of two" if power else "a whole number"
        raise ValueError(f"scrypt {key} must be {kind} from {low} to {high}, not {value!r}")
    return value


def _hex(rec: dict, key: str, size: int, exact: bool) -> bytes:
    value = rec.get(key)
    try:
        data = bytes.fromhex(value) if isinstance(value, str) else b""
    except ValueError:
        data = b""
    if len(data) < size or (exact and len(data) != size):
        raise ValueError(f"{key} must be hex of {'' if exact else 'at least '}{size} bytes")
    return data


def _record(name: object, rec: object) -> UserRecord:
    """One validated record, or ValueError saying which field is wrong."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError("a name is 1–64 letters, digits, '.', '_', '@' or '-'")
    if not isinstance(rec, dict):
        raise ValueError("the record is not an object")
    n, r, p = _cost(rec, "n", _N), _cost(rec, "r", _R), _cost(rec, "p", _P)
    if n >= 2 ** (16 * r):  # RFC 7914's bound, which OpenSSL enforces
        raise ValueError(f"scrypt n must be below 2**{16 * r} when r={r}")
    if 129 * n * r > MAX_MEMORY:  # OpenSSL needs ~128·n·r bytes (plus a little)
        raise ValueError(f"scrypt n={n}, r={r} needs more than {MAX_MEMORY // 2**20} MB")
    salt, digest = _hex(rec, "salt", 8, exact=False), _hex(rec, "hash", 32, exact=True)
    return UserRecord(salt=salt, hash=digest, n=n, r=r, p=p)


def load_users(path: Path) -> Users:
    """Read and validate a users file; any problem is one UsersFileError sentence saying what to
    do, here at start-up rather than as an HTTP 500 at the first login."""
    fix = f"Create it with `peerqa users add NAME --file {path}`."
    data = _read_json(path, fix)
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(
            data.get("users"), dict):
        raise UsersFileError(f"{path} is not a peerqa users file (bad structure). {fix}")
    users: Users = {}
    for name, rec in data["users"].items():
        try:
            users[name] = _record(name, rec)
        except ValueError as exc:
            user = f"user {str(name)[:40]!r}"
            raise UsersFileError(f"{path} is not a peerqa users file ({user}: {exc}). "
                                 f"Re-add that user with `peerqa users add NAME --file {path}`."
                                 ) from None
    if not users:
        raise UsersFileError(f"{path} lists no users. Add one with "
                             f"`peerqa users add NAME --file {path}`.")
    return users


def save_users(path: Path, users: Users) -> None:
    """Write atomically (temp file in the same folder, then os.replace), readable by the owner only."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = {"format": FORMAT, "users": {
        name: {"salt": rec.salt.hex(), "hash": rec.hash.hex(), "n": rec.n, "r": rec.r, "p": rec.p}
        for name, rec in sorted(users.items())}}
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)  # mkstemp creates it 0600
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(payload, handle, indent=2)
            handle.write("\n")
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def add_user(path: Path, name: str, password: str) -> None:
    """Add ``name`` or replace their password."""
    if not _NAME.fullmatch(name or ""):
        raise UsageError("User names are 1–64 letters, digits, '.', '_', '@' or '-', starting "
                         "with a letter or digit.")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"The password must be at least {MIN_PASSWORD} characters long.")
    users = load_users(path) if Path(path).exists() else {}
    users[name] = new_record(password)
    save_users(path, users)


def add_user_interactive(path: Path, name: str) -> int:
    """``peerqa users add NAME``: ask for the password twice (not echoed) and save it."""
    try:
        first = getpass.getpass(f"Password for {name}: ")
        second = getpass.getpass("Repeat the password: ")
    except (EOFError, KeyboardInterrupt):
        print("\npeerqa: cancelled; nothing saved.", file=sys.stderr)
        return 1
    if first != second:
        print("peerqa: the passwords differ; nothing saved.", file=sys.stderr)
        return 2
    existed = Path(path).exists()
    add_user(path, name, first)  # UsageError / UsersFileError reach the CLI as one line
    print(f"{'Updated' if existed else 'Created'} {path}: user {name!r} saved "
          "(file readable by you only).", file=sys.stderr)
    return 0
