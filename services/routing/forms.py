"""The forms officers issue while processing (one numbered set): the supplement request,
the refusal and the apology with a new return date.

Rendered in worker processes (`runtime.workers.run`): module-level functions of plain,
picklable arguments, returning the PDF's bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from services.runtime.forms import Form, when


@dataclass(frozen=True)
class Fonts:
    """Paths of the Unicode fonts the forms embed (settings `pdf_font`, `pdf_bold_font`)."""

    regular: str
    bold: str


def _form(fonts: Fonts, title: str, unit_name: str, dossier_code: str, applicant_name: str) -> Form:
    form = Form(title, unit_name, Path(fonts.regular), Path(fonts.bold))
    form.line(f"Mã hồ sơ: {dossier_code}", 12, "B")
    form.line(f"Kính gửi: {applicant_name}")
    return form


def supplement_request(
    fonts: Fonts,
    unit_name: str,
    dossier_code: str,
    applicant_name: str,
    documents: list[str],
    reason: str,
    officer: str,
    requested_at: datetime,
) -> bytes:
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ."""
    form = _form(fonts, "Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", unit_name, dossier_code, applicant_name)
    form.line(f"Lý do: {reason}")
    form.line("Đề nghị bổ sung, hoàn thiện các giấy tờ sau:")
    for number, document in enumerate(documents, start=1):
        form.line(f"  {number}. {document}")
    form.line("Thời hạn giải quyết hồ sơ tạm dừng cho đến khi nhận đủ hồ sơ bổ sung.")
    form.line(f"Thời gian yêu cầu: {when(requested_at)}")
    form.line(f"Người yêu cầu: {officer}")
    return form.bytes()


def refusal(
    fonts: Fonts,
    unit_name: str,
    dossier_code: str,
    applicant_name: str,
    procedure_name: str,
    reason: str,
    officer: str,
    at: datetime,
) -> bytes:
    """Phiếu từ chối giải quyết hồ sơ."""
    form = _form(fonts, "Phiếu từ chối giải quyết hồ sơ", unit_name, dossier_code, applicant_name)
    form.line(f"Nội dung yêu cầu giải quyết: {procedure_name}")
    form.line("Cơ quan giải quyết từ chối giải quyết hồ sơ vì lý do sau:")
    form.line(reason, 11, "B")
    form.line(f"Thời gian: {when(at)}")
    form.line(f"Người ký: {officer}")
    return form.bytes()


def apology(
    fonts: Fonts,
    unit_name: str,
    dossier_code: str,
    applicant_name: str,
    procedure_name: str,
    reason: str,
    due_at: datetime,
    new_due_at: datetime,
    officer: str,
    at: datetime,
) -> bytes:
    """Phiếu xin lỗi và hẹn lại ngày trả kết quả."""
    form = _form(fonts, "Phiếu xin lỗi và hẹn lại ngày trả kết quả", unit_name, dossier_code, applicant_name)
    form.line(f"Nội dung yêu cầu giải quyết: {procedure_name}")
    form.line(f"Ngày hẹn trả kết quả: {when(due_at)}")
    form.line(f"Lý do chậm trả kết quả: {reason}")
    form.line("Cơ quan giải quyết xin lỗi ông/bà và hẹn lại thời gian trả kết quả:")
    form.line(when(new_due_at), 11, "B")
    form.line(f"Thời gian: {when(at)}")
    form.line(f"Người ký: {officer}")
    return form.bytes()
