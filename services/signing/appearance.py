"""The two visible signatures of a result document, for pyHanko: where they go and how they look.

The leader signs first, into `LEADER_FIELD`: their name and the signing time in Vietnam time, in
blue, right of where the seal will fall. The unit's organisation signature follows into
`SEAL_FIELD`, whose appearance is the unit's red round seal overlapping the left part of the
leader's signature. Both fields are new ones made on the last page at the rectangles the document
left for them (`document.LEADER`, `document.SEAL`: the geometry lives there, in one place).

Vietnamese needs a Unicode font in the appearance. pyHanko's own OpenType engine needs HarfBuzz
(its `opentype` extra), which the platform does not install; Vietnamese needs no shaping when its
letters are precomposed (NFC, every letter one glyph of DejaVu), so `UnicodeFont` embeds the
TrueType font itself through its character map, with a ToUnicode map so the text can be searched
and copied.
"""

from __future__ import annotations

import unicodedata
import zlib
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from io import BytesIO
from pathlib import Path

from fontTools import subset, ttLib
from PIL import Image
from pyhanko.pdf_utils import generic, layout
from pyhanko.pdf_utils.font.api import FontEngine, FontEngineFactory, ShapeResult
from pyhanko.pdf_utils.generic import pdf_name
from pyhanko.pdf_utils.images import PdfImage
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.pdf_utils.writer import BasePdfFileWriter
from pyhanko.stamp import StaticStampStyle, TextStamp, TextStampStyle

from services.runtime.clock import local

from .document import LEADER, PAGE_H, SEAL, Rect
from .seal import seal_image

LEADER_FIELD = "LanhDaoKy"  # lãnh đạo ký: the leader's personal signature
SEAL_FIELD = "DongDau"  # đóng dấu: the unit's organisation signature
POINTS_PER_MM = 72 / 25.4
TEXT_BLUE = (0.05, 0.2, 0.6)
_ISO = "%Y-%m-%dT%H:%M:%S%z"  # how pyHanko hands the signing time over, to be shown in Vietnam time

Box = tuple[float, float, float, float]


def leader_box() -> Box:
    """(x1, y1, x2, y2) in PDF points on the last page, origin bottom-left: pyHanko's `SigFieldSpec.box`."""
    return _points(LEADER)


def seal_box() -> Box:
    return _points(SEAL)


def leader_style(font: Path) -> TextStampStyle:
    """ "Ký bởi: <signer>" and "Ngày ký: 26/03/2026 09:15:02 +07:00", starting just under the seal's rim:
    overlapped as on paper, yet readable."""
    covered = (SEAL.x + SEAL.w - LEADER.x) * POINTS_PER_MM
    return _VietnamTimeStampStyle(
        stamp_text="Ký bởi: %(signer)s\nNgày ký: %(ts)s",
        timestamp_format=_ISO,
        text_box_style=TextBoxStyle(
            font=UnicodeFontFactory(str(font)),
            font_size=9,
            leading=12,
            text_color=TEXT_BLUE,
            box_layout_rule=layout.SimpleBoxLayoutRule(
                x_align=layout.AxisAlignment.ALIGN_MID,
                y_align=layout.AxisAlignment.ALIGN_MID,
                margins=layout.Margins.uniform(2),
            ),
        ),
        border_width=0,
        inner_content_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID,
            y_align=layout.AxisAlignment.ALIGN_MID,
            margins=layout.Margins(left=covered * 0.85, right=2, top=2, bottom=2),
        ),
    )


def seal_style(unit_name: str, font: Path) -> StaticStampStyle:
    """The unit's seal (see `seal.py`) filling the seal's box, its background transparent. The drawing is
    made once per unit and cached; the thin style around it is new each time, because pyHanko binds an
    image to the one document it is being written into."""
    return StaticStampStyle(
        background=_SealImage(seal_image(unit_name, Path(font))),
        background_opacity=1.0,
        background_layout=layout.SimpleBoxLayoutRule(
            x_align=layout.AxisAlignment.ALIGN_MID, y_align=layout.AxisAlignment.ALIGN_MID
        ),
        border_width=0,
    )


class _SealImage(PdfImage):
    """The seal as an image XObject whose compressed pixels are made once per seal: pyHanko's
    `PdfImage` compresses them again for every document (milliseconds each, in every signature)."""

    @property
    def image_ref(self) -> generic.IndirectObject:
        writer = self.writer
        assert writer is not None
        if self._image_ref is None or self._image_ref.get_pdf_handler() is not writer:
            colour, alpha = _compressed(self.image)
            mask = writer.add_object(_image_stream(self.image.size, "/DeviceGray", alpha))
            image = _image_stream(self.image.size, "/DeviceRGB", colour)
            image[pdf_name("/SMask")] = mask
            self._image_ref = writer.add_object(image)
        return self._image_ref


_COMPRESSED: dict[int, tuple[Image.Image, bytes, bytes]] = {}


