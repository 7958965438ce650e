"""Intake rules (tiếp nhận hồ sơ) that several parts share: dossier codes, due dates,
the owner's proof. No I/O here.

The catalogue is in `catalogue.py`, a submission's checks and the received dossier in
`submission.py`, a dossier's public history and the citizen's requests in `timeline.py`.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime

from services.runtime.calendar import WorkCalendar

from .catalogue import Procedure


def dossier_code(unit_code: str, day: date, sequence: int) -> str:
    """`<unit code>-<YYMMDD>-<NNNN>`: the unit's NNNN-th dossier of that day."""
    return f"{unit_code}-{day:%y%m%d}-{sequence:04d}"


def receipt_number(dossier_code: str) -> str:
    """Number of the receipt-and-appointment slip (giấy tiếp nhận và hẹn trả kết quả)."""
    return f"BN-{dossier_code}"


def due_at(procedure: Procedure, received_at: datetime, calendar: WorkCalendar) -> datetime:
    """Appointment time (ngày hẹn trả) by the procedure's processing time and cut-off hour."""
    return calendar.due_at(received_at, procedure.processing_days, procedure.processing_kind, procedure.cutoff)


def paused_working_days(calendar: WorkCalendar, requested_at: datetime, resumed_at: datetime) -> int:
    """Working days a supplement request held the clock: from the day the request takes
    effect up to, not including, the day the resubmission counts as received (each by
    the receipt rules: after hours or on a day off means the next working day)."""
    start, end = calendar.receipt_day(requested_at), calendar.receipt_day(resumed_at)
    # Both are working days, so the working days in (start, end] number as many as in [start, end).
    return calendar.working_days_between(start, end)


def identity_hash(identity_number: str, key: bytes) -> str:
    """Keyed hash of an identity number: enough to check an owner, useless if leaked without the key."""
    return hmac.new(key, identity_number.encode(), hashlib.sha256).hexdigest()


def owner_matches(owner: str, phone: str, owner_identity_hash: str, key: bytes) -> bool:
    """The owner proves themselves with the dossier's phone number or identity number.

    Both comparisons always run, in constant time, so the answer's timing tells nothing.
    """
    owner = owner.strip()
    phone_ok = hmac.compare_digest(owner.encode(), phone.encode())
    identity_ok = hmac.compare_digest(identity_hash(owner, key), owner_identity_hash)
    return phone_ok or identity_ok
