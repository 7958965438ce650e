"""The procedure catalogue (danh mục thủ tục hành chính): procedures as data, search that
ignores diacritics. No I/O here: the catalogue file's text is given to `parse_catalogue`."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import time
from typing import Any, Literal

from services.runtime.calendar import DayKind
from services.runtime.text import fold

OnlineLevel = Literal["full", "partial", "information"]
Level = Literal["commune", "province", "inter_agency"]

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
    fee_vnd: int
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
            fee_vnd=row["fee"].get("amount_vnd", 0) if row["fee"]["kind"] == "fixed" else 0,
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
            "fee": {"kind": "fixed", "amount_vnd": self.fee_vnd} if self.fee_vnd else {"kind": "free"},
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
