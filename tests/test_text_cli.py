"""`vnreader sentences` and `vnreader normalize` end to end, as the scorers call them."""
import json
import subprocess
import sys

import pytest


def _run(args, stdin):
    p = subprocess.run([sys.executable, "-m", "reader", *args], input=stdin.encode(), capture_output=True, timeout=60)
    return p.returncode, p.stdout.decode(), p.stderr.decode()


def test_sentences_jsonl_keeps_ids_and_order():
    lines = [{"id": "b", "text": "Sáng 9.1 họp. Có 24.500 người."}, {"id": "a", "text": "Một câu."}]
    rc, out, err = _run(["sentences", "--jsonl"], "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    assert rc == 0, err
    assert [json.loads(x) for x in out.splitlines()] == [
        {"id": "b", "sentences": ["Sáng 9.1 họp.", "Có 24.500 người."]},
        {"id": "a", "sentences": ["Một câu."]},
    ]


def test_normalize_jsonl():
    rc, out, err = _run(["normalize", "--jsonl"], json.dumps({"id": 7, "text": "Tăng 10% tại TP Hạ Long"}) + "\n")
    assert rc == 0, err
    assert json.loads(out) == {"id": 7, "spoken": "Tăng mười phần trăm tại thành phố Hạ Long"}


@pytest.mark.parametrize("cmd, text, expected", [
    ("sentences", "Trời mưa. Đường ngập.\nNắng.\n", "Trời mưa.\nĐường ngập.\nNắng.\n"),
    ("normalize", "HĐND có 221 người\n", "hội đồng nhân dân có hai trăm hai mươi mốt người\n"),
    ("normalize", "Ban Quản lý dự án (BQLDA) họp.\nBQLDA kết luận.\n",
     "Ban Quản lý dự án họp.\nBan Quản lý dự án kết luận.\n"),
], ids=["sentences-plain", "normalize-plain", "normalize-plain-is-one-document"])
def test_plain_text_from_file(tmp_path, cmd, text, expected):
    f = tmp_path / "in.txt"
    f.write_text(text, encoding="utf-8")
    rc, out, err = _run([cmd, str(f)], "")
    assert rc == 0, err
    assert out == expected


def test_normalize_jsonl_records_are_separate_documents():
    lines = [{"id": 1, "text": "Ban Quản lý dự án (BQLDA) họp."}, {"id": 2, "text": "BQLDA kết luận."}]
    rc, out, err = _run(["normalize", "--jsonl"], "".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines))
    assert rc == 0, err
    assert [json.loads(x)["spoken"] for x in out.splitlines()][1] == "bê quy e lờ dê a kết luận."


def test_bad_jsonl_line_is_a_usage_error():
    rc, out, err = _run(["normalize", "--jsonl"], "not json\n")
    assert rc == 2
    assert "line 1" in err and "Traceback" not in err
