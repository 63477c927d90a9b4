"""Test the portal upload file and the 環教 file byte for byte (D5; domain §2.1, §2.5, R9-R11)."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lrs.certification import exports
from lrs.certification.codes import default_codes
from lrs.certification.rules import TAIPEI, Segment, learning_nature

D = Decimal
HEADER_25 = ("*身分證字號,*課程名稱,*開課起始日期,*開課起始時間,*開課結束日期,*開課結束時間,*姓名,*學位學分,*課程類別代碼,"
             "*上課縣市,*期別,*訓練總數,*訓練總數單位,訓練成績,證件字號,出勤上課狀況,生日,*學習性質,*數位時數,*實體時數,"
             "課程代碼,*實際上課起始日期,*實際上課起始時間,*實際上課結束日期,*實際上課結束時間")
HEADER_18 = ("*年度,*學員所屬機關(構)代碼,*身分證字號,*課程名稱,*上課起始日期,*姓名,*課程方法代碼,*課程類別代碼,*內容概要,"
             "*實施縣市,實施地點,*期別,*上課結束日期,*課程時數,*學習性質,*數位時數,*實體時數,課程代碼")
DAY = dt.date(2026, 12, 5)
CODES = default_codes()


def credit(**changes: object) -> exports.ExportCredit:
    base: dict[str, object] = {
        "ref": "c1", "year": 2026, "id_number": "A123456789", "name": "王小明", "agency_code": "379680000A",
        "course_code": "INT-202-01", "course_title": "English for Career Development",
        "primary_code": "202", "digital": D(20), "physical": D(0),
        "class_start": dt.datetime(2026, 1, 1, 0, 0, tzinfo=TAIPEI),
        "class_end": dt.datetime(2026, 12, 31, 23, 59, tzinfo=TAIPEI),
        "started_at": dt.datetime(2026, 3, 5, 1, 2, 3, tzinfo=dt.UTC),  # 09:02:03 Taipei
        "completed_at": dt.datetime(2026, 12, 31, 15, 59, tzinfo=dt.UTC),  # 23:59:00 Taipei
        "score": D(85),
    }
    base.update(changes)
    return exports.ExportCredit(**base)  # type: ignore[arg-type]


def test_portal_file_header_is_verbatim_big5() -> None:
    """§2.1: the header is exactly the 25-column line, unquoted, Big5-encoded, LF-terminated, no BOM."""
    assert exports.PORTAL_HEADER == HEADER_25
    result = exports.build_exports([credit()], CODES, export_day=DAY)
    name, data = result.files[0]
    assert name == "2026-12-05_(1~1).csv"
    assert data.startswith(HEADER_25.encode("big5") + b"\n")
    assert not data.startswith(b"\xef\xbb\xbf")
    assert len(HEADER_25.split(",")) == 25


def test_portal_file_row_byte_for_byte() -> None:
    """§2.1 / R9: one row, every field quoted, ROC dates, 學位學分 6, unit 1, 學習性質 1, Taipei times."""
    result = exports.build_exports([credit()], CODES, export_day=DAY)
    expected_row = ('"A123456789","English for Career Development","115-01-01","00:00:00","115-12-31","23:59:00",'
                    '"王小明","6","202","10","1","20","1","85","","","","1","20","0","INT-202-01",'
                    '"115-03-05","09:02:03","115-12-31","23:59:00"\n')
    assert result.files[0][1] == (HEADER_25 + "\n" + expected_row).encode("big5")
    rows = exports.parse_portal_file(result.files[0][1])
    assert rows[0] == HEADER_25.split(",") and len(rows[1]) == 25
    assert result.portal_rows == 1 and result.refused == []


def test_portal_file_segments_split_rows_r10() -> None:
    """R10: a 4 h course with 1 h to 386 gives a 3 h parent row and a 1 h segment row."""
    data = exports.build_exports(
        [credit(digital=D(4), segments=(Segment("386", D(1), D(0), "性別主流化"),))], CODES, export_day=DAY,
    ).files[0][1]
    rows = exports.parse_portal_file(data)[1:]
    assert [(r[1], r[8], r[11], r[18]) for r in rows] == [
        ("English for Career Development", "202", "3", "3"),
        ("English for Career Development-性別主流化", "386", "1", "1"),
    ]


def test_portal_file_blended_row_nature_three_and_total() -> None:
    """R9: digital 50 + physical 172 -> 學習性質 3, 訓練總數 222; decimals keep one place."""
    rows = exports.parse_portal_file(
        exports.build_exports([credit(digital=D(50), physical=D("172.5"), score=None)], CODES, export_day=DAY).files[0][1]
    )
    row = rows[1]
    assert (row[11], row[13], row[17], row[18], row[19]) == ("222.5", "", "3", "50", "172.5")


def test_env_file_for_codes_337_to_345_r11() -> None:
    """R11 / §2.5: a 339 segment also goes into the 18-column 環教 file, byte for byte."""
    result = exports.build_exports(
        [credit(digital=D(6), primary_code="268", segments=(Segment("339", D(2), D(0)),), summary="SDGs 與氣候變遷")],
        CODES, export_day=DAY,
    )
    names = [name for name, _ in result.files]
    assert names == ["2026-12-05_(1~2).csv", "env2026-12-05_(1~1).csv"]
    expected = (HEADER_18 + "\n" + '"115","379680000A","A123456789","English for Career Development","115-01-01",'
                '"王小明","1","339","SDGs 與氣候變遷","10","","1","115-12-31","2","1","2","0","INT-202-01"\n')
    assert result.files[1][1] == expected.encode("big5")
    assert exports.parse_portal_file(result.files[1][1])[0] == HEADER_18.split(",")
    assert result.env_rows == 1 and result.portal_rows == 2


def test_portal_file_three_thousand_rows_per_file() -> None:
    """§2.1: at most 3,000 data rows a file; 3,001 rows give two files named by their range."""
    credits = [credit(ref=f"c{i}") for i in range(3001)]
    result = exports.build_exports(credits, CODES, export_day=DAY)
    assert [name for name, _ in result.files] == ["2026-12-05_(1~3000).csv", "2026-12-05_(3001~3001).csv"]
    assert len(exports.parse_portal_file(result.files[0][1])) == 3001
    assert len(exports.parse_portal_file(result.files[1][1])) == 2


def test_portal_file_several_files_zipped(tmp_path: Path) -> None:
    """§2.1: several files are written as one zip holding each file unchanged."""
    result = exports.build_exports([credit(ref=f"c{i}") for i in range(5)], CODES, export_day=DAY, max_rows=2)
    written = result.write(tmp_path, zip_name="portal.zip")
    assert [p.name for p in written] == ["portal.zip"]
    with zipfile.ZipFile(io.BytesIO(written[0].read_bytes())) as archive:
        assert archive.namelist() == ["2026-12-05_(1~2).csv", "2026-12-05_(3~4).csv", "2026-12-05_(5~5).csv"]
        assert archive.read("2026-12-05_(5~5).csv") == result.files[2][1]


@pytest.mark.parametrize(("changes", "fragment"), [
    ({"id_number": "A123456788"}, "check digit"),
    ({"primary_code": "999999"}, "not in the code list"),
    ({"digital": D(0)}, "no hours"),
    ({"name": ""}, "name is empty"),
    ({"name": "王\n明"}, "line break"),
    ({"name": "😀"}, "Big5 cannot encode"),
    ({"city_code": "99"}, "上課縣市"),
    ({"segments": (Segment("386", D(30), D(0)),)}, "more than the course"),
    ({"agency_code": "123", "primary_code": "337"}, "10 characters"),
])
def test_build_exports_refuses_bad_credits_with_reasons(changes: dict[str, object], fragment: str) -> None:
    """D5: invalid IDs, unknown codes, zero hours, unencodable names are refused whole and reported."""
    result = exports.build_exports([credit(**changes), credit(ref="good")], CODES, export_day=DAY)
    assert result.portal_rows == 1
    assert [r.ref for r in result.refused] == ["c1"]
    assert any(fragment in reason for reason in result.refused[0].reasons), result.refused[0].reasons
    assert "A123456789" not in str(result.refused[0].as_dict())


def test_build_exports_quotes_doubled_and_eten_characters() -> None:
    """§2.1: a quote in a title is doubled; 碁/恒 (Big5 ETEN) are written as code page 950 writes them."""
    result = exports.build_exports([credit(course_title='The "Open" Gov', name="陳恒碁")], CODES, export_day=DAY)
    data = result.files[0][1]
    assert b'"The ""Open"" Gov"' in data
    assert "陳恒碁".encode("cp950") in data
    assert exports.parse_portal_file(data)[1][6] == "陳恒碁"


def test_build_exports_passport_only_where_allowed() -> None:
    """D6: passport numbers are exported only where allowed."""
    allowed = exports.build_exports([credit(id_number="X1234567")], CODES, export_day=DAY, allow_passport=True)
    refused = exports.build_exports([credit(id_number="X1234567")], CODES, export_day=DAY, allow_passport=False)
    assert allowed.portal_rows == 1 and refused.portal_rows == 0


def test_credit_json_masks_id_unless_asked() -> None:
    """D5: the JSON export masks the ID unless the caller asks for it."""
    data = exports.credit_json(credit(), include_id=False)
    assert data["id"] == "A12****789" and data["rows"][0]["learning_nature"] == 1
    assert exports.credit_json(credit(), include_id=True)["id"] == "A123456789"


def test_check_file_accepts_our_files_and_names_problems() -> None:
    """§2.1: files we write pass the checker; a BOM, CR LF, a bad code or a wrong 學習性質 are each named."""
    result = exports.build_exports([credit(), credit(ref="c2", primary_code="337", summary="環境")], CODES, export_day=DAY)
    for _name, data in result.files:
        assert exports.check_file(data, CODES) == []
    data = result.files[0][1]
    assert any("byte-order mark" in p for p in exports.check_file(b"\xef\xbb\xbf" + data, CODES))
    assert any("CR LF" in p for p in exports.check_file(data.replace(b"\n", b"\r\n"), CODES))
    assert any("category code '999'" in p for p in exports.check_file(data.replace(b'"202"', b'"999"'), CODES))
    broken = data.replace(b'"1","20","0","INT', b'"2","20","0","INT')
    assert any("學習性質 2" in p for p in exports.check_file(broken, CODES))
    assert exports.check_file("not a header\n".encode("big5"), CODES)


_TENTHS = st.integers(min_value=0, max_value=400)
_BIG5_TEXT = st.text(alphabet=st.sampled_from(list("王小明陳林黃張李國際課程英語永續發展公民參與環境教育ABCxyz 0123-")), min_size=1, max_size=30)


@settings(max_examples=60, deadline=None)
@given(digital=_TENTHS, physical=_TENTHS, seg=st.lists(st.tuples(st.sampled_from(["386", "337", "505", "202"]), _TENTHS, _TENTHS),
                                                      max_size=3), name=_BIG5_TEXT, title=_BIG5_TEXT, max_rows=st.integers(1, 4))
def test_build_exports_rows_always_add_up(digital: int, physical: int, seg: list[tuple[str, int, int]], name: str, title: str,
                                         max_rows: int) -> None:
    """R9/R10 (property): exported rows add up to the course's hours, each row's 學習性質 and total agree, files hold <= max rows."""
    segments = tuple(Segment(code, D(d) / 10, D(p) / 10) for code, d, p in seg if d + p > 0)
    item = credit(digital=D(digital) / 10, physical=D(physical) / 10, segments=segments, name=name.strip() or "王",
                  course_title=title.strip() or "課程", summary="環境")
    result = exports.build_exports([item], CODES, export_day=DAY, max_rows=max_rows)
    portal_files = [data for name_, data in result.files if not name_.startswith("env")]
    rows = [row for data in portal_files for row in exports.parse_portal_file(data)[1:]]
    if result.refused:
        assert rows == [] and result.refused[0].reasons
        return
    assert all(len(exports.parse_portal_file(data)) - 1 <= max_rows for data in portal_files)
    assert sum(D(r[11]) for r in rows) == (D(digital) + D(physical)) / 10
    for row in rows:
        assert D(row[11]) == D(row[18]) + D(row[19])
        assert row[17] == str(int(learning_nature(D(row[18]), D(row[19]))))
        assert row[6] == item.name.strip()
    for data in portal_files:
        assert exports.check_file(data, CODES) == []


@settings(max_examples=400, deadline=None)
@given(st.datetimes(min_value=dt.datetime(1912, 1, 2), max_value=dt.datetime(2200, 1, 1),
                    timezones=st.sampled_from([dt.UTC, TAIPEI, dt.timezone(dt.timedelta(hours=-5))])))
def test_portal_times_are_taipei_wall_time_in_roc_dates(moment: dt.datetime) -> None:
    """§2.1: 實際上課起始/結束 are the Taipei date (民國年) and clock time of the moment, whatever zone it arrives in.

    The fast path (UTC+8 since 1980) must agree with the zone database, daylight-saving years included.
    """
    local = moment.astimezone(TAIPEI)
    expected = f'"{local.year - 1911:03d}-{local.month:02d}-{local.day:02d}","{local:%H:%M:%S}"'
    assert exports._roc_fields(moment) == expected
