"""Number words: the Northern news-reading conventions of docs/text.md."""
import pytest

from reader.text.numbers import read_decimal, read_digits, read_int, read_month, read_ordinal, roman_value

INTS = [
    (0, "không"),
    (5, "năm"),
    (10, "mười"),
    (14, "mười bốn"),
    (15, "mười lăm"),
    (21, "hai mươi mốt"),
    (24, "hai mươi bốn"),
    (25, "hai mươi lăm"),
    (40, "bốn mươi"),
    (101, "một trăm linh một"),
    (105, "một trăm linh năm"),
    (111, "một trăm mười một"),
    (221, "hai trăm hai mươi mốt"),
    (1001, "một nghìn không trăm linh một"),
    (2107, "hai nghìn một trăm linh bảy"),
    (2020, "hai nghìn không trăm hai mươi"),
    (24500, "hai mươi bốn nghìn năm trăm"),
    (56092, "năm mươi sáu nghìn không trăm chín mươi hai"),
    (300000, "ba trăm nghìn"),
    (1000500, "một triệu năm trăm"),
    (7040015, "bảy triệu không trăm bốn mươi nghìn không trăm mười lăm"),
    (2_000_000_000, "hai tỷ"),
    (1_500_000_000_000, "một nghìn năm trăm tỷ"),
    (-3, "âm ba"),
]


@pytest.mark.parametrize("n, spoken", INTS, ids=[str(n) for n, _ in INTS])
def test_read_int(n, spoken):
    assert read_int(n) == spoken


DECIMALS = [
    (("4", "37"), "bốn phẩy ba mươi bảy"),
    (("0", "6"), "không phẩy sáu"),
    (("25", "014"), "hai mươi lăm phẩy không một bốn"),
    (("11", "70"), "mười một phẩy bảy mươi"),
    (("3", "05"), "ba phẩy không năm"),
]


@pytest.mark.parametrize("parts, spoken", DECIMALS, ids=[",".join(p) for p, _ in DECIMALS])
def test_read_decimal(parts, spoken):
    assert read_decimal(*parts) == spoken


@pytest.mark.parametrize("s, spoken", [("03", "không ba"), ("0912", "không chín một hai"), ("7", "bảy")],
                         ids=["03", "0912", "7"])
def test_read_digits(s, spoken):
    assert read_digits(s) == spoken


@pytest.mark.parametrize("n, spoken", [(1, "nhất"), (2, "hai"), (4, "tư"), (14, "mười bốn"), (24, "hai mươi bốn")],
                         ids=["1", "2", "4", "14", "24"])
def test_read_ordinal(n, spoken):
    assert read_ordinal(n) == spoken


@pytest.mark.parametrize("m, spoken", [(1, "một"), (4, "tư"), (11, "mười một"), (12, "mười hai")],
                         ids=["1", "4", "11", "12"])
def test_read_month(m, spoken):
    assert read_month(m) == spoken


ROMANS = [("I", 1), ("IV", 4), ("IX", 9), ("XIV", 14), ("XIII", 13), ("XXI", 21), ("IIII", None), ("VX", None),
          ("ABC", None), ("", None)]


@pytest.mark.parametrize("s, value", ROMANS, ids=[s or "empty" for s, _ in ROMANS])
def test_roman_value(s, value):
    assert roman_value(s) == value
