"""Claims on SQLite and PostgreSQL: concurrent workers never get the same entry; leases expire;
an outcome whose lease someone else took is refused (ClaimLostError) and changes nothing."""
from __future__ import annotations

import multiprocessing
from datetime import datetime, timedelta, timezone

import pytest

from pg_support import backend_params
from reader.errors import ClaimLostError
from reader.feeds import FeedEntry
from reader.models import Document
from reader.store import RUN_WORKER_PREFIX, open_store

T0 = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)
DOC = Document(title="Tin", paragraphs=("Sáng 9.1, hội nghị.",), url="https://x.vn/a.html", site="x")
WORKERS = 8
ENTRIES = 120


@pytest.fixture(params=backend_params())
def backend(request):
    return request.param


def entries(n: int) -> list[tuple]:
    return [(FeedEntry(entry_id=f"id-{i}", link=f"https://x.vn/{i}.html", title=f"Tin {i}",
                       published=T0 - timedelta(minutes=i)), "pending", None) for i in range(n)]


def fill(where, n: int, source: str = "X") -> None:
    with open_store(where) as s:
        s.ingest(source, "https://x.vn/rss", entries(n), None, None, now=T0)


def _claimer(where, worker: str, start, out) -> None:
    """One worker process: claim one entry at a time and finish it, until none is left."""
    got = []
    with open_store(where) as s:
        start.wait()
        while batch := s.claim("X", worker, 60, limit=1):
            for e in batch:
                got.append(e.id)
                s.done(e.id, doc=DOC, guid=f"g-{e.id}", episode=None, worker=worker)
    out.put((worker, got))


def test_concurrent_workers_never_claim_an_entry_twice(state_at, backend):
    where = state_at(backend)
    fill(where, ENTRIES)
    ctx = multiprocessing.get_context("fork")
    start, out = ctx.Event(), ctx.Queue()
    procs = [ctx.Process(target=_claimer, args=(where, f"w{i}", start, out)) for i in range(WORKERS)]
    for p in procs:
        p.start()
    start.set()
    results = dict(out.get(timeout=120) for _ in procs)
    for p in procs:
        p.join(timeout=60)
        assert p.exitcode == 0
    claimed = [i for got in results.values() for i in got]
    assert len(claimed) == len(set(claimed)) == ENTRIES  # each entry exactly once
    with open_store(where) as s:
        assert s.counts() == {"done": ENTRIES}
        assert s.todo("X") == []


def test_claim_takes_the_todo_order_and_the_limit(state_at, backend):
    where = state_at(backend)
    fill(where, 5)
    with open_store(where) as s:
        first = s.claim("X", "a", 60, now=T0, limit=2)
        assert [e.entry_id for e in first] == ["id-0", "id-1"]  # newest first, like todo()
        assert all(e.claimed_by == "a" and e.claim_until == T0 + timedelta(seconds=60) for e in first)
        rest = s.claim("X", "b", 60, now=T0)
        assert [e.entry_id for e in rest] == ["id-2", "id-3", "id-4"]
        assert s.claim("X", "c", 60, now=T0) == []
        assert s.claim("Y", "c", 60, now=T0) == []


def test_claim_by_ids_only_those(state_at, backend):
    where = state_at(backend)
    fill(where, 3)
    with open_store(where) as s:
        ids = [e.id for e in s.todo("X")]
        assert [e.id for e in s.claim("X", "a", 60, now=T0, ids=[ids[2]])] == [ids[2]]
        assert s.claim("X", "b", 60, now=T0, ids=[ids[2]]) == []  # a holds it
        assert s.claim("X", "b", 60, now=T0, ids=[]) == []


def test_expired_lease_is_claimable_again(state_at, backend):
    where = state_at(backend)
    fill(where, 1)
    with open_store(where) as s:
        (e,) = s.claim("X", "dead", 60, now=T0)
        assert s.claim("X", "b", 60, now=T0 + timedelta(seconds=59)) == []
        (again,) = s.claim("X", "b", 60, now=T0 + timedelta(seconds=60))
        assert again.id == e.id and again.claimed_by == "b"


def test_finishing_a_taken_over_entry_raises_and_keeps_the_new_holder(state_at, backend):
    where = state_at(backend)
    fill(where, 1)
    with open_store(where) as s:
        (e,) = s.claim("X", "slow", 60, now=T0)
        s.claim("X", "fast", 60, now=T0 + timedelta(minutes=5))
        with pytest.raises(ClaimLostError, match="fast"):
            s.done(e.id, doc=DOC, guid="slow", episode="slow.mp3", worker="slow")
        with pytest.raises(ClaimLostError):
            s.failed(e.id, "HTTP 503", worker="slow")
        with pytest.raises(ClaimLostError):
            s.duplicate(e.id, DOC.url, e, worker="slow")
        (still,) = s.todo("X")
        assert (still.status, still.attempts, still.claimed_by, still.episode) == ("pending", 0, "fast", None)
        s.done(e.id, doc=DOC, guid="fast", episode="fast.mp3", worker="fast")
        (r,) = s.rendered("X")
        assert (r.guid, r.episode, r.claimed_by) == ("fast", "fast.mp3", None)


def test_an_expired_lease_nobody_took_can_still_finish(state_at, backend):
    where = state_at(backend)
    fill(where, 1)
    with open_store(where) as s:
        (e,) = s.claim("X", "slow", 60, now=T0)
        s.done(e.id, doc=DOC, guid="g", episode="a.mp3", worker="slow")  # late, but nobody took it
        assert s.counts() == {"done": 1}


def test_a_failed_entry_stays_with_its_worker_until_released(state_at, backend):
    where = state_at(backend)
    fill(where, 1)
    with open_store(where) as s:
        (e,) = s.claim("X", "a", 60, now=T0)
        assert s.failed(e.id, "HTTP 503", worker="a") == "failed"
        assert s.claim("X", "a", 60, now=T0) == []  # not again in the same run
        assert s.claim("X", "b", 60, now=T0) == []
        assert s.release("a") == 1
        (again,) = s.claim("X", "b", 60, now=T0)
        assert again.attempts == 1


def test_release_runs_drops_only_runs_leases(state_at, backend):
    where = state_at(backend)
    fill(where, 2)
    with open_store(where) as s:
        s.claim("X", RUN_WORKER_PREFIX + "host:1:dead", 3600, now=T0, limit=1)
        s.claim("X", "queue-worker-1", 3600, now=T0, limit=1)
        assert s.release_runs() == 1
        (free,) = s.claim("X", "c", 60, now=T0)
        assert free.entry_id == "id-0"


def test_a_lease_must_be_positive(state_at, backend):
    with open_store(state_at(backend)) as s, pytest.raises(ValueError):
        s.claim("X", "a", 0)
