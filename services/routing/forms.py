"""The forms officers issue while processing (one numbered set): the supplement request,
the refusal and the apology with a new return date."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from services.runtime.forms import Form, when

from .settings import settings


def _form(title: str, unit_name: str, dossier_code: str, applicant_name: str) -> Form:
    form = Form(title, unit_name, Path(settings.pdf_font), Path(settings.pdf_bold_font))
    form.line(f"Mã hồ sơ: {dossier_code}", 12, "B")
    form.line(f"Kính gửi: {applicant_name}")
    return form


def supplement_request(
    unit_name: str,
    dossier_code: str,
    applicant_name: str,
    documents: list[str],
    reason: str,
    officer: str,
    requested_at: datetime,
) -> bytes:
    """Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ."""
    form = _form("Phiếu yêu cầu bổ sung, hoàn thiện hồ sơ", unit_name, dossier_code, applicant_name)
    form.line(f"Lý do: {reason}")
    form.line("Đề nghị bổ sung, hoàn thiện các giấy tờ sau:")
    for number, document in enumerate(documents, start=1):
        form.line(f"  {number}. {document}")
    form.line("Thời hạn giải quyết hồ sơ tạm dừng cho đến khi nhận đủ hồ sơ bổ sung.")
    form.line(f"Thời gian yêu cầu: {when(requested_at)}")
    form.line(f"Người yêu cầu: {officer}")
    return form.bytes()


def refusal(
    unit_name: str, dossier_code: str, applicant_name: str, procedure_name: str, reason: str, officer: str, at: datetime
) -> bytes:
    """Phiếu từ chối giải quyết hồ sơ."""
    form = _form("Phiếu từ chối giải quyết hồ sơ", unit_name, dossier_code, applicant_name)
    form.line(f"Nội dung yêu cầu giải quyết: {procedure_name}")
    form.line("Cơ quan giải quyết từ chối giải quyết hồ sơ vì lý do sau:")
    form.line(reason, 11, "B")
    form.line(f"Thời gian: {when(at)}")
    form.line(f"Người ký: {officer}")
    return form.bytes()


def apology(
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
    form = _form("Phiếu xin lỗi và hẹn lại ngày trả kết quả", unit_name, dossier_code, applicant_name)
    form.line(f"Nội dung yêu cầu giải quyết: {procedure_name}")
    form.line(f"Ngày hẹn trả kết quả: {when(due_at)}")
    form.line(f"Lý do chậm trả kết quả: {reason}")
    form.line("Cơ quan giải quyết xin lỗi ông/bà và hẹn lại thời gian trả kết quả:")
    form.line(when(new_due_at), 11, "B")
    form.line(f"Thời gian: {when(at)}")
    form.line(f"Người ký: {officer}")
    return form.bytes()
