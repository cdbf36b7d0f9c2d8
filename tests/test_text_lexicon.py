"""The operator lexicon (feeds/lexicon.tsv): found, overridable, applied before the rules."""
import pytest

from reader.errors import ConfigError
from reader.text import lexicon, normalize


def test_repo_lexicon_is_found_and_parses(monkeypatch, repo_root):
    monkeypatch.delenv(lexicon.ENV, raising=False)
    assert lexicon.find() == repo_root / "feeds" / "lexicon.tsv"
    assert ("SARS-CoV-2", "sác cô vi hai") in lexicon.load().entries


def test_env_override_beats_rules(monkeypatch, tmp_path):
    f = tmp_path / "lex.tsv"
    f.write_text("# mine\nUBND\tủy ban\n24.500\thai mươi tư nghìn rưỡi\nHLV trưởng\tông thầy\n", encoding="utf-8")
    monkeypatch.setenv(lexicon.ENV, str(f))
    assert normalize("UBND có 24.500 người") == "ủy ban có hai mươi tư nghìn rưỡi người"
    assert normalize("HLV trưởng và HLV phó") == "ông thầy và huấn luyện viên phó"  # longest entry wins
    assert lexicon.load().apply("UBNDX UBND.") == "UBNDX ủy ban."  # whole words only


def test_lexicon_is_reread_when_the_file_changes(monkeypatch, tmp_path):
    import os

    f = tmp_path / "lex.tsv"
    f.write_text("Ninh\tNinh một\n", encoding="utf-8")
    monkeypatch.setenv(lexicon.ENV, str(f))
    assert normalize("Quảng Ninh") == "Quảng Ninh một"
    f.write_text("Ninh\tNinh hai\n", encoding="utf-8")
    st = f.stat()
    os.utime(f, ns=(st.st_atime_ns, st.st_mtime_ns + 2_000_000_000))
    assert normalize("Quảng Ninh") == "Quảng Ninh hai"


BAD = [
    ("no-tab", "UBND ủy ban\n", 1),
    ("empty-spoken", "# c\nUBND\t \n", 2),
    ("three-columns", "a\tb\tc\n", 1),
]


@pytest.mark.parametrize("text, line", [(t, n) for _, t, n in BAD], ids=[i for i, _, _ in BAD])
def test_bad_lexicon_line_names_file_and_line(monkeypatch, tmp_path, text, line):
    f = tmp_path / "bad.tsv"
    f.write_text(text, encoding="utf-8")
    monkeypatch.setenv(lexicon.ENV, str(f))
    with pytest.raises(ConfigError) as e:
        normalize("UBND")
    assert e.value.line == line and str(f) in str(e.value) and "tab" in str(e.value)


def test_missing_override_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setenv(lexicon.ENV, str(tmp_path / "nope.tsv"))
    with pytest.raises(ConfigError, match="VNREADER_LEXICON"):
        normalize("x")
