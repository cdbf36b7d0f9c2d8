"""Episode records on disk: ``NAME.episode.json`` beside ``NAME.mp3``.

The feed is rebuilt from these records, so a rerun that renders nothing writes the
same feed, byte for byte, and a crash before the record is written leaves the MP3
unreferenced (the record is written last, atomically).
"""
from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import datetime
from pathlib import Path

from reader.fsutil import atomic_write_text
from reader.models import Chapter, Cue, Episode

SUFFIX = ".episode.json"


def record_path(mp3_path: str | Path) -> Path:
    p = Path(mp3_path)
    return p.with_name(p.stem + SUFFIX)


def to_dict(ep: Episode, base: Path | None = None) -> dict:
    """Plain JSON-able dict; paths are stored relative to ``base`` when given."""
    d = asdict(ep)
    d["published"] = ep.published.isoformat() if ep.published else None
    d["made_at"] = ep.made_at.isoformat() if ep.made_at else None
    if base is not None:
        for key in ("path", "transcript_vtt", "transcript_srt", "chapters_json"):
            if d.get(key):
                d[key] = Path(d[key]).name if Path(d[key]).parent.resolve() == base.resolve() else d[key]
    return d


def from_dict(d: dict, base: Path | None = None) -> Episode:
    d = dict(d)
    known = {f.name for f in fields(Episode)}
    d = {k: v for k, v in d.items() if k in known}
    d["published"] = datetime.fromisoformat(d["published"]) if d.get("published") else None
    d["made_at"] = datetime.fromisoformat(d["made_at"]) if d.get("made_at") else None
    d["chapters"] = tuple(Chapter(**c) for c in d.get("chapters") or ())
    d["cues"] = tuple(Cue(**c) for c in d.get("cues") or ())
    if base is not None:
        for key in ("path", "transcript_vtt", "transcript_srt", "chapters_json"):
            if d.get(key) and not Path(d[key]).is_absolute():
                d[key] = str(base / d[key])
    return Episode(**d)


def save(ep: Episode) -> Path:
    """Write the record beside the episode's MP3 (atomically, last)."""
    target = record_path(ep.path)
    atomic_write_text(target, json.dumps(to_dict(ep, target.parent), ensure_ascii=False, indent=1, sort_keys=True) + "\n")
    return target


def load(record: Path) -> Episode:
    return from_dict(json.loads(record.read_text(encoding="utf-8")), record.parent)


def load_all(directory: Path) -> list[Episode]:
    """Every episode recorded in ``directory`` whose MP3 still exists, newest first."""
    out = []
    for rec in sorted(Path(directory).glob("*" + SUFFIX)):
        try:
            ep = load(rec)
        except (ValueError, TypeError, KeyError):
            continue
        if Path(ep.path).is_file():
            out.append(ep)
    out.sort(key=lambda e: (e.published.timestamp() if e.published else 0.0, e.guid), reverse=True)
    return out
