"""Notification (thông báo): tells the citizen when their result is ready, when more
documents are needed, when the dossier is refused, when the unit apologises, what
became of their request to withdraw it, and about its fee: what to pay and by when (with
the payment link), that the link expired, that money was refunded.

Events may arrive in any order: a message whose recipient is not known yet waits
for the dossier's `dossier.received`. Each (dossier, template) is sent once.
"""

from __future__ import annotations

from typing import Any, cast

from motcua_contracts import (
    CitizenNotified,
    DossierApologised,
    DossierCompleted,
    DossierReceived,
    DossierRefused,
    DossierSupplementRequested,
    DossierWithdrawalDeclined,
    DossierWithdrawn,
    Event,
    PaymentExpired,
    PaymentRefunded,
    PaymentRequested,
)

from services.runtime import Runtime, Service, Tx, utcnow
from services.runtime.clock import local
from services.runtime.personal import PersonalData

from . import domain, store
from .settings import NotificationSettings


def send_waiting(tx: Tx, dossier: dict[str, Any]) -> None:
    """Send every unsent message of the dossier on the sandbox SMS channel, once its contact is known."""
    contact = dossier["contact"]
    if contact is None:
        return
    for template, message in dossier["messages"].items():
        if message["sent_at"] is not None:
            continue
        sent_at = utcnow()
        message |= {
            "sent_at": sent_at,
            "channel": "sms",
            "to": contact["phone"],
            "text": domain.render(template.split("@")[0], **message["values"]),
        }
        tx.emit(
            CitizenNotified(
                dossier_code=dossier["_id"],
                channel="sms",
                template=template.split("@")[0],
                recipient=domain.mask_phone(contact["phone"]),
                sent_at=sent_at,
            )
        )


async def on_received(event: DossierReceived, tx: Tx, personal: PersonalData) -> None:
    dossier = await store.get(tx, event.dossier_code)
    applicant = personal.open(event.applicant, event.dossier_code)
    dossier["contact"] = {"name": applicant.name, "phone": applicant.phone, "email": applicant.email}
    send_waiting(tx, dossier)
    store.put(tx, dossier)


async def on_completed(event: DossierCompleted, tx: Tx, personal: PersonalData) -> None:
    await tell(tx, event, "result_ready", result_code=event.result_code)


async def on_supplement_requested(event: DossierSupplementRequested, tx: Tx, personal: PersonalData) -> None:
    # keyed by the request's time: a second request later is a second message
    await tell(tx, event, f"supplement_requested@{int(event.requested_at.timestamp())}")


async def on_refused(event: DossierRefused, tx: Tx, personal: PersonalData) -> None:
    await tell(tx, event, "refused")


async def on_apologised(event: DossierApologised, tx: Tx, personal: PersonalData) -> None:
    await tell(tx, event, "apologised", new_due_date=f"{local(event.new_due_at):%d/%m/%Y}")


async def on_withdrawn(event: DossierWithdrawn, tx: Tx, personal: PersonalData) -> None:
    await tell(tx, event, "withdrawn")


async def on_withdrawal_declined(event: DossierWithdrawalDeclined, tx: Tx, personal: PersonalData) -> None:
    await tell(tx, event, "withdrawal_declined")


async def on_payment_requested(event: PaymentRequested, tx: Tx, personal: PersonalData) -> None:
    # payment asks once per dossier; a link with no deadline or past it is not worth sending
    if event.pay_link is None or event.expires_at is None or event.expires_at <= utcnow():
        return
    await tell(
        tx,
        event,
        "payment_requested",
        amount=domain.vnd(event.amount_vnd),
        deadline=f"{local(event.expires_at):%d/%m/%Y %H:%M}",
        pay_url=personal.open_pay_link(event.pay_link, event.dossier_code),
    )


async def on_payment_expired(event: PaymentExpired, tx: Tx, personal: PersonalData) -> None:
    await tell(tx, event, "payment_expired", amount=domain.vnd(event.amount_vnd))


async def on_payment_refunded(event: PaymentRefunded, tx: Tx, personal: PersonalData) -> None:
    # keyed by the transaction refunded: a fee paid twice, then refused, is refunded twice
    await tell(
        tx,
        event,
        f"payment_refunded@{domain.key_part(event.gateway_transaction)}",
        amount=domain.vnd(event.amount_vnd),
        reason=domain.refund_reason(event.reason),
    )


async def tell(tx: Tx, event: Event, message: str, **values: str) -> None:
    """Queue `message` (a template, optionally `@` a key) for the dossier's owner, once."""
    dossier = await store.get(tx, event.dossier_code)
    dossier["messages"].setdefault(message, {"values": {"dossier_code": event.dossier_code, **values}, "sent_at": None})
    send_waiting(tx, dossier)
    store.put(tx, dossier)


async def start(runtime: Runtime[PersonalData]) -> PersonalData:
    """Create indexes; the key that opens applicants' contact details."""
    await store.create_indexes(runtime)
    return cast(NotificationSettings, runtime.settings).personal_data()


def create(settings: NotificationSettings | None = None) -> Service[PersonalData]:
    return Service(
        "notification",
        settings or NotificationSettings(),
        handlers={
            DossierReceived: on_received,
            DossierCompleted: on_completed,
            DossierSupplementRequested: on_supplement_requested,
            DossierRefused: on_refused,
            DossierApologised: on_apologised,
            DossierWithdrawn: on_withdrawn,
            DossierWithdrawalDeclined: on_withdrawal_declined,
            PaymentRequested: on_payment_requested,
            PaymentExpired: on_payment_expired,
            PaymentRefunded: on_payment_refunded,
        },
        context=start,
        state=store.DOSSIERS,
    )
