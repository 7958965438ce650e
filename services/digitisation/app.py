"""Digitisation (số hóa): gives every received component an electronic copy."""

from __future__ import annotations

from motcua_contracts import DossierDigitised, DossierReceived

from services.runtime import Service, Tx, utcnow

from . import domain, store
from .settings import DigitisationSettings


async def on_dossier_received(event: DossierReceived, tx: Tx, context: None) -> None:
    documents = domain.digitise(event.dossier_code, event.components)
    now = utcnow()
    store.save_documents(tx, event.dossier_code, documents, now)
    tx.emit(DossierDigitised(dossier_code=event.dossier_code, components=documents, digitised_at=now))


def create(settings: DigitisationSettings | None = None) -> Service[None]:
    return Service(
        "digitisation",
        settings or DigitisationSettings(),
        handlers={DossierReceived: on_dossier_received},
        context=store.create_indexes,
    )
