"""A unit's round red seal (con dấu) drawn at run time from its name, as a transparent image.

The seal's signature (the unit's organisation certificate) shows it stamped over the left part of
the leader's signature, as on a paper document; the background stays transparent and the ink
slightly so, so the signature beneath still reads. The unit's name runs clockwise around the
ring, a star stands in the middle and a small one closes the ring at the bottom.
"""

from __future__ import annotations

import math
import unicodedata
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

SIZE_PX = 720  # about 540 dpi at the seal's 34 mm: sharp on screen and on paper
INK = (206, 17, 38, 225)  # seal red, a little translucent
OUTER, INNER = 0.485, 0.345  # the two circles' radii, as shares of the image
RING_ARC = math.radians(300)  # the most of the ring the name may take; the rest holds the bottom star


@lru_cache(maxsize=256)
def seal_image(unit_name: str, font: Path) -> Image.Image:
    """The seal of `unit_name` (RGBA, SIZE_PX square); drawn once per unit and font."""
    image = Image.new("RGBA", (SIZE_PX, SIZE_PX), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    centre = SIZE_PX / 2
    for share, width in ((OUTER, 16), (INNER, 7)):
        radius = SIZE_PX * share
        draw.ellipse((centre - radius, centre - radius, centre + radius, centre + radius), outline=INK, width=width)
    _ring_text(image, unicodedata.normalize("NFC", unit_name).upper(), str(font))
    _star(draw, centre, centre, SIZE_PX * 0.16)
    _star(draw, centre, centre + SIZE_PX * (OUTER + INNER) / 2, SIZE_PX * 0.03)
    return image


def _ring_text(image: Image.Image, text: str, font_path: str) -> None:
    """`text` centred on the top of the ring, each letter upright towards the rim (a little inwards of
    the ring's middle: capitals and their marks stand above the font's middle line)."""
    radius = SIZE_PX * ((OUTER + INNER) / 2 - 0.01)
    size = 54
    font = ImageFont.truetype(font_path, size)
    spacing = 0.18  # of the font size, between letters
    while size > 20 and (arc := _arc(font, text, spacing * size, radius)) > RING_ARC:
        size -= 2
        font = ImageFont.truetype(font_path, size)
    angle = -arc / 2
    for letter in text:
        width = font.getlength(letter) + spacing * size
        angle += width / radius / 2
        _letter(image, letter, font, angle, radius)
        angle += width / radius / 2


def _arc(font: ImageFont.FreeTypeFont, text: str, spacing: float, radius: float) -> float:
    return sum(font.getlength(letter) + spacing for letter in text) / radius


def _letter(image: Image.Image, letter: str, font: ImageFont.FreeTypeFont, angle: float, radius: float) -> None:
    """One letter at `angle` (radians clockwise from the top) on the circle of `radius`."""
    box = int(font.size * 2)
    glyph = Image.new("RGBA", (box, box), (0, 0, 0, 0))
    # anchor "mm": the middle of the font's ascender and descender, the same for every letter,
    # so that the letters of the name stand on one circle whatever their marks
    ImageDraw.Draw(glyph).text((box / 2, box / 2), letter, font=font, fill=INK, anchor="mm")
    glyph = glyph.rotate(-math.degrees(angle), resample=Image.BICUBIC)
    centre = SIZE_PX / 2
    x = centre + radius * math.sin(angle) - box / 2
    y = centre - radius * math.cos(angle) - box / 2
    image.alpha_composite(glyph, (round(x), round(y)))


def _star(draw: ImageDraw.ImageDraw, x: float, y: float, radius: float) -> None:
    """A filled five-pointed star, one point up."""
    points = []
    for n in range(10):
        r = radius if n % 2 == 0 else radius * 0.382
        a = math.pi * n / 5
        points.append((x + r * math.sin(a), y - r * math.cos(a)))
    draw.polygon(points, fill=INK)
