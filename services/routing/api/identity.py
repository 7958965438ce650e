"""Who is asking: the official an access token names (401 without a valid token, 403 if
the token names no active official, 503 if the identity provider cannot be reached)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from services.runtime import RuntimeDep
from services.runtime.auth import verified_claims

from .. import queries
from ..context import RoutingDep
from ..domain import Official
from .errors import answering


async def current_official(request: Request, runtime: RuntimeDep, routing: RoutingDep) -> Official:
    claims = await verified_claims(request, routing.verifier)
    with answering():
        return await queries.identify(runtime, claims["sub"], f"{request.method} {request.url.path}")


OfficialDep = Annotated[Official, Depends(current_official)]
