"""The result document as a citizen reads it, printed or on screen: its letterhead, title, holder and
date in Vietnam time, the QR code of its verification page, the template chosen for its procedure,
and the leader's signature and the unit's seal pyHanko puts where the document left room."""

from __future__ import annotations

import json
import pickle
import re
import subprocess
import tempfile
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from io import BytesIO
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from PIL import Image
from pyhanko.keys.internal import translate_pyca_cryptography_cert_to_asn1, translate_pyca_cryptography_key_to_asn1
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import BaseStampStyle
from pyhanko_certvalidator import ValidationContext

from services.runtime.forms import written_date
from services.runtime.settings import PdfForms
from services.signing.appearance import (
    LEADER_FIELD,
    SEAL_FIELD,
    leader_box,
    leader_style,
    seal_box,
    seal_style,
    vietnam_time,
)
from services.signing.document import TEMPLATES, ResultFacts, TemplateError, Templates, authority, render

FONT = Path(PdfForms.model_fields["pdf_font"].default)
BOLD = Path(PdfForms.model_fields["pdf_bold_font"].default)
CATALOGUE = Path(__file__).parents[2] / "services" / "intake" / "data" / "procedures.json"
TEMPLATES_NOW = Templates.load()
PERMIT = ResultFacts(
    result_code="H40.101-260326-0007-KQ1",
    dossier_code="H40.101-260326-0007",
    procedure_code="1.009994",
    procedure_name="Cấp giấy phép xây dựng nhà ở riêng lẻ",
    field="Xây dựng",
    title="Kết quả giải quyết: Cấp giấy phép xây dựng nhà ở riêng lẻ",
    holder="Ông Nguyễn Văn Bình",
    unit_code="H40.101",
    unit_name="Xã An Hiệp",
    signer_name="Trần Thị Hồng Nhung",
    approved_at=datetime(2026, 3, 25, 18, 30, tzinfo=UTC),  # 01:30 on 26 March in Vietnam
    verify_url="http://127.0.0.1:8005/verify/H40.101-260326-0007-KQ1",
)


def document(facts: ResultFacts = PERMIT) -> bytes:
    return render(facts, TEMPLATES_NOW.for_procedure(facts.procedure_code, facts.field), FONT, BOLD)


def text_of(pdf: bytes, page: int | None = None) -> str:
    pages = ["-f", str(page), "-l", str(page)] if page else []
    out = subprocess.run(["pdftotext", *pages, "-", "-"], input=pdf, capture_output=True, check=True).stdout
    return " ".join(out.decode().split())


def pages_of(pdf: bytes) -> int:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    return int(re.search(r"Pages:\s+(\d+)", info).group(1))  # type: ignore[union-attr]


def picture(pdf: bytes, page: int, dpi: int) -> Image.Image:
    """The page as a viewer shows it (fails if poppler cannot draw it)."""
    with tempfile.TemporaryDirectory() as folder:
        source, image = Path(folder) / "result.pdf", Path(folder) / "page"
        source.write_bytes(pdf)
        pages = ["-f", str(page), "-l", str(page), "-singlefile"]
        subprocess.run(["pdftoppm", "-png", "-r", str(dpi), *pages, source, image], capture_output=True, check=True)
        return Image.open(image.with_suffix(".png")).convert("RGB")


def test_the_document_reads_as_an_official_result_in_vietnamese() -> None:
    text = text_of(document())
    for expected in (
        "ỦY BAN NHÂN DÂN XÃ AN HIỆP",
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM Độc lập - Tự do - Hạnh phúc",
        "Số: H40.101-260326-0007-KQ1",
        "An Hiệp, ngày 26 tháng 3 năm 2026",  # the approval's date in Vietnam, not UTC's 25 March
        "GIẤY PHÉP XÂY DỰNG",
        "1. Cấp cho: Ông Nguyễn Văn Bình.",
        "Cấp giấy phép xây dựng nhà ở riêng lẻ",
        "Ủy ban nhân dân xã An Hiệp",
        "Nơi nhận: - Ông Nguyễn Văn Bình; - Lưu: VT.",
        "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH",
        "Trần Thị Hồng Nhung",
        "Tra cứu, xác thực văn bản: http://127.0.0.1:8005/verify/H40.101-260326-0007-KQ1",
        "Văn bản điện tử được ký số bởi hệ thống motcua",
    ):
        assert expected in text


def test_the_qr_code_opens_the_verification_page() -> None:
    footer = picture(document(), 1, 150).crop((0, 1530, 1240, 1754))  # below 259 mm
    scanned = subprocess.run(
        ["zbarimg", "--raw", "-q", "-"], input=_png(footer), capture_output=True, check=True
    ).stdout.decode()
    assert scanned.strip() == PERMIT.verify_url


