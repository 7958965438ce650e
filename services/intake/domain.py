"""Intake rules (tiếp nhận hồ sơ): the procedure catalogue, dossier codes, due dates,
search. No I/O here: data files are parsed by the functions that are given them."""

from __future__ import annotations

import hashlib
import hmac
import json
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, time
from typing import Any, Literal

from services.runtime.calendar import DayKind, WorkCalendar

OnlineLevel = Literal["full", "partial", "information"]
Level = Literal["commune", "province", "inter_agency"]


@dataclass(frozen=True)
class Component:
    """A required component (thành phần hồ sơ); `reusable` if the e-data store may supply it."""

    name: str
    reusable: bool


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
        )

    def as_row(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "field": self.field,
            "level": self.level,
            "competent_unit": self.competent_unit,
            "components": [{"name": c.name, "reusable": c.reusable} for c in self.components],
            "processing": {"days": self.processing_days, "kind": self.processing_kind},
            "cutoff": self.cutoff.strftime("%H:%M"),
            "fee": {"kind": "fixed", "amount_vnd": self.fee_vnd} if self.fee_vnd else {"kind": "free"},
            "online_level": self.online_level,
            "workflow": self.workflow,
        }

    @property
    def takes_dossiers(self) -> bool:
        return self.online_level != "information"


def parse_catalogue(text: str) -> tuple[str, dict[str, Procedure]]:
    """(version, procedures by code) from the catalogue file's JSON."""
    document = json.loads(text)
    return document["version"], {row["code"]: Procedure.from_row(row) for row in document["procedures"]}


def file_kind(content: bytes) -> str | None:
    """What an uploaded component is, by its first bytes: pdf, jpeg or png; None otherwise."""
    if content.startswith(b"%PDF-"):
        return "pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    return None


# Which channels a procedure's online level allows: a partly online procedure cannot be
# done fully online, an information-only one takes no dossier at all.
CHANNELS_BY_LEVEL = {
    "full": {"online_full", "online_partial", "counter", "post"},
    "partial": {"online_partial", "counter", "post"},
    "information": set(),
}


def fold(text: str) -> str:
    """Lower case without Vietnamese diacritics: "Đăng ký" -> "dang ky"."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).lower()


def search(procedures: dict[str, Procedure], query: str = "", **filters: str | None) -> list[Procedure]:
    """Procedures whose code, name or field contain every word of `query`, diacritics and case ignored."""
    words = fold(query).split()
    found = []
    for procedure in procedures.values():
        haystack = fold(f"{procedure.code} {procedure.name} {procedure.field}")
        if all(w in haystack for w in words) and all(
            getattr(procedure, key) == value for key, value in filters.items() if value is not None
        ):
            found.append(procedure)
    return found


def dossier_code(unit_code: str, day: date, sequence: int) -> str:
    """`<unit code>-<YYMMDD>-<NNNN>`: the unit's NNNN-th dossier of that day."""
    return f"{unit_code}-{day:%y%m%d}-{sequence:04d}"


def due_at(procedure: Procedure, received_at: datetime, calendar: WorkCalendar) -> datetime:
    """Appointment time (ngày hẹn trả) by the procedure's processing time and cut-off hour."""
    return calendar.due_at(received_at, procedure.processing_days, procedure.processing_kind, procedure.cutoff)


def identity_hash(identity_number: str, key: str) -> str:
    """Keyed hash of an identity number: enough to look a dossier up, useless if leaked."""
    return hmac.new(key.encode(), identity_number.encode(), hashlib.sha256).hexdigest()


def missing_components(procedure: Procedure, provided: list[str]) -> list[str]:
    given = set(provided)
    return [c.name for c in procedure.components if c.name not in given]


# What the public tracking page says for each step of a dossier's journey.
STATUS_LABELS = {
    "dossier.received": "Đã tiếp nhận hồ sơ",
    "dossier.supplement_requested": "Yêu cầu bổ sung hồ sơ (tạm dừng thời hạn)",
    "dossier.supplemented": "Đã nhận hồ sơ bổ sung",
    "dossier.withdrawn": "Công dân đã rút hồ sơ",
    "dossier.digitised": "Đã số hóa thành phần hồ sơ",
    "payment.requested": "Chờ thanh toán phí, lệ phí",
    "payment.completed": "Đã thanh toán phí, lệ phí",
    "payment.not_required": "Không phải nộp phí, lệ phí",
    "dossier.transferred": "Chuyển xử lý liên thông",
    "dossier.refused": "Từ chối giải quyết hồ sơ",
    "dossier.apologised": "Xin lỗi và hẹn lại ngày trả kết quả",
    "dossier.approved": "Đã phê duyệt, chờ ký số kết quả",
    "result.signed": "Đã ký số kết quả",
    "dossier.completed": "Đã có kết quả, trả kết quả",
    "citizen.notified": "Đã thông báo cho công dân",
}


def paused_working_days(calendar: WorkCalendar, requested_at: datetime, resumed_at: datetime) -> int:
    """Working days a supplement request held the clock: from the day the request takes
    effect up to, not including, the day the resubmission counts as received (each by
    the receipt rules: after hours or on a day off means the next working day)."""
    start, end = calendar.receipt_day(requested_at), calendar.receipt_day(resumed_at)
    # Both are working days, so the working days in (start, end] number as many as in [start, end).
    return calendar.working_days_between(start, end)


def owner_matches(dossier: dict[str, Any], owner: str, key: str) -> bool:
    """The owner proves themselves with the dossier's phone number or identity number."""
    owner = owner.strip()
    phone_ok = hmac.compare_digest(owner.encode(), dossier["applicant"]["phone"].encode())
    identity_ok = hmac.compare_digest(identity_hash(owner, key), dossier["identity_hash"])
    return phone_ok or identity_ok
