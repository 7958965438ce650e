"""Digitisation's collections (the files themselves are in the file store, by SHA-256):

- `uploads`: files uploaded for a dossier not yet received, removed after the retention days;
- `documents`: the documents of the store, one per component copy and per result, with what
  they are, whose, where from, how long they are kept and their recognised text;
- `dossiers`: each dossier's components and owner (`DossierFiles`);
- `access`: who may read each dossier's files (`Access`: the officials routing put on it);
- `scans`: copies assembled from an officer's scans, waiting for the officer's signature.
"""

from __future__ import annotations

from typing import Any

from services.runtime import Runtime, Tx

from .domain import Access, DossierFiles, StoredDocument

UPLOADS = "uploads"
DOCUMENTS = "documents"
DOSSIERS = "dossiers"
ACCESS = "access"
SCANS = "scans"


async def create_indexes(runtime: Runtime[Any]) -> None:
    documents = runtime.documents
    await documents.expire(UPLOADS)
    await documents.expire(SCANS)
    await documents.index(DOCUMENTS, [("dossier_code", 1)])
    await documents.index(DOCUMENTS, [("owner", 1), ("kind", 1)])
    await documents.index(DOCUMENTS, [("recognition", 1)])
    await documents.index(DOCUMENTS, [("words", 1)])
    await documents.index(ACCESS, [("officials", 1)])


async def load_dossier(tx: Tx, code: str) -> DossierFiles | None:
    found = await tx.load(DOSSIERS, code)
    return None if found is None else DossierFiles.model_validate(found)


def save_dossier(tx: Tx, dossier: DossierFiles) -> None:
    tx.save(DOSSIERS, dossier.model_dump(by_alias=True))


async def find_dossier(runtime: Runtime[Any], code: str) -> DossierFiles | None:
    found = await runtime.documents.get(DOSSIERS, code)
    return None if found is None else DossierFiles.model_validate(found)


async def load_document(tx: Tx, document_id: str) -> StoredDocument | None:
    found = await tx.load(DOCUMENTS, document_id)
    return None if found is None else StoredDocument.model_validate(found)


def save_document(tx: Tx, document: StoredDocument) -> None:
    tx.save(DOCUMENTS, document.document())


async def find_document(runtime: Runtime[Any], document_id: str) -> StoredDocument | None:
    found = await runtime.documents.get(DOCUMENTS, document_id)
    return None if found is None else StoredDocument.model_validate(found)


async def documents_of(runtime: Runtime[Any], dossier_code: str) -> list[StoredDocument]:
    found = await runtime.documents.find(DOCUMENTS, {"dossier_code": dossier_code}, order=[("_id", 1)])
    return [StoredDocument.model_validate(d) for d in found]


async def owned_by(runtime: Runtime[Any], owner: str) -> list[StoredDocument]:
    """The owner's e-data store: their results and the documents of their dossiers."""
    found = await runtime.documents.find(DOCUMENTS, {"owner": owner}, order=[("stored_at", -1)])
    return [StoredDocument.model_validate(d) for d in found]


async def awaiting_recognition(runtime: Runtime[Any], limit: int) -> list[StoredDocument]:
    found = await runtime.documents.find(DOCUMENTS, {"recognition": "pending"}, order=[("stored_at", 1)], limit=limit)
    return [StoredDocument.model_validate(d) for d in found]


async def search(runtime: Runtime[Any], words: list[str], dossiers: list[str], limit: int) -> list[StoredDocument]:
    """Documents of `dossiers` whose recognised text has every one of `words`."""
    where = {"words": {"$all": words}, "dossier_code": {"$in": dossiers}}
    found = await runtime.documents.find(DOCUMENTS, where, order=[("stored_at", -1)], limit=limit)
    return [StoredDocument.model_validate(d) for d in found]


async def readable_by(runtime: Runtime[Any], official: str) -> list[str]:
    """The codes of the dossiers `official` may read."""
    return [d["_id"] for d in await runtime.documents.find(ACCESS, {"officials": official})]


async def load_access(tx: Tx, code: str) -> Access:
    found = await tx.load(ACCESS, code)
    return Access(_id=code) if found is None else Access.model_validate(found)


def save_access(tx: Tx, access: Access) -> None:
    tx.save(ACCESS, access.model_dump(by_alias=True))


async def may_read(runtime: Runtime[Any], official: str, code: str) -> bool:
    """Whether routing put `official` on dossier `code`."""
    found = await runtime.documents.get(ACCESS, code)
    return found is not None and official in found.get("officials", [])


async def find_upload(runtime: Runtime[Any], upload_id: str) -> dict[str, Any] | None:
    return await runtime.documents.get(UPLOADS, upload_id)


async def find_scan(runtime: Runtime[Any], scan_id: str) -> dict[str, Any] | None:
    return await runtime.documents.get(SCANS, scan_id)
