"""Officers' actions on a dossier: claim, forward, supplement request, refusal, approval,
return of the result, apology, reassignment. Each answers with the dossier as it now is."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.runtime import RuntimeDep, utcnow
from services.runtime.web import answers

from .. import actions
from .errors import answering
from .identity import OfficialDep
from .render import dossier_view

router = APIRouter(tags=["officers"], responses=answers(404, 409))


class Forward(BaseModel):
    to: str | None = Field(default=None, description="Official to hand the next step to (else by the step's rule).")
    note: str | None = Field(default=None, max_length=1000)


class SupplementRequest(BaseModel):
    documents: list[Annotated[str, Field(min_length=1, max_length=300)]] = Field(min_length=1, max_length=20)
    reason: str = Field(min_length=3, max_length=1000)


class Reason(BaseModel):
    reason: str = Field(min_length=3, max_length=1000)


class Approval(BaseModel):
    result_title: str | None = Field(default=None, max_length=300)


class Apology(BaseModel):
    reason: str = Field(min_length=3, max_length=1000)
    new_due_at: datetime = Field(description="The new return date and time (with its offset).")


class Reassignment(BaseModel):
    to: str = Field(min_length=1, max_length=64)


@router.post("/dossiers/{code}/claim")
async def claim(code: str, who: OfficialDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Take an unassigned step from the unit's queue; of two officials claiming at once, one wins (409)."""
    with answering():
        dossier = await actions.claim(runtime, who, code)
    return dossier_view(dossier, utcnow())


@router.post("/dossiers/{code}/forward")
async def forward(code: str, who: OfficialDep, runtime: RuntimeDep, body: Forward | None = None) -> dict[str, Any]:
    """Finish the current step and send the dossier to the next one (maybe another unit)."""
    with answering():
        dossier = await actions.forward(runtime, who, code, (body or Forward()).to)
    return dossier_view(dossier, utcnow())


@router.post("/dossiers/{code}/supplement-request", status_code=201)
async def request_supplement(
    code: str, body: SupplementRequest, who: OfficialDep, runtime: RuntimeDep
) -> dict[str, Any]:
    """Send the dossier back for documents; the clock pauses. The form is at `form`."""
    with answering():
        dossier = await actions.request_supplement(runtime, who, code, body.documents, body.reason)
    return dossier_view(dossier, utcnow()) | {"form": f"/dossiers/{code}/forms/supplement-request.pdf"}


@router.post("/dossiers/{code}/refusal")
async def refuse(code: str, body: Reason, who: OfficialDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Refuse to resolve the dossier, with the reason; the refusal form is at `form`."""
    with answering():
        dossier = await actions.refuse(runtime, who, code, body.reason)
    return dossier_view(dossier, utcnow()) | {"form": f"/dossiers/{code}/forms/refusal.pdf"}


@router.post("/dossiers/{code}/approval")
async def approve(code: str, who: OfficialDep, runtime: RuntimeDep, body: Approval | None = None) -> dict[str, Any]:
    """A leader approves the result; it goes to signing."""
    with answering():
        dossier = await actions.approve(runtime, who, code, (body or Approval()).result_title)
    return dossier_view(dossier, utcnow())


@router.post("/dossiers/{code}/return")
async def return_result(code: str, who: OfficialDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Hand the signed result to the citizen: the dossier is done (early / on time / late)."""
    with answering():
        dossier = await actions.return_result(runtime, who, code)
    return dossier_view(dossier, utcnow())


@router.post("/dossiers/{code}/apology", status_code=201)
async def apologise(code: str, body: Apology, who: OfficialDep, runtime: RuntimeDep) -> dict[str, Any]:
    """Apologise with the reason and a new return date: once per dossier, before its due date."""
    with answering():
        dossier = await actions.apologise(runtime, who, code, body.reason, body.new_due_at)
    return dossier_view(dossier, utcnow()) | {"form": f"/dossiers/{code}/forms/apology.pdf"}


@router.post("/dossiers/{code}/reassignment")
async def reassign(code: str, body: Reassignment, who: OfficialDep, runtime: RuntimeDep) -> dict[str, Any]:
    """A leader moves the current step to another official of the unit."""
    with answering():
        dossier = await actions.reassign(runtime, who, code, body.to)
    return dossier_view(dossier, utcnow())
