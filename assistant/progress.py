"""Progress of a long ingest: in the terminal, and in a small file the web chat reads.

Ingest calls a ``ProgressFn`` with ``(stage, done, total)`` as it goes — ``reading`` (files
read, cleaned and chunked), ``embedding`` (chunks), ``writing`` (the index; no count) — and
``done`` last, also when it fails. ``IngestProgress`` keeps ``<index>/.ingest-progress.json``
up to date, written atomically and removed at the end, and, given a stream (``peerqa ingest``
passes stderr), turns the calls into one updating line on a terminal (a line now and then
otherwise) with the rate and time left. ``read_progress`` reads that file for the web chat
and ignores anything it cannot trust: a missing, oversized, corrupt or stale file (its
writer's process is gone, or it has not been touched for ``STALE_AFTER_S``) gives None,
never an error.
"""

from __future__ import annotations

import json
import math
import os
import socket
import stat
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import TextIO

ProgressFn = Callable[[str, int, int], None]

PROGRESS_FILE = ".ingest-progress.json"
STAGES = {"reading": ("reading and cleaning", "files"), "embedding": ("embedding", "chunks"),
          "writing": ("writing the index", "")}
DONE = "done"
STALE_AFTER_S = 900.0  # writing a 100k-chunk index can go minutes without an update
MAX_FILE_BYTES = 4096
MAX_COUNT = 10**9
FILE_EVERY_S = 1.0  # at most one file write a second (and at every change of stage)
TTY_EVERY_S = 0.2
LINE_EVERY_S = 30.0  # without a terminal: a line per stage, then one every this often


def no_progress(stage: str, done: int, total: int) -> None:
    """A ProgressFn that reports nothing."""


@dataclass(frozen=True)
class Progress:
    """A snapshot of one ingest: what it is doing, how far, how fast."""

    stage: str
    done: int
    total: int
    rate: float | None = None  # units (files, chunks) per second in this stage
    eta_s: float | None = None
    pid: int = 0
    host: str = ""
    started: float = 0.0  # epoch seconds: when this stage began
    updated: float = 0.0  # epoch seconds: this snapshot


def describe(progress: Progress) -> str:
    """ "embedding 4,200 of 10,000 chunks, about 2 min left" """
    label, unit = STAGES.get(progress.stage, (progress.stage, ""))
    if not progress.total:
        return label
    text = f"{label} {progress.done:,} of {progress.total:,}{' ' + unit if unit else ''}"
    if progress.eta_s is not None and progress.done < progress.total:
        text += f", {time_left(progress.eta_s)}"
    return text


def time_left(seconds: float) -> str:
    if seconds < 60:
        return "less than a minute left"
    minutes = math.ceil(seconds / 60)
    if minutes < 90:
        return f"about {minutes} min left"
    return f"about {minutes // 60} h {minutes % 60:02d} min left"


def elapsed(seconds: float) -> str:
    """ "4.2 s", "2 min 05 s" """
    if seconds < 60:
        return f"{seconds:.1f} s"
    minutes, rest = divmod(round(seconds), 60)
    return f"{minutes} min {rest:02d} s"


class _Clock:
    """Rate and time left per stage, from the calls so far: the rate is measured from the
    stage's first call with work done, so a slow start (the model loading inside the first
    embedding block) does not count as the pace."""

    def __init__(self, now: Callable[[], float] = time.time) -> None:
        self.now = now
        self.stage = ""
        self.started = 0.0
        self.anchor: tuple[float, int] | None = None

    def tick(self, stage: str, done: int, total: int) -> Progress:
        t = self.now()
        if stage != self.stage:
            self.stage, self.started, self.anchor = stage, t, None
        rate = eta = None
        if self.anchor is None and done > 0:
            self.anchor = (t, done)
        elif self.anchor is not None and done > self.anchor[1] and t > self.anchor[0]:
            rate = (done - self.anchor[1]) / (t - self.anchor[0])
            eta = max(0.0, (total - done) / rate)
        return Progress(stage, done, total, rate, eta, os.getpid(), socket.gethostname(),
                        self.started, t)


