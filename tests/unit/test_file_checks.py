"""The document store takes a file by its content, read whole, and refuses each kind of bad file
with its reason; the copy of a scan is one PDF of its pages, in order."""

from __future__ import annotations

from pathlib import Path

import pikepdf
import pytest

from services.digitisation.assembly import assemble
from services.digitisation.checks import BadFile, Limits, inspect
from tests.samples import BAD_FILES, jpeg, pdf, png


@pytest.mark.parametrize(
    ("content", "media_type", "pages"),
    [(pdf(3), "application/pdf", 3), (jpeg(), "image/jpeg", 1), (png(), "image/png", 1)],
    ids=["pdf", "jpeg", "png"],
)
def test_a_good_file_is_known_by_its_content(tmp_path: Path, content: bytes, media_type: str, pages: int) -> None:
    path = tmp_path / "upload.bin"  # the name says nothing
    path.write_bytes(content)
    inspected = inspect(path, Limits())
    assert (inspected.media_type, inspected.pages) == (media_type, pages)


@pytest.mark.parametrize("name", BAD_FILES)
def test_a_bad_file_is_refused_with_its_reason(tmp_path: Path, name: str) -> None:
    content, problem, status = BAD_FILES[name]
    path = tmp_path / "upload.pdf"
    path.write_bytes(content)
    with pytest.raises(BadFile) as refused:
        inspect(path, Limits())
    assert (refused.value.problem, refused.value.status) == (problem, status), str(refused.value)
    assert str(tmp_path) not in str(refused.value)  # the server's paths stay with the server


def test_limits_are_settings(tmp_path: Path) -> None:
    path = tmp_path / "long.pdf"
    path.write_bytes(pdf(5))
    with pytest.raises(BadFile, match="5 pages; at most 4"):
        inspect(path, Limits(max_pages=4))
    path.write_bytes(jpeg(1240, 1754))
    with pytest.raises(BadFile) as refused:
        inspect(path, Limits(max_pixels=2_000_000))
    assert refused.value.problem == "decompression_bomb"


def test_a_scan_becomes_one_pdf_of_its_pages_in_order(tmp_path: Path) -> None:
    (tmp_path / "1.jpg").write_bytes(jpeg(1240, 1754))  # A4 at 150 dpi
    (tmp_path / "2.pdf").write_bytes(pdf(2))
    (tmp_path / "3.png").write_bytes(png(1000, 700))
    copy, pages = assemble([tmp_path / "1.jpg", tmp_path / "2.pdf", tmp_path / "3.png"], Limits())
    assert pages == 4
    out = tmp_path / "copy.pdf"
    out.write_bytes(copy)
    assert inspect(out, Limits()).pages == 4
    with pikepdf.open(out) as document:
        first = [float(v) for v in document.pages[0].mediabox]
        assert first[2:] == pytest.approx([595.2, 841.9], abs=0.5)  # the scan's own A4 size
        assert "/Im0" in document.pages[3].Resources.XObject
