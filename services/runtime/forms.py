"""The numbered forms of the one-stop set as A4 PDFs: the shared layout.

Vietnamese text needs a Unicode font embedded in the PDF (DejaVu Sans by default,
`MOTCUA_PDF_FONT`); QR codes are drawn as vector squares.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import segno
from fpdf import FPDF

from .clock import local

MOTTO = ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", "Độc lập - Tự do - Hạnh phúc")


def when(moment: datetime) -> str:
    """ "17 giờ 00, ngày 26/11/2026" in Vietnam time."""
    moment = local(moment)
    return f"{moment:%H} giờ {moment:%M}, ngày {moment:%d/%m/%Y}"


def written_date(moment: datetime) -> str:
    """ "ngày 05 tháng 3 năm 2026" in Vietnam time, as an official document dates itself: the
    Decree on clerical work (30/2020/NĐ-CP) pads days below 10 and the months 1 and 2 with a zero,
    so the date cannot be altered by adding a digit."""
    moment = local(moment)
    month = f"{moment.month:02d}" if moment.month < 3 else str(moment.month)
    return f"ngày {moment.day:02d} tháng {month} năm {moment.year}"


def unicode_pdf(pdf: FPDF, title: str, font: Path, bold_font: Path) -> FPDF:
    """`pdf` made ready for Vietnamese: the Unicode fonts embedded as family "body", the metadata set."""
    pdf.set_title(title)
    pdf.set_creator("motcua")
    pdf.set_lang("vi")
    pdf.add_font("body", "", str(font))
    pdf.add_font("body", "B", str(bold_font))
    return pdf


MARGIN_MM = 20  # the forms' left and right page margins
QR_MM = 38  # side of a QR code: big enough to scan from a phone at arm's length
QR_GAP_MM = 2


class Form:
    """An A4 form of the one-stop set: the unit and national motto on top, then lines of text."""

    def __init__(self, title: str, unit_name: str, font: Path, bold_font: Path) -> None:
        self.pdf = unicode_pdf(FPDF(format="A4"), title, font, bold_font)
        self.pdf.add_page()
        self.pdf.set_margins(MARGIN_MM, 15, MARGIN_MM)
        self.line(unit_name.upper(), 11, "B", "C")
        self.line(MOTTO[0], 11, "B", "C")
        self.line(MOTTO[1], 11, "", "C")
        self.pdf.ln(4)
        self.line(title.upper(), 14, "B", "C", 8)

    def line(self, text: str, size: float = 11, style: str = "", align: str = "L", gap: float = 6.5) -> None:
        self.pdf.set_font("body", style, size)
        self.pdf.multi_cell(self.pdf.w - 40, gap, text, align=align, new_x="LMARGIN", new_y="NEXT")

    def link(self, caption: str, url: str) -> None:
        """Where to read the form's subject online: the caption, the address, and its QR code at the
        right (on a new page when it would not fit)."""
        self.line(caption, 10)
        self.line(url, 10)
        pdf = self.pdf
        if pdf.get_y() + QR_GAP_MM + QR_MM + QR_GAP_MM > pdf.h - pdf.b_margin:
            pdf.add_page()
        qr(pdf, url, x=pdf.w - MARGIN_MM - QR_MM, y=pdf.get_y() + QR_GAP_MM, size=QR_MM)

    def bytes(self) -> bytes:
        return bytes(self.pdf.output())


def qr(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """Draw `text` as a QR code of `size` mm, one filled square per dark module."""
    matrix = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=1, border=4)]
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                pdf.rect(x + col * module, y + row * module, module, module, style="F")


def letterhead(pdf: FPDF, issuer: list[str], number: str, dated: str, split: float) -> float:
    """The two-column head of an official document (Decree 30/2020/NĐ-CP): on the left the issuing
    authority's name and the document's number, on the right the national motto and the place and
    date of issue, each name underlined with a short rule. Draws from the current position across
    the page's margins, split into columns at `split` mm; returns where the taller column ends."""
    top, left, right = pdf.get_y(), pdf.l_margin, pdf.w - pdf.r_margin
    issuer_lines = [(line, 11, "B") for line in issuer]
    left_end = _column(pdf, left, split - left, top, issuer_lines, 0.4, (number, 10.5, ""))
    motto = [(MOTTO[0], 10.5, "B"), (MOTTO[1], 11, "B")]
    right_end = _column(pdf, split, right - split, top, motto, 1.0, (dated, 10.5, ""))
    return max(left_end, right_end)


Line = tuple[str, float, str]  # text, size, style


def _column(pdf: FPDF, x: float, width: float, y: float, name: list[Line], rule_share: float, after: Line) -> float:
    """Centred lines: `name` (a line a little too long set smaller rather than broken), a rule under it
    (`rule_share` of its last line), then `after`."""
    pdf.set_xy(x, y)
    for text, size, style in name:
        pdf.set_font("body", style, size)
        while pdf.get_string_width(text) > width - 2 * pdf.c_margin and pdf.font_size_pt > 0.85 * size:
            pdf.set_font_size(pdf.font_size_pt - 0.25)
        pdf.multi_cell(width, 5.2, text, align="C", new_x="LEFT", new_y="NEXT")
    rule = min(pdf.get_string_width(name[-1][0]), width) * rule_share
    pdf.set_line_width(0.3)
    pdf.line(x + (width - rule) / 2, pdf.get_y() + 0.8, x + (width + rule) / 2, pdf.get_y() + 0.8)
    pdf.set_xy(x, pdf.get_y() + 3.5)
    text, size, style = after
    pdf.set_font("body", style, size)
    pdf.multi_cell(width, 5.2, text, align="C", new_x="LEFT", new_y="NEXT")
    return pdf.get_y()
