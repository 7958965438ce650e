"""The owner's proof (chủ hồ sơ): the dossier's code plus its owner's phone or identity number.

A wrong owner and an unknown code get the same answer after the same work, so codes
cannot be enumerated; every check counts against the client's per-minute limit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Request
from pydantic import Field

from services.runtime import Runtime

from .. import domain, store
from ..context import IntakeContext, TooManyLookups
from ..received import ReceivedDossier

NOT_FOUND = "Không tìm thấy hồ sơ với mã và thông tin chủ hồ sơ đã nhập."
TOO_MANY = "Quá nhiều lượt tra cứu; vui lòng thử lại sau ít phút."
RETRY_AFTER_S = 60

Owner = Annotated[str, Field(min_length=9, max_length=12, description="The owner's phone or identity number.")]


async def owned_dossier(
    request: Request, runtime: Runtime[IntakeContext], intake: IntakeContext, code: str, owner: str
) -> ReceivedDossier:
    """The dossier if `owner` is its owner's phone or identity number; rate-limited per client."""
    try:
        intake.lookups.check(request.client.host if request.client else "unknown")
    except TooManyLookups:
        raise HTTPException(429, TOO_MANY, {"Retry-After": str(RETRY_AFTER_S)}) from None
    dossier = await store.find_dossier(runtime, code)
    phone, identity_hash = (dossier.event().applicant.phone, dossier.identity_hash) if dossier else ("", "")
    if not domain.owner_matches(owner, phone, identity_hash, intake.settings.hash_key()) or dossier is None:
        raise HTTPException(404, NOT_FOUND)
    return dossier
