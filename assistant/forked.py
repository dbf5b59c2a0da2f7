"""One piece of an ingest run in a forked child process beside the rest.

A re-ingest at 100k chunks spends ~3 s building the BM25 index and ~4 s on the other writes
(standard text, documents, chunks, stored facts), nearly all of it Python holding the GIL: a
second thread only took turns with the first (measured, README "Re-ingest"). A forked child
has its own interpreter and the same memory (copied only where written), so on two cores the
two halves run at once, and the child's arguments (100k texts) are not pickled.

``forked(fn, *args)`` starts ``fn(*args)`` in a child and yields a function to call: it
returns when the child is done and raises what the child raised (its exception is sent back
over a pipe; one that cannot be sent arrives as ``ForkedWorkFailed`` with its text). Leaving
the block early (an error, Ctrl-C) kills the child first, so it writes nothing more; the
parent killed outright (``kill -9``) takes the child with it, so no orphan holds the writer
lock. Where ``fork`` is not the platform's safe default (anything but Linux) or when
``enabled`` is false, ``fn`` runs in this process when that function is called: the same
result, in turn.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from assistant.errors import PeerqaError


class ForkedWorkFailed(PeerqaError):
    """The child process died or failed with an exception that could not be sent back."""


def fork_available() -> bool:
    return sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods()


@contextmanager
def forked(fn: Callable[..., object], *args: object, enabled: bool = True,
           name: str = "ingest-worker") -> Iterator[Callable[[], None]]:
    if not (enabled and fork_available()):
        def in_turn() -> None:
            fn(*args)

        yield in_turn
        return
    context = multiprocessing.get_context("fork")
    receive, send = context.Pipe(duplex=False)
    child = context.Process(target=_run, args=(send, os.getpid(), fn, args), name=name, daemon=True)
    child.start()
    send.close()  # the child holds the only writing end: its death ends the pipe
    waited = False

    def wait_for_child() -> None:
        nonlocal waited
        waited = True
        try:
            failure = receive.recv()
        except EOFError:  # killed (out of memory, a signal) before it could say anything
            failure = ForkedWorkFailed(f"the {name} process stopped without finishing")
        finally:
            receive.close()
            child.join()
        if failure is not None:
            raise failure
        if child.exitcode:
            raise ForkedWorkFailed(f"the {name} process exited with code {child.exitcode}")

    try:
        yield wait_for_child
    finally:
        if not waited:  # left early: the child must not write on into a folder being removed
            child.kill()
            child.join()
            receive.close()


def _run(send, parent: int, fn: Callable[..., object], args: tuple) -> None:
    """In the child: run, then send None or the exception (its text when it cannot be sent)."""
    _die_with(parent)
    try:
        fn(*args)
        failure = None
    except BaseException as exc:  # noqa: BLE001 - everything goes back to the parent
        failure = exc
    try:
        send.send(failure)
    except Exception:  # noqa: BLE001 - an exception that does not pickle
        send.send(ForkedWorkFailed(f"{type(failure).__name__}: {failure}"))
    finally:
        send.close()


def _die_with(parent: int) -> None:
    """Killed by the kernel when the parent dies (``PR_SET_PDEATHSIG``): an ingest killed with
    ``kill -9`` must not leave a child holding its writer lock (inherited) and writing on."""
    import ctypes

    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # the parent died before the request was made
        os._exit(1)
