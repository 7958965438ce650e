"""The receipt-and-appointment slip (giấy tiếp nhận hồ sơ và hẹn trả kết quả) as a PDF.

Vietnamese text needs a Unicode font embedded in the PDF (DejaVu Sans by default);
the QR code, drawn as vector squares, links to the public tracking page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import segno
from fpdf import FPDF

from services.runtime.clock import local

FORM_LABEL = {"electronic": "bản điện tử", "paper": "bản giấy", "e_data_store": "tái sử dụng từ kho dữ liệu điện tử"}


@dataclass(frozen=True)
class Slip:
    unit_name: str
    dossier_code: str
    receipt_number: str
    applicant_name: str
    procedure_name: str
    components: list[tuple[str, str]]  # (name, form)
    received_at: datetime
    due_at: datetime
    fee_vnd: int
    tracking_url: str


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


def render(slip: Slip, font: Path, bold_font: Path) -> bytes:
    form = Form("Giấy tiếp nhận hồ sơ và hẹn trả kết quả", slip.unit_name, font, bold_font)
    pdf, line = form.pdf, form.line
    line(f"Số: {slip.receipt_number}", 10, "", "C")
    pdf.ln(3)
    line(f"Mã hồ sơ: {slip.dossier_code}", 12, "B")
    line(f"Tiếp nhận hồ sơ của: {slip.applicant_name}")
    line(f"Nội dung yêu cầu giải quyết: {slip.procedure_name}")
    line("Thành phần hồ sơ gồm:")
    for number, (name, kind) in enumerate(slip.components, start=1):
        line(f"  {number}. {name} ({FORM_LABEL.get(kind, kind)})")
    line(f"Thời gian nhận hồ sơ: {when(slip.received_at)}")
    line(f"Thời gian trả kết quả giải quyết hồ sơ: {when(slip.due_at)}", 11, "B")
    fee = f"{slip.fee_vnd:,}".replace(",", ".") + " đồng" if slip.fee_vnd else "Không thu phí"
    line(f"Phí, lệ phí: {fee}")
    pdf.ln(4)
    line("Tra cứu tình trạng hồ sơ bằng mã QR hoặc tại:", 10)
    line(slip.tracking_url, 10)
    if pdf.get_y() + 42 > pdf.h - pdf.b_margin:
        pdf.add_page()
    _qr(pdf, slip.tracking_url, x=pdf.w - 20 - 38, y=pdf.get_y() + 2, size=38)
    return form.bytes()


def render_supplement_request(
    unit_name: str,
    dossier_code: str,
    applicant_name: str,
    documents: list[str],
    reason: str,
    officer: str,
    requested_at: datetime,
    font: Path,
    bold_font: Path,
) -> bytes:
    """The supplement-request form (phiếu yêu cầu bổ sung, hoàn thiện hồ sơ)."""
    form = Form("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", unit_name, font, bold_font)
    form.line(f"Mã hồ sơ: {dossier_code}", 12, "B")
    form.line(f"Kính gửi: {applicant_name}")
    form.line(f"Lý do: {reason}")
    form.line("Đề nghị bổ sung, hoàn thiện các giấy tờ sau:")
    for number, document in enumerate(documents, start=1):
        form.line(f"  {number}. {document}")
    form.line("Thời hạn giải quyết hồ sơ tạm dừng cho đến khi nhận đủ hồ sơ bổ sung.")
    form.line(f"Thời gian yêu cầu: {when(requested_at)}")
    form.line(f"Người yêu cầu: {officer}")
    return form.bytes()


def _qr(pdf: FPDF, text: str, x: float, y: float, size: float) -> None:
    """Draw `text` as a QR code of `size` mm, one filled square per dark module."""
    matrix = [list(row) for row in segno.make(text, error="m").matrix_iter(scale=1, border=4)]
    module = size / len(matrix)
    pdf.set_fill_color(0, 0, 0)
    for row, cells in enumerate(matrix):
        for col, dark in enumerate(cells):
            if dark:
                pdf.rect(x + col * module, y + row * module, module, module, style="F")
