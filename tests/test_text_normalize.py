"""Normalisation: every rule alone on its table, then whole sentences through RULES."""
import importlib
import inspect
import unicodedata

import pytest

from reader.text import RULES, normalize

N = importlib.import_module("reader.text.normalize")  # the module; reader.text.normalize is also the function

# rule -> [(id, written, after that rule alone)]
RULE_CASES = {
    N.nfc: [
        ("decomposed-tone", unicodedata.normalize("NFD", "Hội nghị"), "Hội nghị"),
        ("already-nfc", "Tỉnh ủy", "Tỉnh ủy"),
    ],
    N.urls_and_emails: [
        ("email", "gửi về toasoan@baomoi.vn nhé", "gửi về toasoan a còng baomoi chấm vn nhé"),
        ("www-with-port", "xem www.catp.gov.vn:8001/tin.", "xem vê kép vê kép vê kép chấm catp chấm gov chấm vn hai chấm tám không không một xẹt tin."),
        ("https", "tại https://vnexpress.net/a-1", "tại vnexpress chấm net xẹt a gạch ngang một"),
        ("no-address", "giá 3.5 triệu", "giá 3.5 triệu"),
    ],
    N.phone_numbers: [
        ("spaced", "gọi 0912 345 678", "gọi không chín một hai, ba bốn năm, sáu bảy tám"),
        ("dotted-landline", "số 024.3825.1234", "số không hai bốn, ba tám hai năm, một hai ba bốn"),
        ("not-thousands", "có 912.345 người", "có 912.345 người"),
        ("hotline", "gọi 1900 1234", "gọi một chín không không, một hai ba bốn"),
    ],
    N.licence_plates: [
        ("full", "xe 29A-123.45 bị", "xe hai mươi chín a một hai ba bốn năm bị"),
        ("two-letter-series", "biển 51LD-678.90", "biển năm mươi mốt e lờ dê sáu bảy tám chín không"),
        ("masked", "xe 14A-130... 23 lần", "xe mười bốn a một ba không... 23 lần"),
    ],
    N.boat_numbers: [
        ("spaced", "tàu cá QNg 90123 TS bị nạn", "tàu cá quy en giê chín không một hai ba tê ét bị nạn"),
        ("dashed", "tàu BĐ-97567-TS", "tàu bê đê chín bảy năm sáu bảy tê ét"),
        ("not-a-boat", "giảm 90123 tấn", "giảm 90123 tấn"),
    ],
    N.document_codes: [
        ("law-legislature-number", "Luật số 32/2024/QH15", "Luật số ba mươi hai trên hai nghìn không trăm hai mươi bốn trên quy hát mười lăm"),
        ("law-older-legislature", "Luật 100/2015/QH13 sửa", "Luật một trăm trên hai nghìn không trăm mười lăm trên quy hát mười ba sửa"),
        ("resolution", "Nghị quyết 10-NQ/TU", "Nghị quyết mười en quy trên tê u"),
        ("decree", "Nghị định 45/2024/NĐ-CP", "Nghị định bốn mươi lăm trên hai nghìn không trăm hai mươi bốn trên en đê xê pê"),
        ("decision", "Quyết định 123/QĐ-UBND", "Quyết định một trăm hai mươi ba trên quy đê u bê en dê"),
        ("no-digits", "theo NĐ-CP", "theo NĐ-CP"),
    ],
    N.senses: [
        ("bs-before-plate", "ô tô BS 51A-123.45", "ô tô biển số 51A-123.45"),
        ("bs-before-plate-colon", "mang BS: 29A-12345", "mang biển số: 29A-12345"),
        ("bs-after-xe", "chiếc xe BS giả", "chiếc xe biển số giả"),
        ("bs-after-bien", "biển BS không rõ", "biển biển số không rõ"),
        ("bs-before-name", "BS Nguyễn Văn An", "bác sĩ Nguyễn Văn An"),
        ("bs-dot-before-name", "BS. Trần Minh", "bác sĩ Trần Minh"),
        ("bs-nothing-selects", "các BS trẻ", "các BS trẻ"),
        ("bs-inside-word", "BSC dự báo", "BSC dự báo"),
    ],
    N.abbreviations: [
        ("tp-space", "TP Hạ Long", "thành phố Hạ Long"),
        ("tp-dot-glued", "TP.HCM", "thành phố Hồ Chí Minh"),
        ("tp-dot-space", "UBND TP. HCM chi", "ủy ban nhân dân thành phố Hồ Chí Minh chi"),
        ("title-pair", "PGS. TS. Vũ", "phó giáo sư tiến sĩ Vũ"),
        ("title-glued", "PGS.TS Lê", "phó giáo sư tiến sĩ Lê"),
        ("sentence-final-dot-kept", "về TP.", "về thành phố."),
        ("born", "SN 1990", "sinh năm 1990"),
        ("hyphenated-key", "Sở GD-ĐT", "Sở giáo dục và đào tạo"),
        ("code-part-untouched", "NĐ-CP", "NĐ-CP"),
        ("after-slash", "VND/USD", "đồng/đô la Mỹ"),
        ("inside-word-untouched", "TPBank", "TPBank"),
        ("sport-title", "trước ĐKVĐ V-League", "trước đương kim vô địch V-League"),
        ("bank", "các NHTM lớn", "các ngân hàng thương mại lớn"),
        ("vietnam", "Đội tuyển VN thắng", "Đội tuyển Việt Nam thắng"),
        ("inspectorate", "TTCP kiến nghị", "thanh tra chính phủ kiến nghị"),
        ("credit-institution", "do TCTD ấn định", "do tổ chức tín dụng ấn định"),
        ("broker", "nhiều CTCK", "nhiều công ty chứng khoán"),
        ("penal-code", "Điều 174 BLHS", "Điều 174 bộ luật hình sự"),
        ("city-police-dot", "CATP.Thủ Đức", "công an thành phố Thủ Đức"),
        ("district-police-dot", "CAQ.Gò Vấp", "công an quận Gò Vấp"),
        ("two-word-key", "Công ty TNHH MTV Môi trường", "Công ty trách nhiệm hữu hạn một thành viên Môi trường"),
        ("hyphenated-titles", "PGS-TS Đỗ Văn Dũng", "phó giáo sư tiến sĩ Đỗ Văn Dũng"),
        ("medal", "tranh HC đồng", "tranh huy chương đồng"),
        ("club", "vượt qua HAGL 1-0", "vượt qua Hoàng Anh Gia Lai 1-0"),
    ],
    N.admin_prefixes: [
        ("district-number", "Q.1", "quận 1"),
        ("district-space-number", "Q. 10", "quận 10"),
        ("ward-name", "P.Cô Giang", "phường Cô Giang"),
        ("initial-with-space", "bà P. Do", "bà P. Do"),
        ("initial-bracket", "Ph. (28 tuổi)", "Ph. (28 tuổi)"),
        ("address-space-name", "P.25, Q. Bình Thạnh", "phường 25, quận Bình Thạnh"),
        ("address-after-colon", "Địa chỉ: H. Củ Chi", "Địa chỉ: huyện Củ Chi"),
        ("address-first-item", "Q. Tân Bình, TP.HCM", "quận Tân Bình, TP.HCM"),
        ("initial-after-title-untouched", "Ông Q. Bình nói", "Ông Q. Bình nói"),
    ],
    N.times: [
        ("hour-g-after-luc", "lúc 17g, xe", "lúc mười bảy giờ, xe"),
        ("hour-g-after-sang", "sáng 7g", "sáng bảy giờ"),
        ("grams-without-cue", "khoảng 17g", "khoảng 17g"),
        ("h-minutes", "lúc 14h30", "lúc mười bốn giờ ba mươi phút"),
        ("g-minutes", "khoảng 9g30", "khoảng chín giờ ba mươi phút"),
        ("h-zero-minutes", "từ 8h00", "từ tám giờ"),
        ("h-alone", "4h sáng", "bốn giờ sáng"),
        ("midnight", "0h ngày", "không giờ ngày"),
        ("clock", "11:37", "mười một giờ ba mươi bảy phút"),
        ("clock-seconds", "lúc 7:05:09", "lúc bảy giờ năm phút chín giây"),
        ("time-range", "14h-16h30", "mười bốn giờ đến mười sáu giờ ba mươi phút"),
        ("grams-untouched", "9g đường", "9g đường"),
        ("ratio-untouched", "tỷ lệ 1:500", "tỷ lệ 1:500"),
        ("words-left-for-numbers", "22 giờ 15 phút", "22 giờ 15 phút"),
        ("h-minutes-phut", "14h30 phút", "mười bốn giờ ba mươi phút"),
    ],
    N.quarters: [
        ("roman", "quý IV/2025", "quý bốn năm hai nghìn không trăm hai mươi lăm"),
        ("digit-dash", "quý 3-2024", "quý ba năm hai nghìn không trăm hai mươi bốn"),
        ("q-short", "Q2/2023", "quý hai năm hai nghìn không trăm hai mươi ba"),
    ],
    N.date_ranges: [
        ("day-to-full-date", "ngày 1- 28/10/2020", "ngày một đến hai mươi tám tháng mười năm hai nghìn không trăm hai mươi"),
        ("day-month-to-day-month", "từ 28/10 - 2/11", "từ ngày hai mươi tám tháng mười đến hai tháng mười một"),
        ("no-ngay-needed", "ngày 5-7/3", "ngày năm đến bảy tháng ba"),
        ("number-range-untouched", "1.000 - 1.500 từ", "1.000 - 1.500 từ"),
    ],
    N.full_dates: [
        ("dots-after-ngay", "ngày 2.12.2020", "ngày hai tháng mười hai năm hai nghìn không trăm hai mươi"),
        ("slashes-no-ngay", "Thứ Ba, 21/4/2015", "Thứ Ba, ngày hai mươi mốt tháng tư năm hai nghìn không trăm mười lăm"),
        ("dashes", "Ngày 30-4-1975", "Ngày ba mươi tháng tư năm một nghìn chín trăm bảy mươi lăm"),
        ("mixed-separators-untouched", "2/12.2020", "2/12.2020"),
        ("invalid-month-untouched", "12/13/2020", "12/13/2020"),
    ],
    N.short_year_dates: [
        ("two-digit-year", "ký ngày 25/11/24 tại", "ký ngày hai mươi lăm tháng mười một năm hai mươi bốn tại"),
        ("needs-ngay", "Hà Nội, 3/2/05", "Hà Nội, ngày ba tháng hai năm không năm"),
        ("four-digit-year-untouched", "25/11/2024", "25/11/2024"),
        ("bad-month-untouched", "số 25/13/24", "số 25/13/24"),
    ],
    N.month_years: [
        ("t-short-month", "Giá T11/2025 tăng", "Giá tháng mười một năm hai nghìn không trăm hai mươi lăm tăng"),
        ("t-short-month-dash", "từ T3-2024", "từ tháng ba năm hai nghìn không trăm hai mươi bốn"),
        ("t-inside-word-untouched", "AT11/2025", "AT11/2025"),
        ("thang-dash", "tháng 9-2017", "tháng chín năm hai nghìn không trăm mười bảy"),
        ("thang-dot", "tháng 1.2018", "tháng một năm hai nghìn không trăm mười tám"),
        ("slash-adds-thang", "ra mắt 3/2017", "ra mắt tháng ba năm hai nghìn không trăm mười bảy"),
        ("dash-without-thang-untouched", "giai đoạn 3-2017", "giai đoạn 3-2017"),
        ("after-so-untouched", "Luật số 5/2019", "Luật số 5/2019"),
        ("dash-in-brackets", "Bình Giã (12-1964) cùng", "Bình Giã (tháng mười hai năm một nghìn chín trăm sáu mươi bốn) cùng"),
        ("dash-after-date-cue", "từ 3-2017 đến nay", "từ tháng ba năm hai nghìn không trăm mười bảy đến nay"),
    ],
    N.day_months: [
        ("holiday-dip", "Dịp 30-4 năm nay", "Dịp ngày ba mươi tháng tư năm nay"),
        ("holiday-le", "lễ 2-9", "lễ ngày hai tháng chín"),
        ("last-year-phrase", "hôm 4-9 năm ngoái", "hôm ngày bốn tháng chín năm ngoái"),
        ("range-of-years-kept", "từ 3-5 năm", "từ 3-5 năm"),
        ("cue-sang-dot", "Sáng 9.1", "Sáng ngày chín tháng một"),
        ("cue-ngay-dash", "ngày 29-8", "ngày hai mươi chín tháng tám"),
        ("cue-ngay-zero-month", "ngày 24.08", "ngày hai mươi bốn tháng tám"),
        ("brackets", "Hà Nội (9-1)", "Hà Nội (ngày chín tháng một)"),
        ("cue-nay", "sáng nay 18/12", "sáng nay ngày mười tám tháng mười hai"),
        ("ngay-two-words-back", "ngày bầu cử 3/11", "ngày bầu cử ngày ba tháng mười một"),
        ("no-cue-not-fraction", "đợt 28/10", "đợt ngày hai mươi tám tháng mười"),
        ("fraction-untouched", "khoảng 1/3 dân số", "khoảng 1/3 dân số"),
        ("holiday-not-fraction", "Quốc khánh 2/9", "Quốc khánh ngày hai tháng chín"),
        ("three-quarters-untouched", "chiếm 3/4 diện tích", "chiếm 3/4 diện tích"),
        ("fraction-cue", "vào vòng 1/8", "vào vòng 1/8"),
        ("decimal-untouched", "động cơ 1.4", "động cơ 1.4"),
        ("day-range-before-thang", "ngày 9-11 tháng 3", "ngày 9-11 tháng 3"),
        ("counted-after-cue-is-range", "thấp hơn từ 1-2 điểm", "thấp hơn từ 1-2 điểm"),
        ("ngay-then-counted-still-date", "ngày 2/9 năm ngoái", "ngày hai tháng chín năm ngoái"),
        ("slash-date-before-year-word", "hôm 4/9 năm ngoái", "hôm ngày bốn tháng chín năm ngoái"),
        ("round-the-clock-untouched", "Cập nhật 24/7 với", "Cập nhật 24/7 với"),
        ("round-the-clock-with-cue-is-date", "ngày 24/7 tới", "ngày hai mươi bốn tháng bảy tới"),
    ],
    N.scores: [
        ("after-that-bai", "nhận thất bại 0-2 trước Thanh Hóa", "nhận thất bại không hai trước Thanh Hóa"),
        ("after-comeback", "lội ngược dòng 2-1", "lội ngược dòng hai một"),
        ("win", "thắng 2-1,", "thắng hai một,"),
        ("score-spaced", "tỷ số 3 - 0", "tỷ số ba không"),
        ("draw", "hòa 1-1.", "hòa một một."),
        ("cue-words-before", "thua Việt Nam 0-1 ở giải", "thua Việt Nam không một ở giải"),
        ("cue-then-verb", "nâng tỷ số lên 2-0 phút 36", "nâng tỷ số lên hai không phút 36"),
        ("cue-earlier-bracket", "thua năm trận, lần lượt là 0-2 (vòng bảng)", "thua năm trận, lần lượt là không hai (vòng bảng)"),
        ("opponent-named", "trận thắng UAE 4-1 ngày ra quân", "trận thắng UAE bốn một ngày ra quân"),
        ("counted-noun-is-range", "hòa vốn sau 3-5 năm", "hòa vốn sau 3-5 năm"),
        ("percent-is-range", "thua lỗ 5-10%", "thua lỗ 5-10%"),
        ("no-cue-untouched", "nghỉ 2-3 ngày.", "nghỉ 2-3 ngày."),
        ("between-team-names", "trận Hà Nội FC 1-1 Hà Tĩnh.", "trận Hà Nội FC một một Hà Tĩnh."),
        ("result-cue", "với kết quả 1-1.", "với kết quả một một."),
        ("higher-first-any-follower", "Tỷ số 1-0 được giữ", "Tỷ số một không được giữ"),
        ("lower-first-place-follower", "trận thua 0-1 trên sân Vinh", "trận thua không một trên sân Vinh"),
        ("counted-after-cue-is-range", "Sau trận thắng, họ nghỉ 2-3 tuần.", "Sau trận thắng, họ nghỉ 2-3 tuần."),
        ("unit-after-cue-is-range", "thắng thầu 2-3 triệu", "thắng thầu 2-3 triệu"),
    ],
    N.roman_numerals: [
        ("term", "khóa XIV", "khóa mười bốn"),
        ("term-old-spelling", "khoá X,", "khoá mười,"),
        ("century", "thế kỷ XXI", "thế kỷ hai mươi mốt"),
        ("ordinal-cue", "lần thứ IV", "lần thứ tư"),
        ("list-marker", "II- Nhiệm vụ", "hai- Nhiệm vụ"),
        ("no-cue-untouched", "tia X", "tia X"),
        ("invalid-untouched", "khóa IIII", "khóa IIII"),
    ],
    N.months: [
        ("april", "tháng 4 tới", "tháng tư tới"),
        ("december", "đầu tháng 12.", "đầu tháng mười hai."),
        ("zero-padded", "tháng 04", "tháng tư"),
        ("not-a-month", "tháng 13", "tháng 13"),
        ("month-year-untouched", "tháng 9-2017", "tháng 9-2017"),
    ],
    N.ordinals: [
        ("fourth", "xếp thứ 4", "xếp thứ tư"),
        ("first", "hạng thứ 1", "hạng thứ nhất"),
        ("weekday", "Thứ 2 tuần sau", "Thứ hai tuần sau"),
        ("plain", "kỳ họp thứ 11", "kỳ họp thứ mười một"),
    ],
    N.ranges: [
        ("percent", "10-15%", "10 đến 15%"),
        ("years-spaced", "2020 - 2025", "2020 đến 2025"),
        ("en-dash", "8 – 12m", "8 đến 12m"),
        ("unicode-hyphen-and-minus", "10‑15 và 20−30", "10 đến 15 và 20 đến 30"),
        ("decimals", "56,05 – 56,75", "56,05 đến 56,75"),
        ("word-hyphen-untouched", "kinh tế-xã hội", "kinh tế-xã hội"),
        ("negative-untouched", "nhiệt độ -5", "nhiệt độ -5"),
    ],
    N.negatives: [
        ("temperature", "nhiệt độ -5 độ", "nhiệt độ âm 5 độ"),
        ("bracket", "(-2,5%)", "(âm 2,5%)"),
        ("start", "-3", "âm 3"),
        ("word-hyphen-untouched", "Covid-19", "Covid-19"),
        ("spaced-dash-untouched", "dự thi - 5 tác giả", "dự thi - 5 tác giả"),
    ],
    N.fractions: [
        ("season", "V-League 2023/2024", "V-League hai nghìn không trăm hai mươi ba – hai nghìn không trăm hai mươi bốn"),
        ("number-after-so-not-season", "số 2019/2020", "số hai nghìn không trăm mười chín trên hai nghìn không trăm hai mươi"),
        ("third", "1/3 dân số", "một phần ba dân số"),
        ("scale", "tỷ lệ 1/500", "tỷ lệ một trên năm trăm"),
        ("number-over-year", "số 3/2017", "số ba trên hai nghìn không trăm mười bảy"),
        ("ratio-over", "24/7", "hai mươi bốn trên bảy"),
        ("ratio-decimal-denominator", "cao nhất với 1/2,91.", "cao nhất với một trên 2,91."),
        ("count-out-of-count", "thắng 12/30 trận", "thắng mười hai trên ba mươi trận"),
        ("delegates-out-of", "45/50 đại biểu tán thành", "bốn mươi lăm trên năm mươi đại biểu tán thành"),
        ("fraction-before-other-noun", "3/4 dân số", "ba phần bốn dân số"),
    ],
    N.percents: [
        ("glued", "10%", "10 phần trăm"),
        ("spaced", "0,6 %", "0,6 phần trăm"),
    ],
    N.units: [
        ("kilovolt-capitals-glued", "đường dây 110KV", "đường dây 110 ki-lô-vôn"),
        ("kilowatt-lower-case", "lắp 5kw", "lắp 5 ki-lô-oát"),
        ("kilowatt-capitals-spaced", "công suất 5 KW", "công suất 5 ki-lô-oát"),
        ("kilometre-capital", "10 Km", "10 ki-lô-mét"),
        ("glued-ha", "65ha", "65 héc-ta"),
        ("squared", "5,5 km²", "5,5 ki-lô-mét vuông"),
        ("after-multiplier", "70 triệu m3 nước", "70 triệu mét khối nước"),
        ("rate-per-second", "775,57 m3/s", "775,57 mét khối một giây"),
        ("speed", "80 km/h", "80 ki-lô-mét một giờ"),
        ("per-hundred", "6 L/100km", "6 lít trên 100 ki-lô-mét"),
        ("litre-glued", "1.4L", "1.4 lít"),
        ("megawatt", "3MW", "3 mê-ga-oát"),
        ("celsius", "35°C", "35 độ C"),
        ("no-number-untouched", "m2 đất", "m2 đất"),
        ("word-untouched", "5 mét", "5 mét"),
        ("league-name-no-volt", "vòng 15 V-League", "vòng 15 V-League"),
        ("watt", "sạc nhanh 45W,", "sạc nhanh 45 oát,"),
        ("nanometre", "tiến trình 7 nm của", "tiến trình 7 na-nô-mét của"),
    ],
    N.currency: [
        ("dollar-sign", "$5", "5 đô la"),
        ("dollar-multiplier", "$2 tỷ", "2 tỷ đô la"),
        ("dong-glued", "50.000đ", "50.000 đồng"),
        ("vnd", "200 VNĐ", "200 đồng"),
        ("thousand-k", "lên 50k cho", "lên 50 nghìn cho"),
        ("capital-k-untouched", "màn hình 4K", "màn hình 4K"),
    ],
    N.rates: [
        ("gold", "56 triệu đồng/lượng", "56 triệu đồng một lượng"),
        ("per-minute", "140 lần/phút", "140 lần một phút"),
        ("no-number-untouched", "ngày/tháng", "ngày/tháng"),
        ("exchange-rate", "25.450 đồng/đô la Mỹ", "25.450 đồng một đô la Mỹ"),
        ("density", "315 người/km2", "315 người một ki-lô-mét vuông"),
        ("slash-before-number", "100 đô la Mỹ/1000 mét khối", "100 đô la Mỹ trên 1000 mét khối"),
        ("slash-number-no-number-before-untouched", "Quyết định/2024", "Quyết định/2024"),
        ("per-lot", "260 triệu đồng/lô.", "260 triệu đồng một lô."),
        ("per-electricity", "2.000 đồng/kWh", "2.000 đồng một ki-lô-oát giờ"),
    ],
    N.model_codes: [
        ("trim", "bản 2.0E", "bản hai chấm không e"),
        ("train", "tàu SE67", "tàu ét e sáu mươi bảy"),
        ("team", "U23 Việt Nam", "u hai mươi ba Việt Nam"),
        ("virus", "H5N1", "hát năm en một"),
        ("zero", "F0", "ép không"),
        ("road", "trên QL1A", "trên quốc lộ một a"),
    ],
    N.split_words_digits: [
        ("glued", "Mazda3", "Mazda 3"),
        ("hyphen", "Covid-19", "Covid 19"),
        ("pure-word", "Mazda", "Mazda"),
    ],
    N.dimensions: [
        ("screen", "độ phân giải 1.260 x 2.720 pixel", "độ phân giải 1.260 nhân 2.720 pixel"),
        ("glued", "ảnh 3x4", "ảnh 3 nhân 4"),
        ("zoom-untouched", "zoom 2x, 10x.", "zoom 2x, 10x."),
    ],
    N.numbers: [
        ("zero-padded-count-months", "trong 06 tháng", "trong sáu tháng"),
        ("zero-padded-count-people", "làm chết 08 người", "làm chết tám người"),
        ("zero-padded-alone-digits", "mã (03)", "mã (không ba)"),
        ("thousands-dot", "24.500", "hai mươi bốn nghìn năm trăm"),
        ("decimal-comma", "4,37", "bốn phẩy ba mươi bảy"),
        ("thousands-and-decimal", "1.949,8", "một nghìn chín trăm bốn mươi chín phẩy tám"),
        ("english-thousands-000", "23,000", "hai mươi ba nghìn"),
        ("english-thousands-people", "2,250 người", "hai nghìn hai trăm năm mươi người"),
        ("decimal-before-ty", "35,544 tỷ", "ba mươi lăm phẩy năm trăm bốn mươi bốn tỷ"),
        ("english-decimal", "258.1 ngàn", "hai trăm năm mươi tám phẩy một ngàn"),
        ("english-full", "1,234.5", "một nghìn hai trăm ba mươi bốn phẩy năm"),
        ("zero-padded", "(03)", "(không ba)"),
        ("long-identifier", "0987654321", "không chín tám bảy sáu năm bốn ba hai một"),
        ("version", "1.2.3", "một chấm hai chấm ba"),
        ("sentence-dot", "năm 2017.", "năm hai nghìn không trăm mười bảy."),
    ],
    N.acronyms: [
        ("spelled", "giá SJC", "giá ét gi xê"),
        ("vietnamese-letter", "trụ sở ĐBQL mới", "trụ sở đê bê quy e lờ mới"),
        ("read-as-word", "khối ASEAN", "khối a-xê-an"),
        ("all-caps-line-untouched", "LÊ HÀ VÀ BTV", "LÊ HÀ VÀ BTV"),
        ("mixed-case-untouched", "Covid", "Covid"),
        ("english-letters", "Calvin, CEO của Sephora", "Calvin, xi i ô của Sephora"),
        ("english-mc", "MC Thảo Vân", "em xi Thảo Vân"),
        ("led-word", "bóng đèn LED hành lang", "bóng đèn lét hành lang"),
        ("storm-name", "bão YAGI (bão số 3)", "bão Yagi (bão số 3)"),
        ("storm-name-capital-cue", "Bão WIPHA cấp 9", "Bão Wipha cấp 9"),
        ("two-letters-after-cue-spelled", "bão VN", "bão vê en"),
    ],
    N.initials: [
        ("person-before-bracket", "ông T.V.M. (SN 1972); T.V.T. (SN", "ông tê vê em (SN 1972); tê vê tê (SN"),
        ("no-last-dot", "anh N.V.A, 30 tuổi", "anh en vê a, 30 tuổi"),
        ("text-end-keeps-dot", "cho ông B.V.T.", "cho ông bê vê tê."),
        ("one-initial-untouched", "cho bà P. Do", "cho bà P. Do"),
        ("place-prefix-untouched", "P.Cô Giang, Q.1", "P.Cô Giang, Q.1"),
        ("inside-word-untouched", "TP.HCM", "TP.HCM"),
    ],
    N.symbols: [
        ("and", "A & B", "A  và  B"),
        ("percent-left", "lãi %", "lãi  phần trăm"),
        ("approx", "~5", " khoảng 5"),
    ],
    N.tidy_spaces: [
        ("collapse", "a  b\u00a0 c ", "a b c"),
    ],
}

