"""Notification (thông báo): tells the citizen when their result is ready.

A message waits until the citizen's contact is known, so events may arrive in
any order; each (dossier, template) is sent once.
"""

from motcua_contracts import CitizenNotified, DossierCompleted, DossierReceived

from services.runtime import Service, Tx, utcnow

from . import domain, store
from .settings import settings


async def send_due_messages(tx: Tx, dossier_code: str) -> None:
    contact = await store.contact(tx, dossier_code)
    if contact is None:
        return
    for message in await store.unsent(tx, dossier_code):
        sent_at = utcnow()
        text = domain.render(message["template"], **message["values"])
        await store.mark_sent(
            tx, message["_id"], {"sent_at": sent_at, "text": text, "to": contact["phone"], "channel": "sms"}
        )
        tx.emit(
            CitizenNotified(
                dossier_code=dossier_code,
                channel="sms",
                template=message["template"],
                recipient=domain.mask_phone(contact["phone"]),
                sent_at=sent_at,
            )
        )


async def on_received(event: DossierReceived, tx: Tx) -> None:
    await store.save_contact(
        tx,
        event.dossier_code,
        {"name": event.applicant.name, "phone": event.applicant.phone, "email": event.applicant.email},
    )
    await send_due_messages(tx, event.dossier_code)


async def on_completed(event: DossierCompleted, tx: Tx) -> None:
    await store.queue_message(
        tx,
        {
            "_id": f"{event.dossier_code}:result_ready",
            "dossier_code": event.dossier_code,
            "template": "result_ready",
            "values": {"dossier_code": event.dossier_code, "result_code": event.result_code},
            "sent_at": None,
        },
    )
    await send_due_messages(tx, event.dossier_code)


service = Service(
    "notification",
    settings,
    handlers={DossierReceived: on_received, DossierCompleted: on_completed},
    on_start=store.create_indexes,
)
