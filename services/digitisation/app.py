"""Digitisation (số hóa): gives every received component an electronic copy."""

from motcua_contracts import DossierDigitised, DossierReceived

from services.runtime import Service, Tx, utcnow

from . import domain, store
from .settings import settings


async def on_dossier_received(event: DossierReceived, tx: Tx) -> None:
    documents = domain.digitise(event.dossier_code, event.components)
    now = utcnow()
    store.save_documents(tx, event.dossier_code, documents, now)
    tx.emit(DossierDigitised(dossier_code=event.dossier_code, components=documents, digitised_at=now))


service = Service(
    "digitisation",
    settings,
    handlers={DossierReceived: on_dossier_received},
    on_start=store.create_indexes,
)
