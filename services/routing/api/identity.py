"""Who is asking: the official an access token names (401 without a valid token, 403 if
the token names no active official, 503 if the identity provider cannot be reached)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, HTTPException, Request

from services.runtime import RuntimeDep
from services.runtime.auth import AuthError, IdentityProviderUnavailable, bearer_token

from .. import queries
from ..context import RoutingDep
from ..domain import Official
from .errors import answering


async def current_official(request: Request, runtime: RuntimeDep, routing: RoutingDep) -> Official:
    token = bearer_token(request)
    try:
        claims = await routing.verifier.verify(token)
    except IdentityProviderUnavailable as error:
        raise HTTPException(503, str(error)) from None
    except AuthError as error:
        raise HTTPException(401, str(error), headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}) from None
    with answering():
        return await queries.identify(runtime, claims["sub"], f"{request.method} {request.url.path}")


OfficialDep = Annotated[Official, Depends(current_official)]
