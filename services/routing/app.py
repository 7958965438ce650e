"""Routing (luân chuyển, xử lý): tracks each dossier's workflow and decides it.

Never blocks on another service: digitisation, payment and signing outcomes
arrive as events, in any order, and move the dossier on.
"""

from typing import Any

from motcua_contracts import (
    DossierApproved,
    DossierCompleted,
    DossierDigitised,
    DossierReceived,
    DossierSupplemented,
    DossierSupplementRequested,
    DossierWithdrawn,
    PaymentCompleted,
    PaymentNotRequired,
    PaymentRequested,
    ResultSigned,
)

from services.runtime import Service, Tx, utcnow

from . import domain, store
from .settings import settings


def advance(tx: Tx, dossier: dict[str, Any]) -> None:
    """Move the dossier on if everything it waits for has arrived."""
    if domain.decided(dossier):
        return
    if not domain.ready_for_decision(dossier):
        dossier["status"] = domain.status_while_waiting(dossier)
    elif not settings.skeleton_mode:
        dossier["status"] = domain.PROCESSING  # officers decide (routing rules to come)
    else:
        dossier |= {"status": domain.SIGNING, "approved_at": utcnow()}
        tx.emit(
            DossierApproved(
                dossier_code=dossier["_id"],
                competent_unit=dossier["commune"],
                approved_by="skeleton-auto",
                result_title=f"Kết quả giải quyết: {dossier['procedure_name']}",
            )
        )


async def update(tx: Tx, dossier_code: str, facts: dict[str, Any]) -> None:
    """Record what an event tells about the dossier, then move it on."""
    dossier = await store.get(tx, dossier_code)
    dossier |= facts
    advance(tx, dossier)
    store.put(tx, dossier)


async def on_received(event: DossierReceived, tx: Tx) -> None:
    await update(
        tx,
        event.dossier_code,
        {
            "received": True,
            "commune": event.commune_code,
            "procedure_code": event.procedure_code,
            "procedure_name": event.procedure_name,
            "received_at": event.received_at,
            "due_at": event.due_at,
            "holder": event.commune_code,
        },
    )


async def on_digitised(event: DossierDigitised, tx: Tx) -> None:
    await update(tx, event.dossier_code, {"digitised": True})


async def on_payment_requested(event: PaymentRequested, tx: Tx) -> None:
    await update(tx, event.dossier_code, {"payment_requested": True})


async def on_fee_settled(event: PaymentCompleted | PaymentNotRequired, tx: Tx) -> None:
    await update(tx, event.dossier_code, {"fee_settled": True})


async def on_supplement_requested(event: DossierSupplementRequested, tx: Tx) -> None:
    await update(tx, event.dossier_code, {"waiting_for_supplement": True})


async def on_supplemented(event: DossierSupplemented, tx: Tx) -> None:
    """The clock resumes with the moved due date."""
    await update(tx, event.dossier_code, {"waiting_for_supplement": False, "due_at": event.due_at})


async def on_withdrawn(event: DossierWithdrawn, tx: Tx) -> None:
    dossier = await store.get(tx, event.dossier_code)
    if not domain.decided(dossier):
        dossier |= {"status": domain.WITHDRAWN, "withdrawn_at": event.withdrawn_at}
        store.put(tx, dossier)


async def on_result_signed(event: ResultSigned, tx: Tx) -> None:
    dossier = await store.get(tx, event.dossier_code)
    if dossier.get("status") == domain.DONE:
        return  # already completed with this result
    if dossier.get("status") != domain.SIGNING:
        raise ValueError(f"result signed for dossier {event.dossier_code}, which is not awaiting a signature")
    completed_at = utcnow()
    outcome = domain.classify(completed_at, dossier["due_at"])
    dossier |= {
        "status": domain.DONE,
        "result_code": event.result_code,
        "completed_at": completed_at,
        "outcome": outcome,
    }
    store.put(tx, dossier)
    tx.emit(
        DossierCompleted(
            dossier_code=event.dossier_code,
            result_code=event.result_code,
            completed_at=completed_at,
            due_at=dossier["due_at"],
            outcome=outcome,
        )
    )


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
        DossierSupplementRequested: on_supplement_requested,
        DossierSupplemented: on_supplemented,
        DossierWithdrawn: on_withdrawn,
    },
    on_start=store.create_indexes,
    state=store.DOSSIERS,
)
