"""Ingest progress: the stages ingest reports, the terminal line, the progress file and its
reading by the web chat (corrupt, hostile or stale files are ignored)."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import socket
import time

import pytest

from assistant.progress import (
    PROGRESS_FILE,
    IngestProgress,
    Progress,
    _Clock,
    describe,
    progress_notice,
    read_progress,
    write_progress,
)
from ingest.build import ingest
from tests.fakes import FakeEmbedder, word_count


class Ticker:
    """A clock the test moves."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_ingest_reports_each_stage_in_order(fake_settings):
    settings = dataclasses.replace(fake_settings, embed_block=40)
    events: list[tuple[str, int, int]] = []
    seen_file: list[bool] = []
    reporter = IngestProgress(settings.index_dir, stream=io.StringIO())

    def record(stage: str, done: int, total: int) -> None:
        reporter(stage, done, total)
        events.append((stage, done, total))
        seen_file.append(read_progress(settings.index_dir) is not None)

    report = ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count,
                    log=lambda m: None, progress=record)
    stages = [e[0] for e in events]
    assert stages == sorted(stages, key=["reading", "embedding", "writing", "done"].index)
    files = len(report.added)
    reading = [e for e in events if e[0] == "reading"]
    assert reading == [("reading", n, files) for n in range(files + 1)]
    embedding = [e for e in events if e[0] == "embedding"]
    chunks = report.chunk_count
    assert embedding[0] == ("embedding", 0, chunks)
    assert embedding[-1] == ("embedding", chunks, chunks)
    assert [d for _, d, _ in embedding] == sorted({*range(0, chunks, 40), chunks})
    assert events[-1] == ("done", 0, 0)
    assert all(seen_file[:-1]) and not seen_file[-1]  # the file lives while ingest runs
    assert not (settings.index_dir / PROGRESS_FILE).exists()


def test_a_failed_ingest_still_reports_done(fake_settings):
    class Broken(FakeEmbedder):
        def embed_passages(self, texts, spans, show_progress=False):
            raise RuntimeError("model broke")

    events = []
    with pytest.raises(RuntimeError):
        ingest(fake_settings, embedder=Broken(), count_tokens=word_count, log=lambda m: None,
               progress=lambda *e: events.append(e))
    assert events[-1] == ("done", 0, 0)


def test_rate_and_time_left_count_from_the_first_work_done():
    tick = Ticker()
    clock = _Clock(tick)
    assert clock.tick("embedding", 0, 1000).rate is None
    tick.t += 30  # the model loads inside the first block: not the pace
    assert clock.tick("embedding", 100, 1000).eta_s is None
    tick.t += 10
    p = clock.tick("embedding", 300, 1000)
    assert p.rate == pytest.approx(20.0) and p.eta_s == pytest.approx(35.0)
    assert describe(p) == "embedding 300 of 1,000 chunks, less than a minute left"
    tick.t += 1
    assert clock.tick("writing", 0, 0).rate is None  # a new stage starts afresh


@pytest.mark.parametrize(("seconds", "text"), [(30, "less than a minute left"),
                                               (125, "about 3 min left"),
                                               (2 * 3600 + 61, "about 2 h 02 min left")])
def test_time_left_wording(seconds, text):
    assert describe(Progress("embedding", 1, 2, eta_s=seconds)).endswith(text)


def test_terminal_gets_one_updating_line_per_stage():
    tick = Ticker()
    out = Terminal()
    report = IngestProgress(None, stream=out, now=tick)
    for done in range(11):
        tick.t += 1
        report("reading", done, 10)
    report("embedding", 0, 5)
    report("done", 0, 0)
    text = out.getvalue()
    assert text.count("\n") == 2  # each stage ends its own line
    assert "\r\x1b[Kreading and cleaning 10 of 10 files (10.0 s)\n" in text
    assert text.endswith("embedding 0 of 5 chunks\n")


