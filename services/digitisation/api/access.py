"""Who may read a dossier's files: the officials routing put on the dossier (each step's holder
and whoever assigned it, with their access token), and its owner (with the receipt's access
token, which also opens the owner's documents of other dossiers: their e-data store). Anyone
else is told the dossier or the document does not exist."""

from __future__ import annotations

from typing import Any

from fastapi import HTTPException, Request

from services.runtime import Runtime
from services.runtime.auth import verified_claims
from services.runtime.receipts import opens

from .. import store
from ..context import Digitisation
from ..domain import DossierFiles, StoredDocument


def not_found(what: str) -> HTTPException:
    return HTTPException(
        404, f"no {what} for you: an official of the dossier's route, or its owner with the receipt's token"
    )


async def official_of(request: Request, digitisation: Digitisation) -> str:
    """The official a valid access token names (401 if not valid, 503 if the provider is unreachable)."""
    return str((await verified_claims(request, digitisation.verifier))["sub"])


def is_official(request: Request) -> bool:
    return "authorization" in request.headers


async def dossier_for(
    request: Request, runtime: Runtime[Any], digitisation: Digitisation, code: str, token: str
) -> DossierFiles:
    """The dossier for an official of its route (bearer token) or its owner (receipt token)."""
    if is_official(request):
        official = await official_of(request, digitisation)
        dossier = await store.find_dossier(runtime, code)
        if dossier is None or not await store.may_read(runtime, official, code):
            raise not_found(f"dossier {code!r}")
        return dossier
    # the token is checked before the store is read: a wrong one learns nothing, not even by timing
    dossier = await store.find_dossier(runtime, code) if opens(digitisation.receipt_key, code, token) else None
    if dossier is None:
        raise not_found(f"dossier {code!r}")
    return dossier


async def document_for(
    request: Request,
    runtime: Runtime[Any],
    digitisation: Digitisation,
    document_id: str,
    token: str,
    dossier_code: str | None,
) -> StoredDocument:
    """The document for an official of its dossier's route, or its owner: the receipt token of
    its dossier, or of another dossier of the same owner (named as `dossier_code`)."""
    document = await store.find_document(runtime, document_id)
    code = dossier_code or (document.dossier_code if document else "")
    try:
        dossier = await dossier_for(request, runtime, digitisation, code, token)
    except HTTPException:
        raise not_found(f"document {document_id!r}") from None
    if document is None:
        raise not_found(f"document {document_id!r}")
    same_owner = document.owner is not None and document.owner == dossier.owner and not is_official(request)
    if document.dossier_code != dossier.code and not same_owner:
        raise not_found(f"document {document_id!r}")
    return document
