"""Routing (luân chuyển, xử lý): the workflow engine of the one-stop centre.

Never blocks on another service: digitisation, payment and signing outcomes arrive
as events, in any order, and are recorded on the dossier; officers act over HTTP
(`api.py`); deadlines are watched by a background job (`deadlines.py`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from motcua_contracts import (
    DossierDigitised,
    DossierReceived,
    DossierSupplemented,
    DossierWithdrawn,
    PaymentCompleted,
    PaymentNotRequired,
    PaymentRequested,
    ResultSigned,
)

from services.runtime import Runtime, Service, Tx, utcnow
from services.runtime.calendar import WorkCalendar
from services.runtime.units import load_units

from . import api, deadlines, domain, store, workflow
from .settings import settings
from .workflow import reference


async def load_reference_data(runtime: Runtime) -> None:
    await store.create_indexes(runtime)
    await store.seed_workflows(runtime, Path(settings.workflows_file))
    await store.seed_officials(runtime, Path(settings.officials_file))
    reference.units = load_units(settings.units_file)
    reference.authorities = json.loads(Path(settings.workflows_file).read_text(encoding="utf-8")).get("authorities", {})
    reference.calendar = WorkCalendar.load(settings.calendar_file)
    await api.start(runtime)


async def update(tx: Tx, dossier_code: str, facts: dict[str, Any]) -> dict[str, Any]:
    """Record what an event tells about the dossier, then settle its status."""
    dossier = await store.get(tx, dossier_code)
    dossier |= facts
    if settings.skeleton_mode and domain.ready_for_decision(dossier) and not domain.decided(dossier):
        # Walking-skeleton stand-in for the officers: approve as soon as nothing is missing.
        await workflow.approve(tx, dossier, "skeleton-auto", utcnow())
    workflow.settle(dossier)
    store.put(tx, dossier)
    return dossier


async def on_received(event: DossierReceived, tx: Tx) -> None:
    dossier = await store.get(tx, event.dossier_code)
    if dossier.get("received"):
        return
    dossier |= {
        "received": True,
        "commune": event.commune_code,
        "procedure_code": event.procedure_code,
        "procedure_name": event.procedure_name,
        "field": event.field,
        "area": event.area,
        "level": event.level,
        "competent_authority": event.competent_authority,
        "workflow": event.workflow,
        "applicant_name": event.applicant.name,
        "received_at": event.received_at,
        "due_at": event.due_at,
    }
    if settings.skeleton_mode:
        assert reference.units is not None
        competent = domain.competent_unit(
            event.level, event.competent_authority, event.commune_code, reference.units, reference.authorities
        )
        dossier |= {"units": {"receiving": event.commune_code, "competent": competent}, "holder_unit": competent}
    else:
        await workflow.start(tx, dossier, utcnow())
    store.put(tx, dossier)
    await update(tx, event.dossier_code, {})


async def on_digitised(event: DossierDigitised, tx: Tx) -> None:
    await update(tx, event.dossier_code, {"digitised": True})


async def on_payment_requested(event: PaymentRequested, tx: Tx) -> None:
    await update(tx, event.dossier_code, {"payment_requested": True})


async def on_fee_settled(event: PaymentCompleted | PaymentNotRequired, tx: Tx) -> None:
    await update(tx, event.dossier_code, {"fee_settled": True})


async def on_supplemented(event: DossierSupplemented, tx: Tx) -> None:
    """The clock resumes: the due date moved by the paused days, and so does the step's."""
    dossier = await store.get(tx, event.dossier_code)
    if not dossier.get("waiting_for_supplement"):
        return
    facts: dict[str, Any] = {"waiting_for_supplement": False, "due_at": event.due_at}
    if dossier.get("step_due_at"):
        facts["step_due_at"] = reference.calendar.add_working_hours(
            dossier["step_due_at"], 8 * event.paused_working_days
        ).replace(microsecond=0)
    await update(tx, event.dossier_code, facts)


async def on_withdrawn(event: DossierWithdrawn, tx: Tx) -> None:
    dossier = await store.get(tx, event.dossier_code)
    if not domain.decided(dossier):
        dossier["withdrawn_at"] = event.withdrawn_at
        await workflow.close(tx, dossier, domain.WITHDRAWN, event.withdrawn_at)
        store.put(tx, dossier)


async def on_result_signed(event: ResultSigned, tx: Tx) -> None:
    dossier = await store.get(tx, event.dossier_code)
    if dossier.get("status") in (domain.RESOLVED, domain.DONE):
        return  # already recorded this result
    if dossier.get("status") != domain.SIGNING:
        raise ValueError(f"result signed for dossier {event.dossier_code}, which is not awaiting a signature")
    dossier |= {"result_code": event.result_code, "signed_at": event.signed_at}
    if dossier.get("flow"):
        await workflow.forward(tx, dossier, utcnow())  # to the return step
    else:
        await workflow.complete(tx, dossier, utcnow())  # skeleton: returned at once
    store.put(tx, dossier)


http = APIRouter()
http.include_router(api.router)

service = Service(
    "routing",
    settings,
    handlers={
        DossierReceived: on_received,
        DossierDigitised: on_digitised,
        PaymentRequested: on_payment_requested,
        PaymentCompleted: on_fee_settled,
        PaymentNotRequired: on_fee_settled,
        ResultSigned: on_result_signed,
        DossierSupplemented: on_supplemented,
        DossierWithdrawn: on_withdrawn,
    },
    api=http,
    on_start=load_reference_data,
    background=(deadlines.watch,),
    state=store.DOSSIERS,
)
