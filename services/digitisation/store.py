"""Digitisation's collection: one document record per dossier component."""

from __future__ import annotations

from datetime import datetime

from motcua_contracts import ComponentDigitised

from services.runtime import Runtime, Tx

DOCUMENTS = "documents"


async def create_indexes(runtime: Runtime[None]) -> None:
    await runtime.documents.index(DOCUMENTS, [("dossier_code", 1)])


def save_documents(tx: Tx, dossier_code: str, documents: list[ComponentDigitised], at: datetime) -> None:
    for document in documents:
        tx.add(
            DOCUMENTS,
            {"_id": document.document_id, "dossier_code": dossier_code, **document.model_dump(), "digitised_at": at},
        )
