"""Complaints and petitions (phản ánh, kiến nghị) about a dossier's handling: sent by its owner
from the tracking page, routed to the unit holding the dossier, to be answered within
`MOTCUA_COMPLAINT_ANSWER_DAYS` working days. The unit's leaders (and the dossier's holder) are
told at once, reminded one working day before the deadline, at it, and every day after it; the
answer goes to the citizen. Each step is published (`complaint.received`, `complaint.reminded`,
`complaint.answered`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

from motcua_contracts import ComplaintAnswered, ComplaintReceived, ComplaintReminded

from services.runtime import Tx
from services.runtime.clock import local

from . import citizens, officials, store
from .context import Notifier

Kind = Literal["phan_anh", "kien_nghi"]
REMINDER_BATCH = 100
KIND_NAMES = {"phan_anh": "Phản ánh", "kien_nghi": "Kiến nghị"}


class NotFound(Exception):
    pass


class NotAllowed(Exception):
    pass


class AlreadyAnswered(Exception):
    pass


async def receive(tx: Tx, notifier: Notifier, code: str, kind: Kind, text: str, now: datetime) -> dict[str, Any]:
    """File the owner's complaint about dossier `code` with the unit that holds it."""
    dossier = await store.dossier(tx, code)
    if not dossier["facts"].get("unit"):
        raise NotFound(code)
    unit, commune = dossier["facts"]["unit"], dossier["facts"].get("commune", dossier["facts"]["unit"])
    number = await tx.increment(store.COMPLAINTS + "_numbers", code)
    complaint_code = f"PA-{code}-{number}"
    answer_by = notifier.calendar.postpone(now, notifier.settings.complaint_answer_days)
    complaint = {
        "_id": complaint_code,
        "dossier_code": code,
        "kind": kind,
        "text": text,
        "unit": unit,
        "commune": commune,
        "state": "open",
        "received_at": now,
        "answer_by": answer_by,
        "remind_at": notifier.calendar.working_day_before(answer_by),
        "reminders": 0,
        "trace": dossier.get("trace", {}),
    }
    tx.save(store.COMPLAINTS, complaint)
    tx.emit(
        ComplaintReceived(
            dossier_code=code, complaint_code=complaint_code, kind=kind, unit=unit, received_at=now, answer_by=answer_by
        ),
        commune=commune,
    )
    await tell_officials(tx, notifier, complaint, "official_complaint", text=text, kind=KIND_NAMES[kind])
    await citizens.tell_about(
        tx,
        notifier,
        code,
        f"complaint_received@{citizens.key_part(complaint_code)}",
        commune,
        complaint_code=complaint_code,
        answer_by=f"{local(answer_by):%d/%m/%Y}",
    )
    return complaint


async def answer(tx: Tx, notifier: Notifier, complaint_code: str, official: str, text: str, now: datetime) -> None:
    complaint = await tx.load(store.COMPLAINTS, complaint_code)
    if complaint is None:
        raise NotFound(complaint_code)
    record = await tx.load(store.OFFICIALS, official)
    if record is None or not record["active"] or record["unit"] != complaint["unit"]:
        raise NotAllowed(complaint_code)
    if complaint["state"] == "answered":
        raise AlreadyAnswered(complaint_code)
    complaint |= {"state": "answered", "answer": text, "answered_by": official, "answered_at": now, "remind_at": None}
    tx.save(store.COMPLAINTS, complaint)
    tx.emit(
        ComplaintAnswered(
            dossier_code=complaint["dossier_code"],
            complaint_code=complaint_code,
            unit=complaint["unit"],
            answered_by=official,
            answered_at=now,
            on_time=now <= complaint["answer_by"],
        ),
        commune=complaint["commune"],
    )
    await citizens.tell_about(
        tx,
        notifier,
        complaint["dossier_code"],
        f"complaint_answered@{citizens.key_part(complaint_code)}",
        complaint["commune"],
        complaint_code=complaint_code,
        answer=text,
    )


async def remind(tx: Tx, notifier: Notifier, complaint: dict[str, Any], now: datetime) -> None:
    """Remind the unit of an unanswered complaint; the next reminder at the deadline, then daily."""
    overdue = now >= complaint["answer_by"]
    complaint["reminders"] += 1
    complaint["remind_at"] = complaint["answer_by"] if not overdue else now + timedelta(days=1)
    tx.save(store.COMPLAINTS, complaint)
    tx.emit(
        ComplaintReminded(
            dossier_code=complaint["dossier_code"],
            complaint_code=complaint["_id"],
            unit=complaint["unit"],
            answer_by=complaint["answer_by"],
            overdue=overdue,
            reminded_at=now,
        ),
        commune=complaint["commune"],
    )
    await tell_officials(tx, notifier, complaint, f"official_complaint_reminder@{complaint['reminders']}")


async def tell_officials(tx: Tx, notifier: Notifier, complaint: dict[str, Any], key: str, **extra: str) -> None:
    dossier = await store.dossier(tx, complaint["dossier_code"])
    values = {
        "dossier_code": complaint["dossier_code"],
        "complaint_code": complaint["_id"],
        "answer_by": f"{local(complaint['answer_by']):%d/%m/%Y}",
        "workspace_url": notifier.settings.workspace_url,
        **extra,
    }
    holder = dossier["facts"].get("holder")
    subject, commune = complaint["dossier_code"], complaint["commune"]
    await officials.tell(tx, notifier, subject, f"{key}@{complaint['_id']}", commune, complaint["unit"], holder, values)


def public(complaint: dict[str, Any]) -> dict[str, Any]:
    """A complaint as the unit's officials read it."""
    keys = ("dossier_code", "kind", "text", "unit", "state", "received_at", "answer_by", "answer", "answered_by")
    return {"complaint_code": complaint["_id"], **{key: complaint.get(key) for key in keys}}


async def due_reminders(tx: Tx, now: datetime, limit: int = REMINDER_BATCH) -> list[dict[str, Any]]:
    return await tx.find(store.COMPLAINTS, {"state": "open", "remind_at": {"$lte": now}}, limit=limit)
