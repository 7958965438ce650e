"""The owner's requests after receipt: the supplement loop (bổ sung hồ sơ) and withdrawal (rút hồ sơ).

Routing sends a dossier back for documents (`dossier.supplement_requested`); the owner
resubmits once against the same code and the due date moves later by the working days the
clock was paused. A withdrawal is the owner's request: routing accepts or declines it.
Both change the dossier, so both need the receipt's access token (`?token=`) besides the
owner's phone or identity number.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import APIRouter, HTTPException, Request
from motcua_contracts import Event
from pydantic import BaseModel, Field

from services.runtime import Runtime, RuntimeDep, Tx, utcnow
from services.runtime.clock import local
from services.runtime.web import answers

from .. import store
from ..context import IntakeDep
from ..submission import ComponentIn, Problem, received_components
from ..timeline import Conflict, MissingDocuments, Timeline
from .dossiers import refusal
from .owners import Owner, owners_request
from .receipts import ReceiptToken

router = APIRouter(tags=["supplements and withdrawal"], responses=answers(404, 409, 429))
E = TypeVar("E", bound=Event)


class SupplementIn(BaseModel):
    owner: Owner
    components: list[ComponentIn] = Field(min_length=1, max_length=50)


class WithdrawalIn(BaseModel):
    owner: Owner
    reason: str = Field(min_length=3, max_length=1000)


@router.post("/dossiers/{code}/supplement")
async def supplement(
    code: str, body: SupplementIn, request: Request, runtime: RuntimeDep, intake: IntakeDep, token: ReceiptToken = ""
) -> dict[str, Any]:
    """The owner resubmits every requested document; the due date moves by the paused working days."""
    dossier = await owners_request(request, runtime, intake, code, token, body.owner)
    procedure = intake.catalogue.get(dossier.event().procedure_code)
    holdings = await store.holdings_of(runtime, dossier.identity_hash, utcnow())
    components, problems = received_components(body.components, procedure, intake.settings.receipt_key(), holdings)
    if problems:
        raise refusal("the supplement cannot be accepted", problems)

    try:
        supplemented = await add_to_history(
            runtime, code, dossier.event().commune_code, lambda t: t.supplement(components, utcnow(), intake.calendar)
        )
    except MissingDocuments as missing:
        problems = [
            Problem("missing_document", f"requested document {name!r} is missing", component=name)
            for name in missing.documents
        ]
        raise refusal("the supplement cannot be accepted", problems) from None
    return {
        "dossier_code": code,
        "status": "received",
        "paused_working_days": supplemented.paused_working_days,
        "due_at": local(supplemented.due_at),
    }


@router.post("/dossiers/{code}/withdrawal", status_code=202)
async def request_withdrawal(
    code: str, body: WithdrawalIn, request: Request, runtime: RuntimeDep, intake: IntakeDep, token: ReceiptToken = ""
) -> dict[str, Any]:
    """The owner asks to withdraw the dossier; routing answers (withdrawn, or declined if already decided)."""
    dossier = await owners_request(request, runtime, intake, code, token, body.owner)

    requested = await add_to_history(
        runtime, code, dossier.event().commune_code, lambda t: t.request_withdrawal(body.reason, utcnow())
    )
    return {"dossier_code": code, "status": "withdrawal_requested", "requested_at": local(requested.requested_at)}


async def add_to_history(runtime: Runtime[Any], code: str, commune: str, request: Callable[[Timeline], E]) -> E:
    """Apply the owner's `request` to the dossier's history and publish the event it makes, in one
    transaction; a request the history does not allow (closed, already pending) is a 409."""

    async def apply(tx: Tx) -> E:
        timeline = await store.load_timeline(tx, code)
        event = request(timeline)
        store.save_timeline(tx, timeline)
        tx.emit(event, commune=commune)
        return event

    try:
        return await runtime.transact(apply)
    except Conflict as conflict:
        raise HTTPException(409, str(conflict)) from None