def test_a_template_is_chosen_by_procedure_then_field_then_the_default() -> None:
    def chosen(code: str | None, field: str | None) -> str:
        return TEMPLATES_NOW.for_procedure(code, field).id

    assert chosen("1.009994", "Xây dựng") == "giay-phep-xay-dung"
    assert chosen("1.001193", "Hộ tịch") == "khai-sinh"
    assert chosen("1.004859", "Hộ tịch") == "ho-tich"  # a civil-status change: the field's template
    assert chosen("1.009989", "Xây dựng") == "mac-dinh"  # a practising certificate is no building permit
    assert chosen(None, None) == "mac-dinh"
    # the default template titles the document with the approval's own title
    text = text_of(document(replace(PERMIT, procedure_code="1.009989", title="Kết quả giải quyết: Cấp chứng chỉ")))
    assert "KẾT QUẢ GIẢI QUYẾT: CẤP CHỨNG CHỈ" in text and "chấp thuận theo đề nghị của Ông Nguyễn Văn Bình" in text


def test_every_template_names_procedures_and_fields_of_the_catalogue() -> None:
    catalogue = json.loads(CATALOGUE.read_text(encoding="utf-8"))["procedures"]
    assert set(TEMPLATES_NOW.by_procedure) <= {p["code"] for p in catalogue}
    assert set(TEMPLATES_NOW.by_field) <= {p["field"] for p in catalogue}


@pytest.mark.parametrize(
    ("template", "change", "message"),
    [
        (
            "khai-sinh",
            {"body": ["Cấp cho {holdr}."]},
            r"template 'khai-sinh': field 'body\[0\]': unknown placeholder \{holdr\}",
        ),
        (
            "dat-dai",
            {"subtitle": "Về việc {procedure}"},
            r"template 'dat-dai': field 'subtitle': unknown placeholder \{procedure\}",
        ),
        (
            "mac-dinh",
            {"recipients": ["{holder:>9}"]},
            r"template 'mac-dinh': field 'recipients\[0\]': unknown placeholder",
        ),
        ("mac-dinh", {"body": ["Lỗi {dấu ngoặc"]}, r"template 'mac-dinh': field 'body\[0\]': .*literal brace"),
        ("ho-tich", {"kind": "Công văn"}, r"template 'ho-tich': field 'kind'"),
        ("bao-hiem", {"fields": ["Hộ tịch"]}, r"template 'bao-hiem': 'Hộ tịch' is already given to template 'ho-tich'"),
    ],
)
def test_a_bad_template_fails_to_load_naming_the_template_and_the_field(
    tmp_path: Path, template: str, change: dict, message: str
) -> None:
    data = json.loads(TEMPLATES.read_text(encoding="utf-8"))
    row = next(row for row in data["templates"] if row["id"] == template)
    row.update(change)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data, ensure_ascii=False), encoding="utf-8")
    with pytest.raises(TemplateError, match=message):
        Templates.load(path)


@pytest.mark.parametrize(
    ("code", "name", "procedure", "lines", "full_name", "place", "title"),
    [
        (
            "H40.101",
            "Xã An Hiệp",
            "1.009994",
            ("ỦY BAN NHÂN DÂN", "XÃ AN HIỆP"),
            "Ủy ban nhân dân xã An Hiệp",
            "An Hiệp",
            ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
        ),
        (
            "H40.105",
            "Ủy ban nhân dân phường An Phong",
            None,
            ("ỦY BAN NHÂN DÂN", "PHƯỜNG AN PHONG"),
            "Ủy ban nhân dân phường An Phong",
            "An Phong",
            ("TM. ỦY BAN NHÂN DÂN", "CHỦ TỊCH"),
        ),
        ("000.07.01.H40", "Sở Xây dựng", "1.009989", ("SỞ XÂY DỰNG",), "Sở Xây dựng", None, ("GIÁM ĐỐC",)),
        ("000.12.01.H40", "Thanh tra tỉnh", None, ("THANH TRA TỈNH",), "Thanh tra tỉnh", None, ("CHÁNH THANH TRA",)),
        (
            "H40.101",
            "Xã An Hiệp",
            "1.001193",
            ("ỦY BAN NHÂN DÂN", "XÃ AN HIỆP"),
            "Ủy ban nhân dân xã An Hiệp",
            "An Hiệp",
            ("NGƯỜI KÝ TRÍCH LỤC",),
        ),
    ],
)
def test_the_authority_and_the_signers_title_follow_the_unit(
    code: str, name: str, procedure: str | None, lines: tuple, full_name: str, place: str | None, title: tuple
) -> None:
    facts = replace(PERMIT, unit_code=code, unit_name=name, procedure_code=procedure)
    issuer = authority(facts, TEMPLATES_NOW.for_procedure(procedure, None))
    assert (issuer.lines, issuer.name, issuer.place, issuer.signer_title) == (lines, full_name, place, title)


