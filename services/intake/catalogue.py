"""The procedure catalogue (danh mục thủ tục hành chính): procedures as data, search that
ignores diacritics. No I/O here: the catalogue file's text is given to `parse_catalogue`.

A procedure's fee rule (`fee`) is its lines, each a fee (phí: pays for a service) or a charge
(lệ phí: a state levy), kept apart as the law and the treasury keep them, and the grounds on
which an applicant is exempt. A line is a fixed amount (`amount_vnd`) or a price per unit
(`per_unit_vnd` per `unit`: a copy, a page, a person), optionally capped (`max_vnd`). No lines:
the procedure is free. Money is integer VND. `services/intake/fees.py` assesses a dossier's fee
from the rule.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Literal

from services.runtime.calendar import DayKind
from services.runtime.text import fold

OnlineLevel = Literal["full", "partial", "information"]
Level = Literal["commune", "province", "inter_agency"]
FeeKind = Literal["fee", "charge"]  # phí, lệ phí
FEE_KINDS: frozenset[str] = frozenset({"fee", "charge"})
# An older catalogue's fixed amount (`{"kind": "fixed", "amount_vnd": N}`) reads as one line of this name.
LEGACY_LINE_NAME = "Phí, lệ phí"

# Which channels a procedure's online level allows: a partly online procedure cannot be
# done fully online, an information-only one takes no dossier at all.
CHANNELS_BY_LEVEL: dict[str, frozenset[str]] = {
    "full": frozenset({"online_full", "online_partial", "counter", "post"}),
    "partial": frozenset({"online_partial", "counter", "post"}),
    "information": frozenset(),
}


@dataclass(frozen=True)
class Component:
    """A required component (thành phần hồ sơ); `reusable` if the e-data store may supply it,
    which it does when the owner holds a valid document of its `kind` (an earlier result)."""

    name: str
    reusable: bool
    kind: str | None = None

    def as_row(self) -> dict[str, Any]:
        return {"name": self.name, "reusable": self.reusable} | ({"kind": self.kind} if self.kind else {})


def _money(row: dict[str, Any], key: str, code: str) -> int | None:
    """`row[key]` as whole VND (absent: None); anything else is the catalogue's mistake."""
    value = row.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"procedure {code!r}: fee {key} must be a whole number of VND, not {value!r}")
    return value


@dataclass(frozen=True)
class FeeRule:
    """One line of a procedure's fee rule: a phí (`fee`) or a lệ phí (`charge`), either a fixed
    `amount_vnd` or `per_unit_vnd` for each `unit` (bản, trang…), at most `max_vnd` if capped."""

    kind: FeeKind
    name: str
    amount_vnd: int | None = None
    per_unit_vnd: int | None = None
    unit: str | None = None
    max_vnd: int | None = None

    @property
    def per_unit(self) -> bool:
        return self.per_unit_vnd is not None

    @classmethod
    def from_row(cls, row: dict[str, Any], code: str) -> FeeRule:
        if row.get("kind") not in FEE_KINDS:
            raise ValueError(
                f"procedure {code!r}: a fee line is a 'fee' (phí) or a 'charge' (lệ phí), not {row.get('kind')!r}"
            )
        line = cls(
            kind=row["kind"],
            name=row["name"],
            amount_vnd=_money(row, "amount_vnd", code),
            per_unit_vnd=_money(row, "per_unit_vnd", code),
            unit=row.get("unit"),
            max_vnd=_money(row, "max_vnd", code),
        )
        if (line.amount_vnd is None) == (line.per_unit_vnd is None):
            raise ValueError(f"procedure {code!r}: fee line {line.name!r} needs amount_vnd or per_unit_vnd (one)")
        if line.per_unit_vnd is not None and not line.unit:
            raise ValueError(f"procedure {code!r}: fee line {line.name!r} is per unit: name its unit")
        if line.per_unit_vnd is None and (line.unit or line.max_vnd is not None):
            raise ValueError(f"procedure {code!r}: fee line {line.name!r} is fixed: no unit nor max_vnd")
        return line

    def as_row(self) -> dict[str, Any]:
        row: dict[str, Any] = {"kind": self.kind, "name": self.name}
        if self.per_unit_vnd is None:
            return row | {"amount_vnd": self.amount_vnd}
        row |= {"per_unit_vnd": self.per_unit_vnd, "unit": self.unit}
        return row | ({"max_vnd": self.max_vnd} if self.max_vnd is not None else {})


@dataclass(frozen=True)
class ExemptionGround:
    """A ground on which an applicant owes no fee (đối tượng được miễn phí, lệ phí)."""

    ground: str  # stable name for programs, e.g. "social_protection"
    label: str  # what the receipt says, e.g. "Đối tượng hưởng chính sách bảo trợ xã hội"

    def as_row(self) -> dict[str, Any]:
        return {"ground": self.ground, "label": self.label}


