"""The glue: Document → Episode, reruns, changed text, digests."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path

import pytest

from reader import episodes as records
from reader.models import Document
from reader.pipeline import RenderOptions, article_guid, render_digest, render_document, slugify
from reader.tts.cache import ClipCache

DOC = Document(
    title="Hạ Long đón 24.500 khách",
    lead="Sáng 9.1, TP Hạ Long đón hơn 24.500 lượt khách.",
    paragraphs=("Lượng khách tăng 10% so với năm 2020.", "HĐND tỉnh đánh giá cao kết quả này.",
                "Giai đoạn 2020 - 2025, tỉnh đặt mục tiêu tăng trưởng bền vững."),
    author="LÊ HÀ", url="https://baoquangninh.vn/ha-long-don-khach.html", site="baoquangninh",
    published=datetime(2021, 1, 9, 8, 0, tzinfo=timezone.utc))


@pytest.mark.parametrize("title, slug", [
    ("Giữ vững địa bàn an toàn", "giu-vung-dia-ban-an-toan"),
    ("Đà Nẵng: 10% tăng trưởng!", "da-nang-10-tang-truong"),
    ("???", "episode"),
], ids=["diacritics", "d-bar-and-punctuation", "nothing-left"])
def test_slugify(title, slug):
    assert slugify(title) == slug


def test_guid_comes_from_the_url_and_survives_edits():
    assert article_guid(DOC) == article_guid(replace(DOC, title="Tiêu đề khác", paragraphs=("Khác.",)))
    assert article_guid(DOC) != article_guid(replace(DOC, url="https://baoquangninh.vn/khac.html"))


@pytest.fixture
def cache(tmp_path):
    return ClipCache(tmp_path / "clips")


@pytest.mark.slow
def test_render_then_rerun_speaks_nothing(tmp_path, cache):
    out = tmp_path / "out"
    ep = render_document(DOC, out, RenderOptions(cache=cache))
    assert Path(ep.path).is_file() and records.record_path(ep.path).is_file()
    assert ep.stats.synthesized == ep.stats.sentences > 3
    assert ep.title == DOC.title and ep.author == "LÊ HÀ" and ep.link == DOC.url
    assert ep.chapters[0].title == DOC.title
    mtime = Path(ep.path).stat().st_mtime_ns
    again = render_document(DOC, out, RenderOptions(cache=cache))
    assert again.path == ep.path and Path(ep.path).stat().st_mtime_ns == mtime
    assert again == records.load(records.record_path(ep.path))


def test_changed_text_gets_a_new_file_same_guid_and_only_new_sentences_spoken(tmp_path, cache):
    out = tmp_path / "out"
    first = render_document(DOC, out, RenderOptions(cache=cache))
    changed = replace(DOC, paragraphs=DOC.paragraphs[:2] + ("Một câu hoàn toàn mới được thêm vào.",))
    second = render_document(changed, out, RenderOptions(cache=cache))
    assert second.path != first.path
    assert second.guid == first.guid
    assert second.published == first.published
    assert second.stats.synthesized == 1
    assert second.stats.cached == second.stats.sentences - 1


def test_digest_has_one_chapter_per_article_plus_intro_and_outro(tmp_path, cache):
    other = replace(DOC, title="Quảng Ninh mở rộng cảng biển", url="https://baoquangninh.vn/cang.html",
                    paragraphs=("Cảng Cái Lân được mở rộng thêm 3 bến.",))
    ep = render_digest([DOC, other], tmp_path, RenderOptions(cache=cache), title="Bản tin sáng 9/1", guid="digest-2021-01-09",
                       published=datetime(2021, 1, 9, 12, tzinfo=timezone.utc))
    titles = [c.title for c in ep.chapters]
    assert titles == ["Giới thiệu", DOC.title, other.title, "Kết thúc"]
    starts = [c.start for c in ep.chapters]
    assert starts == sorted(starts) and ep.chapters[-1].end <= ep.duration + 0.05
    assert ep.guid == "digest-2021-01-09"


def test_digest_of_nothing_is_a_usage_error(tmp_path):
    from reader.errors import UsageError

    with pytest.raises(UsageError):
        render_digest([], tmp_path, title="Trống", guid="g", published=datetime.now(timezone.utc))
