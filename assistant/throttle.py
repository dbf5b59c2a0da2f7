"""Login throttling: failed sign-ins per user name and per client address, with doubling lock-outs.

After ``free_failures`` failed attempts on a key, the key is locked for ``base_delay`` seconds,
then twice as long after each further failure, up to ``max_delay``. A successful sign-in clears
the keys it used. An attempt is counted as a failure when it *starts* (and cleared if it
succeeds), so a burst of parallel attempts cannot all slip past the check before the first one
has been judged: of 200 simultaneous wrong passwords from one address, 5 reach the password check.

Worked example (defaults): failures 1–5 pass; the 5th locks for 1 s; an attempt after that second
passes and locks for 2 s, the next for 4 s, … up to 5 minutes.

The table is bounded: a key's failures are forgotten ``forget_after`` seconds after its last
failure, and beyond ``max_entries`` keys the least recently failed key is dropped.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field


@dataclass(frozen=True)
class ThrottlePolicy:
    free_failures: int = field(default=5, metadata={
        "description": "failed attempts per key before the first lock-out"})
    base_delay: float = field(default=1.0, metadata={
        "description": "seconds of the first lock-out; doubles with each further failure"})
    max_delay: float = field(default=300.0, metadata={
        "description": "cap on one lock-out, so a flood cannot lock a user out for days"})
    forget_after: float = field(default=900.0, metadata={
        "description": "seconds after a key's last failure before its failures are forgotten; "
                       "at least max_delay, so no lock-out is forgotten before it ends"})
    max_entries: int = field(default=10_000, metadata={
        "description": "keys kept at most (memory bound); the least recently failed go first"})

    def __post_init__(self) -> None:
        if self.free_failures < 1 or self.base_delay <= 0 or self.max_delay < self.base_delay:
            raise ValueError("ThrottlePolicy needs free_failures >= 1 and "
                             "0 < base_delay <= max_delay")
        if self.max_entries < 1 or self.forget_after < self.max_delay:
            raise ValueError("ThrottlePolicy needs max_entries >= 1 and forget_after >= max_delay")


@dataclass
class _Entry:
    failures: int = 0
    last_failure: float = 0.0
    locked_until: float = 0.0


class LoginThrottle:
    """Thread-safe failure counts keyed by strings such as ``"user:ann"`` or ``"addr:10.0.0.7"``."""

    def __init__(self, policy: ThrottlePolicy | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy or ThrottlePolicy()
        self._clock = clock
        self._entries: OrderedDict[str, _Entry] = OrderedDict()  # oldest failure first
        self._lock = threading.Lock()

    def begin(self, keys: Iterable[str]) -> float:
        """Start an attempt: 0.0 when it may go ahead (counted as a failure until ``succeeded``),
        else the seconds until the longest lock-out among ``keys`` ends (the attempt is refused and
        not counted, so waiting out a lock-out always works)."""
        keys = list(keys)
        with self._lock:
            now = self._clock()
            self._forget(now)
            wait = max((self._entries[k].locked_until - now for k in keys if k in self._entries),
                       default=0.0)
            if wait > 0:
                return wait
            for key in keys:
                self._fail(key, now)
            return 0.0

    def succeeded(self, keys: Iterable[str]) -> None:
        """A correct password: forget these keys' failures."""
        with self._lock:
            for key in keys:
                self._entries.pop(key, None)

    def failures(self, key: str) -> int:
        with self._lock:
            entry = self._entries.get(key)
            return entry.failures if entry else 0

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)

    def _fail(self, key: str, now: float) -> None:
        entry = self._entries.pop(key, None) or _Entry()
        entry.failures += 1
        entry.last_failure = now
        extra = entry.failures - self.policy.free_failures
        if extra >= 0:
            # min() before the power would overflow: 2**extra grows without bound under a flood
            delay = self.policy.base_delay * 2.0 ** min(extra, 64)
            entry.locked_until = now + min(self.policy.max_delay, delay)
        self._entries[key] = entry  # re-inserted: most recent failure last
        while len(self._entries) > self.policy.max_entries:
            self._entries.popitem(last=False)

    def _forget(self, now: float) -> None:
        """Drop keys whose last failure is ``forget_after`` old; the table is ordered by last
        failure, so the scan stops at the first key still remembered."""
        horizon = now - self.policy.forget_after
        while self._entries:
            key, entry = next(iter(self._entries.items()))
            if entry.last_failure > horizon:
                break
            del self._entries[key]
