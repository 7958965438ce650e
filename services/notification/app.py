"""Notification (thông báo): tells citizens of every milestone of their dossier, alerts officials
of dossiers due soon or overdue, asks citizens how it went and takes their complaints.

Handlers only decide what to tell whom: each milestone becomes messages in the `messages`
collection, in the same transaction as the event's inbox entry, one per (recipient, milestone,
channel); the sender (sender.py) sends them. Events may arrive in any order: a citizen's
milestone whose contact is not known yet waits for the dossier's `dossier.received`.
"""

from __future__ import annotations

from typing import Any

from motcua_contracts import (
    DossierApologised,
    DossierAssigned,
    DossierCompleted,
    DossierDueSoon,
    DossierOverdue,
    DossierReceived,
    DossierRefused,
    DossierStepStarted,
    DossierSupplementRequested,
    DossierWithdrawalDeclined,
    DossierWithdrawn,
    OfficialUpdated,
    PaymentExpired,
    PaymentRefunded,
    PaymentRequested,
)

from services.runtime import Service, Tx, current_trace_headers, utcnow
from services.runtime.clock import local
from services.runtime.receipts import SURVEY, link_token, receipt_token

from . import citizens, officials, store
from .api import complaints, deliveries, messages, preferences, surveys
from .context import Notifier, start
from .jobs import notification_jobs
from .sender import send_messages
from .settings import NotificationSettings


def day(moment: Any) -> str:
    return f"{local(moment):%d/%m/%Y}"


async def on_received(event: DossierReceived, tx: Tx, notifier: Notifier) -> None:
    code = event.dossier_code
    dossier = await store.dossier(tx, code)
    applicant = notifier.personal.open(event.applicant, code)
    dossier["contact"] = {"name": applicant.name, "phone": applicant.phone, "email": applicant.email}
    dossier["trace"] = current_trace_headers()  # this handler's span, in the trace intake started
    dossier["facts"] |= {
        "commune": event.commune_code,
        "unit": dossier["facts"].get("unit") or event.commune_code,
        "procedure_code": event.procedure_code,
        "procedure_name": event.procedure_name,
        "field": event.field,
    }
    if applicant.notify_by:
        await citizens.choose(tx, notifier, applicant.phone, applicant.notify_by)
    citizens.milestone(
        dossier,
        "received",
        event.commune_code,
        dossier_code=code,
        procedure_name=event.procedure_name,
        received_date=day(event.received_at),
        due_date=day(event.due_at),
        tracking_url=f"{notifier.settings.tracking_url}/track?code={code}",
    )
    await citizens.queue(tx, notifier, dossier)


async def on_step_started(event: DossierStepStarted, tx: Tx, notifier: Notifier) -> None:
    await facts(tx, event.dossier_code, unit=event.unit, holder=event.holder)


async def on_assigned(event: DossierAssigned, tx: Tx, notifier: Notifier) -> None:
    await facts(tx, event.dossier_code, unit=event.unit, holder=event.holder)


async def facts(tx: Tx, code: str, **known: Any) -> None:
    """Who holds the dossier now: complaints go to its unit, alerts to its holder."""
    dossier = await store.dossier(tx, code)
    dossier["facts"] |= known
    store.put_dossier(tx, dossier)


async def on_completed(event: DossierCompleted, tx: Tx, notifier: Notifier) -> None:
    code, settings = event.dossier_code, notifier.settings
    key = settings.receipt_key()
    dossier = await store.dossier(tx, code)
    unit = notifier.unit_name(dossier["facts"].get("commune"))  # results are returned where received
    how = (
        f"Ông/Bà nhận kết quả tại Bộ phận Một cửa {unit} (mang theo Giấy tiếp nhận hồ sơ và hẹn trả kết quả), "
        "hoặc tải bản điện tử có chữ ký số theo đường dẫn dưới đây."
    )
    citizens.milestone(
        dossier,
        "result_ready",
        tx_commune(tx),
        dossier_code=code,
        result_code=event.result_code,
        how_to_collect=how,
        download_url=f"{settings.signing_url}/results/{event.result_code}?token={receipt_token(key, code)}",
    )
    citizens.milestone(
        dossier,
        "survey",
        tx_commune(tx),
        dossier_code=code,
        survey_url=f"{settings.public_url}/surveys/{code}?token={link_token(key, SURVEY, code)}",
    )
    await citizens.queue(tx, notifier, dossier)
    await officials.resolved(tx, code)


