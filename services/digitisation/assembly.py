"""The electronic copy of a paper component (bản sao điện tử): the scanned pages, images or
PDFs in the order given, assembled into one PDF for the officer to sign. Runs in worker processes.

A JPEG page keeps its bytes (no second compression, no loss); a PNG page is stored losslessly
(Flate). A page measures what the scanner says its resolution was (200 dpi when it does not say),
so an A4 scan makes an A4 page.
"""

from __future__ import annotations

import io
import zlib
from pathlib import Path

import pikepdf
from PIL import Image

from .checks import Limits, inspect

DEFAULT_DPI = 200.0
COLOUR_SPACES = {"L": "/DeviceGray", "RGB": "/DeviceRGB", "CMYK": "/DeviceCMYK"}


def assemble(paths: list[Path], limits: Limits) -> tuple[bytes, int]:
    """One PDF of every page of `paths`, in order, and its page count (each file checked again)."""
    out = pikepdf.new()
    for path in paths:
        inspected = inspect(path, limits)
        if inspected.media_type == "application/pdf":
            with pikepdf.open(path) as source:
                out.pages.extend(source.pages)
        else:
            _add_image_page(out, path)
    if len(out.pages) > limits.max_pages:
        raise ValueError(f"a copy of {len(out.pages)} pages is more than the {limits.max_pages} allowed")
    buffer = io.BytesIO()
    out.docinfo["/Producer"] = "motcua digitisation"
    out.save(buffer)
    return buffer.getvalue(), len(out.pages)


def _add_image_page(pdf: pikepdf.Pdf, path: Path) -> None:
    with Image.open(path) as image:
        dpi = _dpi(image)
        width, height = image.size
        if image.format == "JPEG" and image.mode in COLOUR_SPACES:
            data, mode, filter_ = path.read_bytes(), image.mode, pikepdf.Name.DCTDecode
        else:
            mode = "L" if image.mode in ("1", "L", "LA", "I", "I;16") else "RGB"
            data, filter_ = zlib.compress(image.convert(mode).tobytes(), 6), pikepdf.Name.FlateDecode
    picture = pikepdf.Stream(pdf, data)
    picture.Type, picture.Subtype = pikepdf.Name.XObject, pikepdf.Name.Image
    picture.Width, picture.Height, picture.BitsPerComponent = width, height, 8
    picture.ColorSpace, picture.Filter = pikepdf.Name(COLOUR_SPACES[mode]), filter_
    if mode == "CMYK":  # Adobe's JPEGs store CMYK inverted
        picture.Decode = pikepdf.Array([1, 0, 1, 0, 1, 0, 1, 0])
    page_width, page_height = width * 72 / dpi[0], height * 72 / dpi[1]
    page = pdf.add_blank_page(page_size=(page_width, page_height))
    page.Resources = pikepdf.Dictionary(XObject=pikepdf.Dictionary(Im0=picture))
    page.Contents = pdf.make_stream(f"q {page_width:.3f} 0 0 {page_height:.3f} 0 0 cm /Im0 Do Q".encode())


def _dpi(image: Image.Image) -> tuple[float, float]:
    found = image.info.get("dpi")
    try:
        x, y = float(found[0]), float(found[1])  # type: ignore[index]
    except (TypeError, ValueError, IndexError):
        return DEFAULT_DPI, DEFAULT_DPI
    # a missing or silly resolution would make a page of a metre or a stamp
    return (x, y) if 50 <= x <= 1200 and 50 <= y <= 1200 else (DEFAULT_DPI, DEFAULT_DPI)
