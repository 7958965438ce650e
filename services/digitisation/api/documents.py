"""Reading the store: a document's file, a dossier's components and their copies (which were
digitised, how, by whom, when), the owner's e-data store, and officials' search in the text
recognised from scans, without diacritics."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import StreamingResponse

from services.runtime import RuntimeDep
from services.runtime.receipts import ReceiptToken
from services.runtime.web import answers

from .. import store
from ..context import DigitisationDep
from ..domain import DossierFiles, StoredDocument
from ..ocr import words
from .access import document_for, dossier_for, official_of

router = APIRouter(tags=["documents"], responses=answers(401, 404, 503))
SEARCH_LIMIT = 50
DOSSIER_CODE = r"^[A-Za-z0-9.\-]{1,60}$"


def shown(document: StoredDocument) -> dict[str, Any]:
    """A document as the APIs show it (its text only through search)."""
    fields = document.model_dump(exclude={"text", "words", "owner"}, by_alias=False)
    return fields | {"download": f"/documents/{document.id}"}


def component_shown(dossier: DossierFiles, documents: dict[str, StoredDocument]) -> list[dict[str, Any]]:
    listed = []
    for component in dossier.components:
        document = documents.get(component.document_id or "")
        listed.append(
            {
                "index": component.index,
                "name": component.name,
                "form": component.form,
                "digitised": component.digitised,
                "source": component.source,
                "digitised_at": component.digitised_at,
                "digitised_by": component.digitised_by,
                "signed_by": document.signer.name if document and document.signer else None,
                "pages": component.pages,
                "problem": component.problem,
                "document": shown(document) if document else None,
            }
        )
    return listed


@router.get("/documents/{document_id}", response_class=StreamingResponse, responses={200: {"content": {"*/*": {}}}})
async def download(
    document_id: str,
    request: Request,
    runtime: RuntimeDep,
    digitisation: DigitisationDep,
    token: ReceiptToken = "",
    dossier: str | None = Query(
        default=None, pattern=DOSSIER_CODE, description="Owner: the dossier whose token this is."
    ),
) -> StreamingResponse:
    """The document's file, for an official of its dossier's route or its owner (the receipt's
    `token`; for a document of another of the owner's dossiers, name the token's `dossier`)."""
    document = await document_for(request, runtime, digitisation, document_id, token, dossier)
    return StreamingResponse(
        runtime.files.stream(document.sha256),
        media_type=document.media_type,
        headers={
            "Content-Disposition": f'inline; filename="{document.id}{_extension(document.media_type)}"',
            "Content-Length": str(document.size),
            "ETag": f'"{document.sha256}"',
        },
    )


@router.get("/dossiers/{code}/documents")
async def dossier_documents(
    code: str, request: Request, runtime: RuntimeDep, digitisation: DigitisationDep, token: ReceiptToken = ""
) -> dict[str, Any]:
    """The dossier's components and their electronic copies: uploaded, scanned (by whom, when) or
    reused; and its archived results."""
    dossier = await dossier_for(request, runtime, digitisation, code, token)
    documents = {d.id: d for d in await store.documents_of(runtime, code)}
    return {
        "dossier_code": code,
        "digitised": dossier.digitised_at is not None,
        "digitised_at": dossier.digitised_at,
        "components": component_shown(dossier, documents),
        "results": [shown(d) for d in documents.values() if d.source == "result"],
    }


@router.get("/e-data-store")
async def e_data_store(
    request: Request,
    runtime: RuntimeDep,
    digitisation: DigitisationDep,
    dossier: str = Query(pattern=DOSSIER_CODE, description="One of the owner's dossiers."),
    token: ReceiptToken = "",
) -> dict[str, Any]:
    """The owner's e-data store (kho quản lý dữ liệu điện tử): their results and the copies of
    their dossiers' components, newest first, for the holder of one of their receipts' tokens."""
    if "authorization" in request.headers:
        raise HTTPException(404, "the e-data store is opened by its owner, with a receipt's token")
    opened = await dossier_for(request, runtime, digitisation, dossier, token)
    held = await store.owned_by(runtime, opened.owner) if opened.owner else await store.documents_of(runtime, dossier)
    return {
        "documents": [
            shown(d) | {"download": f"/documents/{d.id}?dossier={dossier}"} for d in held if d.source != "reused"
        ]
    }


@router.get("/search", responses=answers(422))
async def search(
    request: Request,
    runtime: RuntimeDep,
    digitisation: DigitisationDep,
    q: str = Query(min_length=1, max_length=200, description="Words to find, with or without diacritics."),
) -> dict[str, Any]:
    """Documents of the dossiers the official may read whose recognised text holds every word of
    `q`, without regard to diacritics or case; newest first."""
    official = await official_of(request, digitisation)
    wanted = words(q)
    if not wanted:
        raise HTTPException(422, "the query has no word to look for")
    dossiers = await store.readable_by(runtime, official)
    found = await store.search(runtime, wanted, dossiers, SEARCH_LIMIT) if dossiers else []
    return {"query": wanted, "documents": [shown(d) | {"excerpt": _excerpt(d.text or "", wanted)} for d in found]}


def _extension(media_type: str) -> str:
    return {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}.get(media_type, "")


def _excerpt(text: str, wanted: list[str], width: int = 160) -> str:
    """The line of `text` holding most of the wanted words."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return ""
    best = max(lines, key=lambda line: len(set(words(line)) & set(wanted)))
    return best[:width]