def _compressed(image: Image.Image) -> tuple[bytes, bytes]:
    """The RGBA image's colour and alpha planes, Flate-compressed; kept per image (the seals are
    drawn once per unit and kept, so the same image object comes back)."""
    kept = _COMPRESSED.get(id(image))
    if kept is None or kept[0] is not image:
        kept = (image, zlib.compress(image.convert("RGB").tobytes()), zlib.compress(image.getchannel("A").tobytes()))
        if len(_COMPRESSED) > 256:
            _COMPRESSED.clear()
        _COMPRESSED[id(image)] = kept
    return kept[1], kept[2]


def _image_stream(size: tuple[int, int], colours: str, data: bytes) -> generic.StreamObject:
    return generic.StreamObject(
        {
            pdf_name("/Type"): pdf_name("/XObject"),
            pdf_name("/Subtype"): pdf_name("/Image"),
            pdf_name("/Width"): generic.NumberObject(size[0]),
            pdf_name("/Height"): generic.NumberObject(size[1]),
            pdf_name("/ColorSpace"): pdf_name(colours),
            pdf_name("/BitsPerComponent"): generic.NumberObject(8),
            pdf_name("/Filter"): pdf_name("/FlateDecode"),
        },
        encoded_data=data,
    )


def _points(rect: Rect) -> Box:
    k = POINTS_PER_MM
    return (rect.x * k, (PAGE_H - rect.y - rect.h) * k, (rect.x + rect.w) * k, (PAGE_H - rect.y) * k)


def vietnam_time(moment: datetime) -> str:
    """ "26/03/2026 09:15:02 +07:00"."""
    moment = local(moment)
    offset = moment.strftime("%z")
    return f"{moment:%d/%m/%Y %H:%M:%S} {offset[:3]}:{offset[3:]}"


@dataclass(frozen=True)
class _VietnamTimeStampStyle(TextStampStyle):
    """pyHanko formats the signing time in the machine's time zone; this shows it in Vietnam's."""

    def create_stamp(self, writer: BasePdfFileWriter, box: layout.BoxConstraints, text_params: dict) -> TextStamp:
        if "ts" in text_params:
            text_params = {**text_params, "ts": vietnam_time(datetime.strptime(text_params["ts"], _ISO))}
        return super().create_stamp(writer, box, text_params)


@dataclass(frozen=True)
class UnicodeFontFactory(FontEngineFactory):
    """A TrueType font for pyHanko's text boxes, without HarfBuzz (see the module's docstring)."""

    path: str

    def create_font_engine(self, writer: BasePdfFileWriter, obj_stream: object = None) -> FontEngine:
        return UnicodeFont(writer, self.path, obj_stream)


@lru_cache(maxsize=8)
def _font_bytes(path: str) -> bytes:
    return Path(path).read_bytes()


@lru_cache(maxsize=8)
def _parsed(path: str) -> ttLib.TTFont:
    """The font, parsed once per process (read only: subsets are made from fresh copies)."""
    return ttLib.TTFont(BytesIO(_font_bytes(path)))


@lru_cache(maxsize=8)
def _digit_glyphs(path: str) -> tuple[int, ...]:
    """Digits and the time's punctuation: in every signing time, so in every subset."""
    font = _parsed(path)
    cmap = font.getBestCmap()
    return tuple(font.getGlyphID(cmap[ord(c)]) for c in "0123456789:/+-. " if ord(c) in cmap)


@lru_cache(maxsize=256)
def _subset_program(path: str, gids: tuple[int, ...]) -> bytes:
    """The font subset to `gids` (ids kept, as content streams name them), Flate-compressed."""
    font = ttLib.TTFont(BytesIO(_font_bytes(path)))
    options = subset.Options(retain_gids=True, layout_closure=False, notdef_outline=True)
    options.drop_tables += ["GPOS", "GSUB", "GDEF", "FFTM"]  # no shaping here; FFTM: an editor's timestamp
    subsetter = subset.Subsetter(options=options)
    subsetter.populate(gids=list(gids) or [0])
    subsetter.subset(font)
    program = BytesIO()
    font.save(program)
    return zlib.compress(program.getvalue())


