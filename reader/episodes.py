"""Episode records on disk: ``NAME.episode.json`` beside ``NAME.mp3``.

The feed is rebuilt from these records, so a rerun that renders nothing writes the
same feed, byte for byte, and a crash before the record is written leaves the MP3
unreferenced (the record is written last, atomically).
"""
from __future__ import annotations

import json
import logging
from dataclasses import asdict, fields, replace
from datetime import datetime
from pathlib import Path
from typing import Callable

from reader.fsutil import atomic_write_text
from reader.models import Chapter, Cue, Episode, LoudnessReport, RenderStats

SUFFIX = ".episode.json"


def record_path(mp3_path: str | Path) -> Path:
    p = Path(mp3_path)
    return p.with_name(p.stem + SUFFIX)


def to_dict(ep: Episode, base: Path | None = None) -> dict:
    """Plain JSON-able dict; paths are stored relative to ``base`` when given."""
    d = asdict(ep)
    del d["reused"]  # says what one call did, not what the episode is
    d["published"] = ep.published.isoformat() if ep.published else None
    d["made_at"] = ep.made_at.isoformat() if ep.made_at else None
    if base is not None:
        for key in ("path", "transcript_vtt", "transcript_srt", "chapters_json"):
            if d.get(key):
                d[key] = Path(d[key]).name if Path(d[key]).parent.resolve() == base.resolve() else d[key]
    return d


def from_dict(d: dict, base: Path | None = None) -> Episode:
    d = _from_extra(dict(d))
    known = {f.name for f in fields(Episode)} - {"reused"}
    d = {k: v for k, v in d.items() if k in known}
    d["stats"] = _typed(RenderStats, d.get("stats"))
    d["loudness"] = _typed(LoudnessReport, d.get("loudness"))
    if d["loudness"] is not None:
        d["loudness"] = replace(d["loudness"], limiter_ms=tuple(d["loudness"].limiter_ms))
    d["published"] = datetime.fromisoformat(d["published"]) if d.get("published") else None
    d["made_at"] = datetime.fromisoformat(d["made_at"]) if d.get("made_at") else None
    d["chapters"] = tuple(Chapter(**c) for c in d.get("chapters") or ())
    d["cues"] = tuple(Cue(**c) for c in d.get("cues") or ())
    if base is not None:
        for key in ("path", "transcript_vtt", "transcript_srt", "chapters_json"):
            if d.get(key) and not Path(d[key]).is_absolute():
                d[key] = str(base / d[key])
    return Episode(**d)


def _from_extra(d: dict) -> dict:
    """A record older than the typed fields keeps its notes in ``extra``: map the known keys, drop the rest."""
    extra = d.pop("extra", None)
    if not isinstance(extra, dict):
        return d
    if "stats" not in d and "sentences" in extra:
        d["stats"] = {k: extra[k] for k in _names(RenderStats) if k in extra}
    if "loudness" not in d and "lufs" in extra:
        d["loudness"] = {k: extra[k] for k in _names(LoudnessReport) if k in extra}
    if "render_key" not in d and "render_key" in extra:
        d["render_key"] = extra["render_key"]
    return d


def _names(cls) -> set[str]:
    return {f.name for f in fields(cls)}


def _typed(cls, value):
    """``cls`` from a record's dict (unknown keys ignored); None when absent or incomplete."""
    if not isinstance(value, dict):
        return None
    try:
        return cls(**{k: v for k, v in value.items() if k in _names(cls)})
    except TypeError:
        return None


def save(ep: Episode) -> Path:
    """Write the record beside the episode's MP3 (atomically, last)."""
    target = record_path(ep.path)
    atomic_write_text(target, json.dumps(to_dict(ep, target.parent), ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    return target


def load(record: Path) -> Episode:
    return from_dict(json.loads(record.read_text(encoding="utf-8")), record.parent)


def load_all(directory: Path, *, warn: Callable[[str], None] | None = None) -> list[Episode]:
    """Every episode recorded in ``directory`` whose MP3 still exists, newest first.

    A damaged record is left out (its episode leaves the feed); ``warn(what)`` is told which
    (default: a ``logging`` warning)."""
    out = []
    for rec in sorted(Path(directory).glob("*" + SUFFIX)):
        try:
            ep = load(rec)
        except (ValueError, TypeError, KeyError) as e:
            what = f"{rec.name}: damaged episode record, its episode is left out of the feed ({type(e).__name__}: {e})"
            (warn or logging.getLogger(__name__).warning)(what)
            continue
        if Path(ep.path).is_file():
            out.append(ep)
    out.sort(key=lambda e: (e.published.timestamp() if e.published else 0.0, e.guid), reverse=True)
    return out
