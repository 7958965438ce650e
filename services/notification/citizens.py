"""What the citizen is told, on which channels: milestones become messages.

A dossier's milestones wait on its record until the citizen's contact is known (from
`dossier.received`); each then becomes one message per channel chain:

- the citizen's own choice (`notify_by`, at submission or on the preferences page): the first
  channel, the next ones as its fallbacks, in order;
- otherwise the platform's: a ZNS message falling back to SMS, and an e-mail too when the
  citizen gave an address.

Integrators' webhook subscriptions get each milestone too (without personal data).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from typing import Any

from services.runtime import Tx, current_trace_headers, utcnow

from . import store
from .context import Notifier
from .messages import Message, message_id

DEFAULT_CHAIN = ("zns", "sms")

# Payment's refund reasons, as the citizen reads them; any other reason is shown as given.
REFUND_REASONS = {
    "dossier withdrawn": "hồ sơ đã được rút",
    "dossier refused": "hồ sơ bị từ chối giải quyết",
    "paid twice": "phí, lệ phí đã được nộp hai lần",
}


def milestone(dossier: dict[str, Any], key: str, commune: str, **values: Any) -> None:
    """Note a milestone to tell (once: a milestone noted before keeps its values)."""
    dossier["milestones"].setdefault(key, {"values": values, "commune": commune, "queued": False, "at": utcnow()})


async def tell(tx: Tx, notifier: Notifier, code: str, key: str, **values: Any) -> None:
    """Tell the dossier's owner of milestone `key` (a template, optionally `@` what makes it distinct)."""
    assert tx.cause is not None
    await tell_about(tx, notifier, code, key, tx.cause.commune, **values)


async def tell_about(tx: Tx, notifier: Notifier, code: str, key: str, commune: str, **values: Any) -> None:
    """`tell`, outside an event's handler (a page the citizen or an official used)."""
    dossier = await store.dossier(tx, code)
    milestone(dossier, key, commune, dossier_code=code, **values)
    await queue(tx, notifier, dossier)


async def queue(tx: Tx, notifier: Notifier, dossier: dict[str, Any]) -> None:
    """Turn the dossier's waiting milestones into messages, once its contact is known."""
    store.put_dossier(tx, dossier)
    contact = dossier["contact"]
    if contact is None:
        return
    chosen = await preferences(tx, notifier, contact["phone"])
    chains = routes(contact, chosen.get("notify_by"))
    quiet = chosen.get("quiet_hours", notifier.settings.quiet_hours) or None
    now = utcnow()
    trace = dossier.get("trace") or current_trace_headers()
    for key, entry in dossier["milestones"].items():
        if entry["queued"]:
            continue
        entry["queued"] = True
        values = {"name": contact["name"], **entry["values"]}
        for chain in chains:
            first, *rest = chain
            addresses = {channel: address(contact, channel) for channel in chain}
            item = Message(
                _id=message_id(dossier["_id"], key, first),
                subject=dossier["_id"],
                milestone=key,
                channel=first,
                audience="citizen",
                to=addresses[first],
                addresses=addresses,
                values=values,
                commune=entry["commune"],
                fallback=rest,
                quiet_hours=quiet,
                next_at=now,
                created_at=now,
                trace=trace,
            )
            await add(tx, item)
        await push(tx, notifier, dossier["_id"], key, entry, trace)


async def add(tx: Tx, item: Message) -> None:
    """Queue `item` unless a message of that id exists: each is sent once."""
    if await tx.load(store.MESSAGES, item.id) is None:
        store.put_message(tx, item)


async def push(tx: Tx, notifier: Notifier, code: str, key: str, entry: dict[str, Any], trace: dict[str, str]) -> None:
    """The milestone for each integrator subscribed to it: facts only, no personal data."""
    template = key.split("@")[0]
    for subscription in notifier.settings.subscriptions():
        if subscription.milestones and template not in subscription.milestones:
            continue
        now = utcnow()
        item_id = message_id(code, key, "webhook", subscription.name)
        body = {
            "id": item_id,
            "milestone": template,
            "dossier_code": code,
            "commune": entry["commune"],
            "occurred_at": entry["at"].isoformat(),
        }
        await add(
            tx,
            Message(
                _id=item_id,
                subject=code,
                milestone=key,
                channel="webhook",
                audience="integrator",
                to=subscription.name,
                values=body,
                commune=entry["commune"],
                next_at=now,
                created_at=now,
                trace=trace,
            ),
        )


def routes(contact: dict[str, Any], chosen: Sequence[str] | None) -> list[list[str]]:
    """The channel chains a citizen's message goes on (each chain: a channel and its fallbacks)."""
    reachable = [c for c in (chosen or ()) if c != "email" or contact.get("email")]
    if reachable:
        return [reachable]
    return [list(DEFAULT_CHAIN)] + ([["email"]] if contact.get("email") else [])


def address(contact: dict[str, Any], channel: str) -> str:
    return contact["email"] if channel == "email" else contact["phone"]


def contact_key(notifier: Notifier, phone: str) -> str:
    """A citizen's preferences are kept under a keyed hash of their phone number, not the number."""
    return hmac.new(notifier.settings.receipt_key(), b"contact:" + phone.encode(), hashlib.sha256).hexdigest()


async def preferences(tx: Tx, notifier: Notifier, phone: str) -> dict[str, Any]:
    return await tx.load(store.PREFERENCES, contact_key(notifier, phone)) or {}


async def choose(
    tx: Tx, notifier: Notifier, phone: str, notify_by: Sequence[str], quiet_hours: str | None = None
) -> None:
    """Keep the citizen's choice of channels (and quiet hours, when given) for their messages from now on."""
    chosen = await preferences(tx, notifier, phone)
    chosen |= {"_id": contact_key(notifier, phone), "notify_by": list(notify_by), "updated_at": utcnow()}
    if quiet_hours is not None:
        chosen["quiet_hours"] = quiet_hours
    tx.save(store.PREFERENCES, chosen)


def vnd(amount: int) -> str:
    """An amount as Vietnamese write it: 1250000 -> "1.250.000"."""
    return f"{amount:,}".replace(",", ".")


def refund_reason(reason: str) -> str:
    if reason.startswith("paid after cancellation"):
        return "phí, lệ phí nộp sau khi hồ sơ đã được rút hoặc bị từ chối"
    return REFUND_REASONS.get(reason, reason)


def key_part(text: str) -> str:
    """`text` as part of a message's key, a field name in the store: no dots or dollar signs."""
    return re.sub(r"[^0-9A-Za-z_-]", "_", text)
