"""After receipt: the supplement loop (yêu cầu bổ sung hồ sơ) and withdrawal (rút hồ sơ).

An officer sends a dossier back through routing (`dossier.supplement_requested`) with
the list of documents to add; its clock pauses. The citizen resubmits against the
same dossier code; the due date moves later by the working days the clock was paused. The citizen may withdraw a dossier not yet decided.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request
from motcua_contracts import DossierSupplemented, DossierWithdrawn
from pydantic import BaseModel, Field

from services.runtime import RuntimeDep, Tx, utcnow
from services.runtime.clock import local

from . import domain, store
from .api import ComponentIn, catalogue, component_received
from .tracking import NOT_FOUND, owned_dossier

router = APIRouter(tags=["supplements"])
RECEIVED, WAITING, WITHDRAWN = "received", "waiting_for_supplement", "withdrawn"


class Supplement(BaseModel):
    owner: str = Field(min_length=9, max_length=12, description="The owner's phone or identity number.")
    components: list[ComponentIn] = Field(min_length=1, max_length=50)


class Withdrawal(BaseModel):
    owner: str = Field(min_length=9, max_length=12)
    reason: str = Field(min_length=3, max_length=1000)


@router.post("/dossiers/{code}/supplement")
async def supplement(code: str, request: Supplement, http: Request, runtime: RuntimeDep) -> dict:
    """The citizen resubmits against the same code; the due date moves by the paused working days."""
    dossier = await owned_dossier(http, runtime, code, request.owner)
    if dossier["status"] != WAITING:
        raise _not_in_state(dossier, "waiting for a supplement")
    given = {c.name for c in request.components}
    if missing := [d for d in dossier["supplement"]["documents"] if d not in given]:
        raise HTTPException(422, {"message": "requested documents are missing", "missing": missing})
    components = [component_received(c) for c in request.components]
    now = utcnow()
    paused = domain.paused_working_days(catalogue.calendar, dossier["supplement"]["requested_at"], now)
    due_at = catalogue.calendar.postpone(dossier["due_at"], paused)

    async def resume(tx: Tx) -> dict | None:
        # only the request this resubmission answers: not one made again meanwhile
        before = await store.change_status(
            tx,
            code,
            (WAITING,),
            {"status": RECEIVED, "due_at": due_at},
            {"supplement.requested_at": dossier["supplement"]["requested_at"]},
        )
        if before is not None:
            await store.move_due_date(tx, code, due_at)
            await store.record_step(tx, code, DossierSupplemented.TYPE, now)
            tx.emit(
                DossierSupplemented(
                    dossier_code=code,
                    components=components,
                    supplemented_at=now,
                    paused_working_days=paused,
                    due_at=due_at,
                ),
                commune=before["commune_code"],
            )
        return before

    if await runtime.transact(resume) is None:
        raise _not_in_state(await store.find_dossier(runtime, code), "waiting for a supplement")
    return {"dossier_code": code, "status": RECEIVED, "paused_working_days": paused, "due_at": local(due_at)}


@router.post("/dossiers/{code}/withdrawal")
async def withdraw(code: str, request: Withdrawal, http: Request, runtime: RuntimeDep) -> dict:
    """The citizen withdraws a dossier that has not been decided yet."""
    await owned_dossier(http, runtime, code, request.owner)
    withdrawn_at = utcnow()

    async def withdraw_dossier(tx: Tx) -> dict | None:
        before = await store.change_status(tx, code, (RECEIVED, WAITING), {"status": WITHDRAWN})
        if before is not None:
            await store.record_step(tx, code, DossierWithdrawn.TYPE, withdrawn_at)
            tx.emit(
                DossierWithdrawn(dossier_code=code, reason=request.reason, withdrawn_at=withdrawn_at),
                commune=before["commune_code"],
            )
        return before

    if await runtime.transact(withdraw_dossier) is None:
        raise _not_in_state(await store.find_dossier(runtime, code), "open")
    return {"dossier_code": code, "status": WITHDRAWN, "withdrawn_at": local(withdrawn_at)}


def _not_in_state(dossier: dict | None, wanted: str) -> HTTPException:
    if dossier is None:
        return HTTPException(404, NOT_FOUND)
    return HTTPException(409, f"dossier {dossier['_id']} is {dossier['status'].replace('_', ' ')}, not {wanted}")
