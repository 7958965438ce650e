"""The result document (văn bản kết quả) of an approved dossier as an unsigned A4 PDF.

What a result says is data, not code: `data/results.json` holds one template per kind of
result (chosen by procedure code, else by field, else the default) and the issuer rules that
name the authority and the leader's title from the unit. The layout follows the Decree on
clerical work (30/2020/NĐ-CP), simplified: the issuing authority and number beside the national
motto and the date, the title, the body, "Nơi nhận" beside the signature area. The signature
area is always on the last page at fixed places (`LEADER`, `SEAL`), so that signing can make
its fields there without reading the document. Every page ends with the QR code of the public
verification page: a printed copy names its system and stays verifiable.

Rendering is pure Python taking tens of milliseconds, so signing runs `render` in a worker
process: a module-level function of picklable arguments.
"""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, fields, replace
from datetime import datetime
from pathlib import Path
from string import Formatter
from typing import Any

from fpdf import FPDF

from services.runtime.forms import letterhead, qr, unicode_pdf, written_date

TEMPLATES = Path(__file__).parent / "data" / "results.json"
PLACEHOLDERS = frozenset(
    {
        "holder",
        "procedure_name",
        "procedure_phrase",  # the procedure's name inside a sentence: "Về việc đăng ký ..."
        "procedure_code",
        "field",
        "title",
        "dossier_code",
        "result_code",
        "unit_name",
        "authority",  # the issuing authority's full name: "Ủy ban nhân dân xã An Hiệp", "Sở Xây dựng"
        "date",  # "ngày 05 tháng 3 năm 2026", the approval's date in Vietnam time
        "signer_name",
    }
)
KINDS = frozenset({"Giấy chứng nhận", "Quyết định", "Giấy phép", "Văn bản", "Trích lục"})
ALIGN = {"justify": "J", "center": "C", "left": "L"}


@dataclass(frozen=True)
class Rect:
    """A rectangle on the page in millimetres from the top-left corner, as fpdf2 measures."""

    x: float
    y: float
    w: float
    h: float