class UnicodeFont(FontEngine):
    """A TrueType font embedded as a CID font keyed by glyph id (Identity-H), subset to the glyphs used.

    Characters map to glyphs one to one through the font's cmap, with no kerning or ligatures;
    text is normalised to NFC first, so a decomposed "ệ" finds its precomposed glyph."""

    def __init__(self, writer: BasePdfFileWriter, path: str, obj_stream: object = None) -> None:
        self.path = path
        self.tt = _parsed(path)
        self.ps_name = (self.tt["name"].getDebugName(6) or Path(path).stem).replace(" ", "")
        super().__init__(writer, self.ps_name, embedded_subset=True, obj_stream=obj_stream)
        self.cmap = self.tt.getBestCmap()
        self.units_per_em = self.tt["head"].unitsPerEm
        self.used: dict[int, tuple[int, str]] = {}  # glyph id → (advance in font units, the text it shows)
        self.ref = writer.allocate_placeholder()
        self.written = False

    @property
    def uses_complex_positioning(self) -> bool:
        return False  # one Tj a line: pyHanko moves to the next line with T*

    def shape(self, txt: str) -> ShapeResult:
        glyphs, advance = [], 0
        for char in unicodedata.normalize("NFC", txt):
            name = self.cmap.get(ord(char), ".notdef")
            glyph, width = self.tt.getGlyphID(name), self.tt["hmtx"][name][0]
            self.used.setdefault(glyph, (width, char))
            glyphs.append(glyph)
            advance += width
        hex_glyphs = "".join(f"{glyph:04x}" for glyph in glyphs).encode("ascii")
        return ShapeResult(graphics_ops=b"<" + hex_glyphs + b"> Tj", x_advance=advance / self.units_per_em, y_advance=0)

    def as_resource(self) -> generic.IndirectObject:
        return self.ref

    def prepare_write(self) -> None:
        """Embed the subset (glyph ids kept, as the content streams name them) with its widths and
        ToUnicode map under the reference handed out by `as_resource`."""
        if self.written:
            return
        self.written = True
        writer, name = self.writer, f"{self.subset_prefix}+{self.ps_name}"
        # every signature of a leader uses nearly the same glyphs (their name, the labels, digits):
        # the subset is made once per glyph set, not once per signature (it is most of the work)
        gids = tuple(sorted(set(self.used) | set(_digit_glyphs(self.path))))
        font_file = generic.StreamObject(
            {pdf_name("/Filter"): pdf_name("/FlateDecode")}, encoded_data=_subset_program(self.path, gids)
        )
        descendant = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/CIDFontType2"),
                pdf_name("/BaseFont"): pdf_name("/" + name),
                pdf_name("/CIDSystemInfo"): generic.DictionaryObject(
                    {
                        pdf_name("/Registry"): generic.pdf_string("Adobe"),
                        pdf_name("/Ordering"): generic.pdf_string("Identity"),
                        pdf_name("/Supplement"): generic.NumberObject(0),
                    }
                ),
                pdf_name("/FontDescriptor"): writer.add_object(self._descriptor(name, writer.add_object(font_file))),
                pdf_name("/W"): self._widths(),
                pdf_name("/CIDToGIDMap"): pdf_name("/Identity"),
            }
        )
        font = generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/Font"),
                pdf_name("/Subtype"): pdf_name("/Type0"),
                pdf_name("/BaseFont"): pdf_name("/" + name),
                pdf_name("/Encoding"): pdf_name("/Identity-H"),
                pdf_name("/DescendantFonts"): generic.ArrayObject([writer.add_object(descendant)]),
                pdf_name("/ToUnicode"): writer.add_object(self._to_unicode()),
            }
        )
        writer.add_object(font, self.obj_stream, idnum=self.ref.idnum)

    def _descriptor(self, name: str, font_file: generic.IndirectObject) -> generic.DictionaryObject:
        head, hhea, os2 = self.tt["head"], self.tt["hhea"], self.tt["OS/2"]
        scale = 1000 / self.units_per_em
        return generic.DictionaryObject(
            {
                pdf_name("/Type"): pdf_name("/FontDescriptor"),
                pdf_name("/FontName"): pdf_name("/" + name),
                pdf_name("/Flags"): generic.NumberObject(
                    4
                ),  # symbolic: glyphs are named by id, not by a standard encoding
                pdf_name("/FontBBox"): generic.ArrayObject(
                    generic.NumberObject(round(v * scale)) for v in (head.xMin, head.yMin, head.xMax, head.yMax)
                ),
                pdf_name("/ItalicAngle"): generic.NumberObject(0),
                pdf_name("/Ascent"): generic.NumberObject(round(hhea.ascent * scale)),
                pdf_name("/Descent"): generic.NumberObject(round(hhea.descent * scale)),
                pdf_name("/CapHeight"): generic.NumberObject(round(getattr(os2, "sCapHeight", 700) * scale)),
                pdf_name("/StemV"): generic.NumberObject(80),
                pdf_name("/FontFile2"): font_file,
            }
        )

    def _widths(self) -> generic.ArrayObject:
        widths = generic.ArrayObject()
        for glyph, (width, _) in sorted(self.used.items()):
            widths += [
                generic.NumberObject(glyph),
                generic.ArrayObject([generic.NumberObject(round(width * 1000 / self.units_per_em))]),
            ]
        return widths

    def _to_unicode(self) -> generic.StreamObject:
        pairs = [f"<{glyph:04x}> <{text.encode('utf-16-be').hex()}>" for glyph, (_, text) in sorted(self.used.items())]
        chunks = [pairs[start : start + 100] for start in range(0, len(pairs), 100)]
        body = "".join(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar\n" for chunk in chunks)
        cmap = (
            "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
            "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
            "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
            "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
            f"{body}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
        )
        stream = generic.StreamObject(stream_data=cmap.encode("ascii"))
        stream.compress()
        return stream
