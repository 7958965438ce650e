"""Vietnamese text recognition: a crooked, speckled scan is read by Tesseract with its
Vietnamese data, and its words are found without diacritics."""

from __future__ import annotations

from pathlib import Path

from services.digitisation.assembly import assemble
from services.digitisation.checks import Limits
from services.digitisation.ocr import recognise, words
from services.runtime.text import fold
from tests.samples import pdf, vietnamese_scan

EXPECTED = ["Giấy khai sinh", "Nguyễn Thị Hương", "Ủy ban nhân dân", "Hòa Tiến", "thường trú", "thôn Đông"]


def test_a_rotated_noisy_vietnamese_scan_is_read() -> None:
    recognised = recognise(vietnamese_scan(), "image/jpeg")
    found = " ".join(fold(recognised.text).split())
    for expected in EXPECTED:
        assert fold(expected) in found, (expected, recognised.text)
    assert "Nguyễn Thị Hương" in recognised.text  # with its diacritics, as printed


def test_an_image_only_pdf_is_rendered_and_read_and_a_text_page_is_not(tmp_path: Path) -> None:
    (tmp_path / "scan.jpg").write_bytes(vietnamese_scan(seed=5))
    (tmp_path / "blank.pdf").write_bytes(pdf())
    copy, _ = assemble([tmp_path / "scan.jpg", tmp_path / "blank.pdf"], Limits())
    recognised = recognise(copy, "application/pdf")
    assert (recognised.pages, recognised.recognised_pages) == (2, 2)
    assert {"giay", "khai", "sinh", "huong", "thuong", "tru"} <= set(words(recognised.text))


def test_words_ignore_diacritics_and_case() -> None:
    assert words("GIẤY khai sinh — Đăng ký, giấy") == ["giay", "khai", "sinh", "dang", "ky"]
