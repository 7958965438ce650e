"""The receipt-and-appointment slip (giấy tiếp nhận hồ sơ và hẹn trả kết quả) as a PDF.

Vietnamese text needs a Unicode font embedded in the PDF (DejaVu Sans by default);
the QR code, drawn as vector squares, links to the public tracking page. The fee is printed
line by line (phí and lệ phí apart, per-unit lines as quantity × unit price), with the
exemption if one was granted and, when a fee is due, the link to pay it online and until when.
Rendering takes
tens of milliseconds of pure Python, so intake runs `render` in a worker process: it is a
module-level function of plain, picklable arguments.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from motcua_contracts import Exemption, FeeLine

from services.runtime.forms import Form, when

FORM_LABEL = {"electronic": "bản điện tử", "paper": "bản giấy", "e_data_store": "tái sử dụng từ kho dữ liệu điện tử"}
FEE_KIND_LABEL = {"fee": "Phí", "charge": "Lệ phí"}


def vnd(amount: int) -> str:
    """ "1.250.000 đồng": whole VND with "." between thousands, as Vietnamese forms write money."""
    return f"{amount:,}".replace(",", ".") + " đồng"


def fee_line_text(line: FeeLine) -> str:
    """ "Phí: Phí chứng thực bản sao từ bản chính, 3 trang × 2.000 đồng = 6.000 đồng"."""
    kind = FEE_KIND_LABEL.get(line.kind, line.kind)
    if line.unit is None and line.quantity == 1:
        return f"{kind}: {line.name}: {vnd(line.amount_vnd)}"
    capped = " (mức tối đa)" if line.amount_vnd < line.unit_vnd * line.quantity else ""
    unit = f" {line.unit}" if line.unit else ""
    return f"{kind}: {line.name}, {line.quantity}{unit} × {vnd(line.unit_vnd)} = {vnd(line.amount_vnd)}{capped}"


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
    fee_lines: list[FeeLine] = field(default_factory=list)
    exemption: Exemption | None = None
    pay_by: datetime | None = None
    pay_url: str | None = None


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
    fee(form, slip)
    pdf.ln(4)
    form.link("Tra cứu tình trạng hồ sơ bằng mã QR hoặc tại:", slip.tracking_url)
    return form.bytes()


def fee(form: Form, slip: Slip) -> None:
    """The fee's lines, the exemption granted and, when a fee is due, where and until when to pay it online."""
    line = form.line
    if not slip.fee_lines:  # free, or received before fees were assessed line by line
        line(f"Phí, lệ phí: {vnd(slip.fee_vnd) if slip.fee_vnd else 'Không thu phí'}")
    else:
        line("Phí, lệ phí:")
        for number, fee_line in enumerate(slip.fee_lines, start=1):
            line(f"  {number}. {fee_line_text(fee_line)}")
        if exemption := slip.exemption:
            line(
                f"Miễn phí, lệ phí: {exemption.label} ({exemption.reason}); số tiền được miễn: {vnd(exemption.waived_vnd)}"
            )
        line(f"Tổng số tiền phải nộp: {vnd(slip.fee_vnd)}", 11, "B")
    if slip.fee_vnd and slip.pay_url:
        deadline = f" trước {when(slip.pay_by)}" if slip.pay_by else ""
        line(f"Thanh toán trực tuyến{deadline} tại:", 10)
        line(slip.pay_url, 10)
