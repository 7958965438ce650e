"""A period's figures as reports (báo cáo): a CSV file for spreadsheets and a one-page A4 PDF summary.

Both read the JSON the stats API answers (figures, service index, breakdown by field), so a report
says exactly what the dashboard shows. The CSV keeps machine values (dots for decimals, ISO dates)
next to Vietnamese labels; the PDF writes numbers the Vietnamese way. No I/O but reading the fonts.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fpdf import FPDF

from services.runtime.forms import unicode_pdf, when

from . import figures as fig

TITLE = "BÁO CÁO TÌNH HÌNH GIẢI QUYẾT THỦ TỤC HÀNH CHÍNH"
INDEX_NAME = "Chỉ số phục vụ người dân, doanh nghiệp"

# Every counter, stock and rate of GET /stats/figures in Vietnamese; the dashboard shows the same.
LABELS: dict[str, str] = {
    "received": "Hồ sơ tiếp nhận",
    "received_online_full": "Tiếp nhận trực tuyến toàn trình",
    "received_online_partial": "Tiếp nhận trực tuyến một phần",
    "received_counter": "Tiếp nhận trực tiếp",
    "received_post": "Tiếp nhận qua bưu chính công ích",
    "online": "Hồ sơ trực tuyến",
    "components": "Thành phần hồ sơ",
    "components_digitised": "Thành phần hồ sơ được số hóa",
    "components_scanned": "Thành phần số hóa khi tiếp nhận",
    "components_reused": "Thành phần tái sử dụng dữ liệu số",
    "dossiers_digitised": "Hồ sơ được số hóa đầy đủ",
    "fee_bearing": "Hồ sơ có thu phí, lệ phí",
    "fee_exempt": "Hồ sơ được miễn phí, lệ phí",
    "paid_online": "Thanh toán trực tuyến",
    "paid_counter": "Thanh toán trực tiếp",
    "collected_vnd": "Phí, lệ phí đã thu (đồng)",
    "payments_expired": "Hồ sơ quá hạn thanh toán trực tuyến",
    "refunded": "Khoản đã hoàn trả",
    "refunded_vnd": "Số tiền đã hoàn trả (đồng)",
    "resolved": "Hồ sơ đã giải quyết",
    "early": "Giải quyết trước hạn",
    "on_time": "Đúng hạn",
    "late": "Quá hạn",
    "refused": "Từ chối giải quyết",
    "withdrawn": "Rút hồ sơ",
    "apologised": "Hồ sơ có văn bản xin lỗi, hẹn lại",
    "supplement_requested": "Hồ sơ phải bổ sung",
    "results": "Kết quả đã ký số",
    "results_digitised": "Kết quả được số hóa",
    "rated": "Lượt đánh giá",
    "rating_sum": "Tổng điểm đánh giá",
    "satisfied": "Đánh giá hài lòng (4–5 điểm)",
    "dissatisfied": "Đánh giá không hài lòng (1–2 điểm)",
    "unhappy": "Hồ sơ không hài lòng, bị phản ánh hoặc quá hạn",
    "complaints": "Phản ánh, kiến nghị",
    "complaints_answered": "Phản ánh, kiến nghị đã trả lời",
    "complaints_answered_on_time": "Phản ánh, kiến nghị trả lời đúng hạn",
    "opened": "Hồ sơ đang giải quyết tăng (giảm) trong kỳ",
    "carried_over": "Kỳ trước chuyển sang",
    "in_progress": "Đang giải quyết",
    "overdue_now": "Đang giải quyết quá hạn",
    "due_soon_now": "Sắp đến hạn",
    "online_rate": "Tỷ lệ hồ sơ trực tuyến (%)",
    "early_or_on_time_rate": "Tỷ lệ giải quyết trước hạn, đúng hạn (%)",
    "late_rate": "Tỷ lệ giải quyết quá hạn (%)",
    "components_digitised_rate": "Tỷ lệ số hóa thành phần hồ sơ (%)",
    "components_reused_rate": "Tỷ lệ tái sử dụng dữ liệu số (%)",
    "dossiers_digitised_rate": "Tỷ lệ hồ sơ số hóa đầy đủ (%)",
    "results_digitised_rate": "Tỷ lệ số hóa kết quả (%)",
    "paid_online_rate": "Tỷ lệ thanh toán trực tuyến (%)",
    "satisfaction_rate": "Tỷ lệ đánh giá hài lòng (%)",
    "average_rating": "Điểm đánh giá bình quân (1–5)",
    "handling_satisfaction_rate": "Mức độ hài lòng về giải quyết TTHC (%)",
    "complaints_on_time_rate": "Tỷ lệ phản ánh, kiến nghị trả lời đúng hạn (%)",
}
STOCKS = ("carried_over", "in_progress", "overdue_now", "due_soon_now")  # what stands at the period's edges


def number(value: float | None, unit: str = "") -> str:
    """ "1.234", "97,79 %": thousands with dots, two decimals after a comma; "–" for no value."""
    if value is None:
        return "–"
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    text = text.translate(str.maketrans(",.", ".,"))
    return f"{text} {unit}" if unit else text


def _label(key: str) -> str:
    return LABELS.get(key, key)


# --- CSV ------------------------------------------------------------------------------------------


def csv_report(figures: dict, index: dict | None, breakdown: list[dict]) -> str:
    """The figures, then a section per field of `breakdown`, then the index's groups and indicators
    with their points: UTF-8 text starting with a BOM, so Excel reads the Vietnamese right."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(["Chỉ tiêu", "Mã", "Giá trị"])
    scope, period = figures["scope"], figures["period"]
    writer.writerow(["Đơn vị", "unit", scope.get("unit") or ""])
    writer.writerow(["Tên đơn vị", "unit_name", scope.get("unit_name") or ""])
    writer.writerow(["Từ ngày", "from", period["from"]])
    writer.writerow(["Đến ngày", "to", period["to"]])
    for key, label in (("field", "Lĩnh vực"), ("procedure", "Thủ tục"), ("channel", "Kênh tiếp nhận")):
        if scope.get(key):
            writer.writerow([label, key, scope[key]])
    writer.writerows(_figure_rows({**figures["counters"], **{key: figures[key] for key in STOCKS}}))
    writer.writerows(_figure_rows(figures["rates"]))
    for row in breakdown:
        writer.writerow([])
        writer.writerow([f"Lĩnh vực: {row['name']}", "field", row["key"]])
        writer.writerows(_figure_rows(row["counters"]))
        writer.writerows(_figure_rows(row["rates"]))
    if index:
        writer.writerow([])
        writer.writerow([f"{INDEX_NAME} (tối đa {index['max']} điểm)", "index", index["score"]])
        if index.get("rank"):
            writer.writerow(["Xếp hạng", "rank", index["rank"]])
            writer.writerow(["Số đơn vị xếp hạng", "of", index["of"]])
        for group in index["groups"]:
            writer.writerow([f"{group['name']} (tối đa {group['weight']} điểm)", group["id"], group["score"]])
            for indicator in group["indicators"]:
                name = f"– {indicator['name']} (tối đa {indicator['weight']} điểm)"
                writer.writerow([name, indicator["id"], indicator["score"]])
    return out.getvalue()


