"""render(): cache use, chunking, concurrency, rate limit, retries and the failure policy."""
from __future__ import annotations

import threading

import pytest

from reader.errors import EngineBusy, EngineError, EngineTimeout, EngineUnavailable
from reader.models import Sentence
from reader.tts.cache import ClipCache
from reader.tts.gtts import GttsEngine
from reader.tts.render import CHUNK_PAUSE, RateLimiter, render
from fakes import clear_proxies
from fakes.engines import ToneEngine, tone_pcm
from fakes.google_tts import FakeGoogleTTS

TEXTS = ["Một hai ba.", "Bốn năm sáu bảy.", "Tám chín mười.", "Mười một.", "Mười hai mười ba."]


def sents(texts=TEXTS) -> list[Sentence]:
    return [Sentence(text=t, spoken=t.lower(), paragraph=i // 2) for i, t in enumerate(texts)]


def test_clips_are_a_tuple():
    result = render(sents(), ToneEngine())
    assert isinstance(result.clips, tuple) and len(result.clips) == len(TEXTS)


def test_clips_in_order_with_their_sentences():
    engine = ToneEngine()
    ss = sents()
    result = render(ss, engine)
    assert [c.sentence for c in result.clips] == ss
    assert [c.pcm for c in result.clips] == [tone_pcm(s.spoken) for s in ss]
    assert (result.engine, result.voice, result.synthesized, result.cached) == (engine, "a", 5, 0)
    assert result.fell_back_from is None


def test_cache_makes_a_rerender_speak_only_what_changed(tmp_path):
    cache = ClipCache(tmp_path)
    engine = ToneEngine()
    first = render(sents(), engine, cache=cache)
    changed = TEXTS[:2] + ["Một câu mới."] + TEXTS[3:]
    again = render(sents(changed), engine, cache=cache)
    assert engine.calls == [t.lower() for t in TEXTS] + ["một câu mới."]
    assert (again.synthesized, again.cached) == (1, 4)
    assert [c.pcm for c in again.clips] == [tone_pcm(t.lower()) for t in changed]
    assert again.clips[0].sentence == sents(changed)[0] and first.clips[0].pcm == again.clips[0].pcm


@pytest.mark.parametrize("field, value", [("voice", "b"), ("rate", 1.25), ("pitch", 70.0)],
                         ids=["voice", "rate", "pitch"])
def test_cache_misses_when_settings_change(tmp_path, field, value):
    cache = ClipCache(tmp_path)
    engine = ToneEngine()
    render(sents(), engine, cache=cache)
    result = render(sents(), engine, cache=cache, **{field: value})
    assert (result.synthesized, result.cached) == (5, 0)


def test_cache_misses_for_a_new_engine_version(tmp_path):
    cache = ClipCache(tmp_path)
    render(sents(), ToneEngine(version="1"), cache=cache)
    assert render(sents(), ToneEngine(version="2"), cache=cache).synthesized == 5


def test_long_sentences_are_chunked_and_joined():
    engine = ToneEngine(max_chars=12)
    text = "một hai ba bốn, năm sáu bảy tám chín mười"
    result = render([Sentence(text, text)], engine)
    assert all(len(c) <= 12 for c in engine.calls) and len(engine.calls) > 1
    assert " ".join(engine.calls).split() == text.split()
    gap = b"\0\0" * int(engine.sample_rate * CHUNK_PAUSE)
    assert result.clips[0].pcm == gap.join(tone_pcm(c) for c in engine.calls)
    assert result.synthesized == 1 and result.requests == len(engine.calls)


def test_concurrency_is_bounded_and_order_kept():
    engine = ToneEngine(concurrency=3, delay=0.03)
    texts = [f"câu số {i}." for i in range(12)]
    result = render(sents(texts), engine)
    assert 1 < engine.max_in_flight <= 3
    assert [c.pcm for c in result.clips] == [tone_pcm(t) for t in texts]


def test_concurrency_argument_overrides_the_engine():
    engine = ToneEngine(concurrency=3, delay=0.02)
    render(sents(), engine, concurrency=1)
    assert engine.max_in_flight == 1


def test_rate_limiter_spaces_starts():
    now = [0.0]
    slept: list[float] = []

    def sleep(s):
        slept.append(round(s, 6))

    limiter = RateLimiter(4.0, clock=lambda: now[0], sleep=sleep)
    for _ in range(3):
        limiter.acquire()
    assert slept == [pytest.approx(0.25, rel=0.02), pytest.approx(0.5, rel=0.02)]  # calls 2, 3 wait their slot
    assert slept[0] >= 0.25 and slept[1] >= 0.5  # never sooner than the rate allows
    now[0] = 10.0
    limiter.acquire()
    assert len(slept) == 2  # idle long enough: no wait


@pytest.mark.parametrize("error", [EngineBusy, EngineTimeout], ids=["busy", "timeout"])
def test_retryable_errors_are_retried(error):
    engine = ToneEngine(fail={"tám chín mười.": [error, error]})
    result = render(sents(), engine, backoff=0.001)
    assert engine.calls.count("tám chín mười.") == 3
    assert result.requests == 7 and result.clips[2].pcm == tone_pcm("tám chín mười.")


def test_retries_run_out():
    engine = ToneEngine(fail={"tám chín mười.": [EngineBusy] * 3})
    with pytest.raises(EngineBusy):
        render(sents(), engine, retries=2, backoff=0.001)
    assert engine.calls.count("tám chín mười.") == 3


@pytest.mark.parametrize("error", [EngineError, EngineUnavailable], ids=["error", "unavailable"])
def test_other_errors_are_not_retried(error):
    engine = ToneEngine(fail={"tám chín mười.": [error]})
    with pytest.raises(error):
        render(sents(), engine, backoff=0.001)
    assert engine.calls.count("tám chín mười.") == 1


def test_parallel_failure_stops_the_article():
    engine = ToneEngine(concurrency=4, delay=0.01, fail_always=EngineError)
    with pytest.raises(EngineError):
        render(sents([f"câu {i}." for i in range(40)]), engine)
    assert len(engine.calls) < 40  # pending requests were cancelled


def test_fallback_renders_the_whole_article():
    primary = ToneEngine("primary", voice="p", fail={"mười một.": [EngineUnavailable]})
    backup = ToneEngine("backup", voice="q")
    seen: list[tuple[int, str]] = []
    result = render(sents(), primary, fallback=backup, on_clip=lambda i, c: seen.append((i, c.engine)))
    assert result.engine is backup and result.voice == "q"
    assert {c.engine for c in result.clips} == {"backup"}
    assert [c.pcm for c in result.clips] == [tone_pcm(s.spoken) for s in sents()]
    assert result.fell_back_from == "primary" and isinstance(result.error, EngineUnavailable)
    assert [i for i, e in seen if e == "backup"] == [0, 1, 2, 3, 4]


def test_on_clip_sees_every_sentence_once(tmp_path):
    cache = ClipCache(tmp_path)
    render(sents(TEXTS[:2]), ToneEngine(), cache=cache)
    seen = []
    render(sents(), ToneEngine(concurrency=2), cache=cache, on_clip=lambda i, c: seen.append((i, c.sentence.text)))
    assert sorted(seen) == [(i, t) for i, t in enumerate(TEXTS)]


def test_empty_spoken_text_gives_an_empty_clip():
    engine = ToneEngine()
    result = render([Sentence("—", " "), Sentence("Một.", "một.")], engine)
    assert result.clips[0].pcm == b"" and result.clips[0].sentence.text == "—"
    assert engine.calls == ["một."]


def test_gtts_through_the_fake_with_429s_and_a_dropped_connection(monkeypatch):
    clear_proxies(monkeypatch)
    with FakeGoogleTTS() as google:
        monkeypatch.setattr("gtts.tts._translate_url", google.translate_url)
        google.script = ["429", "drop", "503"]
        long = ("Tỉnh ủy Quảng Ninh tổ chức hội nghị tổng kết công tác năm hai nghìn không trăm hai mươi, "
                "triển khai nhiệm vụ năm hai nghìn không trăm hai mươi mốt.")
        ss = sents(TEXTS) + [Sentence(long, long)]
        result = render(ss, GttsEngine(timeout=5), backoff=0.01)
    assert result.synthesized == 6 and result.requests == len(google.requests)
    assert sorted(google.texts()) == sorted([s.spoken for s in ss[:5]] + ["Tỉnh ủy Quảng Ninh tổ chức hội nghị "
                                            "tổng kết công tác năm hai nghìn không trăm hai mươi,",
                                            "triển khai nhiệm vụ năm hai nghìn không trăm hai mươi mốt."])
    assert all(len(t) <= 100 for t in google.texts(None))
    assert [c.sentence for c in result.clips] == ss
    assert all(c.engine == "gtts" and c.duration > 0.15 for c in result.clips)


def test_unwritable_cache_does_not_fail_the_article(tmp_path):
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    engine = ToneEngine()
    result = render(sents(), engine, cache=ClipCache(blocker))
    assert result.synthesized == 5 and [c.pcm for c in result.clips] == [tone_pcm(s.spoken) for s in sents()]


class _VirtualTimeLimiter(RateLimiter):
    """A RateLimiter on per-thread virtual time: ``sleep`` advances the calling thread's clock.

    Each request start is recorded at its thread's virtual time, so the spacing the limiter
    enforces is measured exactly, whatever the machine's load.
    """

    def __init__(self, per_second, starts: list[float]):
        self._local = threading.local()
        super().__init__(per_second, clock=self._now, sleep=self._sleep)
        self.starts = starts

    def _now(self) -> float:
        return getattr(self._local, "t", 0.0)

    def _sleep(self, seconds: float) -> None:
        self._local.t = self._now() + seconds

    def acquire(self) -> None:
        super().acquire()
        with self._lock:
            self.starts.append(self._now())


def _most_in_window(times: list[float], window: float) -> int:
    times = sorted(times)
    best, lo = 0, 0
    for hi, t in enumerate(times):
        while t - times[lo] >= window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def test_request_starts_are_spaced_to_the_rate_limit_across_threads(monkeypatch):
    starts: list[float] = []
    monkeypatch.setattr("reader.tts.render.RateLimiter", lambda per_second: _VirtualTimeLimiter(per_second, starts))
    engine = ToneEngine(concurrency=6)
    result = render(sents([f"Câu số {i}." for i in range(14)]), engine, concurrency=6, max_rate=10)
    assert result.requests == len(starts) == 14
    gaps = [b - a for a, b in zip(sorted(starts), sorted(starts)[1:])]
    assert min(gaps) >= 0.1  # 6 workers, yet starts come one slot apart
    assert _most_in_window(starts, 1.0) <= 10


def test_rate_limited_gtts_requests_all_reach_the_server(monkeypatch):
    """Functional only: with a rate limit and 6 in flight every sentence is spoken once (timing is tested above)."""
    clear_proxies(monkeypatch)
    with FakeGoogleTTS() as google:
        monkeypatch.setattr("gtts.tts._translate_url", google.translate_url)
        texts = [f"Câu số {i}." for i in range(14)]
        result = render(sents(texts), GttsEngine(timeout=5), concurrency=6, max_rate=50)
    assert result.requests == 14 == len(google.requests)
    assert sorted(google.texts()) == sorted(t.lower() for t in texts)
    assert [c.sentence.text for c in result.clips] == texts
