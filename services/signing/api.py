"""Signing's HTTP edge: the key that verifies result signatures, for anyone; a signed result,
for the holder of its dossier's receipt token or an official."""

from __future__ import annotations

import base64
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import PlainTextResponse

from services.runtime import RuntimeDep
from services.runtime.auth import verified_claims
from services.runtime.receipts import ReceiptToken, opens
from services.runtime.web import answers

from . import domain, store
from .context import Signing, SigningDep

router = APIRouter(tags=["signing"])


@router.get("/keys/current", response_class=PlainTextResponse)
async def current_public_key(signing: SigningDep) -> str:
    """The agency's public key (PEM) that verifies result signatures."""
    return domain.public_pem(signing.key)


@router.get("/results/{result_code}", responses=answers(401, 404, 503))
async def get_result(
    result_code: str, request: Request, runtime: RuntimeDep, signing: SigningDep, token: ReceiptToken = ""
) -> dict[str, Any]:
    """The signed result: document (base64), its signature and key id. For the holder of the
    dossier's receipt (`?token=`) or an official (`Authorization: Bearer`); for anyone else, or with
    another dossier's token, the result is not found (401 for an official's token that is not valid)."""
    if "authorization" in request.headers:
        await check_official(request, signing)
        record = await store.find(runtime, result_code)
    else:
        # the token is checked before the store is read: a wrong one learns nothing, not even by timing
        dossier_code = domain.dossier_of(result_code)
        allowed = dossier_code is not None and opens(signing.receipt_key, dossier_code, token)
        record = await store.find(runtime, result_code) if allowed else None
        if record is not None and record["dossier_code"] != dossier_code:
            record = None
    if record is None:
        raise HTTPException(404, f"no signed result {result_code!r}")
    return {
        "result_code": record["_id"],
        "document_base64": base64.b64encode(record["document"]).decode(),
        "signature": record["signature"],
        "algorithm": record["algorithm"],
        "key_id": record["key_id"],
    }


async def check_official(request: Request, signing: Signing) -> None:
    """A valid access token from the officials' identity provider: any official may read results
    (401 if it is not valid, 503 if the provider cannot be reached)."""
    await verified_claims(request, signing.verifier)
