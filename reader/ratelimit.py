"""Request-rate limits for online speech servers: one process, or every process sharing a Redis.

    bucket = TokenBucket(rate=10)                                  # this process
    bucket = RedisTokenBucket("redis://gpu-box:6379/0", "vnreader:speech:http://gpu-box:8000", rate=10)
    bucket.acquire()        # sleeps until this request may start; returns its start slot

Both are token buckets kept in the GCRA form (one "theoretical arrival time" instead of a
token count and a timestamp): each request reserves the next free slot, ``RATE_MARGIN /
rate`` seconds after the previous one, and sleeps until it. ``burst`` lets that many requests
start at once after a quiet spell (default 1: evenly spaced starts, so any one-second window
holds at most ``rate`` starts — what a server's "N requests per second" means).

``RedisTokenBucket`` keeps the slot in one Redis key, updated by a Lua script (atomic: Redis
runs scripts one at a time) that reads the time from Redis itself, so every worker process
on every machine that shares the Redis URL and key keeps one limit, whatever their clocks
say. One round trip per request; the key expires when the bucket has been idle. ``redis``
is the optional extra ``vnreader[queue]``, imported only when a Redis bucket is made.
"""
from __future__ import annotations

import threading
import time
from typing import Callable, Protocol
from urllib.parse import urlsplit

from reader.errors import EngineUnavailable, UsageError

#: slack added to the spacing, so network jitter never shows the server one request too many
RATE_MARGIN = 1.01


class Limiter(Protocol):
    """What the remote engine needs from a rate limit."""

    def acquire(self) -> float:
        """Wait until one more request may start; return its start slot (seconds, the limiter's clock)."""


def _interval(rate: float) -> float:
    if not rate > 0:
        raise UsageError("rate", f"a rate limit must be more than 0 requests per second, not {rate!r}",
                         fix="write rate = 10 (or 0 in the sources file for no limit)")
    return RATE_MARGIN / rate


class TokenBucket:
    """At most ``rate`` request starts per second in this process, across its threads."""

    def __init__(self, rate: float, *, burst: int = 1, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep):
        self.rate, self.burst = rate, max(1, int(burst))
        self.interval = _interval(rate)
        self._tat = 0.0  # theoretical arrival time of the next request
        self._lock = threading.Lock()
        self._clock, self._sleep = clock, sleep

    def reserve(self) -> tuple[float, float]:
        """(start slot, now) for one request: the slot is never before now."""
        with self._lock:
            now = self._clock()
            tat = max(self._tat, now)
            start = max(now, tat - (self.burst - 1) * self.interval)
            self._tat = tat + self.interval
        return start, now

    def acquire(self) -> float:
        start, now = self.reserve()
        if start > now:
            self._sleep(start - now)
        return start


#: KEYS[1] the bucket; ARGV interval and tolerance in microseconds. Returns {start, now} (µs, Redis time).
_SCRIPT = """
local interval = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local start = tat - tau
if start < now then start = now end
local nxt = tat + interval
redis.call('SET', KEYS[1], string.format('%d', nxt), 'PX', math.floor((nxt - now) / 1000) + 1000)
return {start, now}
"""


def redact(url: str) -> str:
    """``url`` without its password (for messages and logs)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = f"{parts.username or ''}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return parts._replace(netloc=netloc).geturl()


class RedisTokenBucket:
    """At most ``rate`` request starts per second across every process sharing ``url`` and ``key``."""

    def __init__(self, url: str, key: str, rate: float, *, burst: int = 1, clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, client=None):
        self.url, self.key, self.rate, self.burst = url, key, rate, max(1, int(burst))
        self.interval = _interval(rate)
        self._clock, self._sleep = clock, sleep
        self._lock, self._calibrating = threading.Lock(), threading.Lock()
        self._best_rtt, self._offset = float("inf"), 0.0  # Redis time - our clock, from the quickest round trip
        try:
            import redis
        except ImportError as e:
            raise UsageError(f"rate_url {redact(url)}", "the shared rate limit needs the redis package",
                             fix="pip install 'vnreader[queue]', or drop rate_url for a limit per process") from e
        self._errors = (redis.RedisError, OSError)
        try:
            self._redis = client or redis.Redis.from_url(url, socket_timeout=10, socket_connect_timeout=10)
        except ValueError as e:
            raise UsageError(f"rate_url {url!r}", f"not a Redis URL: {e}",
                             fix="write rate_url = \"redis://HOST:6379/0\"") from e
        self._script = self._redis.register_script(_SCRIPT)

    def reserve(self) -> tuple[float, float]:
        """(start slot, now) for one request, in seconds of Redis's clock."""
        args = [round(self.interval * 1e6), round((self.burst - 1) * self.interval * 1e6)]
        try:
            start, now = self._script(keys=[self.key], args=args)
        except self._errors as e:
            raise EngineUnavailable(f"rate_url {redact(self.url)}", f"the shared rate limit cannot be reached: {e}",
                                    fix="start Redis there, or drop rate_url for a limit per process") from e
        return int(start) / 1e6, int(now) / 1e6

    def acquire(self) -> float:
        """Reserve a slot (on Redis's clock) and sleep until it (on ours).

        The two clocks are tied by the offset seen on the quickest round trip so far (as NTP
        does), so a reply that comes back late — a busy machine, a slow network — shortens the
        sleep instead of pushing this request onto the next one's slot, and a request that
        was slow to leave does not wake early.
        """
        if self._best_rtt == float("inf"):
            self._calibrate()
        sent = self._clock()
        start, now = self.reserve()
        back = self._clock()
        offset = self._learn(sent, now, back)
        wait = start - offset - back
        if wait > 0:
            self._sleep(wait)
        return start

    def _learn(self, sent: float, now: float, back: float) -> float:
        """Keep the clock offset of the quickest round trip; return the best offset known."""
        with self._lock:
            if back - sent < self._best_rtt:
                self._best_rtt, self._offset = back - sent, now - (sent + back) / 2
            return self._offset

    def _calibrate(self, rounds: int = 5) -> None:
        """Tie the clocks before the first request, with a few TIME calls (threads wait for it)."""
        with self._calibrating:
            if self._best_rtt != float("inf"):
                return
            for _ in range(rounds):
                sent = self._clock()
                try:
                    seconds, micros = self._redis.time()
                except self._errors as e:
                    raise EngineUnavailable(f"rate_url {redact(self.url)}",
                                            f"the shared rate limit cannot be reached: {e}",
                                            fix="start Redis there, or drop rate_url for a limit per process") from e
                self._learn(sent, seconds + micros / 1e6, self._clock())
