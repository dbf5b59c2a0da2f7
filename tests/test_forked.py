"""The forked half of an ingest's write (assistant/forked.py): results and failures come back,
leaving early or dying takes the child with it, and an index written with it is the index
written without it, file for file."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from assistant.forked import ForkedWorkFailed, fork_available, forked
from tests.fakes import FakeEmbedder, word_count

ROOT = Path(__file__).resolve().parent.parent
needs_fork = pytest.mark.skipif(not fork_available(), reason="fork is used on Linux only")


def write_after(path: Path, delay: float, text: str) -> None:
    time.sleep(delay)
    path.write_text(text)


class Unpicklable(Exception):
    def __reduce__(self):
        raise TypeError("not this one")


def raise_unpicklable() -> None:
    raise Unpicklable("deep trouble")


@needs_fork
def test_the_work_is_done_in_another_process(tmp_path: Path) -> None:
    out = tmp_path / "pid"
    with forked(lambda: out.write_text(str(os.getpid()))) as wait:
        wait()
    assert out.read_text() != str(os.getpid())


@pytest.mark.parametrize("enabled", [True, False])
def test_the_childs_exception_is_raised_by_wait(enabled: bool) -> None:
    def fail() -> None:
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError, match="No space left") as caught, \
            forked(fail, enabled=enabled) as wait:
        wait()
    assert caught.value.errno == 28  # the exception itself, not a description of it


@needs_fork
def test_an_exception_that_cannot_be_sent_arrives_as_its_text() -> None:
    with pytest.raises(ForkedWorkFailed, match="Unpicklable: deep trouble"), \
            forked(raise_unpicklable) as wait:
        wait()


@needs_fork
def test_a_child_killed_midway_is_a_clear_failure() -> None:
    with pytest.raises(ForkedWorkFailed, match="stopped without finishing"), \
            forked(lambda: os.kill(os.getpid(), signal.SIGKILL), name="BM25") as wait:
        wait()


@needs_fork
def test_leaving_early_kills_the_child_before_it_writes(tmp_path: Path) -> None:
    late = tmp_path / "late"
    with pytest.raises(KeyboardInterrupt), forked(write_after, late, 1.0, "written"):
        raise KeyboardInterrupt
    time.sleep(1.5)
    assert not late.exists()


def test_disabled_runs_in_turn_when_waited_for(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with forked(write_after, out, 0.0, str(os.getpid()), enabled=False) as wait:
        assert not out.exists()  # nothing has run yet
        wait()
    assert out.read_text() == str(os.getpid())


@needs_fork
def test_the_child_dies_with_a_parent_killed_outright(tmp_path: Path) -> None:
    """kill -9 of the ingest must neither leave its child writing on nor keep the index's
    writer lock while the child winds down."""
    from assistant.store import writer_lock

    pid_file, index = tmp_path / "child", tmp_path / "index"
    script = textwrap.dedent(f"""
        import os, time
        from pathlib import Path
        from assistant.forked import forked
        from assistant.store import writer_lock

        def child():
            Path({str(pid_file)!r}).write_text(str(os.getpid()))
            time.sleep(600)

        with writer_lock(Path({str(index)!r})), forked(child) as wait:
            time.sleep(600)
    """)
    parent = subprocess.Popen([sys.executable, "-c", script], cwd=ROOT,
                              env={**os.environ, "PYTHONPATH": str(ROOT)})
    try:
        deadline = time.monotonic() + 60
        while not pid_file.exists() or not pid_file.read_text():
            assert time.monotonic() < deadline, "the child never started"
            time.sleep(0.05)
        child = int(pid_file.read_text())
        parent.kill()
        parent.wait(timeout=30)
        with writer_lock(index):  # the lock went with the parent
            pass
        deadline = time.monotonic() + 30
        while _alive(child):
            assert time.monotonic() < deadline, "the child outlived its parent"
            time.sleep(0.05)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.wait()


def open_files() -> list[str]:
    return [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd")
            if os.path.exists(f"/proc/self/fd/{fd}")]


@needs_fork
def test_a_child_does_not_hold_the_writer_lock(tmp_path: Path) -> None:
    """An flock lasts while any copy of its file is open: a child keeping one would hold the
    index's lock past its parent's death."""
    from assistant.store import writer_lock

    lock, seen = tmp_path / "index" / ".lock", tmp_path / "seen"
    with writer_lock(tmp_path / "index"):
        assert str(lock) in open_files()
        with forked(lambda: seen.write_text("\n".join(open_files()))) as wait:
            wait()
    assert seen.read_text() and str(lock) not in seen.read_text().splitlines()


def _alive(pid: int) -> bool:
    """Running (not a zombie waiting for a reaper)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


def _digests(version: Path) -> dict[str, str]:
    return {str(p.relative_to(version)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(version.rglob("*")) if p.is_file() and p.name != "manifest.json"}


@needs_fork
def test_an_index_written_in_two_processes_equals_one_written_in_turn(tmp_path: Path) -> None:
    """Full build and a re-ingest (words reused from the live index): the same files."""
    import shutil

    from assistant.settings import IndexSettings, Settings
    from assistant.store import live_folder
    from ingest.build import ingest
    from tests.conftest import SEED_CORPUS

    versions = {}
    for parallel in (True, False):
        root = tmp_path / str(parallel)
        shutil.copytree(SEED_CORPUS, root / "corpus")
        settings = Settings(corpus_dir=root / "corpus", index_dir=root / "index", model="fake",
                            index=dataclasses.replace(IndexSettings(), parallel_write=parallel))
        built = []
        for change in ("", "\n\nA paragraph added later about the scrutiny committee's work.\n"):
            if change:
                page = next(p for p in sorted((root / "corpus").iterdir()) if p.suffix == ".txt")
                page.write_text(page.read_text(encoding="utf-8") + change, encoding="utf-8")
            ingest(settings, embedder=FakeEmbedder(), count_tokens=word_count, log=lambda m: None,
                   progress=lambda *event: None)
            built.append(_digests(live_folder(Path(settings.index_dir))))
        versions[parallel] = built
    assert versions[True] == versions[False]
    assert versions[True][0] != versions[True][1]  # the re-ingest did change something
