"""Lay clips and pauses out on one sample grid, and play them back block by block.

The timeline is the single source of truth for timing: cue and chapter times, the
expected duration and the samples fed to the encoder all come from the same integer
sample offsets at the output rate, so transcripts match the audio exactly.

Nothing here holds the whole episode: :func:`blocks` reads (a spilled clip from its file)
and resamples one clip at a time.
"""
from __future__ import annotations

from dataclasses import dataclass
from math import gcd
from typing import Iterable, Iterator, Sequence

import numpy as np

from reader.errors import AudioError, UsageError
from reader.models import Chapter, Clip, Cue

#: Sample rates an MP3 can carry (MPEG-1, -2 and -2.5 layer III), low to high.
MP3_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


@dataclass(frozen=True)
class Pauses:
    """Silence in seconds at normal speed (all divided by the speaking rate)."""

    sentence: float = 0.3  #: between sentences of one paragraph
    paragraph: float = 0.7  #: between paragraphs (lead → body, body → body)
    title: float = 1.0  #: after the title
    segment: float = 1.5  #: between segments (chapters, articles of a digest)
    lead: float = 0.2  #: before the first clip
    tail: float = 0.8  #: after the last clip


DEFAULT_PAUSES = Pauses()


@dataclass(frozen=True)
class Segment:
    """One chapter's clips: an article of a digest, or a section of one article."""

    title: str  #: pipeline; chapter title
    clips: tuple[Clip, ...]  #: tts; in reading order, each with ``.sentence`` set


@dataclass(frozen=True)
class Piece:
    """A span of the timeline: a clip (``clip`` set) or silence (``clip`` None)."""

    start: int  #: first sample, at the timeline rate
    length: int  #: samples at the timeline rate
    clip: Clip | None = None
    segment: int = 0  #: index of the segment it belongs to


@dataclass(frozen=True)
class Timeline:
    rate: int  #: output sample rate
    pieces: tuple[Piece, ...]
    segment_starts: tuple[int, ...]  #: first clip sample of each segment
    titles: tuple[str, ...]  #: segment titles

    @property
    def samples(self) -> int:
        last = self.pieces[-1]
        return last.start + last.length

    @property
    def duration(self) -> float:
        return self.samples / self.rate

    def cues(self) -> tuple[Cue, ...]:
        """One cue per clip that carries a sentence: its written text and when it is heard."""
        out = []
        for p in self.pieces:
            if p.clip is not None and p.clip.sentence is not None and p.clip.sentence.text.strip():
                out.append(Cue(p.clip.sentence.text, p.start / self.rate, (p.start + p.length) / self.rate,
                               p.clip.sentence.paragraph))
        return tuple(out)

    def chapters(self) -> tuple[Chapter, ...]:
        """One chapter per segment: from its first clip (0 for the first) to the next chapter."""
        starts = [0, *self.segment_starts[1:]]
        ends = [*starts[1:], self.samples]
        return tuple(Chapter(t, s / self.rate, e / self.rate) for t, s, e in zip(self.titles, starts, ends))


def output_rate(rates: Sequence[int]) -> int:
    """The MP3 rate for clips at ``rates``: the highest one, raised to a rate MP3 can carry."""
    top = max(rates)
    return next((r for r in MP3_RATES if r >= top), MP3_RATES[-1])


