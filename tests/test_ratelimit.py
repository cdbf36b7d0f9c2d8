"""Token buckets: in one process (a fake clock), and shared over the real Redis on 127.0.0.1:6379 (db 3).

The Redis tests read the start slots the Lua script hands out (Redis's own clock, in µs), with
sleeping turned off, so they check the limit itself, not how fast this machine happens to be.
"""
from __future__ import annotations

import multiprocessing
import socket
import sys
import uuid

import pytest

from reader.errors import EngineUnavailable, UsageError
from reader.ratelimit import RATE_MARGIN, RedisTokenBucket, TokenBucket, redact
from tests.fakes.speech_server import busiest

REDIS = "redis://127.0.0.1:6379/3"


class FakeClock:
    def __init__(self):
        self.now = 1000.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


# ---------------------------------------------------------------- in-process
def test_starts_are_spaced_and_no_second_holds_more_than_the_rate():
    clock = FakeClock()
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    slots = [bucket.acquire() for _ in range(35)]
    assert slots[0] == 1000.0 and clock.slept[0] == pytest.approx(RATE_MARGIN / 10)
    assert all(b - a == pytest.approx(RATE_MARGIN / 10) for a, b in zip(slots, slots[1:]))
    assert busiest(slots) == 10


def test_an_idle_bucket_does_not_bank_starts_beyond_its_burst():
    clock = FakeClock()
    bucket = TokenBucket(5, burst=3, clock=clock, sleep=lambda s: None)
    clock.now += 60  # a quiet minute
    first = [bucket.reserve()[0] for _ in range(5)]
    assert first[:3] == [clock.now] * 3  # the burst starts at once
    assert first[3] == pytest.approx(clock.now + RATE_MARGIN / 5)  # then the rate again
    assert first[4] == pytest.approx(clock.now + 2 * RATE_MARGIN / 5)


def test_threads_share_one_bucket():
    import threading

    clock = FakeClock()
    lock = threading.Lock()
    bucket = TokenBucket(20, clock=clock, sleep=lambda s: None)
    slots: list[float] = []

    def worker():
        for _ in range(25):
            s = bucket.acquire()
            with lock:
                slots.append(s)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    slots.sort()
    assert len(set(slots)) == 100 and busiest(slots) <= 20


@pytest.mark.parametrize("rate", [0, -1], ids=["zero", "negative"])
def test_a_rate_must_be_positive(rate):
    with pytest.raises(UsageError, match="more than 0 requests per second"):
        TokenBucket(rate)


@pytest.mark.parametrize("url, shown", [
    ("redis://127.0.0.1:6379/3", "redis://127.0.0.1:6379/3"),
    ("redis://:s3cret@gpu-box:6380/0", "redis://:***@gpu-box:6380/0"),
    ("redis://worker:s3cret@gpu-box/1", "redis://worker:***@gpu-box/1"),
], ids=["no-password", "password", "user-and-password"])
def test_redact(url, shown):
    assert redact(url) == shown


def test_without_the_redis_package_the_error_says_which_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "redis", None)
    with pytest.raises(UsageError) as e:
        RedisTokenBucket(REDIS, "k", 5)
    assert "vnreader[queue]" in str(e.value)


# ---------------------------------------------------------------- Redis
@pytest.fixture
def key():
    import redis

    name = f"vnreader-test:{uuid.uuid4().hex}:bucket"
    yield name
    redis.Redis.from_url(REDIS).delete(name)


@pytest.mark.distributed
def test_redis_bucket_spaces_slots_by_its_own_clock(key):
    bucket = RedisTokenBucket(REDIS, key, 20, sleep=lambda s: None)
    reserved = [bucket.reserve() for _ in range(30)]
    slots = [start for start, _ in reserved]
    gaps = [b - a for a, b in zip(slots, slots[1:])]
    assert all(g == pytest.approx(RATE_MARGIN / 20, abs=2e-6) for g in gaps)
    assert busiest(slots) <= 20
    assert reserved[0][0] == reserved[0][1]  # a fresh bucket starts the first request now


@pytest.mark.distributed
def test_redis_bucket_key_expires_when_idle(key):
    import redis

    RedisTokenBucket(REDIS, key, 2, sleep=lambda s: None).acquire()
    ttl = redis.Redis.from_url(REDIS).pttl(key)
    assert 0 < ttl <= 1000 + 1000 * RATE_MARGIN / 2 + 10


def _reserve_in_child(url: str, key: str, rate: float, n: int, barrier, out) -> None:
    bucket = RedisTokenBucket(url, key, rate, sleep=lambda s: None)
    barrier.wait()
    out.put([bucket.reserve()[0] for _ in range(n)])


@pytest.mark.distributed
@pytest.mark.slow
def test_two_processes_sharing_redis_keep_one_limit(key):
    ctx = multiprocessing.get_context("spawn")
    barrier, out = ctx.Barrier(2), ctx.Queue()
    procs = [ctx.Process(target=_reserve_in_child, args=(REDIS, key, 10, 15, barrier, out)) for _ in range(2)]
    for p in procs:
        p.start()
    results = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=60)
    slots = sorted(results[0] + results[1])
    assert len(set(slots)) == 30  # no slot handed out twice
    assert busiest(slots) <= 10  # one limit for both, not 10 each
    assert min(b - a for a, b in zip(slots, slots[1:])) == pytest.approx(RATE_MARGIN / 10, abs=2e-6)


@pytest.mark.distributed
def test_unreachable_redis_is_unavailable_without_its_password():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bucket = RedisTokenBucket(f"redis://:s3cret@127.0.0.1:{port}/3", "k", 5)
    with pytest.raises(EngineUnavailable) as e:
        bucket.acquire()
    assert "shared rate limit cannot be reached" in str(e.value) and "s3cret" not in str(e.value)


def test_a_bad_redis_url_is_a_usage_error():
    with pytest.raises(UsageError, match="not a Redis URL"):
        RedisTokenBucket("http://127.0.0.1:6379", "k", 5)
