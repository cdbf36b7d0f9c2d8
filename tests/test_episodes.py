"""Episode records on disk: typed fields, and records written before them (``"extra"``)."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

from reader import episodes as records
from reader.models import LoudnessReport, RenderStats

OLD = Path(__file__).parent / "data" / "records" / "old-extra.episode.json"


def _old_record(tmp_path: Path) -> Path:
    rec = tmp_path / OLD.name
    shutil.copy(OLD, rec)
    (tmp_path / "giu-vung-dia-ban-0123456789.mp3").write_bytes(b"\xff\xfb" + bytes(100))
    return rec


def test_old_record_with_extra_maps_the_known_keys(tmp_path):
    ep = records.load(_old_record(tmp_path))
    assert ep.stats == RenderStats(sentences=3, synthesized=1, cached=2, requests=0, speech_seconds=3.6)
    assert ep.loudness == LoudnessReport(input_lufs=-19.1, gain_db=3.1, lufs=-16.02, limited_samples=0,
                                         limiter_min_gain_db=0.0, sample_rate=22050, timeline_seconds=4.2,
                                         limiter_ms=(5, 120))
    assert ep.render_key == "ab12cd34"
    assert ep.reused is False  # a saved "reused" is ignored: it says what one call did
    assert ep.title == "Giữ vững địa bàn" and ep.path == str(tmp_path / "giu-vung-dia-ban-0123456789.mp3")


def test_old_record_is_listed_and_saved_again_without_extra(tmp_path):
    _old_record(tmp_path)
    (ep,) = records.load_all(tmp_path)
    saved = json.loads(records.save(ep).read_text(encoding="utf-8"))
    assert "extra" not in saved and "reused" not in saved
    assert saved["stats"]["cached"] == 2 and saved["loudness"]["limiter_ms"] == [5, 120]
    assert saved["render_key"] == "ab12cd34"
    again = records.load(records.record_path(ep.path))
    assert (again.stats, again.loudness, again.render_key) == (ep.stats, ep.loudness, ep.render_key)


def test_reused_is_never_saved(tmp_path):
    from dataclasses import replace

    _old_record(tmp_path)
    (ep,) = records.load_all(tmp_path)
    saved = json.loads(records.save(replace(ep, reused=True)).read_text(encoding="utf-8"))
    assert "reused" not in saved
