"""Encoding while the engine speaks (reader/audio/ahead.py): the early MP3 is the serial one's
timeline at the same loudness, and anything unexpected falls back to encoding after synthesis."""
from dataclasses import replace

import pytest

from audio_support import clip, decode, loudness
from reader.audio import EncodeAhead, EpisodeMeta, Segment, build_episode, timeline_order
from reader.audio.loudness import true_peak
from reader.audio.timeline import layout

META = EpisodeMeta(title="Bản tin", guid="g", engine="fake", voice="v")


def article(n: int = 12, seconds: float = 1.5):
    """Two segments of speech-like clips; 2 s of warm-up plans the gain on the first two clips."""
    head = tuple(clip(f"Câu {i}.", -1 if i == 0 else 0, seconds=seconds, rate=22050, seed=i) for i in range(2))
    body = tuple(clip(f"Câu {i}.", 1 + i // 3, seconds=seconds, rate=22050, seed=i) for i in range(2, n))
    return [Segment("Mở đầu", head), Segment("Nội dung", body)]


def ahead_for(segments, tmp_path, **kw):
    groups, i = [], 0
    for s in segments:
        groups.append(range(i, i + len(s.clips)))
        i += len(s.clips)
    options = dict(bitrate=64, target_lufs=-16.0, ceiling_db=-2.5, warmup=2.0)
    options.update(kw)
    return EncodeAhead(timeline_order(groups), tmp_path, **options)


def clips_of(segments):
    return [c for s in segments for c in s.clips]


def check(ep, timeline):
    x, rate = decode(ep.path)
    assert len(x) == timeline.samples  # the Info frame trims LAME's delay and padding
    assert loudness(x, rate) == pytest.approx(-16.0, abs=0.5)
    assert true_peak(x) <= -1.0


@pytest.mark.slow
def test_early_frames_are_the_episode(tmp_path):
    segments = article()
    serial = build_episode(segments, META, tmp_path / "serial.mp3")
    with ahead_for(segments, tmp_path) as ahead:
        for i, c in enumerate(clips_of(segments)):
            ahead.add(i, c)
        ep = build_episode(segments, META, tmp_path / "early.mp3", ahead=ahead)
        early = ahead.result()
    assert ahead.abandoned is None
    assert early is not None and early.matches(layout(segments))
    check(ep, layout(segments))
    assert (ep.duration, ep.cues, ep.chapters) == (serial.duration, serial.cues, serial.chapters)
    assert ep.loudness.lufs == pytest.approx(-16.0, abs=0.3)


def test_clips_arriving_out_of_order_are_placed_in_order(tmp_path):
    """Cached clips come first, freshly spoken ones later: the timeline order is kept."""
    segments = article(n=6)
    clips = clips_of(segments)
    with ahead_for(segments, tmp_path) as ahead:
        for i in [3, 5, 0, 4, 1, 2]:
            ahead.add(i, clips[i])
        early = ahead.result()
    assert early is not None and early.matches(layout(segments))


def test_a_sentence_spoken_twice_abandons_and_the_episode_is_still_right(tmp_path):
    """The fallback engine speaks every sentence again: the early frames are dropped."""
    segments = article(n=6)
    clips = clips_of(segments)
    with ahead_for(segments, tmp_path) as ahead:
        ahead.add(0, clips[0])
        ahead.add(1, clips[1])
        ahead.add(0, replace(clips[0], engine="espeak"))
        again = [Segment(s.title, tuple(replace(c, engine="espeak") for c in s.clips)) for s in segments]
        ep = build_episode(again, META, tmp_path / "fb.mp3", ahead=ahead)
    assert ahead.abandoned and "twice" in ahead.abandoned
    check(ep, layout(again))


def test_other_clips_than_the_ones_encoded_are_not_used(tmp_path):
    segments = article(n=4)
    clips = clips_of(segments)
    with ahead_for(segments, tmp_path) as ahead:
        for i, c in enumerate(clips):
            ahead.add(i, c)
        other = [Segment(s.title, tuple(replace(c, voice="w") for c in s.clips)) for s in segments]
        early = ahead.result()
        assert early is not None and not early.matches(layout(other))
        ep = build_episode(other, META, tmp_path / "other.mp3", ahead=ahead)
    check(ep, layout(other))


def test_a_failing_encoder_process_abandons(tmp_path, monkeypatch):
    import reader.audio.ahead

    monkeypatch.setattr(reader.audio.ahead, "WORKER", "reader.audio.no_such_worker")
    segments = article(n=3)
    with ahead_for(segments, tmp_path) as ahead:
        for i, c in enumerate(clips_of(segments)):
            ahead.add(i, c)
        assert ahead.result() is None
    assert "encoder process failed" in ahead.abandoned


def test_missing_clips_abandon(tmp_path):
    segments = article(n=4)
    with ahead_for(segments, tmp_path) as ahead:
        ahead.add(0, clips_of(segments)[0])
        assert ahead.result() is None
    assert "has no clip" in ahead.abandoned


def test_close_while_speaking_stops_the_thread_and_the_encoder(tmp_path):
    segments = article(n=40)
    clips = clips_of(segments)
    ahead = ahead_for(segments, tmp_path)
    for i in range(10):
        ahead.add(i, clips[i])
    ahead.close()
    assert not ahead._thread.is_alive()
    assert ahead._proc is None or ahead._proc.poll() is not None
    assert ahead.abandoned == "rendering stopped"


def test_silent_first_clips_abandon_to_the_serial_path(tmp_path):
    quiet = tuple(replace(clip("Im lặng.", 1, seconds=2.0, rate=22050), pcm=bytes(88200)) for _ in range(2))
    segments = [Segment("A", quiet + tuple(clip(f"Câu {i}.", 1, rate=22050, seed=i) for i in range(3)))]
    with ahead_for(segments, tmp_path) as ahead:
        for i, c in enumerate(clips_of(segments)):
            ahead.add(i, c)
        ep = build_episode(segments, META, tmp_path / "q.mp3", ahead=ahead)
    assert "silent" in ahead.abandoned
    check(ep, layout(segments))


@pytest.mark.slow
def test_render_document_encodes_while_speaking(tmp_path, monkeypatch):
    """The real path: espeak speaks, the early frames are the MP3; the serial measure never runs."""
    import reader.audio as audio
    from reader.models import Document
    from reader.pipeline import render_document, render_options

    def serial(*a, **k):
        raise AssertionError("measured after synthesis")

    monkeypatch.setattr(audio, "measure", serial)
    paragraphs = tuple(f"Đoạn {i}: hội nghị tổng kết công tác năm, với nhiều ý kiến đóng góp." for i in range(8))
    doc = Document(title="Giữ vững địa bàn", paragraphs=paragraphs, lead="Sáng nay, hội nghị khai mạc.")
    ep = render_document(doc, tmp_path, render_options(cache=False))
    x, rate = decode(ep.path)
    assert loudness(x, rate) == pytest.approx(-16.0, abs=0.5)
    assert true_peak(x) <= -1.0
    assert len(x) / rate == pytest.approx(ep.loudness.timeline_seconds, abs=0.001)  # rounded to ms
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".vnreader-")]

