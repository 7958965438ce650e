"""The payment's two documents: the VietQR string a bank app scans to pay the fee by transfer (pinned
to published codes and the CRC's check value, read back field by field, refused when tampered with,
drawn as an SVG a scanner reads), and the electronic receipt of the fee as a citizen reads it (its
number, series, lines, total in figures and in Vietnamese words, how it was paid, the QR code of
the page to download it again)."""

from __future__ import annotations

import pickle
import re
import subprocess
import tempfile
from dataclasses import replace
from datetime import UTC, datetime
from io import BytesIO
from pathlib import Path

import pytest
from PIL import Image

from services.payment import vietqr
from services.payment.receipt import Receipt, line_text, method_text, render, vnd_in_words
from services.runtime.settings import PdfForms

FONT = PdfForms.model_fields["pdf_font"].default
BOLD = PdfForms.model_fields["pdf_bold_font"].default

# Published by github.com/subiz/vietqr (README, "Sử dụng"): 120.000 VND to account 0011001932418 at
# VietinBank (BIN 970415), purpose "ung ho lu lut".
SUBIZ_EXAMPLE = (
    "00020101021238570010A00000072701270006970415011300110019324180208QRIBFTTA"
    "530370454061200005802VN62170813ung ho lu lut6304C15C"
)
# A code payOS (a licensed payment intermediary) issued for a checkout, as kept in a public project:
# 7.000 VND to a virtual account at MB (BIN 970422), purpose "TL89 100".
PAYOS_EXAMPLE = (
    "00020101021238570010A000000727012700069704220113VQRQADAIJ55120208QRIBFTTA"
    "5303704540470005802VN62120808TL89 1006304E346"
)


# --- VietQR ---------------------------------------------------------------------------------------


def test_the_crc_is_crc16_ccitt_false() -> None:
    assert vietqr.crc16("123456789") == "29B1"  # the catalogued check value of CRC-16/CCITT-FALSE


@pytest.mark.parametrize(
    ("arguments", "published"),
    [
        (("970415", "0011001932418", 120_000, "ung ho lu lut"), SUBIZ_EXAMPLE),
        (("970422", "VQRQADAIJ5512", 7_000, "TL89 100"), PAYOS_EXAMPLE),
    ],
)
def test_the_payload_is_the_published_vietqr_string(arguments: tuple[str, str, int, str], published: str) -> None:
    assert vietqr.payload(*arguments) == published


def test_a_payload_reads_back_field_by_field() -> None:
    code = vietqr.payload("970436", "1023456789", 24_000, "H40.101-260326-0007")
    assert vietqr.parse(code) == {
        "00": "01",
        "01": "12",
        "38": "0010A00000072701240006970436011010234567890208QRIBFTTA",
        "38.00": "A000000727",
        "38.01": "00069704360110" + "1023456789",
        "38.01.00": "970436",
        "38.01.01": "1023456789",
        "38.02": "QRIBFTTA",
        "53": "704",
        "54": "24000",
        "58": "VN",
        "62": "0819H40.101-260326-0007",
        "62.08": "H40.101-260326-0007",
        "63": code[-4:],
    }
    assert code.endswith("6304" + vietqr.crc16(code[:-4]))


@pytest.mark.parametrize(
    "tampered",
    [
        SUBIZ_EXAMPLE.replace("54061200005802", "54069200005802"),  # the amount changed, the CRC kept
        SUBIZ_EXAMPLE.replace("ung ho", "ung hp"),  # the purpose changed
        SUBIZ_EXAMPLE[:-4] + "C15D",  # the CRC changed
        SUBIZ_EXAMPLE[:-8],  # the CRC cut off
    ],
)
def test_a_tampered_payload_is_refused(tampered: str) -> None:
    with pytest.raises(ValueError):
        vietqr.parse(tampered)


def test_a_payload_with_a_correct_crc_but_broken_fields_is_refused() -> None:
    body = "000201010212389900" + "6304"  # field 38 claims 99 characters it does not have
    with pytest.raises(ValueError, match="malformed"):
        vietqr.parse(body + vietqr.crc16(body))


