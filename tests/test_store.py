"""Run state, on SQLite and on PostgreSQL alike: entries found by id, link and canonical URL;
validators; retries; text hashes."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from reader.feeds import FeedEntry
from reader.models import Caption, Document
from pg_support import backend_params
from reader.store import MAX_ATTEMPTS, doc_from_json, doc_to_json, open_store, text_hash

T0 = datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)
DOC = Document(title="Giữ vững địa bàn an toàn", paragraphs=("Sáng 9.1, hội nghị.", "Toàn cảnh hội nghị."),
               lead="Tỉnh Quảng Ninh…", author="LÊ HÀ", published=T0, url="https://baoquangninh.vn/a.html",
               site="baoquangninh", captions=(Caption("Ảnh: hội nghị", 0),))


def entry(n: int, **kw) -> FeedEntry:
    return FeedEntry(entry_id=kw.get("entry_id", f"id-{n}"), link=kw.get("link", f"https://x.vn/{n}.html"),
                     title=f"Tin {n}", published=T0 - timedelta(hours=n))


@pytest.fixture(params=backend_params())
def backend(request):
    return request.param


@pytest.fixture
def store(state_at, backend):
    with open_store(state_at(backend)) as s:
        yield s


def test_document_round_trip():
    assert doc_from_json(doc_to_json(DOC)) == DOC


HASH_CASES = [
    ("same", lambda d: d, True),
    ("nfd-vs-nfc", lambda d: Document(title="Giữ vững địa bàn an toàn".replace("ữ", "ư\u0303"),
                                     paragraphs=d.paragraphs, lead=d.lead), True),
    ("changed-paragraph", lambda d: Document(title=d.title, paragraphs=("Sáng 9.1, hội nghị lớn.", d.paragraphs[1]),
                                            lead=d.lead), False),
    ("changed-lead", lambda d: Document(title=d.title, paragraphs=d.paragraphs, lead="Khác"), False),
    ("metadata-only", lambda d: Document(title=d.title, paragraphs=d.paragraphs, lead=d.lead, author="X"), True),
]


@pytest.mark.parametrize("change, equal", [c[1:] for c in HASH_CASES], ids=[c[0] for c in HASH_CASES])
def test_text_hash_follows_heard_text(change, equal):
    assert (text_hash(change(DOC)) == text_hash(DOC)) is equal


def test_validators_saved_with_entries(store):
    assert store.feed_validators("https://x.vn/rss") == (None, None)
    store.ingest("X", "https://x.vn/rss", [(entry(1), "pending", None), (entry(2), "over-limit", "limit")],
                 '"abc"', "Wed, 26 Jul 2017 13:00:00 GMT", now=T0)
    assert store.feed_validators("https://x.vn/rss") == ('"abc"', "Wed, 26 Jul 2017 13:00:00 GMT")
    assert [e.entry_id for e in store.todo("X")] == ["id-1"]
    assert store.counts() == {"pending": 1, "over-limit": 1}


KNOWN_CASES = [
    ("by-entry-id", dict(entry_id="id-1", url="https://other.vn/"), True),
    ("by-link", dict(entry_id="new", url="https://x.vn/1.html"), True),
    ("by-canonical", dict(entry_id="new", url="https://baoquangninh.vn/a.html"), True),
    ("unknown", dict(entry_id="new", url="https://x.vn/9.html"), False),
]


@pytest.mark.parametrize("query, found", [c[1:] for c in KNOWN_CASES], ids=[c[0] for c in KNOWN_CASES])
def test_known_by_id_link_or_canonical(store, query, found):
    store.ingest("X", "u", [(entry(1), "pending", None)], None, None, now=T0)
    e = store.todo("X")[0]
    store.done(e.id, doc=DOC, guid="g", episode="a.mp3", now=T0)
    assert (store.known(query["entry_id"], query["url"]) is not None) is found


def test_same_article_and_duplicate(store):
    store.ingest("X", "u", [(entry(1), "pending", None), (entry(2), "pending", None)], None, None, now=T0)
    first, second = store.todo("X")
    store.done(first.id, doc=DOC, guid="g", episode="a.mp3", now=T0)
    same = store.same_article(DOC.url, second.id)
    assert same is not None and same.id == first.id
    assert store.same_article(DOC.url, first.id) is None
    assert store.same_article("https://other.vn/copy.html", second.id) is None
    assert store.same_article("https://other.vn/copy.html", second.id, text_hash(DOC)).id == first.id
    store.duplicate(second.id, DOC.url, same)
    assert store.todo("X") == [] and store.counts() == {"done": 1, "duplicate": 1}


def test_failures_retry_then_give_up(store):
    store.ingest("X", "u", [(entry(1), "pending", None)], None, None, now=T0)
    e = store.todo("X")[0]
    statuses = [store.failed(e.id, "HTTP 503") for _ in range(MAX_ATTEMPTS)]
    assert statuses == ["failed"] * (MAX_ATTEMPTS - 1) + ["gave-up"]
    assert store.todo("X") == []


def test_done_between_selects_a_day(store):
    store.ingest("X", "u", [(entry(n), "pending", None) for n in (1, 2, 3)], None, None, now=T0)
    todo = store.todo("X")
    for i, e in enumerate(todo):
        store.done(e.id, doc=DOC, guid=f"g{i}", episode=None, now=T0 + timedelta(hours=10 * i))
    day = store.done_between(["X"], T0, T0 + timedelta(hours=12))
    assert [e.guid for e in day] == ["g0", "g1"]
    assert day[0].doc == DOC
    assert store.done_between(["Y"], T0, T0 + timedelta(days=9)) == []


def test_rerender_keeps_first_render_time(store):
    store.ingest("X", "u", [(entry(1), "pending", None)], None, None, now=T0)
    e = store.todo("X")[0]
    store.done(e.id, doc=DOC, guid="g", episode="a.mp3", now=T0)
    store.done(e.id, doc=DOC, guid="g", episode="b.mp3", now=T0 + timedelta(days=1), keep_done_at=True)
    (r,) = store.rendered("X")
    assert r.episode == "b.mp3" and r.done_at == T0


def test_state_survives_reopen(state_at, backend):
    path = state_at(backend)
    with open_store(path) as s:
        s.ingest("X", "u", [(entry(1), "pending", None)], '"e"', None, now=T0)
    with open_store(path) as s:
        assert s.feed_validators("u") == ('"e"', None) and len(s.todo("X")) == 1
