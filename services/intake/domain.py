"""Intake rules (tiếp nhận hồ sơ): catalogue, dossier codes, due dates. No I/O here.

Skeleton rules: due dates count working days skipping weekends only; public
holidays, cut-off hours and the full catalogue come with the intake rules.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path

from services.runtime.clock import LOCAL_TZ

OFFICE_CLOSES = time(17, 0)
DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Procedure:
    """An administrative procedure (thủ tục hành chính) of the catalogue."""

    code: str
    name: str
    field: str
    working_days: int
    fee_vnd: int
    components: tuple[str, ...]


@dataclass(frozen=True)
class Unit:
    """A receiving unit: the province or one of its communes, by national agency code."""

    code: str
    name: str


def load_procedures() -> dict[str, Procedure]:
    rows = json.loads((DATA / "procedures.json").read_text(encoding="utf-8"))
    return {row["code"]: Procedure(**{**row, "components": tuple(row["components"])}) for row in rows}


def load_communes() -> dict[str, Unit]:
    units = json.loads((DATA / "units.json").read_text(encoding="utf-8"))
    return {row["code"]: Unit(**row) for row in units["communes"]}


def dossier_code(unit_code: str, day: date, sequence: int) -> str:
    """`<unit code>-<YYMMDD>-<NNNN>`: the unit's NNNN-th dossier of that day."""
    return f"{unit_code}-{day:%y%m%d}-{sequence:04d}"


def add_working_days(start: date, days: int) -> date:
    """The day `days` working days after `start` (the start day itself is not counted)."""
    current = start
    while days > 0:
        current += timedelta(days=1)
        if current.weekday() < 5:
            days -= 1
    return current


def due_at(received_at: datetime, working_days: int) -> datetime:
    """Appointment time: end of office hours on the last working day of the period."""
    local = received_at.astimezone(LOCAL_TZ)
    return datetime.combine(add_working_days(local.date(), working_days), OFFICE_CLOSES, LOCAL_TZ)


def identity_hash(identity_number: str, key: str) -> str:
    """Keyed hash of an identity number: enough to look a dossier up, useless if leaked."""
    return hmac.new(key.encode(), identity_number.encode(), hashlib.sha256).hexdigest()


def missing_components(procedure: Procedure, provided: list[str]) -> list[str]:
    return [name for name in procedure.components if name not in set(provided)]
