"""Score the splitter and the normaliser against the gold news text (tests/data/text/, see its
README) the way ../shared/tools/score_text.py does, in-process: the shared gold the rules were
written against, and the held-out set (heldout_*.jsonl) from other news. Thresholds sit a
little under the measured figures, so a regression fails."""
import json
import re
import unicodedata
from collections import defaultdict

import pytest

from reader.text import normalize, split_sentences


def _load(data_dir, name):
    with open(data_dir / "text" / name, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------- segmentation
def _nows(s):
    return len(re.sub(r"\s+", "", s))


def _spans(sents):
    spans, pos = [], 0
    for s in sents:
        n = _nows(s)
        if n:
            spans.append((pos, pos + n))
            pos += n
    return spans


def _segmentation_scores(gold):
    """Boundary F1 and the share of paragraphs split exactly as the gold."""
    tp = fp = fn = exact_paras = 0
    for g in gold:
        pred = split_sentences(g["text"])
        assert re.sub(r"\s+", "", "".join(pred)) == re.sub(r"\s+", "", g["text"]), g["id"]
        gs, ps = _spans(g["sentences"]), _spans(pred)
        end = _nows(g["text"])
        gb = {e for _, e in gs if e < end}
        pb = {e for _, e in ps if e < end}
        tp, fp, fn = tp + len(gb & pb), fp + len(pb - gb), fn + len(gb - pb)
        exact_paras += gs == ps
    p, r = tp / (tp + fp), tp / (tp + fn)
    return 2 * p * r / (p + r), exact_paras / len(gold)


# gold file, min boundary F1, min exact paragraphs (a little under the figures measured when
# written: gold 1.0/1.0; held-out 1.0/1.0, 0.9814/0.9518 on the code before it was collected)
SEGMENTATION_SETS = [
    ("segmentation.jsonl", 0.99, 0.96),
    ("heldout_segmentation.jsonl", 0.99, 0.96),
]


@pytest.mark.parametrize("name, min_f1, min_exact", SEGMENTATION_SETS, ids=["gold", "heldout"])
def test_segmentation_scores(data_dir, name, min_f1, min_exact):
    f1, exact = _segmentation_scores(_load(data_dir, name))
    assert f1 >= min_f1
    assert exact >= min_exact


# ---------------------------------------------------------------- normalization
_TONE = {"oà": "òa", "oá": "óa", "oả": "ỏa", "oã": "õa", "oạ": "ọa", "oè": "òe", "oé": "óe", "oẻ": "ỏe",
         "oẽ": "õe", "oẹ": "ọe", "uỳ": "ùy", "uý": "úy", "uỷ": "ủy", "uỹ": "ũy", "uỵ": "ụy"}
_TONE_RE = re.compile("(" + "|".join(_TONE) + r")(?![^\W\d_])")
_QU = {"ú": "\u0301", "ù": "\u0300", "ủ": "\u0309", "ũ": "\u0303", "ụ": "\u0323"}
_QU_RE = re.compile(r"q([úùủũụ])([aăâeêioôơuưy])")
_PLAIN = re.compile(r"^[^\W\d_]+$")


def canon(s):
    s = unicodedata.normalize("NFC", s).lower()
    s = _QU_RE.sub(lambda m: "qu" + unicodedata.normalize("NFC", m.group(2) + _QU[m.group(1)]), s)
    s = _TONE_RE.sub(lambda m: _TONE[m.group(1)], s)
    s = re.sub(r"[-‐‑‒–—_]", " ", s)
    s = re.sub(r"[^\w\s]", " ", s)
    return re.sub(r"\s+", " ", s).strip()


def _anchor(tok):
    core = tok.strip("\"'“”‘’()[]{},;:.!?…")
    if not core:
        return ""
    return core if _PLAIN.match(core) and not (len(core) > 1 and core.isupper()) else None


def _neighbours(item):
    ctx, span, i = item["context"], item["span"], item["span_start"]
    left = right = None
    for tok in reversed(ctx[:i].split()):
        if (w := _anchor(tok)) != "":
            left = w
            break
    for tok in ctx[i + len(span):].split():
        if (w := _anchor(tok)) != "":
            right = w
            break
    return left, right


def _matches(item, spoken):
    out = " " + canon(spoken) + " "
    left, right = _neighbours(item)
    for cand in [item["spoken"]] + item.get("alternatives", []):
        if " " + " ".join(canon(x) for x in (left, cand, right) if x) + " " in out:
            return True
    return False


def _normalization_scores(gold):
    """Strict accuracy overall, per category, and the ids missed."""
    by_cat = defaultdict(lambda: [0, 0])
    misses = []
    for item in gold:
        ok = _matches(item, normalize(item["context"]))
        for c in (item["category"], "ALL"):
            by_cat[c][0] += 1
            by_cat[c][1] += ok
        if not ok:
            misses.append(item["id"])
    n, s = by_cat.pop("ALL")
    return s / n, {c: k / t for c, (t, k) in by_cat.items()}, misses


# gold file, min overall strict accuracy, min per category (gold 1.0 when written; held-out
# 1.0, 0.8306 on the code before it was collected)
NORMALIZATION_SETS = [
    ("normalization.jsonl", 0.98, 0.9),
    ("heldout_normalization.jsonl", 0.98, 0.9),
    ("batch_01.jsonl", 0.98, 0.9),
    ("batch_02.jsonl", 0.98, 0.9),
    ("batch_03.jsonl", 0.98, 0.9),
    ("batch_04.jsonl", 0.98, 0.9),
]


@pytest.mark.parametrize("name, min_all, min_cat", NORMALIZATION_SETS, ids=["gold", "heldout", "batch-01", "batch-02", "batch-03", "batch-04"])
def test_normalization_scores(data_dir, monkeypatch, repo_root, name, min_all, min_cat):
    monkeypatch.setenv("VNREADER_LEXICON", str(repo_root / "feeds" / "lexicon.tsv"))
    overall, per_cat, misses = _normalization_scores(_load(data_dir, name))
    assert overall >= min_all, misses
    low = {c: round(v, 3) for c, v in per_cat.items() if v < min_cat}
    assert low == {}, misses


@pytest.mark.parametrize("item_id, spoken", [
    ("norm-194", "Sáng ngày mười tháng chín"),
    ("norm-212", "mười en quy trên tê u"),
], ids=["date-cue", "document-code"])
def test_gold_spot_readings(data_dir, item_id, spoken):
    item = next(i for i in _load(data_dir, "normalization.jsonl") if i["id"] == item_id)
    assert spoken in normalize(item["context"])
