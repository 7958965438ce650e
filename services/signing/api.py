"""Signing's HTTP edge: anyone can fetch a signed result and the key to verify it."""

from __future__ import annotations

import base64

from fastapi import APIRouter, HTTPException
from fastapi.responses import PlainTextResponse

from services.runtime import RuntimeDep
from services.runtime.web import answers

from . import domain, store
from .context import SigningDep

router = APIRouter(tags=["signing"])


@router.get("/keys/current", response_class=PlainTextResponse)
async def current_public_key(signing: SigningDep) -> str:
    """The agency's public key (PEM) that verifies result signatures."""
    return domain.public_pem(signing.key)


@router.get("/results/{result_code}", responses=answers(404))
async def get_result(result_code: str, runtime: RuntimeDep) -> dict:
    """The signed result: document (base64), its signature and key id."""
    record = await store.find(runtime, result_code)
    if record is None:
        raise HTTPException(404, f"no signed result {result_code!r}")
    return {
        "result_code": record["_id"],
        "document_base64": base64.b64encode(record["document"]).decode(),
        "signature": record["signature"],
        "algorithm": record["algorithm"],
        "key_id": record["key_id"],
    }