@dataclass(frozen=True)
class Fee:
    """A procedure's fee rule: its lines (none: free) and its exemption grounds."""

    lines: tuple[FeeRule, ...] = ()
    exemptions: tuple[ExemptionGround, ...] = ()

    @property
    def free(self) -> bool:
        return not self.lines

    def exemption(self, ground: str) -> ExemptionGround | None:
        """The procedure's exemption ground named `ground`, if it has one."""
        return next((e for e in self.exemptions if e.ground == ground), None)

    @classmethod
    def from_row(cls, row: dict[str, Any] | None, code: str) -> Fee:
        """The rule as the catalogue writes it; an older catalogue's `{"kind": "free"}` and
        `{"kind": "fixed", "amount_vnd": N}` (one lệ phí line), or no `fee` at all (free), too."""
        if not row or row.get("kind") == "free":
            return cls()
        if row.get("kind") == "fixed":
            amount = _money(row, "amount_vnd", code) or 0
            return cls((FeeRule("charge", LEGACY_LINE_NAME, amount_vnd=amount),) if amount else ())
        grounds = tuple(ExemptionGround(e["ground"], e["label"]) for e in row.get("exemptions", []))
        if len({e.ground for e in grounds}) != len(grounds):
            raise ValueError(f"procedure {code!r}: an exemption ground is listed twice")
        return cls(tuple(FeeRule.from_row(line, code) for line in row.get("lines", [])), grounds)

    def as_row(self) -> dict[str, Any]:
        return {"lines": [line.as_row() for line in self.lines], "exemptions": [e.as_row() for e in self.exemptions]}


@dataclass(frozen=True)
class Procedure:
    """An administrative procedure (thủ tục hành chính) of the catalogue."""

    code: str
    name: str
    field: str
    level: Level
    competent_unit: str
    components: tuple[Component, ...]
    processing_days: int
    processing_kind: DayKind
    cutoff: time
    fee: Fee
    online_level: OnlineLevel
    workflow: str
    result_kind: str | None = None  # the kind of document the result is (for the e-data store)
    result_valid_days: int | None = None  # how long the result may be reused; None: without limit

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Procedure:
        return cls(
            code=row["code"],
            name=row["name"],
            field=row["field"],
            level=row["level"],
            competent_unit=row["competent_unit"],
            components=tuple(Component(**c) for c in row["components"]),
            processing_days=row["processing"]["days"],
            processing_kind=row["processing"]["kind"],
            cutoff=time.fromisoformat(row["cutoff"]),
            fee=Fee.from_row(row.get("fee"), row["code"]),
            online_level=row["online_level"],
            workflow=row["workflow"],
            result_kind=row.get("result", {}).get("kind"),
            result_valid_days=row.get("result", {}).get("valid_days"),
        )

    def as_row(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "field": self.field,
            "level": self.level,
            "competent_unit": self.competent_unit,
            "components": [c.as_row() for c in self.components],
            "processing": {"days": self.processing_days, "kind": self.processing_kind},
            "cutoff": self.cutoff.strftime("%H:%M"),
            "fee": self.fee.as_row(),
            "online_level": self.online_level,
            "workflow": self.workflow,
        } | ({"result": self.result()} if self.result_kind else {})

    def result(self) -> dict[str, Any]:
        return {"kind": self.result_kind} | ({"valid_days": self.result_valid_days} if self.result_valid_days else {})

    @property
    def takes_dossiers(self) -> bool:
        return self.online_level != "information"

    def allows(self, channel: str) -> bool:
        """Whether a dossier may come in on `channel`, by the procedure's online level."""
        return channel in CHANNELS_BY_LEVEL[self.online_level]

    @property
    def reusable_components(self) -> frozenset[str]:
        return frozenset(c.name for c in self.components if c.reusable)


@dataclass(frozen=True)
class Catalogue:
    """One version of the catalogue: its procedures by code."""

    version: str
    procedures: dict[str, Procedure] = field(default_factory=dict)

    def get(self, code: str) -> Procedure | None:
        return self.procedures.get(code)

    def rows(self) -> list[dict[str, Any]]:
        return [p.as_row() for p in self.procedures.values()]

    @classmethod
    def from_rows(cls, version: str, rows: list[dict[str, Any]]) -> Catalogue:
        return cls(version, {row["code"]: Procedure.from_row(row) for row in rows})


def parse_catalogue(text: str) -> Catalogue:
    """The catalogue in the catalogue file's JSON (`version`, `procedures`)."""
    document = json.loads(text)
    return Catalogue.from_rows(document["version"], document["procedures"])


def search(catalogue: Catalogue, query: str = "", **filters: str | None) -> list[Procedure]:
    """Procedures whose code, name or field contain every word of `query`, diacritics and case ignored;
    `filters` (field, level, online_level) must match exactly where given."""
    words = fold(query).split()
    found = []
    for procedure in catalogue.procedures.values():
        haystack = fold(f"{procedure.code} {procedure.name} {procedure.field}")
        if all(w in haystack for w in words) and all(
            getattr(procedure, key) == value for key, value in filters.items() if value is not None
        ):
            found.append(procedure)
    return found