def _figure_rows(values: Mapping[str, Any]) -> Iterable[list[Any]]:
    return ([_label(key), key, "" if value is None else value] for key, value in values.items())


# --- PDF ------------------------------------------------------------------------------------------

LEFT, TOP, WIDTH = 15.0, 12.0, 180.0  # mm; A4 is 210 × 297
ROW = 5.2  # height of a table row, mm
TOP_FIELDS = 8  # fields listed; the rest are summed in one row, so the page never overflows
BLUE, TRACK, SHADE = (0, 84, 147), (222, 226, 231), (238, 242, 247)

Row = tuple[str, str, bool]  # label, value, a detail of the row above (indented)


def pdf_report(
    figures: dict,
    index: dict | None,
    breakdown: list[dict],
    *,
    unit_name: str,
    generated_at: datetime,
    font: Path,
    bold_font: Path,
) -> bytes:
    """The period's summary on one A4 page: the key figures, the service index by group with a bar
    chart, and the fields with the most dossiers. `font` and `bold_font` are Unicode TrueType fonts."""
    pdf = unicode_pdf(FPDF(format="A4"), TITLE.capitalize(), Path(font), Path(bold_font))
    pdf.set_author(unit_name)
    pdf.set_auto_page_break(False)
    pdf.set_margins(LEFT, TOP, LEFT)
    pdf.add_page()
    _head(pdf, figures, unit_name, generated_at)
    _section(pdf, "I. SỐ LIỆU CHÍNH")
    top = pdf.get_y()
    left_end = _pairs(pdf, LEFT, top, _handling_rows(figures))
    right_end = _pairs(pdf, LEFT + WIDTH / 2 + 3, top, _digital_rows(figures))
    pdf.set_y(max(left_end, right_end) + 3)
    if index:
        _section(pdf, f"II. {INDEX_NAME.upper()}")
        _index(pdf, index)
    if breakdown:
        _section(pdf, f"{'III' if index else 'II'}. THEO LĨNH VỰC")
        _fields(pdf, breakdown)
    return bytes(pdf.output())


