"""Message templates (mẫu thông báo) as data: `data/templates.toml`, one table per milestone.

Each template says who reads it (the citizen or an official), which values it takes, and its
text on every channel: SMS, e-mail (subject and a text/plain letter) and, for citizens, the
ZNS template registered with the provider. The file is checked when it is loaded, so a typo in
a placeholder fails at start-up, not at the first dossier that needs the message.
"""

from __future__ import annotations

import math
import re
import tomllib
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from string import Formatter
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

DEFAULT_PATH = Path(__file__).parent / "data" / "templates.toml"
Audience = Literal["citizen", "official"]
Channel = Literal["sms", "email", "zns"]
Value = str | Sequence[str]
"""A value as the renderer takes it: text, or a list of lines (documents to supply, dossiers)."""

NAME = r"^[a-z][a-z0-9_]{0,63}$"
"""What a milestone and a ZNS template id look like."""

# GSM 03.38: the basic set takes one septet a character, the extension set two (an escape first).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")


class Template(BaseModel):
    """One milestone's message on every channel, checked for consistency when loaded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    audience: Audience
    values: tuple[str, ...] = Field(min_length=1, description="The values the renderer is given, exactly these.")
    sms: str = Field(min_length=1)
    email_subject: str = Field(min_length=1)
    email_body: str = Field(min_length=1)
    zns_template: str | None = Field(default=None, pattern=NAME, description="The id at the ZNS provider.")
    zns_params: tuple[str, ...] | None = Field(default=None, description="The ZNS template's parameters.")
    zns_text: str | None = Field(default=None, min_length=1, description="The ZNS body, with zns_params only.")

    @model_validator(mode="after")
    def _consistent(self) -> Template:
        if bad := [name for name in self.values if not name.isidentifier()]:
            raise ValueError(f"values: {bad[0]!r} is not a name")
        if len(set(self.values)) != len(self.values):
            raise ValueError("values: a name is listed twice")
        if "\n" in self.email_subject:
            raise ValueError("email_subject: must be one line")
        used: set[str] = set()
        for field, text in self.texts().items():
            if not unicodedata.is_normalized("NFC", text):
                raise ValueError(f"{field}: text is not NFC-normalised Unicode")
            names = placeholders(text, field)
            if unknown := sorted(names - set(self.values)):
                raise ValueError(f"{field}: placeholder {{{unknown[0]}}} is not among values {list(self.values)}")
            used |= names
        if unused := [name for name in self.values if name not in used]:
            raise ValueError(f"values: {unused[0]!r} is used by no text")
        zns = (self.zns_template, self.zns_params, self.zns_text)
        if self.audience == "official" and any(part is not None for part in zns):
            raise ValueError("official messages have no ZNS template: drop zns_template, zns_params and zns_text")
        if self.audience == "citizen":
            if any(part is None for part in zns):
                raise ValueError("citizen messages need zns_template, zns_params and zns_text")
            params = set(self.zns_params or ())
            if unknown := sorted(params - set(self.values)):
                raise ValueError(f"zns_params: {unknown[0]!r} is not among values")
            if params != placeholders(self.zns_text or "", "zns_text"):
                raise ValueError("zns_text must use every one of zns_params and nothing else")
        return self

    def texts(self) -> dict[str, str]:
        """Every text of the template by its field name."""
        texts = {"sms": self.sms, "email_subject": self.email_subject, "email_body": self.email_body}
        return texts | ({"zns_text": self.zns_text} if self.zns_text is not None else {})


@dataclass(frozen=True)
class Rendered:
    """A message ready for its channel: `subject` for e-mail, `zns_template` and `zns_data` for ZNS."""

    subject: str | None
    text: str
    zns_template: str | None
    zns_data: dict[str, str] | None


@dataclass(frozen=True)
class Templates:
    """The templates of every milestone, in the file's order."""

    by_milestone: Mapping[str, Template]

    def __getitem__(self, milestone: str) -> Template:
        try:
            return self.by_milestone[milestone]
        except KeyError:
            raise KeyError(f"no template for milestone {milestone!r}; known: {', '.join(self.by_milestone)}") from None

    def milestones(self, audience: Audience | None = None) -> tuple[str, ...]:
        """The milestones whose messages go to `audience` (all of them without one)."""
        return tuple(name for name, t in self.by_milestone.items() if audience in (None, t.audience))

    def render(self, milestone: str, channel: Channel, values: Mapping[str, Value]) -> Rendered:
        """`milestone`'s message on `channel` with `values`, which must be exactly the declared ones.

        A list value becomes "- item" lines in e-mail and is joined with "; " in SMS, ZNS and
        the subject. Values are NFC-normalised, never escaped: e-mail is text/plain.
        """
        template = self[milestone]
        declared, given = set(template.values), set(values)
        if declared != given:
            missing, extra = ", ".join(sorted(declared - given)), ", ".join(sorted(given - declared))
            raise ValueError(
                f"template {milestone!r} takes exactly {', '.join(template.values)}: "
                f"missing {missing or 'none'}; unexpected {extra or 'none'}"
            )
        inline = {name: _text(milestone, name, value, "; ") for name, value in values.items()}
        if channel == "sms":
            return Rendered(subject=None, text=template.sms.format_map(inline), zns_template=None, zns_data=None)
        if channel == "email":
            lines = {name: _text(milestone, name, value, "\n", "- ") for name, value in values.items()}
            return Rendered(
                subject=template.email_subject.format_map(inline),
                text=template.email_body.format_map(lines),
                zns_template=None,
                zns_data=None,
            )
        if channel == "zns":
            if template.zns_template is None or template.zns_text is None or template.zns_params is None:
                raise ValueError(f"template {milestone!r}: {template.audience} messages have no ZNS template")
            return Rendered(
                subject=None,
                text=template.zns_text.format_map(inline),
                zns_template=template.zns_template,
                zns_data={name: inline[name] for name in template.zns_params},
            )
        raise ValueError(f"unknown channel {channel!r}")

    def zns_registry(self) -> dict[str, Any]:
        """The ZNS templates as registered with the provider (its sandbox loads this as JSON)."""
        return {
            "templates": {
                t.zns_template: {"params": list(t.zns_params or ()), "text": t.zns_text}
                for t in self.by_milestone.values()
                if t.zns_template is not None
            }
        }


