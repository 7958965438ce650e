"""Files a citizen or a scanner sends, good and bad, made on the spot: a real PDF, JPEG and PNG,
and each kind of file the document store must refuse."""

from __future__ import annotations

import io
import struct
import zlib

import pikepdf
from PIL import Image

from infra.scanner import scanned_page


def pdf(pages: int = 1, title: str = "Tờ khai") -> bytes:
    document = pikepdf.new()
    for _ in range(pages):
        document.add_blank_page(page_size=(595, 842))
    document.docinfo["/Title"] = title
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def jpeg(width: int = 1240, height: int = 1754) -> bytes:
    buffer = io.BytesIO()
    Image.new("L", (width, height), 255).save(buffer, "JPEG", dpi=(150, 150))
    return buffer.getvalue()


def png(width: int = 1240, height: int = 1754) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), "white").save(buffer, "PNG")
    return buffer.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes of PNG whose header declares `width`×`height` grey pixels."""
    pixels = zlib.compress(b"\x00" * (width + 1) * 4, 9)
    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def encrypted_pdf() -> bytes:
    document = pikepdf.open(io.BytesIO(pdf()))
    buffer = io.BytesIO()
    document.save(buffer, encryption=pikepdf.Encryption(owner="chủ", user="mật khẩu"))
    return buffer.getvalue()


def pdf_bomb(inflated: int = 600 * 1024 * 1024) -> bytes:
    """A PDF whose page content is a few hundred kilobytes that inflate to `inflated` bytes."""
    document = pikepdf.new()
    page = document.add_blank_page()
    content = pikepdf.Stream(document, b"")
    content.write(zlib.compress(b"0" * inflated, 9), filter=pikepdf.Name.FlateDecode)
    page.Contents = content
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


# Each file the store refuses, with the problem it names and the answer's status.
BAD_FILES: dict[str, tuple[bytes, str, int]] = {
    "a program": (b"MZ\x90\x00" + bytes(200), "file_type", 415),
    "a PDF in name only": (b"%PDF-1.7\n% not a PDF\n" + bytes(300), "truncated_file", 422),
    "a truncated PDF": (pdf()[:400], "truncated_file", 422),
    "a truncated JPEG": (jpeg()[:4000], "truncated_file", 422),
    "a corrupt PNG": (png()[:60] + b"garbage" * 50 + png()[-12:], "corrupt_file", 422),
    "a corrupt PDF": (pdf()[:300] + b"garbage" * 30 + pdf()[-30:], "corrupt_file", 422),
    "an encrypted PDF": (encrypted_pdf(), "encrypted_pdf", 422),
    "a decompression bomb (image)": (png_declaring(19_000, 19_000), "decompression_bomb", 422),
    "a decompression bomb (PDF)": (pdf_bomb(), "decompression_bomb", 422),
    "an image of absurd dimensions": (png_declaring(15_000, 40), "image_dimensions", 422),
}


def vietnamese_scan(seed: int = 3) -> bytes:
    """A crooked, speckled scan of a Vietnamese document (JPEG, 150 dpi)."""
    lines = [
        "Giấy khai sinh của công dân Nguyễn Thị Hương",
        "Ủy ban nhân dân xã Hòa Tiến xác nhận",
        "Đăng ký thường trú tại thôn Đông",
    ]
    return scanned_page(lines, title="GIẤY XÁC NHẬN", skew_degrees=2.5, noise=0.004, seed=seed)
