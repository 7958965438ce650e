"""A paper document as a counter's scanner gives it: Vietnamese text printed on an A4 page,
fed a little crooked, with the speckles of a cheap scanner. For the officer simulator, the
tests and the benchmark (an outside party: it makes what a real scanner would send)."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
A4_MM = (210, 297)


def scanned_page(
    lines: list[str],
    *,
    title: str | None = None,
    dpi: int = 150,
    skew_degrees: float = 1.5,
    noise: float = 0.002,
    seed: int = 0,
    quality: int = 80,
) -> bytes:
    """A JPEG of an A4 page carrying `title` and `lines`, turned by `skew_degrees` and speckled
    with `noise` (the share of pixels flipped), at `dpi` (stored in the file, as scanners do)."""
    rng = random.Random(seed)
    width, height = (round(mm / 25.4 * dpi) for mm in A4_MM)
    page = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(page)
    size = max(10, dpi // 6)  # about 12 points
    body, heading = ImageFont.truetype(str(FONT), size), ImageFont.truetype(str(BOLD), round(size * 1.3))
    margin, y = dpi * 2 // 3, dpi * 2 // 3
    if title:
        draw.text((width // 2, y), title, font=heading, fill=0, anchor="ma")
        y += round(size * 3)
    for line in lines:
        draw.text((margin, y), line, font=body, fill=0)
        y += round(size * 1.7)
    page = page.rotate(skew_degrees, resample=Image.Resampling.BICUBIC, expand=False, fillcolor=255)
    pixels = page.load()
    assert pixels is not None
    for _ in range(int(width * height * noise)):
        x, y = rng.randrange(width), rng.randrange(height)
        pixels[x, y] = 0 if pixels[x, y] > 127 else 255
    buffer = io.BytesIO()
    page.save(buffer, "JPEG", quality=quality, dpi=(dpi, dpi))
    return buffer.getvalue()


def paper_component(name: str, holder: str, seed: int = 0) -> bytes:
    """A scanned paper component of a dossier: its name as the title, a few lines about it."""
    lines = [
        "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM",
        "Độc lập - Tự do - Hạnh phúc",
        "",
        f"Họ và tên: {holder}",
        "Nơi cư trú: thôn Đông, xã Hòa Tiến",
        "Tôi xin cam đoan những lời khai trên là đúng sự thật.",
        "Người khai ký và ghi rõ họ tên",
    ]
    return scanned_page(lines, title=name.upper(), seed=seed)