class IngestProgress:
    """A ProgressFn: the progress file in ``index_dir`` and, given a ``stream`` (the command
    line passes stderr), the terminal line. Ingest's default has no stream: a program calling
    ingest prints only what it chooses to."""

    def __init__(self, index_dir: Path | None, stream: TextIO | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.path = Path(index_dir) / PROGRESS_FILE if index_dir is not None else None
        self.stream = stream
        self.tty = bool(getattr(stream, "isatty", lambda: False)())
        self.clock = _Clock(now)
        self.now = now
        self.last_file = self.last_line = -math.inf
        self.open_line = False  # a TTY line not yet ended with a newline

    def __call__(self, stage: str, done: int, total: int) -> None:
        if stage == DONE:
            self._finish()
            return
        new_stage = stage != self.clock.stage
        snapshot = self.clock.tick(stage, done, total)
        t = self.now()
        if self.path is not None and (new_stage or t - self.last_file >= FILE_EVERY_S
                                      or done >= total):
            write_progress(self.path, snapshot)
            self.last_file = t
        self._print(snapshot, new_stage, t)

    def _print(self, p: Progress, new_stage: bool, t: float) -> None:
        if self.stream is None:
            return
        complete = bool(p.total) and p.done >= p.total
        if complete:
            text = f"{describe(p)} ({elapsed(p.updated - p.started)})"
        else:
            text = describe(p) + (f" ({p.rate:,.0f}/s)" if p.rate else "")
        if self.tty:
            if new_stage and self.open_line:
                self.stream.write("\n")
            if new_stage or complete or t - self.last_line >= TTY_EVERY_S:
                self.stream.write("\r\x1b[K" + text + ("\n" if complete else ""))
                self.open_line = not complete
                self.last_line = t
        elif new_stage or complete or t - self.last_line >= LINE_EVERY_S:
            self.stream.write(text + "\n")
            self.last_line = t
        self.stream.flush()

    def _finish(self) -> None:
        if self.stream is not None and self.tty and self.open_line:
            self.stream.write("\n")
            self.stream.flush()
        self.open_line = False
        if self.path is not None:
            try:
                self.path.unlink()
            except OSError:
                pass


def write_progress(path: Path, progress: Progress) -> None:
    """Replace the progress file atomically; a failure to write costs only the report."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(asdict(progress)), encoding="utf-8")
        os.replace(tmp, path)
    except OSError:
        try:
            tmp.unlink()
        except OSError:
            pass


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but another user's
        return True
    return True


def read_progress(index_dir: Path, now: float | None = None,
                  alive: Callable[[int], bool] = _alive) -> Progress | None:
    """The running ingest's progress, or None (no ingest, or a file that cannot be trusted)."""
    path = Path(index_dir) / PROGRESS_FILE
    try:
        info = os.lstat(path)  # not followed: a link could point at a FIFO or a huge file
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_FILE_BYTES:
            return None
        with open(path, "rb") as handle:
            data = json.loads(handle.read(MAX_FILE_BYTES).decode("utf-8"))
    except (OSError, ValueError):
        return None
    progress = _parse(data)
    if progress is None:
        return None
    now = time.time() if now is None else now
    if now - progress.updated > STALE_AFTER_S:
        return None
    if progress.host == socket.gethostname() and not alive(progress.pid):
        return None
    if progress.eta_s is not None:  # time left as of now, not as of the last write
        since = max(0.0, now - progress.updated)
        progress = replace(progress, eta_s=max(0.0, progress.eta_s - since))
    return progress


def _parse(data: object) -> Progress | None:
    """A Progress from the file's JSON, checked field by field; None when anything is off."""
    if not isinstance(data, dict) or data.get("stage") not in STAGES:
        return None
    counts = [data.get(k) for k in ("done", "total", "pid")]
    if not all(type(v) is int and 0 <= v <= MAX_COUNT for v in counts):
        return None
    done, total, pid = counts
    if done > total and total:
        return None
    numbers = {}
    for key in ("rate", "eta_s", "started", "updated"):
        value = data.get(key)
        if value is not None and (type(value) not in (int, float) or not math.isfinite(value)
                                  or value < 0):
            return None
        numbers[key] = value
    if numbers["updated"] is None:
        return None
    host = data.get("host")
    return Progress(data["stage"], done, total, rate=numbers["rate"], eta_s=numbers["eta_s"],
                    pid=pid, host=host if isinstance(host, str) else "",
                    started=float(numbers["started"] or 0.0), updated=float(numbers["updated"]))


def progress_notice(index_dir: Path) -> str:
    """The web chat's line while an ingest runs ("" when none does)."""
    progress = read_progress(index_dir)
    return f"**An ingest is running:** {describe(progress)}." if progress else ""