@pytest.mark.parametrize(
    ("bank_bin", "account", "amount", "reference", "problem"),
    [
        ("97041", "0011001932418", 1000, "LP 1", "BIN"),
        ("97041A", "0011001932418", 1000, "LP 1", "BIN"),
        ("970415", "", 1000, "LP 1", "account"),
        ("970415", "0" * 20, 1000, "LP 1", "account"),
        ("970415", "0011-001932418", 1000, "LP 1", "account"),
        ("970415", "0011001932418", 0, "LP 1", "amount"),
        ("970415", "0011001932418", -5, "LP 1", "amount"),
        ("970415", "0011001932418", 10**13, "LP 1", "13 digits"),
        ("970415", "0011001932418", 1000, "Lệ phí", "reference"),
        ("970415", "0011001932418", 1000, "LP/1", "reference"),
        ("970415", "0011001932418", 1000, "", "reference"),
        ("970415", "0011001932418", 1000, "X" * 26, "at most 25"),
    ],
)
def test_a_payload_refuses_what_a_bank_app_would_not_read(
    bank_bin: str, account: str, amount: int, reference: str, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        vietqr.payload(bank_bin, account, amount, reference)


def test_the_limits_themselves_are_accepted() -> None:
    code = vietqr.payload("970415", "A" * 19, 10**13 - 1, "X" * 25)
    fields = vietqr.parse(code)
    assert fields["38.01.01"] == "A" * 19 and fields["54"] == "9" * 13 and fields["62.08"] == "X" * 25


def test_the_svg_is_an_inline_element_a_scanner_reads() -> None:
    code = vietqr.payload("970415", "0011001932418", 24_000, "H40.101-260326-0007")
    drawn = vietqr.svg(code)
    assert drawn.startswith("<svg") and "<?xml" not in drawn
    assert "<title>Mã QR chuyển khoản</title>" in drawn
    width = int(re.search(r'width="(\d+)"', drawn).group(1))  # type: ignore[union-attr]
    assert 150 <= width <= 250
    assert scanned(_png(_raster(drawn))) == code


# --- vnd_in_words ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "words"),
    [
        (0, "Không đồng"),
        (5, "Năm đồng"),
        (10, "Mười đồng"),
        (11, "Mười một đồng"),  # "một", not "mốt", after "mười"
        (14, "Mười bốn đồng"),  # "bốn", not "tư", after "mười"
        (15, "Mười lăm đồng"),
        (21, "Hai mươi mốt đồng"),
        (24, "Hai mươi tư đồng"),
        (25, "Hai mươi lăm đồng"),
        (101, "Một trăm linh một đồng"),
        (105, "Một trăm linh năm đồng"),
        (1_000, "Một nghìn đồng"),
        (24_000, "Hai mươi tư nghìn đồng"),
        (200_000, "Hai trăm nghìn đồng"),
        (1_005_000, "Một triệu không trăm linh năm nghìn đồng"),
        (1_250_000, "Một triệu hai trăm năm mươi nghìn đồng"),
        (4_000_000, "Bốn triệu đồng"),
        (1_000_000_000, "Một tỷ đồng"),
        (1_005_000_000, "Một tỷ không trăm linh năm triệu đồng"),
        (2_150_000_021, "Hai tỷ một trăm năm mươi triệu không trăm hai mươi mốt đồng"),
        (
            999_999_999_999,
            "Chín trăm chín mươi chín tỷ chín trăm chín mươi chín triệu chín trăm chín mươi chín nghìn"
            " chín trăm chín mươi chín đồng",
        ),
        (1_000_000_000_000, "Một nghìn tỷ đồng"),
    ],
)
def test_amounts_in_vietnamese_words(amount: int, words: str) -> None:
    assert vnd_in_words(amount) == words


def test_a_negative_amount_has_no_words() -> None:
    with pytest.raises(ValueError):
        vnd_in_words(-1)


# --- the receipt ----------------------------------------------------------------------------------

RECEIPT = Receipt(
    unit_name="Ủy ban nhân dân xã Tân Hòa",
    series="BL26E",
    number=42,
    dossier_code="H40.101-260326-0007",
    procedure_name="Cấp bản sao trích lục hộ tịch",
    lines=[
        ("fee", "Phí cấp bản sao trích lục hộ tịch", 8_000, 3, "bản", 24_000),
        ("charge", "Lệ phí đăng ký hộ tịch", 0, 1, None, 0),
    ],
    amount_vnd=24_000,
    method="gateway",
    gateway_name="Nền tảng thanh toán quốc gia",
    transaction_id="PG260326000123",
    paid_at=datetime(2026, 3, 25, 18, 5, tzinfo=UTC),  # 01:05 on 26 March in Vietnam
    issued_at=datetime(2026, 3, 25, 18, 6, tzinfo=UTC),
    verify_url="http://127.0.0.1:8004/receipts/BL26E-0000042",
)


def test_the_receipt_reads_as_an_electronic_fee_receipt_in_vietnamese() -> None:
    text = text_of(render(RECEIPT, FONT, BOLD))
    for expected in (
        "ỦY BAN NHÂN DÂN XÃ TÂN HÒA",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "BIÊN LAI THU PHÍ, LỆ PHÍ",
        "(Biên lai điện tử)",
        "Mẫu số: 01BLP0-001",
        "Ký hiệu: BL26E",
        "Số: 0000042",
        "Đơn vị thu: Ủy ban nhân dân xã Tân Hòa",
        "Mã hồ sơ: H40.101-260326-0007",
        "Nội dung thu: Cấp bản sao trích lục hộ tịch",
        "1. Phí: Phí cấp bản sao trích lục hộ tịch — 3 bản × 8.000 đồng = 24.000 đồng",
        "2. Lệ phí: Lệ phí đăng ký hộ tịch — 0 đồng",
        "Tổng số tiền: 24.000 đồng",
        "Bằng chữ: Hai mươi tư nghìn đồng.",
        "Hình thức thanh toán: Trực tuyến qua Nền tảng thanh toán quốc gia",
        "Mã giao dịch: PG260326000123",
        "Thời gian thanh toán: 01 giờ 05, ngày 26/03/2026",  # Vietnam time, not UTC's 25 March
        "Biên lai điện tử được lập ngày 26 tháng 3 năm 2026",
        "http://127.0.0.1:8004/receipts/BL26E-0000042",
    ):
        assert expected in text, expected