def _head(pdf: FPDF, figures: dict, unit_name: str, generated_at: datetime) -> None:
    period, scope = figures["period"], figures["scope"]
    _line(pdf, unit_name.upper(), 11, "B")
    pdf.ln(2)
    _line(pdf, TITLE, 13.5, "B", 7)
    _line(pdf, f"Kỳ báo cáo: từ {_date(period['from'])} đến {_date(period['to'])}", 10.5, "", 5.5)
    filters = [
        f"{label}: {text}"
        for label, text in (
            ("Lĩnh vực", scope.get("field")),
            ("Thủ tục", scope.get("procedure")),
            ("Kênh", scope.get("channel") and _label(f"received_{scope['channel']}")),
        )
        if text
    ]
    if filters:
        _line(pdf, "; ".join(filters), 9.5, "", 5)
    _line(pdf, f"Lập lúc {when(generated_at)} (giờ Việt Nam)", 8.5, "", 5)
    pdf.ln(2)


def _handling_rows(figures: dict) -> list[Row]:
    counters = figures["counters"]
    received, resolved = counters["received"], counters["resolved"]
    return [
        (LABELS["carried_over"], number(figures["carried_over"]), False),
        (LABELS["received"], number(received), False),
        *((_label(f"received_{c}"), _share(counters[f"received_{c}"], received), True) for c in fig.CHANNELS),
        (LABELS["resolved"], number(resolved), False),
        *((LABELS[key], _share(counters[key], resolved), True) for key in ("early", "on_time", "late")),
        (LABELS["in_progress"], number(figures["in_progress"]), False),
        ("trong đó quá hạn", number(figures["overdue_now"]), True),
        (LABELS["refused"], number(counters["refused"]), False),
        (LABELS["withdrawn"], number(counters["withdrawn"]), False),
    ]


def _digital_rows(figures: dict) -> list[Row]:
    counters, rates = figures["counters"], figures["rates"]

    def rate(key: str) -> Row:
        return LABELS[key].removesuffix(" (%)"), number(rates[key], "%"), False

    return [
        rate("online_rate"),
        rate("components_digitised_rate"),
        rate("dossiers_digitised_rate"),
        rate("results_digitised_rate"),
        (LABELS["fee_bearing"], number(counters["fee_bearing"]), False),
        (LABELS["paid_online"], f"{number(counters['paid_online'])} ({number(rates['paid_online_rate'], '%')})", True),
        (LABELS["collected_vnd"], number(counters["collected_vnd"]), True),
        rate("early_or_on_time_rate"),
        rate("handling_satisfaction_rate"),
        rate("satisfaction_rate"),
        (LABELS["average_rating"], number(rates["average_rating"]), False),
        (LABELS["complaints"], number(counters["complaints"]), False),
    ]


def _share(count: int, whole: int) -> str:
    """ "1.520 (75,85 %)": a count and its share of `whole`."""
    return f"{number(count)} ({number(fig.percent(count, whole), '%')})"


def _pairs(pdf: FPDF, x: float, y: float, rows: list[Row]) -> float:
    """Label and value rows in a column half the page wide; returns where they end."""
    width = WIDTH / 2 - 3
    value_w = 30
    for label, value, detail in rows:
        indent = 4 if detail else 0
        pdf.set_xy(x + indent, y)
        _fit(pdf, label, width - value_w - indent, 8 if detail else 8.8)
        pdf.cell(width - value_w - indent, ROW, _fitted(pdf, label, width - value_w - indent))
        pdf.set_font("body", "" if detail else "B", 8 if detail else 8.8)
        pdf.cell(value_w, ROW, value, align="R")
        pdf.set_draw_color(*TRACK)
        pdf.line(x, y + ROW, x + width, y + ROW)
        y += ROW
    return y


