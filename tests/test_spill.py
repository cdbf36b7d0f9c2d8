"""Clips spill to disk as they are rendered; the audio stage reads them back one at a time."""
from __future__ import annotations

import tracemalloc
from dataclasses import replace
from pathlib import Path

import pytest

from audio_support import clip
from fakes.engines import ToneEngine
from reader import pipeline
from reader.audio import EpisodeMeta, Segment, build_episode
from reader.models import Document, Sentence
from reader.tts.cache import ClipCache
from reader.tts.render import render
from reader.tts.spill import SpillFile


def sents(n: int, words: int = 3) -> list[Sentence]:
    return [Sentence(f"câu {i}. " + "chữ " * words, f"câu {i} " + "chữ " * words, 1 + i // 5) for i in range(n)]


RENDERS = [  # (engine kwargs, render kwargs)
    ({}, {}),
    ({"concurrency": 3}, {}),
    ({"max_chars": 12}, {}),  # sentences cut into chunks, joined before spilling
    ({}, {"cache": True}),  # second render: every clip from the cache
]


@pytest.mark.parametrize("engine_kw, render_kw", RENDERS, ids=["serial", "parallel", "chunked", "cache-hits"])
def test_spilled_clips_read_back_the_same(engine_kw, render_kw, tmp_path):
    cache = ClipCache(tmp_path / "cache") if render_kw.get("cache") else None
    plain = render(sents(12), ToneEngine(**engine_kw), cache=cache)
    with SpillFile(tmp_path) as spill:
        spilled = render(sents(12), ToneEngine(**engine_kw), cache=cache, spill=spill)
        assert spill.size == sum(len(c.pcm) for c in plain.clips) > 0
        for a, b in zip(plain.clips, spilled.clips):
            assert b.pcm == b"" and b.spilled is not None
            assert b.read_pcm() == a.pcm and b.duration == a.duration and b.sentence == a.sentence


def test_spill_file_leaves_nothing_behind(tmp_path):
    with SpillFile(tmp_path) as spill:
        spill.put(ToneEngine().synthesize("xin chào"))
    assert [p.name for p in tmp_path.iterdir()] == []


def test_spill_file_in_a_missing_folder_uses_the_temp_dir(tmp_path):
    with SpillFile(tmp_path / "nope") as spill:
        c = spill.put(ToneEngine().synthesize("ab"))
        assert c.read_pcm() == ToneEngine().synthesize("ab").pcm
    assert not (tmp_path / "nope").exists()


@pytest.mark.slow
def test_episode_from_spilled_clips_is_byte_identical(tmp_path):
    clips = [clip(f"Câu {i}.", 1 + i // 3, seconds=0.6 + 0.1 * i, seed=i) for i in range(8)]
    meta = EpisodeMeta(title="t", guid="g")
    a = build_episode([Segment("A", tuple(clips))], meta, tmp_path / "a.mp3")
    with SpillFile(tmp_path) as spill:
        b = build_episode([Segment("A", tuple(spill.put(c) for c in clips))], meta, tmp_path / "b.mp3")
    assert (tmp_path / "a.mp3").read_bytes() == (tmp_path / "b.mp3").read_bytes()
    assert a.cues == b.cues and a.chapters == b.chapters


class LoudEngine(ToneEngine):
    """200 KB of PCM for any sentence, built without temporaries (ToneEngine's are large)."""

    def synthesize(self, text, *, voice=None, rate=1.0, pitch=None):
        return replace(super().synthesize("a"), pcm=b"\x01\x00" * 100_000)


@pytest.mark.parametrize("concurrency", [1, 3], ids=["serial", "parallel"])
def test_render_memory_does_not_grow_with_length(concurrency, tmp_path):
    """100 clips of 200 KB: with spilling the traced peak stays at a few clips, not 20 MB."""
    sentences = [Sentence(str(i), f"câu {i}", 1) for i in range(100)]
    with SpillFile(tmp_path) as spill:
        tracemalloc.start()
        try:
            result = render(sentences, LoudEngine(concurrency=concurrency), spill=spill)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        total = sum(c.nbytes for c in result.clips)
    assert total == 20_000_000
    assert peak < 4_000_000, peak  # a window of clips in flight (parallel), never all 100


def test_pipeline_hands_the_audio_stage_spilled_clips(tmp_path, monkeypatch):
    seen = []
    real = pipeline._build

    def spy(segments, **kw):
        seen.extend(c for s in segments for c in s.clips)
        return real(segments, **kw)

    monkeypatch.setattr(pipeline, "_build", spy)
    doc = Document(title="Tiêu đề bài", paragraphs=("Câu một. Câu hai.", "Câu ba."))
    ep = pipeline.render_document(doc, tmp_path, pipeline.RenderOptions(engine="espeak"))
    assert seen and all(c.pcm == b"" and c.spilled is not None for c in seen)
    assert ep.duration > 1 and Path(ep.path).is_file()
    assert not any(p.name.startswith(".vnreader-spill") for p in tmp_path.iterdir())