def test_a_large_amount_is_written_with_thousands_dots() -> None:
    big = replace(
        RECEIPT,
        lines=[("charge", "Lệ phí cấp giấy phép xây dựng", 1_250_000, 1, None, 1_250_000)],
        amount_vnd=1_250_000,
    )
    text = text_of(render(big, FONT, BOLD))
    assert "Lệ phí: Lệ phí cấp giấy phép xây dựng — 1.250.000 đồng" in text
    assert "Tổng số tiền: 1.250.000 đồng" in text
    assert "Bằng chữ: Một triệu hai trăm năm mươi nghìn đồng." in text


@pytest.mark.parametrize(
    ("method", "gateway_name", "wording"),
    [
        ("gateway", "Nền tảng thanh toán quốc gia", "Trực tuyến qua Nền tảng thanh toán quốc gia"),
        ("gateway", None, "Trực tuyến"),
        ("bank_transfer", None, "Chuyển khoản ngân hàng"),
        ("cash", None, "Tiền mặt tại quầy"),
        ("card", None, "Thẻ tại quầy"),
    ],
)
def test_each_payment_method_has_its_wording(method: str, gateway_name: str | None, wording: str) -> None:
    assert method_text(method, gateway_name) == wording
    text = text_of(render(replace(RECEIPT, method=method, gateway_name=gateway_name), FONT, BOLD))
    assert f"Hình thức thanh toán: {wording} Mã giao dịch" in text


def test_an_unknown_payment_method_renders_no_receipt() -> None:
    with pytest.raises(ValueError, match="cheque"):
        render(replace(RECEIPT, method="cheque"), FONT, BOLD)


def test_a_capped_line_says_so() -> None:
    capped = ("fee", "Phí chứng thực bản sao từ bản chính", 2_000, 120, "trang", 200_000)
    assert line_text(capped) == (
        "Phí: Phí chứng thực bản sao từ bản chính — 120 trang × 2.000 đồng = 200.000 đồng (mức tối đa)"
    )


def test_the_receipt_can_be_sent_to_a_worker_process() -> None:
    assert pickle.loads(pickle.dumps(RECEIPT)) == RECEIPT


def test_the_receipts_qr_code_opens_its_verification_page() -> None:
    assert scanned(page_png(render(RECEIPT, FONT, BOLD))) == RECEIPT.verify_url


# --- helpers --------------------------------------------------------------------------------------


def text_of(pdf: bytes) -> str:
    """The text of a PDF as poppler's pdftotext reads it (not our PDF library), whitespace collapsed."""
    out = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


def page_png(pdf: bytes) -> bytes:
    """The first page as a viewer draws it."""
    with tempfile.TemporaryDirectory() as folder:
        source, image = Path(folder) / "receipt.pdf", Path(folder) / "page"
        source.write_bytes(pdf)
        subprocess.run(
            ["pdftoppm", "-png", "-r", "150", "-f", "1", "-l", "1", "-singlefile", source, image],
            capture_output=True,
            check=True,
        )
        return image.with_suffix(".png").read_bytes()


def scanned(png: bytes) -> str:
    """What a QR scanner (zbar) reads in the image."""
    out = subprocess.run(["zbarimg", "--raw", "-q", "-"], input=png, capture_output=True, check=True).stdout
    return out.decode().rstrip("\n")


def _raster(svg: str) -> Image.Image:
    """The SVG segno drew as an image: its dark modules are horizontal runs of a stroked path,
    "M x y" to start (y the middle of a row), "m dx dy" to move, "h n" for a run of n modules."""
    size = int(re.search(r'd="M0 0h(\d+)v', svg).group(1))  # type: ignore[union-attr]  # the light background
    path = re.search(r'class="qrline"[^>]* d="([^"]+)"', svg).group(1)  # type: ignore[union-attr]
    image = Image.new("L", (size, size), 255)
    x = y = 0.0
    for command, numbers in re.findall(r"([Mmh])([-\d. ]+)", path):
        values = [float(n) for n in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        else:
            for col in range(int(x), int(x + values[0])):
                image.putpixel((col, int(y)), 0)
            x += values[0]
    return image.resize((size * 8, size * 8), Image.Resampling.NEAREST)


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