def load(path: Path = DEFAULT_PATH) -> Templates:
    """The templates of `path`; ValueError naming the template and the problem if one is unusable."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as error:
        raise ValueError(f"{path}: {error}") from error
    return parse(data, str(path))


def parse(data: Mapping[str, Any], source: str = "templates") -> Templates:
    """Templates from the parsed TOML `data`; `source` names the file in error messages."""
    templates: dict[str, Template] = {}
    zns_ids: dict[str, str] = {}
    for milestone, table in data.items():
        where = f"{source}: template {milestone!r}"
        if not re.fullmatch(NAME, milestone):
            raise ValueError(f"{where}: a milestone is lower-case letters, digits and underscores")
        if not isinstance(table, dict):
            raise ValueError(f"{where}: expected a table")
        try:
            template = Template.model_validate(table)
        except ValidationError as error:
            raise ValueError(f"{where}: {_problems(error)}") from None
        if template.zns_template is not None:
            if other := zns_ids.get(template.zns_template):
                raise ValueError(f"{where}: zns_template {template.zns_template!r} is already {other!r}'s")
            zns_ids[template.zns_template] = milestone
        templates[milestone] = template
    if not templates:
        raise ValueError(f"{source}: no templates")
    return Templates(templates)


def placeholders(text: str, field: str = "text") -> set[str]:
    """The value names `text` uses; ValueError for anything but plain `{name}` placeholders."""
    try:
        parsed = list(Formatter().parse(text))
    except ValueError as error:
        raise ValueError(f"{field}: {error} (a literal brace is written {{{{ or }}}})") from None
    names: set[str] = set()
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            shown = name + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "")
            raise ValueError(f"{field}: placeholder {{{shown}}} must be a plain {{name}}")
        names.add(name)
    return names


def sms_segments(text: str) -> int:
    """How many SMS parts `text` takes: GSM-7 (160 septets alone, 153 a part) when every character
    is in the GSM-7 sets (an extension character such as € takes two septets), else UCS-2 (70
    alone, 67 a part; a character beyond the BMP takes two units)."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units, single, part = len(text) + sum(ch in GSM7_EXTENSION for ch in text), 160, 153
    else:
        units, single, part = len(text.encode("utf-16-le")) // 2, 70, 67
    return 1 if units <= single else math.ceil(units / part)


def _text(milestone: str, name: str, value: Value, separator: str, bullet: str = "") -> str:
    """A value as text in NFC: a string as it is, a list's items joined by `separator`, each after `bullet`."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value)
    if isinstance(value, bytes) or not isinstance(value, Sequence) or not all(isinstance(i, str) for i in value):
        raise TypeError(f"template {milestone!r}: value {name!r} must be a string or a list of strings")
    return separator.join(bullet + unicodedata.normalize("NFC", item) for item in value)


def _problems(error: ValidationError) -> str:
    """Pydantic's errors as one line: "sms: Field required; values: ..."."""
    return "; ".join(
        (f"{'.'.join(map(str, e['loc']))}: " if e["loc"] else "") + e["msg"].removeprefix("Value error, ")
        for e in error.errors()
    )
