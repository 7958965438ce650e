"""The electronic receipt of a fee paid (biên lai điện tử thu phí, lệ phí) as a PDF.

The collecting unit, the receipt's template (mẫu số), series (ký hiệu) and 7-digit number, the
dossier and procedure the fee was for, the fee line by line (phí and lệ phí apart, per-unit lines as
quantity × unit price), the total in figures and in words, how and when it was paid and the
transaction's ID, then the date the receipt was issued and the QR code of the page where it can be
checked and downloaded again. Vietnamese text needs a Unicode font embedded in the PDF (DejaVu Sans
by default). Rendering takes tens of milliseconds of pure Python, so `render` is a module-level
function of plain, picklable arguments, to run in a worker process.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from services.runtime.forms import Form, when, written_date

TITLE = "Biên lai thu phí, lệ phí"
DEFAULT_TEMPLATE = "01BLP0-001"
FEE_KIND_LABEL = {"fee": "Phí", "charge": "Lệ phí"}
METHODS = ("gateway", "bank_transfer", "cash", "card")

FeeLine = tuple[str, str, int, int, str | None, int]  # kind, name, unit_vnd, quantity, unit, amount_vnd

_DIGITS = ("không", "một", "hai", "ba", "bốn", "năm", "sáu", "bảy", "tám", "chín")
_BILLION = 1_000_000_000


@dataclass(frozen=True, kw_only=True)
class Receipt:
    """What the receipt says, in plain values."""

    unit_name: str  # the collecting unit: "Ủy ban nhân dân xã Tân Hòa"
    template: str = DEFAULT_TEMPLATE  # mẫu số
    series: str  # ký hiệu: "BL26E"
    number: int  # printed as 7 digits
    dossier_code: str
    procedure_name: str
    lines: list[FeeLine]
    amount_vnd: int
    method: str  # one of METHODS
    gateway_name: str | None = None  # for "gateway": "Nền tảng thanh toán quốc gia"
    transaction_id: str
    paid_at: datetime
    issued_at: datetime
    verify_url: str  # where the receipt can be checked and downloaded again


def money(amount: int) -> str:
    """ "1.250.000": whole VND with "." between thousands, as Vietnamese forms write money."""
    return f"{amount:,}".replace(",", ".")


def vnd_in_words(amount: int) -> str:
    """The amount in Vietnamese words as invoices and receipts write it, capitalised and ending in "đồng":
    24_000 → "Hai mươi tư nghìn đồng", 1_005_000 → "Một triệu không trăm linh năm nghìn đồng".

    The northern, official reading: "nghìn" (not "ngàn"), "linh" (not "lẻ") for a zero ten, "mười"
    for one ten and "mươi" after 2-9 tens, "mốt" for 1 and "tư" for 4 after "mươi", "lăm" for 5 after
    "mười" or "mươi". A group of three digits other than the first is read whole ("không trăm linh
    năm"), so no digit can be misheard; a group of three zeros is left out. Above 999 billion the
    billions are read as a number ("một nghìn tỷ")."""
    if isinstance(amount, bool) or not isinstance(amount, int) or amount < 0:
        raise ValueError(f"amount {amount!r} is not a whole, non-negative number of VND")
    words = _number(amount, leading=True) if amount else ["không"]
    text = " ".join([*words, "đồng"])
    return text[0].upper() + text[1:]


def _number(n: int, leading: bool) -> list[str]:
    """The words of `n` > 0; `leading`: nothing is read before it (else its first group is read whole)."""
    words: list[str] = []
    if n >= _BILLION:
        billions, n = divmod(n, _BILLION)
        words += [*_number(billions, leading), "tỷ"]
        leading = False
    for scale, size in (("triệu", 1_000_000), ("nghìn", 1_000), ("", 1)):
        group, n = divmod(n, size)
        if group:
            words += _group(group, whole=not leading)
            words += [scale] if scale else []
            leading = False
    return words


def _group(n: int, whole: bool) -> list[str]:
    """The words of a group of three digits, 1 to 999; `whole`: with its zero hundreds and tens."""
    hundreds, tens, units = n // 100, n // 10 % 10, n % 10
    words: list[str] = []
    if hundreds or whole:
        words += [_DIGITS[hundreds], "trăm"]
    if tens == 0:
        if units:
            words += ["linh", _DIGITS[units]] if words else [_DIGITS[units]]
    elif tens == 1:
        words.append("mười")
        if units:
            words.append("lăm" if units == 5 else _DIGITS[units])
    else:
        words += [_DIGITS[tens], "mươi"]
        if units:
            words.append({1: "mốt", 4: "tư", 5: "lăm"}.get(units, _DIGITS[units]))
    return words


def line_text(line: FeeLine) -> str:
    """ "Phí: Phí cấp bản sao trích lục hộ tịch — 3 bản × 8.000 đồng = 24.000 đồng"; the quantity and
    unit price only when more than one unit was charged."""
    kind, name, unit_vnd, quantity, unit, amount_vnd = line
    label = FEE_KIND_LABEL.get(kind, kind)
    if quantity > 1:
        counted = f"{quantity} {unit}" if unit else str(quantity)
        capped = " (mức tối đa)" if amount_vnd < unit_vnd * quantity else ""
        return f"{label}: {name} — {counted} × {money(unit_vnd)} đồng = {money(amount_vnd)} đồng{capped}"
    return f"{label}: {name} — {money(amount_vnd)} đồng"


def method_text(method: str, gateway_name: str | None = None) -> str:
    """How the fee was paid, as the receipt says it."""
    match method:
        case "gateway":
            return f"Trực tuyến qua {gateway_name}" if gateway_name else "Trực tuyến"
        case "bank_transfer":
            return "Chuyển khoản ngân hàng"
        case "cash":
            return "Tiền mặt tại quầy"
        case "card":
            return "Thẻ tại quầy"
    raise ValueError(f"payment method {method!r} is not one of {', '.join(METHODS)}")


def render(receipt: Receipt, font: str, bold_font: str) -> bytes:
    """The receipt as PDF bytes; `font` and `bold_font` are paths of Unicode TrueType fonts."""
    paid_by = method_text(receipt.method, receipt.gateway_name)  # before drawing: a wrong method draws nothing
    form = Form(TITLE, receipt.unit_name, Path(font), Path(bold_font))
    pdf, line = form.pdf, form.line
    line("(Biên lai điện tử)", 10, "", "C")
    line(f"Mẫu số: {receipt.template}", 10, "", "C", 5)
    line(f"Ký hiệu: {receipt.series}", 10, "", "C", 5)
    line(f"Số: {receipt.number:07d}", 10, "B", "C", 5)
    pdf.ln(4)
    line(f"Đơn vị thu: {receipt.unit_name}")
    line(f"Mã hồ sơ: {receipt.dossier_code}", 11, "B")
    line(f"Nội dung thu: {receipt.procedure_name}")
    for number, fee_line in enumerate(receipt.lines, start=1):
        line(f"  {number}. {line_text(fee_line)}")
    line(f"Tổng số tiền: {money(receipt.amount_vnd)} đồng", 11, "B")
    line(f"Bằng chữ: {vnd_in_words(receipt.amount_vnd)}.")
    line(f"Hình thức thanh toán: {paid_by}")
    line(f"Mã giao dịch: {receipt.transaction_id}")
    line(f"Thời gian thanh toán: {when(receipt.paid_at)}")
    pdf.ln(4)
    line(f"Biên lai điện tử được lập {written_date(receipt.issued_at)}", 11, "", "R")
    pdf.ln(2)
    form.link("Tra cứu, tải lại biên lai bằng mã QR hoặc tại:", receipt.verify_url)
    return form.bytes()