def resampled_length(n: int, src: int, dst: int) -> int:
    """Samples :func:`scipy.signal.resample_poly` returns for ``n`` samples from ``src`` to ``dst`` Hz."""
    g = gcd(src, dst)
    up, down = dst // g, src // g
    return -(-n * up // down)


def check_clip(clip: Clip, where: str) -> None:
    if not isinstance(clip, Clip):
        raise AudioError(where, f"expected a Clip, got {type(clip).__name__}", fix="pass the clips the engine returned")
    if not isinstance(clip.sample_rate, int) or clip.sample_rate <= 0:
        raise AudioError(where, f"bad sample rate {clip.sample_rate!r}", fix="the engine must report its sample rate in Hz")
    if clip.nbytes % 2:
        raise AudioError(where, f"odd PCM length ({clip.nbytes} bytes) is not 16-bit audio",
                         fix="the engine must return 16-bit mono PCM")


def _gap(prev: Clip, nxt: Clip, pauses: Pauses) -> float:
    a = prev.sentence.paragraph if prev.sentence is not None else 0
    b = nxt.sentence.paragraph if nxt.sentence is not None else 0
    if a == -1 and b != -1:
        return pauses.title
    if a != b:
        return pauses.paragraph
    return pauses.sentence


class Grid:
    """Places clips and pauses on the sample grid one clip at a time, in reading order.

    :func:`layout` places a whole list with it; ``reader.audio.ahead`` places each clip as
    it is spoken, so the samples it encodes early are the ones the final timeline holds.
    """

    def __init__(self, out_rate: int, *, rate: float = 1.0, pauses: Pauses = DEFAULT_PAUSES) -> None:
        self.out_rate = out_rate
        self.rate = rate
        self.pauses = pauses
        self.pieces: list[Piece] = []
        self.segment_starts: list[int] = []
        self.pos = 0  #: samples placed so far
        self._prev: Clip | None = None
        self._segment = 0
        self._add(self._silence(pauses.lead), None, 0)

    def _silence(self, seconds: float) -> int:
        return max(0, round(seconds / self.rate * self.out_rate))

    def _add(self, length: int, clip: Clip | None, seg: int) -> None:
        if length > 0 or clip is not None:
            self.pieces.append(Piece(self.pos, length, clip, seg))
        self.pos += length

    def place(self, clip: Clip, segment: int, first: bool) -> None:
        """Add the pause before ``clip`` (``first``: it opens ``segment``), then the clip."""
        if self._prev is not None:
            self._add(self._silence(self.pauses.segment if first else _gap(self._prev, clip, self.pauses)),
                      None, segment)
        if first:
            self.segment_starts.append(self.pos)
        self._add(resampled_length(clip.nbytes // 2, clip.sample_rate, self.out_rate), clip, segment)
        self._prev = clip
        self._segment = segment

    def finish(self, titles: Sequence[str]) -> Timeline:
        """The timeline, with the tail pause after the last clip."""
        self._add(self._silence(self.pauses.tail), None, self._segment)
        return Timeline(self.out_rate, tuple(self.pieces), tuple(self.segment_starts), tuple(titles))


def layout(segments: Sequence[Segment], *, rate: float = 1.0, pauses: Pauses = DEFAULT_PAUSES,
           subject: object = None) -> Timeline:
    """Place every clip and pause on the sample grid of the output rate."""
    if not isinstance(rate, (int, float)) or not 0 < rate < float("inf"):
        raise UsageError(subject, f"rate {rate!r} must be positive", fix="give a rate like 1.0 or 1.25")
    segs = [s for s in segments if s.clips]
    if not segs:
        raise AudioError(subject, "no clips to encode", fix="give at least one segment with speech in it")
    for i, seg in enumerate(segs):
        for j, clip in enumerate(seg.clips):
            check_clip(clip, f"{subject}: segment {i} clip {j}" if subject else f"segment {i} clip {j}")
    grid = Grid(output_rate([c.sample_rate for s in segs for c in s.clips]), rate=rate, pauses=pauses)
    for i, seg in enumerate(segs):
        for j, clip in enumerate(seg.clips):
            grid.place(clip, i, j == 0)
    return grid.finish([s.title for s in segs])


def clip_samples(clip: Clip, rate: int) -> np.ndarray:
    """The clip as float32 in [-1, 1) at ``rate`` (polyphase resampling when the rates differ)."""
    x = np.frombuffer(clip.read_pcm(), dtype="<i2").astype(np.float32)
    x *= np.float32(1 / 32768)
    if clip.sample_rate == rate:
        return x
    from scipy.signal import resample_poly

    g = gcd(clip.sample_rate, rate)
    return resample_poly(x, rate // g, clip.sample_rate // g).astype(np.float32)


def piece_samples(pieces: Iterable[Piece], rate: int) -> Iterator[np.ndarray]:
    """Each piece's samples at ``rate``, in order (silence as zeros, cut into short runs)."""
    for p in pieces:
        if p.clip is None:
            left = p.length
            while left > 0:
                n = min(left, 1 << 16)
                yield np.zeros(n, dtype=np.float32)
                left -= n
        else:
            x = clip_samples(p.clip, rate)
            if len(x) != p.length:  # guard the length formula; timing depends on it
                x = np.pad(x, (0, max(0, p.length - len(x))))[:p.length]
            yield x


def pieces_audio(timeline: Timeline) -> Iterator[np.ndarray]:
    """Each piece's samples in order (silence as zeros, cut into short runs)."""
    return piece_samples(timeline.pieces, timeline.rate)


def rechunk(parts: Iterator[np.ndarray], size: int) -> Iterator[np.ndarray]:
    """The same samples in blocks of exactly ``size`` (the last one may be shorter)."""
    buf: list[np.ndarray] = []
    have = 0
    for x in parts:
        while len(x):
            take = min(len(x), size - have)
            buf.append(x[:take])
            have += take
            x = x[take:]
            if have == size:
                yield np.concatenate(buf) if len(buf) > 1 else buf[0]
                buf, have = [], 0
    if have:
        yield np.concatenate(buf)


def blocks(timeline: Timeline, size: int = 1 << 15) -> Iterator[np.ndarray]:
    """The whole episode as float32 blocks of ``size`` samples, built one clip at a time."""
    return rechunk(pieces_audio(timeline), size)