def test_dates_are_written_as_the_decree_on_clerical_work_asks() -> None:
    assert written_date(datetime(2026, 1, 4, 20, 5, tzinfo=UTC)) == "ngày 05 tháng 01 năm 2026"
    assert written_date(datetime(2026, 11, 12, 3, 0, tzinfo=UTC)) == "ngày 12 tháng 11 năm 2026"
    assert vietnam_time(datetime(2026, 3, 25, 18, 30, 5, tzinfo=UTC)) == "26/03/2026 01:30:05 +07:00"
    department = replace(
        PERMIT, unit_code="000.07.01.H40", unit_name="Sở Xây dựng", approved_at=datetime(2026, 1, 4, 20, 5, tzinfo=UTC)
    )
    assert "Ngày 05 tháng 01 năm 2026" in text_of(document(department))
    assert "Mẫu, ngày 05 tháng 01 năm 2026" in text_of(document(replace(department, place="Mẫu")))


def test_a_long_document_flows_on_and_signs_on_its_last_page() -> None:
    holder = "Công ty trách nhiệm hữu hạn Thương mại, Dịch vụ và Đầu tư Phát triển Bất động sản Miền Trung " * 8
    facts = replace(PERMIT, holder=holder, procedure_code="1.012790", field="Đất đai")
    pdf = signed(document(facts))
    last = pages_of(pdf)
    assert last >= 2
    assert "Trần Thị Hồng Nhung" not in text_of(pdf, 1)
    on_last = text_of(pdf, last)
    assert "TM. ỦY BAN NHÂN DÂN CHỦ TỊCH" in on_last and "Ký bởi: Trần Thị Hồng Nhung" in on_last
    assert "Nơi nhận: - Như Điều 3; - Lưu: VT." in on_last
    assert f"Trang {last}/{last}" in on_last


def test_the_leader_signs_then_the_seal_is_stamped_over_the_left_of_the_signature() -> None:
    pdf = signed(document())
    signatures = PdfFileReader(BytesIO(pdf)).embedded_signatures
    assert [signature.field_name for signature in signatures] == [LEADER_FIELD, SEAL_FIELD]
    # the seal's revision leaves the leader's signature intact (trust is the real PKI's business, not this test's)
    assert all(validate_pdf_signature(signature, ValidationContext(trust_roots=[])).intact for signature in signatures)
    text = text_of(pdf)
    assert "Ký bởi: Trần Thị Hồng Nhung" in text
    assert re.search(r"Ngày ký: \d\d/\d\d/\d{4} \d\d:\d\d:\d\d \+07:00", text)
    # the seal overlaps the left part of the leader's box, and shows red on the page
    (lx1, ly1, lx2, _), (sx1, sy1, sx2, sy2) = leader_box(), seal_box()
    assert sx1 < lx1 < sx2 < lx2 and sy1 < ly1
    page = picture(pdf, 1, 72)  # one pixel a point
    seal = page.crop((round(sx1), page.height - round(sy2), round(sx2), page.height - round(sy1)))
    pixels = seal.tobytes()
    red = sum(1 for i in range(0, len(pixels), 3) if pixels[i] > 150 and pixels[i + 1] < 100 and pixels[i + 2] < 100)
    assert red > 0.1 * seal.width * seal.height


def test_what_a_worker_process_receives_survives_pickling() -> None:
    template = TEMPLATES_NOW.for_procedure("1.001193", None)
    assert pickle.loads(pickle.dumps((PERMIT, template, FONT))) == (PERMIT, template, FONT)


def signed(pdf: bytes) -> bytes:
    """Signed by the leader into their box, then by the unit's seal into its box (throwaway keys)."""
    for field, box, style, name in (
        (LEADER_FIELD, leader_box(), leader_style(FONT), "Trần Thị Hồng Nhung"),
        (SEAL_FIELD, seal_box(), seal_style("Ủy ban nhân dân xã An Hiệp", BOLD), "Ủy ban nhân dân xã An Hiệp"),
    ):
        pdf = _sign(pdf, field, box, style, name)
    return pdf


def _sign(pdf: bytes, field: str, box: tuple, style: BaseStampStyle, name: str) -> bytes:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    signer = signers.SimpleSigner(
        signing_cert=translate_pyca_cryptography_cert_to_asn1(certificate),
        signing_key=translate_pyca_cryptography_key_to_asn1(key),
        cert_registry=None,
    )
    pdf_signer = signers.PdfSigner(
        signers.PdfSignatureMetadata(field_name=field),
        signer=signer,
        stamp_style=style,
        new_field_spec=fields.SigFieldSpec(sig_field_name=field, on_page=-1, box=box),
    )
    return pdf_signer.sign_pdf(IncrementalPdfFileWriter(BytesIO(pdf))).getvalue()


def _png(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
