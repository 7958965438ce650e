"""What a file is, by its content, and whether the platform takes it (kiểm tra tệp). No I/O but
reading the file; runs in worker processes, so a hostile file costs a worker, never the service.

A file is a PDF, a JPEG or a PNG by its first bytes (what its name or the request says does not
count) and must read whole: a truncated or corrupt file, an encrypted PDF, a decompression bomb
(an image or a PDF stream that would inflate beyond the limits) and an image of absurd
dimensions are refused with a `BadFile` saying which, before anything is stored.
"""

from __future__ import annotations

import warnings
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pikepdf
from PIL import Image

MediaType = Literal["application/pdf", "image/jpeg", "image/png"]
MAGIC: dict[bytes, MediaType] = {
    b"%PDF-": "application/pdf",
    b"\xff\xd8\xff": "image/jpeg",
    b"\x89PNG\r\n\x1a\n": "image/png",
}
IMAGE_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG"}
POINTS_PER_INCH = 72
INFLATE_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one file may be at most (settings: `MOTCUA_MAX_FILE_BYTES`, ...)."""

    max_bytes: int = 20 * 1024 * 1024
    max_pages: int = 200
    max_pixels: int = 40_000_000  # an A4 page scanned at 600 dpi is 35 million
    max_side: int = 20_000  # pixels
    min_side: int = 16  # pixels
    max_aspect: float = 20.0  # longest side over shortest
    max_page_side_in: float = 200.0  # inches: a PDF page larger than this is not a document
    max_inflated_bytes: int = 512 * 1024 * 1024  # what a PDF's compressed streams may decode to, in all


class BadFile(ValueError):
    """The file is refused: `problem` names why for programs, the message for people."""

    def __init__(self, problem: str, message: str, status: int = 422) -> None:
        super().__init__(message)
        self.problem, self.status = problem, status

    def __reduce__(self) -> tuple:  # crosses from a worker process whole
        return BadFile, (self.problem, str(self), self.status)


@dataclass(frozen=True)
class Inspected:
    media_type: MediaType
    pages: int
    width: int | None = None  # images: pixels
    height: int | None = None


def media_type(head: bytes) -> MediaType | None:
    """What a file is by its first bytes: PDF, JPEG or PNG; None for anything else."""
    return next((kind for magic, kind in MAGIC.items() if head.startswith(magic)), None)


def inspect(path: Path, limits: Limits) -> Inspected:
    """The file's type and size in pages, once it has been read whole; `BadFile` otherwise."""
    with path.open("rb") as source:
        kind = media_type(source.read(16))
    if kind is None:
        raise BadFile("file_type", "only PDF, JPEG or PNG files are accepted (judged by the content)", 415)
    if kind == "application/pdf":
        return Inspected(kind, _pdf_pages(path, limits))
    width, height = _image_size(path, kind, limits)
    return Inspected(kind, 1, width, height)


# --- images --------------------------------------------------------------------------------------


def check_dimensions(width: int, height: int, limits: Limits) -> None:
    """A page image's dimensions: not absurd, and not more pixels than a worker should decode."""
    longest, shortest = max(width, height), min(width, height)
    if shortest < limits.min_side or longest > limits.max_side or longest / shortest > limits.max_aspect:
        raise BadFile("image_dimensions", f"an image of {width}×{height} pixels is not a document page")
    if width * height > limits.max_pixels:
        raise BadFile(
            "decompression_bomb",
            f"an image of {width}×{height} pixels would decode beyond the limit of {limits.max_pixels} pixels",
        )


def _image_size(path: Path, kind: MediaType, limits: Limits) -> tuple[int, int]:
    Image.MAX_IMAGE_PIXELS = limits.max_pixels  # Pillow's own guard, behind ours
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as image:  # reads the header only
                if image.format != IMAGE_FORMATS[kind]:
                    raise BadFile("corrupt_file", f"the file starts like {kind} but is not one")
                width, height = image.size
                check_dimensions(width, height, limits)
                image.load()  # every pixel: a truncated or corrupt image fails here
    except BadFile:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise BadFile("decompression_bomb", "the image would decode beyond the pixel limit") from None
    except (OSError, SyntaxError, ValueError, EOFError) as error:
        raise BadFile(_damage(str(error)), f"the image cannot be read whole: {_reason(error, path)}") from None
    return width, height


