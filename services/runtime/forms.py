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


def when(moment: datetime) -> str:
    """ "17 giờ 00, ngày 26/11/2026" in Vietnam time."""
    moment = local(moment)
    return f"{moment:%H} giờ {moment:%M}, ngày {moment:%d/%m/%Y}"


class Form:
    """An A4 form of the one-stop set: the unit and national motto on top, then lines of text."""

    def __init__(self, title: str, unit_name: str, font: Path, bold_font: Path) -> None:
        self.pdf = FPDF(format="A4")
        self.pdf.set_title(title)
        self.pdf.set_creator("motcua")
        self.pdf.add_font("body", "", str(font))
        self.pdf.add_font("body", "B", str(bold_font))
        self.pdf.add_page()
        self.pdf.set_margins(20, 15, 20)
        self.line(unit_name.upper(), 11, "B", "C")
        self.line("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM", 11, "B", "C")
        self.line("Độc lập - Tự do - Hạnh phúc", 11, "", "C")
        self.pdf.ln(4)
        self.line(title.upper(), 14, "B", "C", 8)

    def line(self, text: str, size: float = 11, style: str = "", align: str = "L", gap: float = 6.5) -> None:
        self.pdf.set_font("body", style, size)
        self.pdf.multi_cell(self.pdf.w - 40, gap, text, align=align, new_x="LMARGIN", new_y="NEXT")

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
