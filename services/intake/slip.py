"""The receipt-and-appointment slip (giấy tiếp nhận hồ sơ và hẹn trả kết quả) as a PDF.

Vietnamese text needs a Unicode font embedded in the PDF (DejaVu Sans by default);
the QR code, drawn as vector squares, links to the public tracking page. Rendering takes
tens of milliseconds of pure Python, so intake runs `render` in a worker process: it is a
module-level function of plain, picklable arguments.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from services.runtime.forms import Form, qr, when

QR_MM = 38  # side of the QR code: big enough to scan from a phone at arm's length
QR_GAP_MM = 2
RIGHT_MARGIN_MM = 20  # the forms' page margin
FORM_LABEL = {"electronic": "bản điện tử", "paper": "bản giấy", "e_data_store": "tái sử dụng từ kho dữ liệu điện tử"}


@dataclass(frozen=True)
class Slip:
    """What the slip says, in plain values."""

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


def render(slip: Slip, font: str, bold_font: str) -> bytes:
    """The slip as PDF bytes; `font` and `bold_font` are paths of Unicode TrueType fonts."""
    form = Form("Giấy tiếp nhận hồ sơ và hẹn trả kết quả", slip.unit_name, Path(font), Path(bold_font))
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
    if pdf.get_y() + QR_GAP_MM + QR_MM + QR_GAP_MM > pdf.h - pdf.b_margin:
        pdf.add_page()
    qr(pdf, slip.tracking_url, x=pdf.w - RIGHT_MARGIN_MM - QR_MM, y=pdf.get_y() + QR_GAP_MM, size=QR_MM)
    return form.bytes()