async def on_supplement_requested(event: DossierSupplementRequested, tx: Tx, notifier: Notifier) -> None:
    # keyed by the request's time: a second request later is a second message
    await citizens.tell(
        tx,
        notifier,
        event.dossier_code,
        f"supplement_requested@{int(event.requested_at.timestamp())}",
        documents=list(event.documents),
        reason=event.reason,
        tracking_url=f"{notifier.settings.tracking_url}/track?code={event.dossier_code}",
    )


async def on_refused(event: DossierRefused, tx: Tx, notifier: Notifier) -> None:
    await citizens.tell(tx, notifier, event.dossier_code, "refused", reason=event.reason)
    await officials.resolved(tx, event.dossier_code)


async def on_apologised(event: DossierApologised, tx: Tx, notifier: Notifier) -> None:
    await citizens.tell(
        tx, notifier, event.dossier_code, "apologised", reason=event.reason, new_due_date=day(event.new_due_at)
    )


async def on_withdrawn(event: DossierWithdrawn, tx: Tx, notifier: Notifier) -> None:
    await citizens.tell(tx, notifier, event.dossier_code, "withdrawn")
    await officials.resolved(tx, event.dossier_code)


async def on_withdrawal_declined(event: DossierWithdrawalDeclined, tx: Tx, notifier: Notifier) -> None:
    reason = "Hồ sơ đã được giải quyết" if event.status in ("signing", "completed", "approved") else event.reason
    await citizens.tell(tx, notifier, event.dossier_code, "withdrawal_declined", reason=reason)


async def on_payment_requested(event: PaymentRequested, tx: Tx, notifier: Notifier) -> None:
    # payment asks once per dossier; a link with no deadline or past it is not worth sending
    if event.pay_link is None or event.expires_at is None or event.expires_at <= utcnow():
        return
    await citizens.tell(
        tx,
        notifier,
        event.dossier_code,
        "payment_requested",
        amount=citizens.vnd(event.amount_vnd),
        deadline=f"{local(event.expires_at):%H:%M %d/%m/%Y}",
        pay_url=notifier.personal.open_pay_link(event.pay_link, event.dossier_code),
    )


async def on_payment_expired(event: PaymentExpired, tx: Tx, notifier: Notifier) -> None:
    await citizens.tell(tx, notifier, event.dossier_code, "payment_expired", amount=citizens.vnd(event.amount_vnd))


async def on_payment_refunded(event: PaymentRefunded, tx: Tx, notifier: Notifier) -> None:
    # keyed by the transaction refunded: a fee paid twice, then refused, is refunded twice
    await citizens.tell(
        tx,
        notifier,
        event.dossier_code,
        f"payment_refunded@{citizens.key_part(event.gateway_transaction)}",
        amount=citizens.vnd(event.amount_vnd),
        reason=citizens.refund_reason(event.reason),
    )


async def on_due_soon(event: DossierDueSoon, tx: Tx, notifier: Notifier) -> None:
    await officials.alert(tx, notifier, event.dossier_code, "official_due_soon", event.unit, event.holder, event.due_at)


async def on_overdue(event: DossierOverdue, tx: Tx, notifier: Notifier) -> None:
    milestone = "official_overdue" + ("@dossier" if event.scope == "dossier" else f"@step-{event.step}")
    await officials.alert(tx, notifier, event.dossier_code, milestone, event.unit, event.holder, event.due_at)
    if event.scope == "dossier":
        await officials.late(tx, notifier, event)


async def on_official_updated(event: OfficialUpdated, tx: Tx, notifier: Notifier) -> None:
    await officials.remember(tx, notifier, event)


def tx_commune(tx: Tx) -> str:
    assert tx.cause is not None
    return tx.cause.commune


def create(settings: NotificationSettings | None = None) -> Service[Notifier]:
    return Service(
        "notification",
        settings or NotificationSettings(),
        handlers={
            DossierReceived: on_received,
            DossierStepStarted: on_step_started,
            DossierAssigned: on_assigned,
            DossierCompleted: on_completed,
            DossierSupplementRequested: on_supplement_requested,
            DossierRefused: on_refused,
            DossierApologised: on_apologised,
            DossierWithdrawn: on_withdrawn,
            DossierWithdrawalDeclined: on_withdrawal_declined,
            DossierDueSoon: on_due_soon,
            DossierOverdue: on_overdue,
            OfficialUpdated: on_official_updated,
            PaymentRequested: on_payment_requested,
            PaymentExpired: on_payment_expired,
            PaymentRefunded: on_payment_refunded,
        },
        routers=(deliveries.router, surveys.router, complaints.router, preferences.router, messages.router),
        context=start,
        background=(send_messages, notification_jobs),
        state=store.DOSSIERS,
    )
