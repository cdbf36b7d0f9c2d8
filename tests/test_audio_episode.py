"""build_episode end to end: timing, loudness of the decoded MP3, tags, sidecars, errors."""
import json
import struct
import zlib
from datetime import datetime, timezone

import numpy as np
import pytest

from audio_support import clip, decode, espeak_clips, loudness
from reader.audio import DEFAULT_PAUSES, EpisodeMeta, Pauses, Segment, build_episode
from reader.audio.loudness import true_peak
from reader.audio.timeline import layout
from reader.errors import AudioError, UsageError
from reader.models import Clip
from reader.transcripts import parse_srt, parse_vtt


def png_1x1() -> bytes:
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00")) + chunk(b"IEND", b""))


META = EpisodeMeta(title="Giữ vững địa bàn an toàn", artist="Báo Quảng Ninh", album="Tin sáng",
                   date=datetime(2021, 1, 9, 7, 30, tzinfo=timezone(__import__("datetime").timedelta(hours=7))),
                   language="vi", url="https://baoquangninh.vn/a.html", description="Tóm tắt bài báo.",
                   cover=png_1x1(), guid="guid-1", engine="fake", voice="v")


def two_sections(rate_a=24000, rate_b=24000, level_db=-6.0, tone=None):
    head = (clip("Tiêu đề bài báo", -1, seconds=1.2, rate=rate_a, level_db=level_db, seed=1, tone=tone),
            clip("Sáng 9.1, hội nghị khai mạc.", 0, seconds=2.0, rate=rate_a, level_db=level_db, seed=2, tone=tone))
    body = (clip("Có 24.500 người dự.", 1, seconds=1.5, rate=rate_b, level_db=level_db, seed=3, tone=tone),
            clip("Tăng 10% so với 2020.", 1, seconds=1.8, rate=rate_b, level_db=level_db, seed=4, tone=tone),
            clip("Đoạn <mới> & cuối.", 2, seconds=1.0, rate=rate_b, level_db=level_db, seed=5, tone=tone))
    return [Segment("Mở đầu", head), Segment("Nội dung", body)]


def check_audio(ep, expected_seconds):
    x, rate = decode(ep.path)
    assert np.abs(x).max() > 0.05, "the MP3 is silent"
    assert abs(len(x) / rate - expected_seconds) <= 0.02 * expected_seconds
    assert abs(ep.duration - expected_seconds) <= 0.02 * expected_seconds
    assert loudness(x, rate) == pytest.approx(-16.0, abs=1.0)
    assert true_peak(x) <= -1.0
    return x, rate


CASES = {
    "voiced-same-rate": dict(),
    "mixed-22k-24k": dict(rate_a=22050, rate_b=24000),
    "quiet-tones": dict(level_db=-35.0, tone=440.0),
    "hot-voiced": dict(level_db=0.0),
}


@pytest.mark.slow
@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_episode_meets_loudness_and_timing(tmp_path, case):
    segments = two_sections(**case)
    timeline = layout(segments)
    ep = build_episode(segments, META, tmp_path / "ep.mp3")
    check_audio(ep, timeline.duration)
    assert ep.size == (tmp_path / "ep.mp3").stat().st_size
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".part")]


INFO_CASES = [(22050, 64, True), (24000, 64, True), (44100, 64, True), (48000, 128, True), (16000, 48, True),
              (8000, 24, True), (22050, 32, False)]


@pytest.mark.parametrize("rate, bitrate, exact", INFO_CASES,
                         ids=[f"{r}Hz-{b}k" + ("" if e else "-no-room-for-tag") for r, b, e in INFO_CASES])
@pytest.mark.slow
def test_info_tag_makes_length_exact(tmp_path, rate, bitrate, exact):
    from mutagen.mp3 import MP3

    segments = [Segment("A", (clip("a", 1, seconds=2.0, rate=rate, seed=1),
                              clip("b", 1, seconds=1.3, rate=rate, seed=2)))]
    timeline = layout(segments)
    ep = build_episode(segments, META, tmp_path / "g.mp3", bitrate=bitrate)
    x, got_rate = check_audio(ep, timeline.duration)
    info = MP3(ep.path).info
    assert got_rate == rate
    assert info.bitrate == pytest.approx(bitrate * 1000, rel=1e-3)  # mutagen: bytes / frames
    if exact:  # decoders drop LAME's delay and padding: the samples we laid out, no more, no less
        assert len(x) == timeline.samples
        assert ep.duration == pytest.approx(timeline.duration, abs=1e-9)
        assert info.encoder_info.startswith("LAME")
    else:
        assert len(x) > timeline.samples


