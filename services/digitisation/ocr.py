"""Text recognition (nhận dạng ký tự) of scans and image-only PDFs with Tesseract and its
Vietnamese data (Debian: tesseract-ocr, tesseract-ocr-vie). Runs in worker processes.

A PDF page that already carries text (a document made on a computer) gives its text; a page
that is only a picture is rendered at its own resolution and recognised. Tesseract runs one
thread per worker process (`OMP_THREAD_LIMIT=1`), at a lower CPU priority than the service's
requests: the service's OCR parallelism is its number of workers.

`words` makes the text searchable without diacritics: "Giấy khai sinh" and "giay khai sinh"
find each other, as Vietnamese users type on phones without a Vietnamese keyboard.
"""

from __future__ import annotations

import io
import os
import re
import subprocess
from dataclasses import dataclass

import pypdfium2 as pdfium
from PIL import Image

from services.runtime.text import fold

DPI = 300
TEXT_LAYER_MIN_CHARS = 20  # fewer characters on a page than this: the page is an image
TIMEOUT_PER_PAGE_S = 120
NICENESS = 10
WORD = re.compile(r"[a-z0-9]+")


class RecognitionFailed(RuntimeError):
    """Tesseract could not be run or failed on a page (the message says why)."""


@dataclass(frozen=True)
class Recognised:
    text: str
    pages: int
    recognised_pages: int  # pages that went through Tesseract (the others had a text layer)


def recognise(data: bytes, media_type: str, language: str = "vie") -> Recognised:
    """The text of an image or a PDF, page after page."""
    if media_type != "application/pdf":
        return Recognised(tesseract(data, language), 1, 1)
    texts, recognised = [], 0
    document = pdfium.PdfDocument(data)
    try:
        for index in range(len(document)):
            page = document[index]
            layer = page.get_textpage().get_text_range()
            if len(layer.strip()) >= TEXT_LAYER_MIN_CHARS:
                texts.append(layer)
                continue
            picture = page.render(scale=_scale(page), grayscale=True).to_pil()
            buffer = io.BytesIO()
            picture.save(buffer, "PNG")
            texts.append(tesseract(buffer.getvalue(), language))
            recognised += 1
    finally:
        document.close()
    return Recognised("\n\f".join(texts), len(texts), recognised)


def _scale(page: pdfium.PdfPage) -> float:
    """Render a scanned page at its picture's own resolution (resampling blurs the strokes
    Tesseract reads), within 150-400 dpi; at `DPI` when the page holds no picture."""
    width_pt = page.get_width()
    largest = 0
    for picture in page.get_objects(filter=[pdfium.raw.FPDF_PAGEOBJ_IMAGE], max_depth=1):
        largest = max(largest, picture.get_px_size()[0])
    dpi = largest / (width_pt / 72) if largest and width_pt else DPI
    return min(400.0, max(150.0, dpi)) / 72


def tesseract(image: bytes, language: str) -> str:
    """Tesseract's text of one page image (PNG or JPEG bytes)."""
    with Image.open(io.BytesIO(image)) as picture:
        dpi = picture.info.get("dpi")
    # background work: at a lower priority than the requests and events the service answers
    command = ["nice", "-n", str(NICENESS), "tesseract", "stdin", "stdout", "-l", language, "--psm", "3"]
    if not dpi:
        command += ["--dpi", str(DPI)]
    try:
        done = subprocess.run(
            command,
            input=image,
            capture_output=True,
            timeout=TIMEOUT_PER_PAGE_S,
            env={**os.environ, "OMP_THREAD_LIMIT": "1"},
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired) as error:
        raise RecognitionFailed(f"tesseract could not recognise the page: {type(error).__name__}") from None
    if done.returncode != 0:
        reason = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no reason given"]
        raise RecognitionFailed(f"tesseract failed: {reason[0][:200]}")
    return done.stdout.decode("utf-8", "replace")


def words(text: str) -> list[str]:
    """The distinct words of `text`, diacritics removed, in order of first appearance."""
    return list(dict.fromkeys(WORD.findall(fold(text))))