# --- PDF -----------------------------------------------------------------------------------------


def _pdf_pages(path: Path, limits: Limits) -> int:
    _check_end(path)
    try:
        # No repair: a truncated or damaged file is refused, not guessed at.
        with pikepdf.open(path, attempt_recovery=False) as pdf:
            if pdf.is_encrypted:
                raise BadFile("encrypted_pdf", "encrypted PDFs are not accepted: send the document without a password")
            count = len(pdf.pages)
            if count == 0:
                raise BadFile("corrupt_file", "the PDF has no page")
            if count > limits.max_pages:
                raise BadFile("too_many_pages", f"the PDF has {count} pages; at most {limits.max_pages} are accepted")
            for page in pdf.pages:
                _check_page(page, limits)
            _check_streams(pdf, limits)
    except BadFile:
        raise
    except pikepdf.PasswordError:
        raise BadFile(
            "encrypted_pdf", "encrypted PDFs are not accepted: send the document without a password"
        ) from None
    except (pikepdf.PdfError, pikepdf.DataDecodingError, ValueError, KeyError, TypeError, OSError) as error:
        raise BadFile(_damage(str(error)), f"the PDF cannot be read whole: {_reason(error, path)}") from None
    return count


def _check_page(page: pikepdf.Page, limits: Limits) -> None:
    box = [float(v) for v in page.mediabox]
    width, height = abs(box[2] - box[0]), abs(box[3] - box[1])
    largest = limits.max_page_side_in * POINTS_PER_INCH
    if not (0 < width <= largest and 0 < height <= largest):
        raise BadFile("page_dimensions", f"a page of {width:.0f}×{height:.0f} points is not a document page")


def _check_streams(pdf: pikepdf.Pdf, limits: Limits) -> None:
    """Images within their pixel limit; compressed streams inflating within the budget (a PDF
    bomb is a few kilobytes that a reader would inflate to gigabytes)."""
    budget = limits.max_inflated_bytes
    for thing in pdf.objects:
        if not isinstance(thing, pikepdf.Stream):
            continue
        if thing.get("/Subtype") == "/Image":
            check_dimensions(int(thing.get("/Width", 0)), int(thing.get("/Height", 0)), limits)
        filters = thing.get("/Filter")
        names = [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else [str(filters)]
        if names and names[0] == "/FlateDecode":
            budget -= _inflated_size(thing.read_raw_bytes(), budget)


def _inflated_size(raw: bytes, budget: int) -> int:
    """How many bytes `raw` inflates to, reading at most `budget + 1` of them."""
    inflater, size, pending = zlib.decompressobj(), 0, raw
    while pending and size <= budget:
        size += len(inflater.decompress(pending, INFLATE_CHUNK))
        pending = inflater.unconsumed_tail
    if size > budget:
        raise BadFile("decompression_bomb", "the PDF's content would inflate beyond the limit")
    return size


def _check_end(path: Path) -> None:
    """A PDF ends with its end-of-file marker (a cut-off upload does not)."""
    with path.open("rb") as source:
        source.seek(max(0, path.stat().st_size - 1024))
        if b"%%EOF" not in source.read():
            raise BadFile("truncated_file", "the PDF is cut short: it has no end-of-file marker")


def _damage(message: str) -> str:
    return "truncated_file" if "truncat" in message.lower() or "eof" in message.lower() else "corrupt_file"


def _reason(error: Exception, path: Path) -> str:
    """The library's reason, without the server's file path."""
    text = str(error).replace("\n", " ").replace(f"{path}: ", "").replace(str(path), "the file")
    return text[:200] or type(error).__name__