@pytest.mark.slow
def test_long_episode_with_loud_and_quiet_parts(tmp_path):
    """Longer than the gain trial's sample (32 blocks): the sampled plan must still hold."""
    clips = tuple(clip(f"Câu {i}.", 1 + i // 4, seconds=3.0, rate=22050, seed=i,
                       level_db=-3.0 if (i // 6) % 2 else -20.0) for i in range(24))
    segments = [Segment("A", clips[:12]), Segment("B", clips[12:])]
    timeline = layout(segments)
    assert timeline.samples > 40 * 32768
    ep = build_episode(segments, META, tmp_path / "long.mp3")
    check_audio(ep, timeline.duration)


@pytest.mark.slow
def test_real_espeak_episode(tmp_path):
    clips = espeak_clips([(-1, "Giữ vững địa bàn an toàn"),
                          (0, "Sáng ngày chín tháng một, tỉnh Quảng Ninh tổ chức hội nghị."),
                          (1, "Hai mươi bốn nghìn năm trăm người tham dự hội nghị."),
                          (1, "Tốc độ tăng trưởng đạt mười phần trăm.")])
    segments = [Segment("Mở đầu", tuple(clips[:2])), Segment("Nội dung", tuple(clips[2:]))]
    speech = sum(c.duration for c in clips)
    timeline = layout(segments)
    assert timeline.duration > speech  # pauses added
    ep = build_episode(segments, META, tmp_path / "espeak.mp3")
    check_audio(ep, timeline.duration)
    assert [c.text for c in ep.cues] == [c.sentence.text for c in clips]


PAUSE_CASES = [  # (paragraph of previous clip, of next clip, same segment, expected pause name)
    (-1, 0, True, "title"), (0, 1, True, "paragraph"), (1, 1, True, "sentence"), (1, 2, True, "paragraph"),
    (1, -1, False, "segment"), (-1, -1, True, "sentence"),
]


@pytest.mark.parametrize("a, b, same, name", PAUSE_CASES, ids=[f"{a}->{b}-{n}" for a, b, s, n in PAUSE_CASES])
@pytest.mark.parametrize("rate", [1.0, 1.5], ids=["rate1", "rate1.5"])
def test_pauses_between_clips(a, b, same, name, rate):
    one, two = clip("một", a, seconds=0.5), clip("hai", b, seconds=0.25)
    segs = [Segment("A", (one, two))] if same else [Segment("A", (one,)), Segment("B", (two,))]
    tl = layout(segs, rate=rate)
    first, second = tl.cues()
    assert second.start - first.end == pytest.approx(getattr(DEFAULT_PAUSES, name) / rate, abs=1e-4)
    assert first.start == pytest.approx(DEFAULT_PAUSES.lead / rate, abs=1e-4)
    assert tl.duration == pytest.approx(second.end + DEFAULT_PAUSES.tail / rate, abs=1e-4)
    assert first.end - first.start == pytest.approx(0.5, abs=1e-4)


@pytest.mark.parametrize("a, b, same, name", PAUSE_CASES, ids=[f"{a}->{b}-{n}" for a, b, s, n in PAUSE_CASES])
def test_cues_carry_their_paragraph(a, b, same, name):
    """The listening page skips by paragraph from these (the .vtt does not carry them)."""
    segs = [Segment("A", (clip("một", a), clip("hai", b)))] if same else [Segment("A", (clip("một", a),)),
                                                                          Segment("B", (clip("hai", b),))]
    assert [c.paragraph for c in layout(segs).cues()] == [a, b]


def test_resampled_clip_keeps_its_duration():
    segs = [Segment("A", (clip("a", 1, seconds=1.0, rate=16000), clip("b", 1, seconds=2.0, rate=22050)))]
    tl = layout(segs, pauses=Pauses(lead=0, tail=0))
    assert tl.rate == 22050
    a, b = tl.cues()
    assert a.end - a.start == pytest.approx(1.0, abs=1e-4) and b.end - b.start == pytest.approx(2.0, abs=1e-4)


@pytest.mark.slow
def test_tags_read_back(tmp_path):
    from mutagen.id3 import ID3

    ep = build_episode(two_sections(), META, tmp_path / "t.mp3")
    tags = ID3(ep.path)
    assert tags.version[:2] == (2, 4)
    assert str(tags["TIT2"]) == META.title and str(tags["TPE1"]) == META.artist and str(tags["TALB"]) == META.album
    assert str(tags["TDRC"]).replace(" ", "T").startswith("2021-01-09T07:30")
    assert str(tags["TLAN"]) == "vie"
    assert tags["WOAS"].url == META.url and tags.getall("WXXX")[0].url == META.url
    assert tags.getall("COMM")[0].text == [META.description]
    apic = tags.getall("APIC")[0]
    assert apic.mime == "image/png" and apic.data == META.cover
    chaps = sorted(tags.getall("CHAP"), key=lambda c: c.start_time)
    assert [str(c.sub_frames["TIT2"]) for c in chaps] == ["Mở đầu", "Nội dung"]
    assert [c.start_time for c in chaps] == [round(c.start * 1000) for c in ep.chapters]
    assert chaps[0].start_time == 0 and chaps[0].end_time == chaps[1].start_time
    toc = tags.getall("CTOC")[0]
    assert list(toc.child_element_ids) == [c.element_id for c in chaps]


@pytest.mark.slow
def test_sidecars_and_episode_fields(tmp_path):
    segs = two_sections()
    ep = build_episode(segs, META, tmp_path / "s.mp3")
    assert (ep.title, ep.guid, ep.description, ep.link, ep.published) == (
        META.title, META.guid, META.description, META.url, META.date)
    assert (ep.engine, ep.voice) == ("fake", "v")
    written = [c.sentence.text for s in segs for c in s.clips]
    for path, parse in ((ep.transcript_vtt, parse_vtt), (ep.transcript_srt, parse_srt)):
        assert path == str(tmp_path / ("s" + path[-4:]))
        cues = parse(open(path, encoding="utf-8").read())
        assert [c.text for c in cues] == written  # written form, not the spoken one
        assert all(c.start < c.end for c in cues)
        assert all(a.end <= b.start for a, b in zip(cues, cues[1:]))
        assert cues[-1].end <= ep.duration
    doc = json.loads(open(ep.chapters_json, encoding="utf-8").read())
    assert ep.chapters_json == str(tmp_path / "s.chapters.json")
    assert doc["version"] == "1.2.0"
    assert [c["title"] for c in doc["chapters"]] == ["Mở đầu", "Nội dung"]
    assert [c["startTime"] for c in doc["chapters"]] == [round(c.start, 3) for c in ep.chapters]
    assert ep.chapters[1].start == pytest.approx(ep.cues[2].start)  # chapter opens on its first sentence


def bad(name):
    good = clip("a", 1)
    return {
        "no-segments": dict(segments=[]),
        "empty-segment": dict(segments=[Segment("A", ())]),
        "odd-pcm": dict(segments=[Segment("A", (Clip(b"\x00\x01\x02", 24000, "x", "v"),))]),
        "bad-rate": dict(segments=[Segment("A", (Clip(good.pcm, 0, "x", "v"),))]),
        "silent": dict(segments=[Segment("A", (Clip(b"\x00\x00" * 24000, 24000, "x", "v"),))]),
        "bad-bitrate": dict(bitrate=65),
        "bad-cover": dict(meta=EpisodeMeta(title="t", cover=b"GIF89a....")),
        "zero-rate": dict(rate=0),
        "nan-rate": dict(rate=float("nan")),
    }[name]


ERRORS = [("no-segments", AudioError, "no clips"), ("empty-segment", AudioError, "no clips"),
          ("odd-pcm", AudioError, "16-bit"), ("bad-rate", AudioError, "sample rate"),
          ("silent", AudioError, "silent"), ("bad-bitrate", AudioError, "kbps"),
          ("bad-cover", AudioError, "JPEG"), ("zero-rate", UsageError, "rate"),
          ("nan-rate", UsageError, "rate")]


@pytest.mark.parametrize("name, error, words", ERRORS, ids=[e[0] for e in ERRORS])
def test_bad_input_is_a_clear_error(tmp_path, name, error, words):
    args = dict(segments=[Segment("A", (clip("a", 1),))], meta=EpisodeMeta(title="t"), bitrate=64, rate=1.0)
    args.update(bad(name))
    out = tmp_path / "x.mp3"
    with pytest.raises(error) as e:
        build_episode(args["segments"], args["meta"], out, bitrate=args["bitrate"], rate=args["rate"])
    assert words in str(e.value) and "x.mp3" in str(e.value)
    assert not out.exists() and not list(tmp_path.iterdir())