CASES = [(rule, written, spoken) for rule, rows in RULE_CASES.items() for _, written, spoken in rows]
IDS = [f"{rule.__name__}:{cid}" for rule, rows in RULE_CASES.items() for cid, _, _ in rows]


@pytest.mark.parametrize("rule, written, spoken", CASES, ids=IDS)
def test_rule(rule, written, spoken):
    assert rule(written) == spoken


def test_every_rule_is_named_documented_and_tabled():
    assert isinstance(RULES, tuple)
    names = [r.__name__ for r in RULES]
    assert len(set(names)) == len(names)
    for rule in RULES:
        assert inspect.getdoc(rule), f"{rule.__name__} has no docstring"
        if rule is not N.operator_lexicon:  # tested in test_text_lexicon.py
            assert len(RULE_CASES.get(rule, ())) >= 1, f"{rule.__name__} has no table"


# Whole sentences: the seed readings and cases beyond the gold files.
SENTENCES = [
    ("seed-date", "Sáng 9.1, tại TP Hạ Long", "Sáng ngày chín tháng một, tại thành phố Hạ Long"),
    ("seed-thousands", "trên 24.500 đảng viên", "trên hai mươi bốn nghìn năm trăm đảng viên"),
    ("seed-percent", "đạt 10%;", "đạt mười phần trăm;"),
    ("seed-count", "tới 221 điểm cầu", "tới hai trăm hai mươi mốt điểm cầu"),
    ("seed-year-range", "giai đoạn 2020 - 2025,",
     "giai đoạn hai nghìn không trăm hai mươi đến hai nghìn không trăm hai mươi lăm,"),
    ("seed-full-date", "ngày 2.12.2020", "ngày hai tháng mười hai năm hai nghìn không trăm hai mươi"),
    ("seed-council", "Chủ tịch HĐND tỉnh", "Chủ tịch hội đồng nhân dân tỉnh"),
    ("plate-doctor-default", "Ô tô BS 30E-999.99 chở BS Lan, các BS khác đi sau",
     "Ô tô biển số ba mươi e chín chín chín chín chín chở bác sĩ Lan, các bác sĩ khác đi sau"),
    ("percent-range", "tăng 10-15%", "tăng mười đến mười lăm phần trăm"),
    ("money-range", "phạt 10-20 triệu đồng", "phạt mười đến hai mươi triệu đồng"),
    ("usd-rate", "1.954,90 USD/ounce", "một nghìn chín trăm năm mươi bốn phẩy chín mươi đô la Mỹ một ounce"),
    ("time-and-date", "Lúc 8h ngày 29-8", "Lúc tám giờ ngày hai mươi chín tháng tám"),
    ("fuel", "6,5 L/100km", "sáu phẩy năm lít trên một trăm ki-lô-mét"),
    ("speed-limit", "chạy 120 km/h", "chạy một trăm hai mươi ki-lô-mét một giờ"),
    ("district", "Q.3, TP.HCM", "quận ba, thành phố Hồ Chí Minh"),
    ("roman-quarter", "quý IV/2025", "quý bốn năm hai nghìn không trăm hai mươi lăm"),
    ("court", "TAND TP Hà Nội", "tòa án nhân dân thành phố Hà Nội"),
    ("born", "Nguyễn Văn A. (SN 1985)", "Nguyễn Văn A. (sinh năm một nghìn chín trăm tám mươi lăm)"),
    ("score", "thắng 3-1 trước Thái Lan", "thắng ba một trước Thái Lan"),
    ("ordinal", "đứng thứ 4 thế giới", "đứng thứ tư thế giới"),
    ("english-thousands", "từ 23,000-30,000 USD", "từ hai mươi ba nghìn đến ba mươi nghìn đô la Mỹ"),
    ("decree", "Nghị định 100/2019/NĐ-CP", "Nghị định một trăm trên hai nghìn không trăm mười chín trên en đê xê pê"),
    ("plate", "ô tô BKS 30E-123.45", "ô tô biển kiểm soát ba mươi e một hai ba bốn năm"),
    ("temperature", "nắng nóng 39°C", "nắng nóng ba mươi chín độ C"),
    ("lexicon-default", "virus SARS-CoV-2", "virus sác cô vi hai"),
    ("plain-text-kept", "Không có số nào ở đây.", "Không có số nào ở đây."),
]


