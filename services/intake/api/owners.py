"""The owner's proof (chủ hồ sơ): the dossier's code plus its owner's phone or identity number;
for a request that changes the dossier (supplement, withdrawal), the receipt's access token too.

A wrong owner, a wrong or missing token and an unknown code get the same answer, so codes
cannot be enumerated; every check counts against the client's per-minute limit.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import HTTPException, Request
from pydantic import Field

from services.runtime import Runtime
from services.runtime.clients import client_of
from services.runtime.limits import Limited

from .. import domain, store
from ..context import IntakeContext
from ..received import ReceivedDossier
from .receipts import not_found, opened

NOT_FOUND = "Không tìm thấy hồ sơ với mã và thông tin chủ hồ sơ đã nhập."
TOO_MANY = "Quá nhiều lượt tra cứu từ địa chỉ của bạn; vui lòng thử lại sau {seconds} giây."

Owner = Annotated[
    str, Field(pattern=r"^ *[0-9]{9,12} *$", description="The owner's phone or identity number (ASCII digits).")
]


async def count_lookup(request: Request, intake: IntakeContext) -> None:
    """Count an owner check against the client's per-minute limit (every replica's checks count);
    429 once it is spent, until the minute is over."""
    try:
        await intake.lookups.spend(client_of(request))
    except Limited as spent:
        wait = spent.retry_after_s
        raise HTTPException(429, TOO_MANY.format(seconds=wait), {"Retry-After": str(wait)}) from None


async def owned_dossier(
    request: Request, runtime: Runtime[IntakeContext], intake: IntakeContext, code: str, owner: str
) -> ReceivedDossier:
    """The dossier if `owner` is its owner's phone or identity number; rate-limited per client."""
    await count_lookup(request, intake)
    dossier = await store.find_dossier(runtime, code)
    phone, identity_hash = (dossier.contact.phone, dossier.identity_hash) if dossier else ("", "")
    if not domain.owner_matches(owner, phone, identity_hash, intake.settings.hash_key()) or dossier is None:
        raise HTTPException(404, NOT_FOUND)
    return dossier


async def owners_request(
    request: Request, runtime: Runtime[IntakeContext], intake: IntakeContext, code: str, token: str, owner: str
) -> ReceivedDossier:
    """The dossier, for a request that changes it: only with the receipt's access token and the
    owner's phone or identity number (knowing the owner is not enough); rate-limited per client."""
    await count_lookup(request, intake)
    dossier = await opened(runtime, code, token)
    if not domain.owner_matches(owner, dossier.contact.phone, dossier.identity_hash, intake.settings.hash_key()):
        raise not_found()
    return dossier
