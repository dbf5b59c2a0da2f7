"""Folders for the web chat's downloads (answers as Markdown, the register as CSV).

Each server process writes to ``<tmp>/peerqa-exports-<pid>-<random>`` and removes its folders
when it stops (``remove_own``, also run at interpreter exit). A folder left by a process that
died without cleaning up (``kill -9``, a power cut) is removed by the next server to start
(``remove_stale``): only real folders (not symlinks) owned by this user, whose process id names no
running process. A reused process id only makes a stale folder wait for a later start.
"""

from __future__ import annotations

import atexit
import os
import re
import shutil
import stat
import tempfile
import threading
from pathlib import Path

PREFIX = "peerqa-exports-"
_OWN_NAME = re.compile(rf"{re.escape(PREFIX)}(\d+)-[A-Za-z0-9_]+")
_created: list[Path] = []
_lock = threading.Lock()


def new_export_dir() -> Path:
    """A fresh private folder for this process's exports, removed when the process stops."""
    path = Path(tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-"))  # mode 0700
    with _lock:
        if not _created:
            atexit.register(remove_own)
        _created.append(path)
    return path


def remove_own() -> list[Path]:
    """Remove every export folder this process created; returns those removed."""
    with _lock:
        mine, _created[:] = list(_created), []
    for path in mine:
        shutil.rmtree(path, ignore_errors=True)
    return mine


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive
        return True
    return True


def remove_stale(root: Path | None = None) -> list[Path]:
    """Remove export folders under ``root`` (the temp folder) left by processes that are gone."""
    root = Path(root or tempfile.gettempdir())
    removed = []
    try:
        candidates = list(root.glob(f"{PREFIX}*"))
    except OSError:
        return removed
    for path in candidates:
        match = _OWN_NAME.fullmatch(path.name)
        if not match or int(match.group(1)) == os.getpid() or _pid_alive(int(match.group(1))):
            continue
        try:
            info = path.lstat()
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.getuid():
            continue  # a symlink or someone else's folder: never followed, never touched
        shutil.rmtree(path, ignore_errors=True)
        removed.append(path)
    return removed
