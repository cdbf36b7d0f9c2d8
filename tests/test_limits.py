"""Caps on characters, sentences and minutes: checked before synthesis (chars, sentences) and while rendering (minutes)."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import pytest

from daily_support import FakeRenderer, Site, fake_stages, write_config
from fakes.engines import ToneEngine
from reader.cli import run_exit_code
from reader import daily
from reader import pipeline
from reader.cli import main
from reader.config import load_sources, parse_sources
from reader.errors import ConfigError, LimitError
from reader.limits import Limits, document_chars
from reader.logs import RunLog
from reader.models import Caption, Document, Sentence
from reader.tts.render import render

SAMPLE_TXT = Path(__file__).resolve().parent / "data" / "text" / "quang-ninh-2021-01-09.txt"


# ---------------------------------------------------------------- the checks
CHECKS = [  # (limits, method, count, raises)
    (Limits(max_chars=10), "check_chars", 10, False),
    (Limits(max_chars=10), "check_chars", 11, True),
    (Limits(max_sentences=3), "check_sentences", 3, False),
    (Limits(max_sentences=3), "check_sentences", 4, True),
    (Limits(max_minutes=1), "check_seconds", 60.0, False),
    (Limits(max_minutes=1), "check_seconds", 60.5, True),
]


@pytest.mark.parametrize("limits, method, count, raises", CHECKS,
                         ids=["chars-at-cap", "chars-over", "sentences-at-cap", "sentences-over", "minutes-at-cap",
                              "minutes-over"])
def test_check(limits, method, count, raises):
    check = getattr(limits, method)
    if raises:
        with pytest.raises(LimitError):
            check(count, "in.txt")
    else:
        check(count, "in.txt")


MESSAGES = [  # (limits, method, count, every part the message must name)
    (Limits(max_chars=200_000), "check_chars", 20_000_000, ["in.txt", "20,000,000 characters", "200,000", "--max-chars"]),
    (Limits(max_sentences=3000), "check_sentences", 4512, ["in.txt", "4,512 sentences", "3,000", "--max-sentences"]),
    (Limits(max_minutes=180), "check_seconds", 10_830.0, ["in.txt", "180.5 minutes", "180", "--max-minutes"]),
]


@pytest.mark.parametrize("limits, method, count, parts", MESSAGES, ids=["chars", "sentences", "minutes"])
def test_message_names_input_count_limit_and_option(limits, method, count, parts):
    with pytest.raises(LimitError) as e:
        getattr(limits, method)(count, "in.txt")
    assert e.value.exit_code == 1
    for part in parts:
        assert part in str(e.value)


DOCS = [  # (document, captions, characters)
    (Document(title="abc", paragraphs=("de", "f")), False, 6),
    (Document(title="abc", lead="xy", paragraphs=("de",)), False, 7),
    (Document(title="a", paragraphs=("b",), captions=(Caption("cap", 0),)), False, 2),
    (Document(title="a", paragraphs=("b",), captions=(Caption("cap", 0),)), True, 5),
]


@pytest.mark.parametrize("doc, captions, chars", DOCS, ids=["title+body", "lead", "captions-off", "captions-on"])
def test_document_chars(doc, captions, chars):
    assert document_chars(doc, captions=captions) == chars


# ---------------------------------------------------------------- before synthesis
@pytest.fixture
def no_synthesis(monkeypatch):
    """Fail the test if anything reaches the renderer."""
    def refuse(*a, **kw):
        raise AssertionError("synthesis started")

    monkeypatch.setattr("reader.tts.render.render", refuse)


def _big_text(tmp_path: Path, copies: int) -> Path:
    p = tmp_path / "big.txt"
    p.write_text("\n".join([SAMPLE_TXT.read_text(encoding="utf-8")] * copies), encoding="utf-8")
    return p


CLI_CASES = [  # (argv after the input, what the message must name)
    (["speak", "--file", "{f}", "--max-chars", "1000"], ["big.txt", "characters", "1,000", "--max-chars"]),
    (["speak", "--file", "{f}", "--max-sentences", "10"], ["big.txt", "sentences", "10", "--max-sentences"]),
    (["read", "{f}", "--max-chars", "1000"], ["big.txt", "characters", "1,000", "--max-chars"]),
    (["read", "{f}", "--max-sentences", "10"], ["big.txt", "sentences", "10", "--max-sentences"]),
]


@pytest.mark.parametrize("argv, parts", CLI_CASES, ids=["speak-chars", "speak-sentences", "read-chars",
                                                        "read-sentences"])
def test_cli_refuses_before_synthesis(argv, parts, tmp_path, capsys, no_synthesis):
    f = _big_text(tmp_path, 3)
    out = tmp_path / "out.mp3"
    code = main([a.replace("{f}", str(f)) for a in argv] + ["-o", str(out), "--no-cache"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert not out.exists()
    for part in parts:
        assert part in err
    assert "Traceback" not in err


@pytest.mark.parametrize("option", ["--max-chars", "--max-sentences", "--max-minutes"])
def test_cli_limit_must_be_positive(option, tmp_path, capsys):
    code = main(["speak", "xin chào", "-o", str(tmp_path / "o.mp3"), option, "0"])
    assert code == 2 and option in capsys.readouterr().err


# ---------------------------------------------------------------- while rendering
def _sentences(n: int) -> list[Sentence]:
    return [Sentence(f"câu số {i} " * 20, f"câu số {i} " * 20, 1) for i in range(n)]


@pytest.mark.parametrize("concurrency", [1, 3], ids=["serial", "parallel"])
def test_minutes_cap_stops_rendering_early(concurrency):
    eng = ToneEngine(concurrency=concurrency)  # 8 kHz, one sample per character: ~200 chars = 25 ms a clip
    sents = _sentences(200)
    limits = Limits(max_minutes=0.5 / 60)  # half a second: passed after about 20 clips
    with pytest.raises(LimitError) as e:
        render(sents, eng, on_clip=limits.minutes_meter("in.txt"))
    assert "--max-minutes" in str(e.value) and "in.txt" in str(e.value)
    assert len(eng.calls) < 40


def test_minutes_meter_counts_a_fallback_once():
    limits = Limits(max_minutes=1 / 60)  # one second
    meter = limits.minutes_meter("x")
    clip = ToneEngine().synthesize("a" * 6000)  # 0.75 s
    meter(0, clip)
    meter(0, clip)  # the fallback's clip for the same sentence replaces the first
    with pytest.raises(LimitError):
        meter(1, clip)


# ---------------------------------------------------------------- config
CONFIGS = [  # ([limits] lines, expected Limits or the key an error names)
    ("", Limits()),
    ("[limits]\nmax_chars = 5000\n", Limits(max_chars=5000)),
    ("[limits]\nmax_sentences = 10\nmax_minutes = 2.5\n", Limits(max_sentences=10, max_minutes=2.5)),
    ("[limits]\nmax_chars = 0\n", "max_chars"),
    ("[limits]\nmax_minutes = -1\n", "max_minutes"),
    ("[limits]\nmax_char = 5\n", "max_chars"),  # a typo: did you mean
]


@pytest.mark.parametrize("table, expected", CONFIGS, ids=["defaults", "chars", "sentences+minutes", "zero-chars",
                                                          "negative-minutes", "typo"])
def test_config_limits_table(table, expected):
    text = table + '\n[[sources]]\nname = "a"\nurl = "https://example.com/rss"\n'
    if isinstance(expected, Limits):
        assert parse_sources(text).limits == expected
    else:
        with pytest.raises(ConfigError) as e:
            parse_sources(text)
        assert expected in str(e.value)


# ---------------------------------------------------------------- daily run
NOW = datetime(2017, 9, 1, 8, 0, tzinfo=timezone.utc)
LONG_URL = "kinhdoanh.vnexpress.net/tin-tuc/doanh-nghiep/thu-truong-giao-thong"  # 2238 characters; the others ~1200


def test_daily_run_too_long_article_fails_others_publish(tmp_path):
    with Site() as site:
        cfg = write_config(tmp_path / "s.toml", site,
                           [{"name": "VnExpress", "url": "/feeds/vnexpress-2.xml", "limit": 2},
                            {"name": "VnExpress mới", "url": "/feeds/vnexpress-3.xml", "limit": 2}],
                           extra="\n[limits]\nmax_chars = 2000\n")
        rep = daily.run(load_sources(cfg), out_dir=tmp_path / "out", base_url="http://127.0.0.1:8000/",
                        stages=fake_stages(FakeRenderer()), log=RunLog(quiet=True), now=NOW)
    assert len(rep.new) == 2  # the other two (one article is in both feeds: a duplicate, skipped)
    assert len(rep.failed) == 1 and run_exit_code(rep) == 1
    err = rep.failed[0][1]
    assert isinstance(err, LimitError) and LONG_URL in str(err) and "2,238 characters" in str(err)
    assert "max_chars" in str(err)


def test_render_document_checks_sentences_before_speaking(tmp_path, no_synthesis):
    doc = Document(title="Tiêu đề", paragraphs=tuple(f"Câu {i}. Câu nữa {i}." for i in range(10)))
    with pytest.raises(LimitError) as e:
        pipeline.render_document(doc, tmp_path, pipeline.RenderOptions(limits=Limits(max_sentences=5)),
                                 subject="bai.html")
    assert "bai.html" in str(e.value) and "sentences" in str(e.value)
    assert list(tmp_path.iterdir()) == []


def test_cli_minutes_cap_stops_speak_and_leaves_nothing(tmp_path, capsys):
    out = tmp_path / "o.mp3"
    text = "Sáng 9.1, tại TP Hạ Long, hội nghị khai mạc. Có 24.500 người dự. Tăng 10% so với năm 2020."
    code = main(["speak", text, "-o", str(out), "--no-cache", "--max-minutes", "0.02"])  # 1.2 s
    err = capsys.readouterr().err
    assert code == 1 and "TEXT" in err and "minutes of audio" in err and "--max-minutes" in err
    assert list(tmp_path.iterdir()) == []
