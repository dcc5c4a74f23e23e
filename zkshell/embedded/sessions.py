"""Sessions: timeout negotiation, ids, passwords and expiry on the server's own clock.

The rules are SessionTrackerImpl's and ZooKeeperServer's:
- a timeout is clamped to [min, max], by default 2 and 20 ticks;
- ids start at (milliseconds << 24) >>> 8 with the server id (1 for a standalone server) in
  the top byte, and count up from there;
- the password is 16 bytes of java.util.Random seeded with id ^ 0xB3415C00, so it can be
  recomputed rather than stored (ZooKeeperServer.generatePasswd);
- expiry runs in tick buckets (ExpiryQueue): a session touched at t expires at the first
  multiple of tickTime after t + timeout.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

_SUPER_SECRET = 0xB3415C00
_MASK48 = (1 << 48) - 1
_MASK64 = (1 << 64) - 1
STANDALONE_SERVER_ID = 1


def _signed(value: int, bits: int) -> int:
    value &= (1 << bits) - 1
    return value - (1 << bits) if value >> (bits - 1) else value


def java_random_bytes(seed: int, count: int) -> bytes:
    """new java.util.Random(seed).nextBytes(new byte[count])."""
    state = (seed ^ 0x5DEECE66D) & _MASK48
    out = bytearray()
    while len(out) < count:
        state = (state * 0x5DEECE66D + 0xB) & _MASK48
        value = _signed(state >> 16, 32)  # next(32)
        for _ in range(min(4, count - len(out))):
            out.append(value & 0xFF)
            value >>= 8
    return bytes(out)


def session_password(session_id: int) -> bytes:
    return java_random_bytes(session_id ^ _SUPER_SECRET, 16)


def first_session_id(now_ms: int, server_id: int = STANDALONE_SERVER_ID) -> int:
    """SessionTrackerImpl.initializeNextSessionId."""
    base = ((now_ms << 24) & _MASK64) >> 8
    next_id = _signed(base | (server_id << 56), 64)
    return next_id + 1 if next_id == -(1 << 63) else next_id


def monotonic_ms() -> int:
    return time.monotonic_ns() // 1_000_000


class ExpiryBuckets:
    """The bucket times of an ExpiryQueue, as `dump` shows them: a bucket's set stays,
    emptied or not, until its time comes and the expirer takes it away."""

    def __init__(self) -> None:
        self.times: set[int] = set()

    def note(self, at_ms: int, now_ms: int) -> None:
        if at_ms not in self.times:
            self.times = {t for t in self.times if t > now_ms}  # those taken away by now
            self.times.add(at_ms)

    def pending(self, now_ms: int) -> list[int]:
        return sorted(t for t in self.times if t > now_ms)


@dataclass
class Session:
    id: int
    timeout_ms: int
    expires_at_ms: int
    closing: bool = False


class SessionTracker:
    """Live sessions and when each expires; time comes from `clock` (milliseconds)."""

    def __init__(self, tick_time_ms: int, min_timeout_ms: int | None = None,
                 max_timeout_ms: int | None = None,
                 clock: Callable[[], int] = monotonic_ms) -> None:
        self.tick_time_ms = tick_time_ms
        self.min_timeout_ms = min_timeout_ms if min_timeout_ms is not None else 2 * tick_time_ms
        self.max_timeout_ms = max_timeout_ms if max_timeout_ms is not None else 20 * tick_time_ms
        self.clock = clock
        self.sessions: dict[int, Session] = {}
        self._next_id = first_session_id(clock())
        self.buckets = ExpiryBuckets()

    def negotiate(self, asked_ms: int) -> int:
        """ZooKeeperServer.processConnectRequest: asked timeout clamped to [min, max]."""
        return min(max(asked_ms, self.min_timeout_ms), self.max_timeout_ms)

    def _bucket(self, deadline_ms: int) -> int:
        """ExpiryQueue.roundToNextInterval."""
        return (deadline_ms // self.tick_time_ms + 1) * self.tick_time_ms

    def create(self, timeout_ms: int) -> Session:
        session_id, self._next_id = self._next_id, self._next_id + 1
        now = self.clock()
        session = Session(session_id, timeout_ms, self._bucket(now + timeout_ms))
        self.buckets.note(session.expires_at_ms, now)
        self.sessions[session_id] = session
        return session

    def check_password(self, session_id: int, password: bytes) -> bool:
        return session_id != 0 and password == session_password(session_id)

    def touch(self, session_id: int, timeout_ms: int | None = None) -> bool:
        """Move the session's expiry on; False when it is unknown, expired or closing."""
        session = self.sessions.get(session_id)
        if session is None or session.closing:
            return False
        if timeout_ms is not None:
            session.timeout_ms = timeout_ms
        now = self.clock()
        session.expires_at_ms = self._bucket(now + session.timeout_ms)
        self.buckets.note(session.expires_at_ms, now)
        return True

    def is_live(self, session_id: int) -> bool:
        session = self.sessions.get(session_id)
        return session is not None and not session.closing

    def expired(self) -> list[Session]:
        """Sessions whose bucket has passed, marked closing (their closeSession follows)."""
        now = self.clock()
        due = [s for s in self.sessions.values() if not s.closing and s.expires_at_ms <= now]
        for session in due:
            session.closing = True
        return due

    def next_expiry_ms(self) -> int | None:
        live = [s.expires_at_ms for s in self.sessions.values() if not s.closing]
        return min(live) if live else None

    def remove(self, session_id: int) -> None:
        self.sessions.pop(session_id, None)