# The page (A4, mm). The signature area sits at fixed places on the last page.
PAGE_W, PAGE_H = 210.0, 297.0
LEFT, RIGHT, TOP = 25.0, 15.0, 15.0
HEAD_SPLIT = 100.0  # the letterhead's columns: authority and number | motto, place and date
FOOTER_TOP = 263.0  # every page's verification footer
BODY_BOTTOM = 259.0
SIGNATURE_TOP = 210.0  # on the last page the body ends above this
SIGNER_COLUMN = Rect(x=105.0, y=SIGNATURE_TOP, w=90.0, h=FOOTER_TOP - SIGNATURE_TOP)
LEADER = Rect(x=108.0, y=228.0, w=84.0, h=26.0)  # the leader's visible signature
SEAL_MM = 36.0  # a unit's round seal, stamped over the left part of the leader's signature
SEAL = Rect(x=LEADER.x + 20.0 - SEAL_MM, y=LEADER.y + (LEADER.h - SEAL_MM) / 2, w=SEAL_MM, h=SEAL_MM)
QR_MM = 22.0
TITLE_LINE_MM = 5.5
MAX_TITLE_LINES = int((LEADER.y - 1 - SIGNATURE_TOP) // TITLE_LINE_MM)


@dataclass(frozen=True)
class ResultFacts:
    """What one result document says, in plain values."""

    result_code: str  # "<dossier code>-KQ1"
    dossier_code: str
    procedure_code: str | None
    procedure_name: str
    field: str | None  # lĩnh vực, e.g. "Hộ tịch"
    title: str  # the approval's result title, shown when the template has none of its own
    holder: str  # the citizen or organisation the result is issued to
    unit_code: str
    unit_name: str  # the competent unit, e.g. "Xã An Hiệp", "Sở Xây dựng"
    signer_name: str  # the approving leader, as they sign
    approved_at: datetime  # aware; shown in Vietnam time
    verify_url: str  # the public verification page of this result (the QR code)
    place: str | None = None  # địa danh of the date line; by default from the unit's name where the issuer rule can


@dataclass(frozen=True)
class Paragraph:
    text: str
    align: str = "J"  # fpdf2's J, C or L
    bold: bool = False
    upper: bool = False


@dataclass(frozen=True)
class Issuer:
    """A rule naming the issuing authority and the leader's title from the unit (first match wins)."""

    id: str
    signer_title: tuple[str, ...]
    unit_code: re.Pattern[str] | None = None
    unit_name: re.Pattern[str] | None = None
    parent: str | None = None  # printed above the unit's name, e.g. "Ủy ban nhân dân" above "Xã An Hiệp"
    place_strips: tuple[str, ...] = ()  # words taken off the front of the unit's name to name the place

    def matches(self, code: str, name: str) -> bool:
        return all(
            rule is None or rule.search(value) for rule, value in ((self.unit_code, code), (self.unit_name, name))
        )


@dataclass(frozen=True)
class ResultTemplate:
    """One template of results.json, with the file's issuer rules it falls back on for the signer's title."""

    id: str
    kind: str
    document_title: str | None  # None: the approval's result title
    body: tuple[Paragraph, ...]
    recipients: tuple[str, ...]
    issuers: tuple[Issuer, ...]
    subtitle: str | None = None
    signer_title: tuple[str, ...] | None = None  # None: the issuer rule's
    procedures: tuple[str, ...] = ()
    fields: tuple[str, ...] = ()


@dataclass(frozen=True)
class Authority:
    """Who issues a result and how it signs: the letterhead's lines, the full name, the place, the title."""

    lines: tuple[str, ...]
    name: str
    place: str | None
    signer_title: tuple[str, ...]


class TemplateError(ValueError):
    """A results file that cannot be used; the message names the template and the field."""


@dataclass(frozen=True)
class Templates:
    """The templates of results.json by procedure code and by field, and the one default."""

    by_procedure: dict[str, ResultTemplate]
    by_field: dict[str, ResultTemplate]
    default: ResultTemplate

    @classmethod
    def load(cls, path: Path | None = None) -> Templates:
        path = path or TEMPLATES
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise TemplateError(f"{path}: {error}") from error
        return _parse(data, str(path))

    def for_procedure(self, procedure_code: str | None, field: str | None) -> ResultTemplate:
        """The procedure's own template, else its field's, else the default."""
        return (
            self.by_procedure.get(procedure_code or "")
            or self.by_field.get(unicodedata.normalize("NFC", field or ""))
            or self.default
        )


def authority(facts: ResultFacts, template: ResultTemplate) -> Authority:
    """The issuing authority of `facts` by the first matching issuer rule (its full name is what a seal reads)."""
    unit = _nfc(facts.unit_name)
    rule = next(rule for rule in template.issuers if rule.matches(facts.unit_code, unit))
    lines, name = (unit.upper(),), unit
    if rule.parent and unit.casefold().startswith(rule.parent.casefold()):
        lines = (rule.parent.upper(), unit[len(rule.parent) :].strip().upper())
    elif rule.parent:
        lines, name = (rule.parent.upper(), unit.upper()), f"{rule.parent} {_in_sentence(unit)}"
    place = _nfc(facts.place) if facts.place else _place(unit, rule.place_strips)
    return Authority(lines=lines, name=name, place=place, signer_title=template.signer_title or rule.signer_title)


def render(facts: ResultFacts, template: ResultTemplate, font: Path, bold_font: Path) -> bytes:
    """The unsigned result document as PDF bytes; `font` and `bold_font` are Unicode TrueType fonts."""
    facts = _normalised(facts)
    issuer = authority(facts, template)
    values = _values(facts, issuer)
    title = (template.document_title.format_map(values) if template.document_title else facts.title).upper()
    pdf = unicode_pdf(_Page(facts), title, Path(font), Path(bold_font))
    pdf.set_author(issuer.name)
    pdf.set_subject(f"{template.kind}: {facts.procedure_name}")
    pdf.set_keywords(facts.result_code)
    pdf.set_margins(LEFT, TOP, RIGHT)
    pdf.set_auto_page_break(True, margin=PAGE_H - BODY_BOTTOM)
    pdf.add_page()
    dated = written_date(facts.approved_at)
    dated = f"{issuer.place}, {dated}" if issuer.place else dated[0].upper() + dated[1:]
    pdf.set_y(letterhead(pdf, list(issuer.lines), f"Số: {facts.result_code}", dated, HEAD_SPLIT) + 8)
    _heading(pdf, title, template.subtitle.format_map(values) if template.subtitle else None)
    _body(pdf, template.body, values)
    if pdf.get_y() > SIGNATURE_TOP - 2:
        pdf.add_page()
    pdf.set_auto_page_break(False)
    top = LEADER.y - 1 - len(issuer.signer_title) * TITLE_LINE_MM
    _recipients(pdf, [line.format_map(values) for line in template.recipients], top)
    _signer(pdf, issuer.signer_title, top, facts.signer_name)
    return bytes(pdf.output())


class _Page(FPDF):
    """A4 pages that each end with the verification footer."""

    def __init__(self, facts: ResultFacts) -> None:
        super().__init__(format="A4")
        self.facts = facts

    def footer(self) -> None:
        self.set_draw_color(150, 150, 150)
        self.set_line_width(0.2)
        self.line(LEFT, FOOTER_TOP, PAGE_W - RIGHT, FOOTER_TOP)
        qr(self, self.facts.verify_url, x=LEFT, y=FOOTER_TOP + 1.5, size=QR_MM)
        self.set_xy(LEFT + QR_MM + 3, FOOTER_TOP + 5)
        width = PAGE_W - RIGHT - self.get_x()
        self.set_font("body", "", 8)
        self.multi_cell(width, 4, f"Tra cứu, xác thực văn bản: {self.facts.verify_url}", new_x="LEFT", new_y="NEXT")
        self.multi_cell(width, 4, "Văn bản điện tử được ký số bởi hệ thống motcua", new_x="LEFT", new_y="NEXT")
        self.multi_cell(width, 4, f"Số: {self.facts.result_code} - Trang {self.page_no()}/{{nb}}")
        self.set_draw_color(0, 0, 0)


def _heading(pdf: FPDF, title: str, subtitle: str | None) -> None:
    pdf.set_font("body", "B", 14)
    pdf.multi_cell(0, 7, title, align="C", new_x="LMARGIN", new_y="NEXT")
    if subtitle:
        pdf.set_font("body", "B", 12)
        pdf.multi_cell(0, 6, subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    rule = 30
    pdf.set_line_width(0.3)
    pdf.line((PAGE_W + LEFT - RIGHT - rule) / 2, pdf.get_y() + 1, (PAGE_W + LEFT - RIGHT + rule) / 2, pdf.get_y() + 1)
    pdf.ln(6)


def _body(pdf: FPDF, body: tuple[Paragraph, ...], values: dict[str, str]) -> None:
    with pdf.text_columns(l_margin=LEFT, r_margin=RIGHT) as columns:
        for item in body:
            text = item.text.format_map(values)
            pdf.set_font("body", "B" if item.bold else "", 11)
            indent = 10 if item.align == "J" else 0
            with columns.paragraph(text_align=item.align, first_line_indent=indent, line_height=1.3) as paragraph:
                paragraph.write(text.upper() if item.upper else text)
            columns.ln(1.5)


def _recipients(pdf: FPDF, recipients: list[str], top: float) -> None:
    """ "Nơi nhận:" level with the signer's title, left of the seal."""
    if not recipients:
        return
    width = SEAL.x - LEFT - 2
    pdf.set_xy(LEFT, top)
    pdf.set_font("body", "B", 10)
    pdf.multi_cell(width, 5, "Nơi nhận:", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("body", "", 9)
    for line in recipients:
        pdf.multi_cell(width, 4.3, f"- {line}", new_x="LMARGIN", new_y="NEXT")


def _signer(pdf: FPDF, title: tuple[str, ...], top: float, name: str) -> None:
    """The leader's title above the empty rectangle `LEADER` their signature fills, their name below."""
    column = SIGNER_COLUMN
    pdf.set_font("body", "B", 11)
    for number, line in enumerate(title):
        pdf.set_xy(column.x, top + number * TITLE_LINE_MM)
        pdf.cell(column.w, TITLE_LINE_MM, line, align="C")
    pdf.set_xy(column.x, LEADER.y + LEADER.h + 1)
    pdf.cell(column.w, 6, name, align="C")


def _values(facts: ResultFacts, issuer: Authority) -> dict[str, str]:
    return {
        "holder": facts.holder,
        "procedure_name": facts.procedure_name,
        "procedure_phrase": _in_sentence(facts.procedure_name),
        "procedure_code": facts.procedure_code or "",
        "field": facts.field or "",
        "title": facts.title,
        "dossier_code": facts.dossier_code,
        "result_code": facts.result_code,
        "unit_name": facts.unit_name,
        "authority": issuer.name,
        "date": written_date(facts.approved_at),
        "signer_name": facts.signer_name,
    }


def _nfc(text: str) -> str:
    """Precomposed letters: the fonts draw "ệ" as one glyph, not "e" with two marks stacked by chance."""
    return unicodedata.normalize("NFC", text)


def _normalised(facts: ResultFacts) -> ResultFacts:
    """Every text precomposed and on one line with single spaces, as it is printed."""
    texts = {f.name: " ".join(_nfc(v).split()) for f in fields(facts) if isinstance(v := getattr(facts, f.name), str)}
    return replace(facts, **texts)


def _in_sentence(name: str) -> str:
    """ "Đăng ký khai sinh" → "đăng ký khai sinh"; an acronym ("UBND ...") keeps its capitals."""
    first = name.split(" ", 1)[0]
    if len(first) > 1 and first[1].isupper():
        return name
    return name[:1].lower() + name[1:]


def _place(unit_name: str, strips: tuple[str, ...]) -> str | None:
    """The place a unit dates its documents from: "Xã An Hiệp" → "An Hiệp"; None when no rule says."""
    place = unit_name
    stripped = True
    while stripped:
        stripped = False
        for word in strips:
            if place.casefold().startswith(word.casefold() + " "):
                place, stripped = place[len(word) :].strip(), True
    return place if place != unit_name else None


# -- loading results.json ---------------------------------------------------------------------


def _parse(data: Any, source: str) -> Templates:
    if not isinstance(data, dict) or data.get("version") != 1:
        raise TemplateError(f'{source}: expected an object with "version": 1')
    issuers = tuple(
        _issuer(row, _where(source, "issuer", row, n)) for n, row in enumerate(_list(data, "issuers", source))
    )
    if not issuers or issuers[-1].unit_code or issuers[-1].unit_name:
        raise TemplateError(f"{source}: issuers: the last issuer rule must match every unit (no unit_code, unit_name)")
    by_procedure: dict[str, ResultTemplate] = {}
    by_field: dict[str, ResultTemplate] = {}
    defaults: list[ResultTemplate] = []
    for number, row in enumerate(_list(data, "templates", source)):
        where = _where(source, "template", row, number)
        template = _template(row, issuers, where)
        for key, index in [
            *((code, by_procedure) for code in template.procedures),
            *((f, by_field) for f in template.fields),
        ]:
            if key in index:
                raise TemplateError(f"{where}: {key!r} is already given to template {index[key].id!r}")
            index[key] = template
        if not template.procedures and not template.fields:
            defaults.append(template)
    if len(defaults) != 1:
        raise TemplateError(
            f"{source}: expected exactly one default template (no procedures, no fields), found {len(defaults)}"
        )
    return Templates(by_procedure=by_procedure, by_field=by_field, default=defaults[0])


def _template(row: Any, issuers: tuple[Issuer, ...], where: str) -> ResultTemplate:
    if not isinstance(row, dict):
        raise TemplateError(f"{where}: a template is an object")
    _only(
        row,
        {"id", "procedures", "fields", "kind", "document_title", "subtitle", "body", "recipients", "signer_title"},
        where,
    )
    kind = _text(row, "kind", where)
    if kind not in KINDS:
        raise TemplateError(f"{where}: field 'kind': {kind!r} is none of {sorted(KINDS)}")
    signer_title = _texts(row, "signer_title", where, optional=True)
    if signer_title is not None and not 1 <= len(signer_title) <= MAX_TITLE_LINES:
        raise TemplateError(f"{where}: field 'signer_title': 1 to {MAX_TITLE_LINES} lines")
    body = tuple(_paragraph(item, f"{where}: field 'body[{n}]'") for n, item in enumerate(_list(row, "body", where)))
    if not body:
        raise TemplateError(f"{where}: field 'body': at least one paragraph")
    template = ResultTemplate(
        id=_text(row, "id", where),
        kind=kind,
        document_title=_text(row, "document_title", where, optional=True),
        subtitle=_text(row, "subtitle", where, optional=True),
        body=body,
        recipients=_texts(row, "recipients", where) or (),
        signer_title=signer_title,
        issuers=issuers,
        procedures=_texts(row, "procedures", where, optional=True) or (),
        fields=_texts(row, "fields", where, optional=True) or (),
    )
    texts = {"document_title": template.document_title, "subtitle": template.subtitle}
    texts |= {f"recipients[{n}]": line for n, line in enumerate(template.recipients)}
    for name, text in texts.items():
        if text is not None:
            _check_placeholders(text, f"{where}: field '{name}'")
    return template


def _paragraph(item: Any, where: str) -> Paragraph:
    if isinstance(item, str):
        item = {"text": item}
    if not isinstance(item, dict):
        raise TemplateError(f'{where}: a paragraph is a string or an object with "text"')
    _only(item, {"text", "align", "bold", "upper"}, where)
    text = _text(item, "text", where)
    _check_placeholders(text, where)
    align = item.get("align", "justify")
    if align not in ALIGN or not all(isinstance(item.get(flag, False), bool) for flag in ("bold", "upper")):
        raise TemplateError(f"{where}: align is one of {sorted(ALIGN)}; bold and upper are true or false")
    return Paragraph(text=text, align=ALIGN[align], bold=item.get("bold", False), upper=item.get("upper", False))


def _issuer(row: Any, where: str) -> Issuer:
    if not isinstance(row, dict):
        raise TemplateError(f"{where}: an issuer rule is an object")
    _only(row, {"id", "unit_code", "unit_name", "parent", "place_strips", "signer_title"}, where)
    patterns = {}
    for key in ("unit_code", "unit_name"):
        pattern = _text(row, key, where, optional=True)
        try:
            patterns[key] = re.compile(pattern) if pattern is not None else None
        except re.error as error:
            raise TemplateError(f"{where}: field {key!r}: {error}") from error
    signer_title = _texts(row, "signer_title", where)
    if not signer_title or len(signer_title) > MAX_TITLE_LINES:
        raise TemplateError(f"{where}: field 'signer_title': 1 to {MAX_TITLE_LINES} lines")
    return Issuer(
        id=_text(row, "id", where),
        signer_title=signer_title,
        parent=_text(row, "parent", where, optional=True),
        place_strips=_texts(row, "place_strips", where, optional=True) or (),
        **patterns,
    )


def _where(source: str, what: str, row: Any, number: int) -> str:
    """ "results.json: template 'khai-sinh'" (or "#3" for one without an id), for error messages."""
    name = row.get("id") if isinstance(row, dict) and isinstance(row.get("id"), str) else f"#{number}"
    return f"{source}: {what} {name!r}"


def _check_placeholders(text: str, where: str) -> None:
    """Every {name} must be one the renderer fills: a typo would otherwise fail at the first approval."""
    try:
        parsed = list(Formatter().parse(text))
    except ValueError as error:
        raise TemplateError(f"{where}: {error} (a literal brace is written {{{{ or }}}})") from error
    for _, name, spec, conversion in parsed:
        if name is not None and (name not in PLACEHOLDERS or spec or conversion):
            shown = "{" + name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise TemplateError(f"{where}: unknown placeholder {shown}; known: {', '.join(sorted(PLACEHOLDERS))}")


def _only(row: dict, known: set[str], where: str) -> None:
    if unknown := sorted(set(row) - known):
        raise TemplateError(f"{where}: unknown field {unknown[0]!r}")


def _list(row: dict, key: str, where: str) -> list:
    value = row.get(key)
    if not isinstance(value, list):
        raise TemplateError(f"{where}: field {key!r}: expected a list")
    return value


def _text(row: dict, key: str, where: str, optional: bool = False) -> Any:
    value = row.get(key)
    if (value is None and optional) or (isinstance(value, str) and value.strip()):
        return _nfc(value) if value is not None else None
    raise TemplateError(f"{where}: field {key!r}: expected {'a text or null' if optional else 'a non-empty text'}")


def _texts(row: dict, key: str, where: str, optional: bool = False) -> Any:
    value = row.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
        raise TemplateError(f"{where}: field {key!r}: expected a list of non-empty texts")
    return tuple(_nfc(item) for item in value)
