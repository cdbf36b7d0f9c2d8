"""Audio stage: clips in, one tagged MP3 episode with transcripts and chapters out.

    [Segment(title, clips)] ─layout─▶ Timeline ─measure─▶ gain ─limit+encode─▶ NAME.mp3
                                         └─ cues, chapters ─▶ NAME.vtt NAME.srt NAME.chapters.json

Modules: ``timeline`` (pauses, resampling, the sample grid), ``loudness`` (BS.1770 meter,
true peak, limiter), ``gain`` (which gain and limiter reach the target), ``encode`` (the
passes, streaming lameenc), ``lametag`` (the Info frame), ``tags`` (ID3v2.4). Memory stays
bounded: the episode is played through a few times, one clip at a time, never held whole.
"""
from __future__ import annotations

import math
import shutil
from pathlib import Path
from typing import Sequence

from reader.audio import lametag
from reader.audio.ahead import EncodeAhead, Encoded, timeline_order
from reader.audio.encode import PassResult, check_bitrate, encode_pass, measure
from reader.audio.gain import LOUDNESS_TOLERANCE, MAX_LIMITING_DB, GainPlan, choose_gain
from reader.audio.tags import EpisodeMeta, id3_bytes
from reader.audio.timeline import DEFAULT_PAUSES, Pauses, Segment, Timeline, layout
from reader.errors import AudioError
from reader.fsutil import atomic_path
from reader.models import Episode, LoudnessReport
from reader.transcripts import write_sidecars

#: Headroom kept under the true-peak limit before encoding: MP3 coding adds overshoot.
ENCODER_HEADROOM_DB = 1.5
#: Encode passes at most (a pass is redone only when the gain plan missed the target).
MAX_PASSES = 3

def build_episode(segments: Sequence[Segment], meta: EpisodeMeta, out_path: str | Path, *, rate: float = 1.0,
                  bitrate: int = 64, target_lufs: float = -16.0, true_peak: float = -1.0,
                  pauses: Pauses = DEFAULT_PAUSES, ahead: EncodeAhead | None = None) -> Episode:
    """Join, normalise, encode and tag ``segments`` into ``out_path`` plus its sidecars.

    ``ahead`` (an :class:`EncodeAhead` fed while the clips were spoken, with the same rate,
    pauses, bitrate, target and ``true_peak - ENCODER_HEADROOM_DB``) gives the MP3 frames
    encoded early; they are used when they are this timeline's and on target (the report's
    ``input_lufs`` is then the loudness of the first ``ahead.WARMUP_SECONDS``), else the
    episode is measured and encoded here.
    """
    out_path = Path(out_path)
    timeline = layout(segments, rate=rate, pauses=pauses, subject=out_path)
    check_bitrate(bitrate, timeline.rate, out_path)
    early = ahead.result() if ahead is not None else None
    if early is not None and not (early.matches(timeline) and abs(target_lufs - early.result.lufs) <= LOUDNESS_TOLERANCE):
        early = None  # not this timeline, or off target: measured and encoded here
    if early is not None:
        loudness, meter_peak = early.loudness, early.peak
    else:
        meter = measure(timeline)
        loudness, meter_peak = meter.integrated(), meter.peak
    if not math.isfinite(loudness):
        raise AudioError(out_path, "the clips are silent", fix="check that the speech engine produces sound")
    chapters = timeline.chapters()
    cues = timeline.cues()
    tag = id3_bytes(meta, chapters, subject=out_path)

    ceiling = true_peak - ENCODER_HEADROOM_DB
    if early is not None:
        plan = early.plan
        duration, size, gain, result = _copy_mp3(out_path, tag, timeline, early, bitrate=bitrate)
    else:
        plan = choose_gain(timeline, loudness, meter_peak, target_lufs, ceiling)
        duration, size, gain, result = _write_mp3(out_path, tag, timeline, plan, loudness=loudness,
                                                  target=target_lufs, ceiling=ceiling, bitrate=bitrate)
    vtt, srt, chap = write_sidecars(out_path, cues, chapters)
    engines = {p.clip.engine for p in timeline.pieces if p.clip is not None}
    voices = {p.clip.voice for p in timeline.pieces if p.clip is not None}
    return Episode(
        path=str(out_path), title=meta.title, guid=meta.guid or out_path.stem, duration=duration, size=size,
        description=meta.description, link=meta.url, published=meta.date, author=meta.artist or None,
        engine=meta.engine or ",".join(sorted(engines)), voice=meta.voice or ",".join(sorted(voices)),
        chapters=chapters, cues=cues, transcript_vtt=str(vtt), transcript_srt=str(srt), chapters_json=str(chap),
        loudness=_report(timeline, loudness, gain, result, plan),
    )