def _index(pdf: FPDF, index: dict) -> None:
    """The score and rank, then a bar per group: a grey track as long as its weight, filled to its score."""
    headline = f"Tổng điểm: {number(index['score'])}/{index['max']} điểm"
    if index.get("rank"):
        headline += f"; xếp thứ {index['rank']}/{index['of']}"
    _line(pdf, headline, 10, "B", 6, align="L")
    groups = index["groups"]
    label_w, value_w = 62.0, 24.0
    bar_w = WIDTH - label_w - value_w - 4
    scale = bar_w / max((group["weight"] for group in groups), default=1)
    for group in groups:
        y = pdf.get_y()
        pdf.set_x(LEFT)
        _fit(pdf, group["name"], label_w, 9)
        pdf.cell(label_w, 6, _fitted(pdf, group["name"], label_w))
        pdf.set_fill_color(*TRACK)
        pdf.rect(LEFT + label_w, y + 1.3, group["weight"] * scale, 3.4, style="F")
        pdf.set_fill_color(*BLUE)
        pdf.rect(LEFT + label_w, y + 1.3, max(0.0, min(group["score"], group["weight"])) * scale, 3.4, style="F")
        pdf.set_xy(LEFT + WIDTH - value_w, y)
        pdf.set_font("body", "B", 9)
        pdf.cell(value_w, 6, f"{number(group['score'])}/{group['weight']}", align="R")
        pdf.set_xy(LEFT, y + 6)
    pdf.ln(3)


FIELD_COLUMNS = (
    ("Lĩnh vực", 58.0),
    ("Tiếp nhận", 21.0),
    ("Trực tuyến", 23.0),
    ("Đã giải quyết", 27.0),
    ("Trước, đúng hạn", 32.0),
    ("Quá hạn", 19.0),
)


def _fields(pdf: FPDF, breakdown: list[dict]) -> None:
    """The fields with the most dossiers received; beyond `TOP_FIELDS`, the rest in one row."""
    rows = sorted(breakdown, key=lambda row: (-row["counters"]["received"], -row["counters"]["resolved"], row["name"]))
    if len(rows) > TOP_FIELDS:
        rest = fig.total(row["counters"] for row in rows[TOP_FIELDS - 1 :])
        others = {"name": f"Các lĩnh vực khác ({len(rows) - TOP_FIELDS + 1})", "counters": rest}
        rows = [*rows[: TOP_FIELDS - 1], {**others, "rates": fig.rates(rest)}]
    pdf.set_font("body", "B", 8.5)
    pdf.set_fill_color(*SHADE)
    for heading, width in FIELD_COLUMNS:
        pdf.cell(width, ROW + 0.8, heading, border="B", align="L" if heading == "Lĩnh vực" else "R", fill=True)
    pdf.ln()
    pdf.set_draw_color(*TRACK)
    for row in rows:
        counters, rates = row["counters"], row["rates"]
        cells = (
            number(counters["received"]),
            number(rates["online_rate"], "%"),
            number(counters["resolved"]),
            number(rates["early_or_on_time_rate"], "%"),
            number(counters["late"]),
        )
        name_w = FIELD_COLUMNS[0][1]
        _fit(pdf, row["name"], name_w, 8.5)
        pdf.cell(name_w, ROW, _fitted(pdf, row["name"], name_w), border="B")
        pdf.set_font("body", "", 8.5)
        for text, (_, width) in zip(cells, FIELD_COLUMNS[1:], strict=True):
            pdf.cell(width, ROW, text, border="B", align="R")
        pdf.ln()


# --- drawing helpers ------------------------------------------------------------------------------


def _line(pdf: FPDF, text: str, size: float, style: str = "", height: float = 6, align: str = "C") -> None:
    pdf.set_font("body", style, size)
    pdf.set_x(LEFT)
    pdf.cell(WIDTH, height, _fitted(pdf, text, WIDTH), align=align, new_x="LMARGIN", new_y="NEXT")


def _section(pdf: FPDF, heading: str) -> None:
    pdf.set_font("body", "B", 10)
    pdf.set_fill_color(*SHADE)
    pdf.set_x(LEFT)
    pdf.cell(WIDTH, 6.5, heading, fill=True, new_x="LMARGIN", new_y="NEXT")
    pdf.ln(1.5)


def _fit(pdf: FPDF, text: str, width: float, size: float) -> None:
    """Set the regular font at `size`, a little smaller (down to 85 %) when `text` would not fit in `width`."""
    pdf.set_font("body", "", size)
    while pdf.get_string_width(text) > width - 2 * pdf.c_margin and pdf.font_size_pt > 0.85 * size:
        pdf.set_font_size(pdf.font_size_pt - 0.25)


def _fitted(pdf: FPDF, text: str, width: float) -> str:
    """`text` cut with "…" to fit `width` in the current font: rows stay one line high."""
    room = width - 2 * pdf.c_margin
    if pdf.get_string_width(text) <= room:
        return text
    while text and pdf.get_string_width(text + "…") > room:
        text = text[:-1]
    return text.rstrip() + "…"


def _date(day: str) -> str:
    """ "2026-07-01" → "01/07/2026"."""
    return f"{date.fromisoformat(day):%d/%m/%Y}"
