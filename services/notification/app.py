"""Notification (thông báo): tells the citizen when their result is ready.

Events may arrive in any order: a message whose recipient is not known yet waits
for the dossier's `dossier.received`. Each (dossier, template) is sent once.
"""

from typing import Any

from motcua_contracts import CitizenNotified, DossierCompleted, DossierReceived

from services.runtime import Service, Tx, utcnow

from . import domain, store
from .settings import settings


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
            "text": domain.render(template, **message["values"]),
        }
        tx.emit(
            CitizenNotified(
                dossier_code=dossier["_id"],
                channel="sms",
                template=template,
                recipient=domain.mask_phone(contact["phone"]),
                sent_at=sent_at,
            )
        )


async def on_received(event: DossierReceived, tx: Tx) -> None:
    dossier = await store.get(tx, event.dossier_code)
    dossier["contact"] = {"name": event.applicant.name, "phone": event.applicant.phone, "email": event.applicant.email}
    send_waiting(tx, dossier)
    store.put(tx, dossier)


async def on_completed(event: DossierCompleted, tx: Tx) -> None:
    dossier = await store.get(tx, event.dossier_code)
    values = {"dossier_code": event.dossier_code, "result_code": event.result_code}
    dossier["messages"].setdefault("result_ready", {"values": values, "sent_at": None})
    send_waiting(tx, dossier)
    store.put(tx, dossier)


service = Service(
    "notification",
    settings,
    handlers={DossierReceived: on_received, DossierCompleted: on_completed},
    on_start=store.create_indexes,
    state=store.DOSSIERS,
)