def _write_mp3(out_path: Path, tag: bytes, timeline: Timeline, plan: GainPlan, *, loudness: float, target: float,
               ceiling: float, bitrate: int) -> tuple[float, int, float, PassResult]:
    """Tag, Info frame, audio, atomically; returns (duration, size, gain used, last pass)."""
    gain = plan.gain
    try:
        with atomic_path(out_path) as tmp:
            reserve = lametag.info_size(timeline.rate, bitrate)
            with open(tmp, "wb+") as f:
                f.write(tag + bytes(reserve))
                for _ in range(MAX_PASSES):
                    f.seek(len(tag) + reserve)
                    f.truncate()
                    result = encode_pass(timeline, f, gain_db=gain, ceiling_db=ceiling, bitrate=bitrate,
                                         times=plan.times, subject=out_path)
                    error = target - result.lufs
                    better = min(gain + error / plan.slope, target - loudness + MAX_LIMITING_DB)
                    if abs(error) <= LOUDNESS_TOLERANCE or abs(better - gain) < 0.05:
                        break
                    gain = better
                if reserve:
                    _write_info(f, len(tag), reserve, timeline, bitrate, result.frames_bytes)
            return _mp3_duration(tmp, out_path), tmp.stat().st_size, gain, result
    except OSError as e:
        raise AudioError(out_path, f"could not write the MP3: {e.strerror or e}",
                         fix="check free disk space and that the output folder is writable") from e


def _copy_mp3(out_path: Path, tag: bytes, timeline: Timeline, early: Encoded, *,
              bitrate: int) -> tuple[float, int, float, PassResult]:
    """Tag, Info frame and the frames encoded early, atomically; returns (duration, size, gain, pass)."""
    try:
        with atomic_path(out_path) as tmp:
            reserve = lametag.info_size(timeline.rate, bitrate)
            with open(tmp, "wb+") as f:
                f.write(tag + bytes(reserve))
                early.frames.seek(0)
                shutil.copyfileobj(early.frames, f, 1 << 20)
                if reserve:
                    _write_info(f, len(tag), reserve, timeline, bitrate, early.result.frames_bytes)
            return _mp3_duration(tmp, out_path), tmp.stat().st_size, early.plan.gain, early.result
    except OSError as e:
        raise AudioError(out_path, f"could not write the MP3: {e.strerror or e}",
                         fix="check free disk space and that the output folder is writable") from e


def _write_info(f, offset: int, reserve: int, timeline: Timeline, bitrate: int, stream_bytes: int) -> None:
    """Fill the reserved first frame with the LAME Info tag (exact length, gapless playback)."""
    f.seek(offset + reserve)
    first = f.read(4)
    if len(first) < 4 or first[0] != 0xFF or first[1] & 0xE0 != 0xE0:
        return  # no frame where one should be: leave the silent placeholder (never expected)
    frames = lametag.count_frames(stream_bytes, timeline.rate, bitrate)
    f.seek(offset)
    f.write(lametag.info_frame(first, rate=timeline.rate, bitrate=bitrate, frames=frames,
                               stream_bytes=stream_bytes, samples=timeline.samples))


def _mp3_duration(path: Path, subject: Path) -> float:
    from mutagen import MutagenError
    from mutagen.mp3 import MP3

    try:
        return float(MP3(path).info.length)
    except MutagenError as e:
        raise AudioError(subject, f"the encoded MP3 does not read back: {e}") from e


def _report(timeline: Timeline, loudness: float, gain: float, result: PassResult, plan: GainPlan) -> LoudnessReport:
    return LoudnessReport(sample_rate=timeline.rate, timeline_seconds=round(timeline.duration, 3),
                          input_lufs=round(loudness, 2), gain_db=round(gain, 2), lufs=round(result.lufs, 2),
                          limited_samples=result.limited,
                          limiter_min_gain_db=round(20 * math.log10(result.min_gain), 2),
                          limiter_ms=tuple(round(t * 1000) for t in plan.times))


__all__ = ["DEFAULT_PAUSES", "ENCODER_HEADROOM_DB", "EncodeAhead", "EpisodeMeta", "Pauses", "Segment", "build_episode", "timeline_order"]
