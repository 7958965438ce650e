"""Signing's HTTP edge.

- Leaders: `GET /signatures/awaiting` (the results waiting for my signature) and
  `POST /signatures` (sign these results, one or many, as me).
- The holder of the dossier's receipt token, or an official: `GET /results/{code}` (the signed PDF).
- Anyone: `GET /verify/{code}` (the public page the QR code opens), `GET /api/verify/{code}`
  (what the platform signed under that code) and `POST /verification` (a PDF in the body: its
  signatures checked).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from services.runtime import RuntimeDep
from services.runtime.auth import verified_claims
from services.runtime.receipts import ReceiptToken, opens
from services.runtime.web import answers

from . import domain, signatures, store, verification
from .context import Signing, SigningDep

router = APIRouter(tags=["signing"])
PAGE = (Path(__file__).parent / "data" / "verify.html").read_text(encoding="utf-8")
RESULT_CODE = r"^[A-Za-z0-9.\-]{1,60}$"


class SigningRequest(BaseModel):
    results: list[Annotated[str, Field(pattern=RESULT_CODE)]] = Field(
        min_length=1, max_length=5000, examples=[["H40.101-261124-0001-KQ1"]]
    )


@router.get("/signatures/awaiting", responses=answers(401, 503))
async def awaiting(request: Request, runtime: RuntimeDep, signing: SigningDep, limit: int = 200) -> dict[str, Any]:
    """The results the signed-in leader approved and has not signed yet, oldest first."""
    official = await _official(request, signing)
    found = await store.awaiting(runtime, official, max(1, min(limit, signing.settings.max_batch)))
    return {"results": [_summary(record) for record in found]}


@router.post("/signatures", responses=answers(401, 403, 409, 422, 503))
async def sign(body: SigningRequest, request: Request, runtime: RuntimeDep, signing: SigningDep) -> dict[str, Any]:
    """Sign these results as the signed-in leader: each with their personal certificate, then the
    unit's seal, PAdES B-LT. Only results that leader approved; each result once (a retry answers
    `already_signed` for those done). 403 if the leader's certificate is revoked, 409 if the CA
    never issued them one, 503 if the CA or the timestamp authority cannot be reached (nothing
    signed then; ask again). Results that cannot be signed are listed in `refused` with the reason."""
    official = await _official(request, signing)
    if len(body.results) > signing.settings.max_batch:
        raise HTTPException(422, f"at most {signing.settings.max_batch} results in one request")
    try:
        outcome = await signatures.sign(runtime, official, body.results)
    except signatures.Refusal as refusal:
        raise HTTPException(refusal.status, str(refusal)) from None
    return {"signed": outcome.signed, "already_signed": outcome.already_signed, "refused": outcome.refused}


PDF_BODY = {"requestBody": {"content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


@router.post(
    "/scans/signature",
    responses=answers(400, 401, 403, 409, 413, 415, 503) | {200: {"content": {"application/pdf": {}}}},
    response_class=Response,
    openapi_extra=PDF_BODY,
)
async def sign_scan(request: Request, runtime: RuntimeDep, signing: SigningDep) -> Response:
    """The signed-in officer signs the electronic copy of a paper component they scanned (the PDF
    in the body): their personal certificate, PAdES B-LT, an invisible signature. Answers the
    signed PDF. 409 if the CA never issued them a certificate, 403 if it is revoked."""
    official = await _official(request, signing)
    document = await _pdf_body(request, signing)
    try:
        signed = await signatures.sign_scan(runtime, official, document)
    except signatures.Refusal as refusal:
        raise HTTPException(refusal.status, str(refusal)) from None
    return Response(signed, media_type="application/pdf")


@router.get(
    "/results/{result_code}",
    responses=answers(401, 404, 503) | {200: {"content": {"application/pdf": {}}}},
    response_class=Response,
)
async def get_result(
    result_code: str, request: Request, runtime: RuntimeDep, signing: SigningDep, token: ReceiptToken = ""
) -> Response:
    """The signed result (PDF), for the holder of the dossier's receipt (`?token=`) or an official
    (`Authorization: Bearer`); for anyone else, or with another dossier's token, it is not found."""
    if "authorization" in request.headers:
        await _official(request, signing)
        record = await store.find(runtime, result_code)
    else:
        # the token is checked before the store is read: a wrong one learns nothing, not even by timing
        dossier_code = domain.dossier_of(result_code)
        allowed = dossier_code is not None and opens(signing.receipt_key, dossier_code, token)
        record = await store.find(runtime, result_code) if allowed else None
        if record is not None and record["dossier_code"] != dossier_code:
            record = None
    if record is None or record["state"] != store.SIGNED:
        raise HTTPException(404, f"no signed result {result_code!r}")
    # results signed before the file store kept their PDF in the record
    document = record.get("document") or await runtime.files.read(record["sha256"])
    return Response(
        document,
        media_type="application/pdf",
        headers={"Content-Disposition": f'inline; filename="{result_code}.pdf"'},
    )


@router.get("/verify/{result_code}", response_class=HTMLResponse, include_in_schema=False)
async def verification_page(result_code: str) -> str:
    """The public page the QR code on a result opens (it asks `/api/verify/{code}`)."""
    return PAGE


@router.get("/api/verify/{result_code}", responses=answers(404))
async def registered(result_code: str, runtime: RuntimeDep) -> dict[str, Any]:
    """What the platform signed under this code: unit, signers, times, the document's SHA-256. No
    personal data: compare the SHA-256 with a copy, or upload the copy to `POST /verification`."""
    record = await store.find(runtime, result_code)
    if record is None or record["state"] != store.SIGNED:
        raise HTTPException(404, f"the platform signed no result {result_code!r}")
    return {
        "result_code": record["_id"],
        "title": record["title"],
        "unit": record["unit"],
        "signed_by": record["leader"]["name"],
        "sealed_by": record["seal"]["name"],
        "signed_at": record["signed_at"],
        "level": record["level"],
        "sha256": record["sha256"],
    }


@router.post("/verification", responses=answers(400, 413, 415), openapi_extra=PDF_BODY)
async def verify(request: Request, signing: SigningDep) -> dict[str, Any]:
    """Check a signed PDF (the request body, `Content-Type: application/pdf`): each signature's
    signer, time, integrity, trust and certificate status now. 400 if it is not a readable PDF."""
    document = await _pdf_body(request, signing)
    try:
        return await verification.verify(document, signing.roots, signing.chain, signing.checker)
    except verification.Unreadable as unreadable:
        raise HTTPException(400, str(unreadable)) from None


async def _pdf_body(request: Request, signing: Signing) -> bytes:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/pdf":
        raise HTTPException(415, "send the PDF as the request body with Content-Type: application/pdf")
    document = await request.body()
    if len(document) > signing.settings.max_verification_bytes:
        raise HTTPException(413, "the PDF is larger than this service takes")
    return document


async def _official(request: Request, signing: Signing) -> str:
    """The official a valid access token names (401 if not valid, 503 if the provider is unreachable)."""
    claims = await verified_claims(request, signing.verifier)
    return str(claims["sub"])


def _summary(record: dict[str, Any]) -> dict[str, Any]:
    return {
        "result_code": record["_id"],
        "dossier_code": record["dossier_code"],
        "title": record["title"],
        "unit": record["unit"],
        "approved_at": record["approved_at"],
    }
