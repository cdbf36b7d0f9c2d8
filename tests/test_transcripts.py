"""WebVTT, SRT and Podcasting 2.0 chapters: formats, escaping, rounding, read-back."""
import json

import pytest

from reader.models import Chapter, Cue
from reader.transcripts import format_chapters, format_srt, format_vtt, parse_srt, parse_vtt, sidecar_paths

STAMPS = [(0.0, "00:00:00.000"), (1.2345, "00:00:01.234"), (59.9996, "00:01:00.000"),
          (3661.5, "01:01:01.500"), (36000.0, "10:00:00.000")]


@pytest.mark.parametrize("seconds, stamp", STAMPS, ids=[s for _, s in STAMPS])
def test_timestamps(seconds, stamp):
    cue = [Cue("x", seconds, seconds + 1)]
    assert f"\n{stamp} --> " in format_vtt(cue)
    assert f"\n{stamp.replace('.', ',')} --> " in format_srt(cue)


TEXTS = [("Tăng 10% so với 2020.", "Tăng 10% so với 2020."), ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
         ("mũi tên --> ở giữa", "mũi tên --&gt; ở giữa"), ("hai\ndòng   cách", "hai dòng cách")]


@pytest.mark.parametrize("text, vtt_text", TEXTS, ids=["plain", "markup", "arrow", "newline"])
def test_cue_text_escaped_and_read_back(text, vtt_text):
    cues = [Cue(text, 1.0, 2.5)]
    vtt = format_vtt(cues)
    assert vtt.startswith("WEBVTT\n") and f"\n{vtt_text}\n" in vtt
    one_line = " ".join(text.split())
    assert [c.text for c in parse_vtt(vtt)] == [one_line]
    assert [c.text for c in parse_srt(format_srt(cues))] == [one_line]
    assert (parse_vtt(vtt)[0].start, parse_vtt(vtt)[0].end) == (1.0, 2.5)


def test_cues_never_overlap_after_rounding_and_empty_ones_drop():
    cues = [Cue("a", 0.0, 1.0004), Cue("", 1.0, 1.2), Cue("b", 1.0001, 1.0002), Cue("c", 2.0, 3.0)]
    got = parse_srt(format_srt(cues))
    assert [c.text for c in got] == ["a", "b", "c"]
    assert all(c.start < c.end for c in got)
    assert all(x.end <= y.start for x, y in zip(got, got[1:]))
    assert format_srt(cues).split("\n")[0] == "1"


def test_parse_vtt_needs_header():
    with pytest.raises(ValueError):
        parse_vtt("1\n00:00:00.000 --> 00:00:01.000\nx\n")


def test_chapters_json():
    doc = json.loads(format_chapters([Chapter("Mở đầu", 0.0, 12.3456), Chapter("Thế giới", 12.3456, 60.0)]))
    assert doc == {"version": "1.2.0", "chapters": [
        {"startTime": 0.0, "endTime": 12.346, "title": "Mở đầu"},
        {"startTime": 12.346, "endTime": 60.0, "title": "Thế giới"}]}


def test_sidecar_names():
    assert [p.name for p in sidecar_paths("/x/2021-01-09-bao.mp3")] == [
        "2021-01-09-bao.vtt", "2021-01-09-bao.srt", "2021-01-09-bao.chapters.json"]


def test_a_lone_surrogate_does_not_stop_the_sidecars(tmp_path):
    """A broken ``\\ud800`` escape in a page's JSON reaches the text as a lone surrogate, which UTF-8
    cannot encode: the transcripts and chapters drop it instead of failing the episode."""
    from reader.transcripts import write_sidecars

    bad = "Hà\ud800 Nội\udfff"
    vtt, srt, chap = write_sidecars(tmp_path / "bai.mp3", [Cue(bad, 0.0, 1.0)], [Chapter(bad, 0.0, 1.0)])
    assert [c.text for c in parse_vtt(vtt.read_text(encoding="utf-8"))] == ["Hà Nội"]
    assert [c.text for c in parse_srt(srt.read_text(encoding="utf-8"))] == ["Hà Nội"]
    assert json.loads(chap.read_text(encoding="utf-8"))["chapters"][0]["title"] == "Hà Nội"
