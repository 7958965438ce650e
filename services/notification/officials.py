"""Officials' alerts: the dossier's holder and its unit's leaders are told when it is due soon
or overdue; leaders get a daily digest of their unit's late dossiers. Who is who comes from
routing's roster (`official.updated`): e-mail when an official has an address, SMS as its
fallback (or alone)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from motcua_contracts import DossierOverdue, OfficialUpdated

from services.runtime import Tx, current_trace_headers, utcnow
from services.runtime.clock import local

from . import store
from .context import Notifier
from .messages import Message, message_id

Role = Literal["holder", "leader"]


async def remember(tx: Tx, notifier: Notifier, event: OfficialUpdated) -> None:
    """Keep the roster as routing last announced it (an older announcement changes nothing)."""
    official = event.dossier_code  # official.updated names the official there
    known = await tx.load(store.OFFICIALS, official)
    if known is not None and known["updated_at"] > event.updated_at:
        return
    contact = notifier.personal.open_official(event.contact, official).model_dump() if event.contact else None
    tx.save(
        store.OFFICIALS,
        {
            "_id": official,
            "unit": event.unit,
            "roles": list(event.roles),
            "active": event.active,
            "contact": contact,
            "updated_at": event.updated_at,
        },
    )


async def recipients(tx: Tx, unit: str, holder: str | None) -> list[tuple[dict[str, Any], Role]]:
    """The holder (when the dossier has one) and the unit's leaders, each once."""
    people: list[tuple[dict[str, Any], Role]] = []
    if holder and (record := await tx.load(store.OFFICIALS, holder)) is not None and record["active"]:
        people.append((record, "holder"))
    for record in await store.officials_of(tx, unit):
        if "leader" in record["roles"] and record["_id"] != holder:
            people.append((record, "leader"))
    return people


def chain(contact: dict[str, Any] | None) -> list[tuple[str, str]]:
    """The channels an official is reached on, with their address: e-mail, then SMS."""
    if not contact:
        return []
    found = [("email", contact.get("email")), ("sms", contact.get("phone"))]
    return [(channel, to) for channel, to in found if to]


async def tell(
    tx: Tx,
    notifier: Notifier,
    subject: str,
    key: str,
    commune: str,
    unit: str,
    holder: str | None,
    values: dict[str, Any],
) -> None:
    """Queue milestone `key` for the holder (if any) and the leaders of `unit`, once each."""
    trace = (await store.dossier(tx, subject)).get("trace") or current_trace_headers()
    for record, role in await recipients(tx, unit, holder):
        item = queue_for(notifier, subject, key, commune, record, role, values, trace)
        if item is not None and await tx.load(store.MESSAGES, item.id) is None:
            store.put_message(tx, item)


def queue_for(
    notifier: Notifier,
    subject: str,
    key: str,
    commune: str,
    record: dict[str, Any],
    role: Role,
    values: dict[str, Any],
    trace: dict[str, str],
) -> Message | None:
    """One message to one official (None when routing gave no way to reach them)."""
    reach = chain(record.get("contact"))
    if not reach:
        return None
    (first, to), rest = reach[0], reach[1:]
    now = utcnow()
    return Message(
        _id=message_id(subject, key, first, record["_id"]),
        subject=subject,
        milestone=key,
        channel=first,  # type: ignore[arg-type]
        audience="official",
        to=to,
        addresses=dict(reach),
        values={"name": record["contact"]["name"], **values},
        commune=commune,
        official=record["_id"],
        role=role,
        fallback=[channel for channel, _ in rest],  # type: ignore[misc]
        quiet_hours=notifier.settings.quiet_hours,  # an SMS waits for the morning, as a citizen's does
        next_at=now,
        created_at=now,
        trace=trace,
    )


async def alert(
    tx: Tx, notifier: Notifier, code: str, key: str, unit: str, holder: str | None, due_at: datetime
) -> None:
    """Tell the holder and the unit's leaders that dossier `code` is due soon or overdue."""
    assert tx.cause is not None
    dossier = await store.dossier(tx, code)
    values = {
        "dossier_code": code,
        "procedure_name": dossier["facts"].get("procedure_name", ""),
        "due_date": f"{local(due_at):%H:%M %d/%m/%Y}",
        "unit_name": notifier.unit_name(unit),
        "workspace_url": notifier.settings.workspace_url,
    }
    await tell(tx, notifier, code, key, tx.cause.commune, unit, holder, values)


async def late(tx: Tx, notifier: Notifier, event: DossierOverdue) -> None:
    """The dossier is past its due date: it is in its unit's digest until it is settled."""
    assert tx.cause is not None
    dossier = await store.dossier(tx, event.dossier_code)
    tx.save(
        store.LATE,
        {
            "_id": event.dossier_code,
            "unit": event.unit,
            "due_at": event.due_at,
            "procedure_name": dossier["facts"].get("procedure_name", ""),
            "commune": tx.cause.commune,
            "settled": False,
        },
    )


async def resolved(tx: Tx, code: str) -> None:
    """A settled dossier leaves its unit's digest."""
    if (record := await tx.load(store.LATE, code)) is not None and not record["settled"]:
        tx.save(store.LATE, record | {"settled": True})
