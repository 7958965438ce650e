"""The period's reports: the CSV reads back in a spreadsheet with Vietnamese labels and the input's
values, the PDF is one A4 page in Vietnamese whatever the number of fields, and numbers are written
the Vietnamese way."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from pathlib import Path

import pypdfium2
import pytest

from services.runtime.settings import PdfForms
from services.stats import figures as fig
from services.stats.reports import LABELS, csv_report, number, pdf_report

FONT = Path(PdfForms.model_fields["pdf_font"].default)
BOLD = Path(PdfForms.model_fields["pdf_bold_font"].default)
UNIT = "Ủy ban nhân dân xã An Hiệp"

# A commune's quarter, received over three months.
MONTHS = [
    {"received": 700, "received_online_full": 560, "received_online_partial": 105, "received_counter": 35},
    {"received": 720, "received_online_full": 571, "received_online_partial": 113, "received_counter": 36},
    {"received": 725, "received_online_full": 569, "received_online_partial": 116, "received_counter": 30,
     "received_post": 10},
]  # fmt: skip
QUARTER = {
    "online": 2_034,
    "components": 6_120,
    "components_digitised": 5_985,
    "components_scanned": 410,
    "components_reused": 1_180,
    "dossiers_digitised": 2_001,
    "fee_bearing": 640,
    "fee_exempt": 40,
    "paid_online": 552,
    "paid_counter": 48,
    "collected_vnd": 14_250_000,
    "resolved": 2_004,
    "early": 1_520,
    "on_time": 447,
    "late": 37,
    "refused": 12,
    "withdrawn": 9,
    "results": 1_992,
    "results_digitised": 1_950,
    "rated": 812,
    "rating_sum": 3_790,
    "satisfied": 771,
    "dissatisfied": 14,
    "unhappy": 49,
    "complaints": 6,
    "complaints_answered": 6,
    "complaints_answered_on_time": 5,
    "opened": 120,
}
GROUPS = [  # Decision 766's five groups, 100 points
    ("transparency", "Công khai, minh bạch", 18, 14.92),
    ("progress", "Tiến độ giải quyết", 20, 18.4),
    ("online", "Dịch vụ trực tuyến", 22, 16.7),
    ("satisfaction", "Mức độ hài lòng", 18, 15.1),
    ("digitisation", "Số hóa hồ sơ, kết quả", 22, 13.06),
]


def figures_json(counters: dict[str, int]) -> dict:
    """GET /stats/figures's answer for the commune's quarter."""
    return {
        "scope": {"unit": "H40.101", "unit_name": "Xã An Hiệp", "level": "commune",
                  "field": None, "procedure": None, "channel": None},
        "period": {"from": "2026-07-01", "to": "2026-09-30"},
        "counters": counters,
        "carried_over": 58, "in_progress": 178, "overdue_now": 3, "due_soon_now": 11,
        "rates": fig.rates(counters),
    }  # fmt: skip


def index_json() -> dict:
    groups = [
        {"id": key, "name": name, "weight": weight, "score": score,
         "indicators": [{"id": f"{key}.main", "name": f"Chỉ tiêu chính: {name.lower()}", "weight": weight,
                         "score": score, "lost": round(weight - score, 2), "value": 90.0, "applicable": True,
                         "formula": "tỷ lệ × trọng số"}]}
        for key, name, weight, score in GROUPS
    ]  # fmt: skip
    return {"unit": "H40.101", "unit_name": "Xã An Hiệp", "level": "commune",
            "period": {"from": "2026-07-01", "to": "2026-09-30"},
            "score": 78.18, "max": 100, "rank": 11, "of": 129, "groups": groups}  # fmt: skip


def field_row(name: str, received: int, online: int, early: int, on_time: int, late: int) -> dict:
    counters = fig.total([{"received": received, "online": online, "resolved": early + on_time + late,
                           "early": early, "on_time": on_time, "late": late}])  # fmt: skip
    return {"key": name, "name": name, "counters": counters, "rates": fig.rates(counters)}


@pytest.fixture
def quarter() -> dict:
    return figures_json(fig.total([*MONTHS, QUARTER]))


BREAKDOWN = [
    field_row("Hộ tịch", 1_310, 1_295, 1_010, 280, 12),
    field_row("Chứng thực", 602, 520, 402, 120, 20),
    field_row("Đất đai", 143, 134, 60, 40, 5),
    field_row("Bảo trợ xã hội", 90, 85, 48, 7, 0),
]


def test_numbers_are_written_the_vietnamese_way() -> None:
    assert number(2_145) == "2.145"
    assert number(14_250_000) == "14.250.000"
    assert number(97.79, "%") == "97,79 %"
    assert number(1234.5) == "1.234,50"
    assert number(None, "%") == "–"


def test_every_figure_has_a_vietnamese_label(quarter: dict) -> None:
    keys = {*quarter["counters"], *quarter["rates"], "carried_over", "in_progress", "overdue_now", "due_soon_now"}
    assert keys <= LABELS.keys()
    assert LABELS["received"] == "Hồ sơ tiếp nhận"
    assert LABELS["online_rate"] == "Tỷ lệ hồ sơ trực tuyến (%)"


def test_the_csv_reads_back_with_the_labels_and_the_values(quarter: dict) -> None:
    text = csv_report(quarter, index_json(), BREAKDOWN)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"))))
    assert rows[0] == ["Chỉ tiêu", "Mã", "Giá trị"]
    by_code = {row[1]: row for row in rows[: rows.index([])]}  # the period's own figures, before the fields
    assert by_code["received"] == ["Hồ sơ tiếp nhận", "received", "2145"]
    assert by_code["online"][2] == "2034"
    assert (by_code["early"][2], by_code["on_time"][2], by_code["late"][2]) == ("1520", "447", "37")
    assert by_code["carried_over"] == ["Kỳ trước chuyển sang", "carried_over", "58"]
    assert by_code["components_digitised_rate"] == ["Tỷ lệ số hóa thành phần hồ sơ (%)", "components_digitised_rate", "97.79"]  # fmt: skip
    assert by_code["online_rate"][2] == str(quarter["rates"]["online_rate"])
    assert by_code["from"][2] == "2026-07-01" and by_code["unit_name"][2] == "Xã An Hiệp"
    for code, value in quarter["counters"].items():
        assert by_code[code][2] == str(value)
    assert ["Lĩnh vực: Chứng thực", "field", "Chứng thực"] in rows
    chung_thuc = rows[rows.index(["Lĩnh vực: Chứng thực", "field", "Chứng thực"]) :]
    assert ["Hồ sơ tiếp nhận", "received", "602"] == chung_thuc[1]
    assert ["Chỉ số phục vụ người dân, doanh nghiệp (tối đa 100 điểm)", "index", "78.18"] in rows
    assert ["Xếp hạng", "rank", "11"] in rows
    assert ["Công khai, minh bạch (tối đa 18 điểm)", "transparency", "14.92"] in rows
    assert ["– Chỉ tiêu chính: số hóa hồ sơ, kết quả (tối đa 22 điểm)", "digitisation.main", "13.06"] in rows


def test_a_missing_rate_is_an_empty_cell_and_no_index_no_section(quarter: dict) -> None:
    quarter["rates"]["complaints_on_time_rate"] = None
    rows = list(csv.reader(io.StringIO(csv_report(quarter, None, []).removeprefix("\ufeff"))))
    assert ["Tỷ lệ phản ánh, kiến nghị trả lời đúng hạn (%)", "complaints_on_time_rate", ""] in rows
    assert not any(row and row[1] == "index" for row in rows)


def pdf_text(document: bytes) -> tuple[int, str]:
    pdf = pypdfium2.PdfDocument(document)
    pages, text = len(pdf), pdf[0].get_textpage().get_text_range()
    pdf.close()
    return pages, text


def render(quarter: dict, breakdown: list[dict], index: dict | None = None) -> bytes:
    return pdf_report(quarter, index, breakdown, unit_name=UNIT, generated_at=datetime(2026, 10, 1, 2, 30, tzinfo=UTC),
                      font=FONT, bold_font=BOLD)  # fmt: skip


def test_the_pdf_is_one_page_in_vietnamese_with_the_key_figures_and_the_index(quarter: dict) -> None:
    pages, text = pdf_text(render(quarter, BREAKDOWN, index_json()))
    assert pages == 1
    for expected in (
        "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH",
        UNIT.upper(),
        "Kỳ báo cáo: từ 01/07/2026 đến 30/09/2026",
        "09 giờ 30, ngày 01/10/2026",  # 02:30 UTC is 09:30 in Vietnam
        "2.145",  # received
        "1.520 (75,85 %)",  # early, of 2.004 resolved
        "447 (22,31 %)",
        "37 (1,85 %)",
        "94,83 %",  # online share
        "97,79 %",  # digitised components
        "552 (92,00 %)",  # paid online, of the 600 that owed a fee
        "14.250.000",
        "Tổng điểm: 78,18/100 điểm; xếp thứ 11/129",
        "Công khai, minh bạch",
        "14,92/18",
        "Số hóa hồ sơ, kết quả",
        "Hộ tịch",
        "1.310",
    ):
        assert expected in text, expected


def test_thirty_fields_still_fit_on_one_page(quarter: dict) -> None:
    fields = [
        field_row(f"Lĩnh vực thứ {n} với một cái tên rất dài của ngành quản lý nhà nước", 300 - n, 200, 100, 50, 3)
        for n in range(30)
    ]
    pages, text = pdf_text(render(quarter, fields, index_json()))
    assert pages == 1
    assert "Các lĩnh vực khác (23)" in text
    assert "Lĩnh vực thứ 6" in text and "Lĩnh vực thứ 7 " not in text


def test_without_an_index_the_summary_leaves_it_out(quarter: dict) -> None:
    pages, text = pdf_text(render(quarter, BREAKDOWN))
    assert pages == 1
    assert "Tổng điểm" not in text and "II. THEO LĨNH VỰC" in text