def test_without_a_terminal_lines_are_occasional():
    tick = Ticker()
    out = io.StringIO()
    report = IngestProgress(None, stream=out, now=tick)
    for done in range(101):
        tick.t += 1  # 100 s in all: a line at the start, every 30 s, and at the end
        report("embedding", done, 100)
    lines = out.getvalue().splitlines()
    assert "\r" not in out.getvalue() and len(lines) == 5
    assert lines[0] == "embedding 0 of 100 chunks"
    assert lines[-1] == "embedding 100 of 100 chunks (1 min 40 s)"


def _snapshot(**changes) -> Progress:
    now = time.time()
    base = Progress("embedding", 4200, 10000, 40.0, 145.0, os.getpid(), socket.gethostname(),
                    now - 100, now)
    return dataclasses.replace(base, **changes)


def test_the_chat_shows_a_running_ingest(tmp_path):
    assert progress_notice(tmp_path) == ""
    write_progress(tmp_path / PROGRESS_FILE, _snapshot())
    assert progress_notice(tmp_path) == ("**An ingest is running:** embedding 4,200 of 10,000 "
                                         "chunks, about 3 min left.")
    later = read_progress(tmp_path, now=time.time() + 100)
    assert later is not None and later.eta_s == pytest.approx(45, abs=2)  # counted down


@pytest.mark.parametrize("content", [
    b"", b"{not json", b"\xff\xfe", b"[]", b"null", json.dumps({"stage": "embedding"}).encode(),
    json.dumps({**dataclasses.asdict(_snapshot()), "stage": "<script>"}).encode(),
    json.dumps({**dataclasses.asdict(_snapshot()), "done": True}).encode(),
    json.dumps({**dataclasses.asdict(_snapshot()), "done": -1}).encode(),
    json.dumps({**dataclasses.asdict(_snapshot()), "done": 20000}).encode(),
    json.dumps({**dataclasses.asdict(_snapshot()), "eta_s": "soon"}).encode(),
    json.dumps({**dataclasses.asdict(_snapshot()), "updated": None}).encode(),
    b'{"stage": "embedding", "done": 1, "total": 2, "pid": 1, "updated": NaN}',
    b"{" + b'"x": 1, ' * 2000 + b'"stage": "embedding"}',
])
def test_corrupt_or_hostile_progress_files_are_ignored(tmp_path, content):
    (tmp_path / PROGRESS_FILE).write_bytes(content)
    assert read_progress(tmp_path) is None and progress_notice(tmp_path) == ""


def test_stale_progress_is_ignored(tmp_path):
    path = tmp_path / PROGRESS_FILE
    write_progress(path, _snapshot(updated=time.time() - 3600))  # untouched for an hour
    assert read_progress(tmp_path) is None
    write_progress(path, _snapshot())
    assert read_progress(tmp_path, alive=lambda pid: False) is None  # its writer is gone
    assert read_progress(tmp_path, alive=lambda pid: True) is not None
    write_progress(path, _snapshot(host="another-machine"))  # a pid there says nothing here
    assert read_progress(tmp_path, alive=lambda pid: False) is not None


def test_a_fifo_link_or_folder_in_its_place_is_ignored(tmp_path):
    path = tmp_path / PROGRESS_FILE
    os.mkfifo(path)  # opening it would block the web chat
    assert read_progress(tmp_path) is None
    path.unlink()
    path.mkdir()
    assert read_progress(tmp_path) is None
    path.rmdir()
    target = tmp_path / "elsewhere.json"
    write_progress(target, _snapshot())
    path.symlink_to(target)
    assert read_progress(tmp_path) is None


def test_an_unwritable_index_folder_costs_only_the_report(tmp_path):
    missing = tmp_path / "no" / "such" / "folder"
    IngestProgress(missing, stream=io.StringIO())("reading", 0, 1)  # no exception
    assert not missing.exists()
