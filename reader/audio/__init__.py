"""Audio stage: clips in, one tagged MP3 episode with transcripts and chapters out.

    [Segment(title, clips)] ─layout─▶ Timeline ─measure─▶ gain ─limit+encode─▶ NAME.mp3
                                         └─ cues, chapters ─▶ NAME.vtt NAME.srt NAME.chapters.json

Modules: ``timeline`` (pauses, resampling, the sample grid), ``loudness`` (BS.1770 meter,
true peak, limiter), ``encode`` (streaming lameenc), ``tags`` (ID3v2.4). Memory stays
bounded: the episode is played through twice, one clip at a time, never held whole.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from reader.audio import lametag
from reader.audio.encode import PassResult, check_bitrate, encode_pass, measure, trial
from reader.audio.loudness import db_to_gain
from reader.audio.tags import EpisodeMeta, id3_bytes
from reader.audio.timeline import DEFAULT_PAUSES, Pauses, Segment, Timeline, layout
from reader.errors import AudioError
from reader.fsutil import atomic_path
from reader.models import Episode
from reader.transcripts import write_sidecars

#: Headroom kept under the true-peak limit before encoding: MP3 coding adds overshoot.
ENCODER_HEADROOM_DB = 1.5
#: Loudness error (LU) after which the encode pass is redone with a corrected gain.
LOUDNESS_TOLERANCE = 0.3
MAX_PASSES = 3
#: Gain step (dB) between the two trial levels used to find the gain under limiting.
TRIAL_STEP_DB = 2.0
#: Most secant steps of the gain trial.
TRIAL_ROUNDS = 4
#: Limiter (attack, release) times in seconds, tried slowest (most transparent) first; the last
#: one nearly follows the waveform and is for voices whose peaks nothing gentler can tame.
LIMITER_TIMES = ((0.005, 0.050), (0.003, 0.015), (0.001, 0.003))
#: Most gain (dB) added beyond what the loudness alone asks for, to be taken back by the limiter.
MAX_LIMITING_DB = 15.0


def build_episode(segments: Sequence[Segment], meta: EpisodeMeta, out_path: str | Path, *, rate: float = 1.0,
                  bitrate: int = 64, target_lufs: float = -16.0, true_peak: float = -1.0,
                  pauses: Pauses = DEFAULT_PAUSES) -> Episode:
    """Join, normalise, encode and tag ``segments`` into ``out_path`` plus its sidecars."""
    out_path = Path(out_path)
    timeline = layout(segments, rate=rate, pauses=pauses, subject=out_path)
    check_bitrate(bitrate, timeline.rate, out_path)
    meter = measure(timeline)
    loudness, meter_peak = meter.integrated(), meter.peak
    if not math.isfinite(loudness):
        raise AudioError(out_path, "the clips are silent", fix="check that the speech engine produces sound")
    chapters = timeline.chapters()
    cues = timeline.cues()
    tag = id3_bytes(meta, chapters, subject=out_path)

    ceiling = true_peak - ENCODER_HEADROOM_DB
    plan = _choose_gain(timeline, loudness, meter_peak, target_lufs, ceiling)
    gain, slope = plan.gain, plan.slope
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
                    error = target_lufs - result.lufs
                    better = min(gain + error / slope, target_lufs - loudness + MAX_LIMITING_DB)
                    if abs(error) <= LOUDNESS_TOLERANCE or abs(better - gain) < 0.05:
                        break
                    gain = better
                if reserve:
                    _write_info(f, len(tag), reserve, timeline, bitrate, result.frames_bytes)
            duration = _mp3_duration(tmp, out_path)
            size = tmp.stat().st_size
    except OSError as e:
        raise AudioError(out_path, f"could not write the MP3: {e.strerror or e}",
                         fix="check free disk space and that the output folder is writable") from e
    vtt, srt, chap = write_sidecars(out_path, cues, chapters)
    engines = {p.clip.engine for p in timeline.pieces if p.clip is not None}
    voices = {p.clip.voice for p in timeline.pieces if p.clip is not None}
    return Episode(
        path=str(out_path), title=meta.title, guid=meta.guid or out_path.stem, duration=duration, size=size,
        description=meta.description, link=meta.url, published=meta.date, author=meta.artist or None,
        engine=meta.engine or ",".join(sorted(engines)), voice=meta.voice or ",".join(sorted(voices)),
        chapters=chapters, cues=cues, transcript_vtt=str(vtt), transcript_srt=str(srt), chapters_json=str(chap),
        extra={**_notes(timeline, loudness, gain, result), "limiter_ms": [round(t * 1000) for t in plan.times]},
    )


@dataclass(frozen=True)
class GainPlan:
    gain: float  #: dB applied before the limiter
    slope: float  #: LU of loudness per dB of gain around ``gain``
    times: tuple[float, float]  #: limiter (attack, release) in seconds


def _choose_gain(timeline: Timeline, loudness: float, peak: float, target: float, ceiling: float) -> GainPlan:
    """The gain (and limiter release) that brings the limited signal to ``target``.

    Without limiting, loudness moves dB for dB with gain. When the limiter will act, trial
    passes over a sample of the episode (no encoding) find the gain by the secant method:
    limiting flattens the curve, more so the harder it works. The slowest release that can
    reach the target wins (slow release is the transparent one); a voice whose own peaks are
    too sharp for it gets a faster one. Gain never goes more than MAX_LIMITING_DB past the
    unlimited gain, so a signal that cannot get there is not blown up trying.
    """
    gain = target - loudness
    if peak * db_to_gain(gain) < db_to_gain(ceiling) / 1.5:  # the limiter cannot engage
        return GainPlan(gain, 1.0, LIMITER_TIMES[0])
    best = None
    for times in LIMITER_TIMES:
        plan, level = _search(timeline, loudness, gain, target, ceiling, times)
        if best is None or abs(level - target) < best[1]:
            best = (plan, abs(level - target))
        if abs(level - target) <= LOUDNESS_TOLERANCE:
            break
    return best[0]


def _search(timeline: Timeline, loudness: float, start: float, target: float, ceiling: float,
            times: tuple[float, float]) -> tuple[GainPlan, float]:
    top = start + MAX_LIMITING_DB
    raw, (low, high) = trial(timeline, (start, start + TRIAL_STEP_DB), ceiling, times=times)
    # loudness of the whole episode at a gain, from the sample: full = sample + (loudness - raw)
    points = [(start, loudness + low - raw), (start + TRIAL_STEP_DB, loudness + high - raw)]
    slope = 1.0
    for _ in range(TRIAL_ROUNDS):
        (g0, l0), (g1, l1) = points[-2:]
        slope = min(1.0, max(0.05, (l1 - l0) / (g1 - g0))) if g1 != g0 else 1.0
        gain = min(top, g1 + (target - l1) / slope)
        if gain == g1:
            break
        _, (level,) = trial(timeline, (gain,), ceiling, times=times)
        points.append((gain, loudness + level - raw))
        if abs(points[-1][1] - target) <= LOUDNESS_TOLERANCE / 3:
            break
    gain, level = min(points, key=lambda p: abs(p[1] - target))
    return GainPlan(gain, slope, times), level


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


def _notes(timeline: Timeline, loudness: float, gain: float, result: PassResult) -> dict:
    return {"sample_rate": timeline.rate, "timeline_seconds": round(timeline.duration, 3),
            "input_lufs": round(loudness, 2), "gain_db": round(gain, 2), "lufs": round(result.lufs, 2),
            "limited_samples": result.limited, "limiter_min_gain_db": round(20 * math.log10(result.min_gain), 2)}


__all__ = ["DEFAULT_PAUSES", "EpisodeMeta", "Pauses", "Segment", "build_episode"]