@pytest.mark.parametrize("written, spoken", [(w, s) for _, w, s in SENTENCES], ids=[i for i, _, _ in SENTENCES])
def test_normalize_sentence(written, spoken, monkeypatch, repo_root):
    monkeypatch.setenv("VNREADER_LEXICON", str(repo_root / "feeds" / "lexicon.tsv"))
    assert normalize(written) == spoken


def test_normalize_is_idempotent_on_its_output():
    once = normalize("Sáng 9.1, UBND TP.HCM chi 6.140 tỷ đồng cho 18km đường, tăng 10%.")
    assert normalize(once) == once


def test_triggers_only_skip_rules_with_nothing_to_do(data_dir):
    """normalize() skips a rule when its trigger finds nothing; the result must be the same as
    running every rule."""
    import json

    texts = [w for rows in RULE_CASES.values() for _, w, _ in rows] + [w for _, w, _ in SENTENCES]
    for name, key in (("normalization.jsonl", "context"), ("segmentation.jsonl", "text")):
        with open(data_dir / "text" / name, encoding="utf-8") as f:
            texts += [json.loads(line)[key] for line in f if line.strip()]
    texts += ["WWW.BAO.VN", "Hoà 1-1", "khóa XIV”", "TƯ Đoàn", "(9-1)"]

    def every_rule(t):
        for rule in RULES:
            t = rule(t)
        return t
    assert [t for t in texts if normalize(t) != every_rule(t)] == []


def test_no_digit_survives_and_nothing_crashes_on_mixed_tokens():
    """Seeded mixes of the forms the rules know: every digit ends up as words (an engine
    reading raw digits is what the rules exist to prevent)."""
    import random
    import re

    tokens = ["ngày", "Sáng", "tháng", "năm", "TP.", "HCM", "UBND", "Q.", "1", "24.500", "3,5", "9.1",
              "2.12.2020", "10%", "-", "–", "/", "km", "m2", "h", "USD", "$", "đ", "(", ")", ".", "…", "?",
              "“", "”", "A", "XIV", "khóa", "thứ", "4", "0912", "01-NQ/TU", "29A-123.45", "www.a.vn",
              "14h30", "11:37", "1/3", "28/10", "SE67", "Mazda3", "-5", "2020", ",", ":", "T.", "0", "007",
              "1.000.000", "1,234.5", "3/2017", "quý", "IV", "tỷ", "°C", "&", "vòng", "1/8"]
    rng = random.Random(2024)
    left = []
    for _ in range(1500):
        text = rng.choice([" ", ""]).join(rng.choice(tokens) for _ in range(rng.randint(1, 10)))
        if re.search(r"\d", normalize(text)):
            left.append(text)
    assert left == []
