"""Digitisation's collection: one document record per dossier component."""

from __future__ import annotations

from datetime import datetime

from motcua_contracts import ComponentDigitised

from services.runtime import Runtime, Tx

DOCUMENTS = "documents"


async def create_indexes(runtime: Runtime) -> None:
    await runtime.store.db[DOCUMENTS].create_index("dossier_code")


async def save_documents(tx: Tx, dossier_code: str, documents: list[ComponentDigitised], at: datetime) -> None:
    await tx.db[DOCUMENTS].insert_many(
        [{"_id": d.document_id, "dossier_code": dossier_code, **d.model_dump(), "digitised_at": at} for d in documents],
        session=tx.session,
    )
