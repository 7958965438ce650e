"""Intake (tiếp nhận): receives dossiers over HTTP and publishes `dossier.received`."""

import logging
from pathlib import Path

from fastapi import APIRouter
from motcua_contracts import (
    EVENT_TYPES,
    DossierApologised,
    DossierApproved,
    DossierAssigned,
    DossierCompleted,
    DossierDueSoon,
    DossierOverdue,
    DossierRefused,
    DossierStepStarted,
    DossierSupplementRequested,
    Event,
)

from services.runtime import Runtime, Service, Tx
from services.runtime.calendar import WorkCalendar
from services.runtime.units import load_units

from . import api, domain, store, supplements, tracking
from .api import catalogue
from .settings import settings

log = logging.getLogger(__name__)


async def load_reference_data(runtime: Runtime) -> None:
    """Seed the store with the catalogue file's version if new, then serve what the store holds."""
    await store.create_indexes(runtime)
    version, procedures = domain.parse_catalogue(Path(settings.catalogue_file).read_text(encoding="utf-8"))
    if await store.seed_catalogue(runtime, version, [p.as_row() for p in procedures.values()]):
        log.info("procedure catalogue loaded", extra={"fields": {"version": version, "procedures": len(procedures)}})
    stored_version, rows = await store.catalogue_rows(runtime)
    catalogue.version = stored_version
    catalogue.procedures = {row["code"]: domain.Procedure.from_row(row) for row in rows}
    catalogue.units = load_units(settings.units_file)
    catalogue.calendar = WorkCalendar.load(settings.calendar_file)


async def on_progress(event: Event, tx: Tx) -> None:
    """Other services' events become steps of the dossier's public history."""
    assert tx.cause is not None
    await store.record_step(tx, event.dossier_code, event.TYPE, tx.cause.time)
    if isinstance(event, DossierApproved):
        store.mark_decided(tx, event.dossier_code)
    elif isinstance(event, DossierCompleted):
        store.mark_completed(tx, event.dossier_code)
    elif isinstance(event, DossierSupplementRequested):
        supplement = {
            "documents": event.documents,
            "reason": event.reason,
            "officer": event.requested_by,
            "requested_at": event.requested_at,
        }
        store.mark_waiting_for_supplement(tx, event.dossier_code, supplement)
    elif isinstance(event, DossierRefused):
        store.mark_refused(tx, event.dossier_code)
    elif isinstance(event, DossierApologised):
        store.promise_new_date(tx, event.dossier_code, event.new_due_at)


# Officers' internal bookkeeping, not part of the citizen's public history.
INTERNAL = (DossierStepStarted, DossierAssigned, DossierDueSoon, DossierOverdue)
# Every other lifecycle event other services publish: each is a step of the public history.
PROGRESS = tuple(
    event for event in EVENT_TYPES.values() if event.TOPIC.owner not in ("intake", "stats") and event not in INTERNAL
)

http = APIRouter()
for part in (api.router, tracking.router, supplements.router):
    http.include_router(part)

service = Service(
    "intake",
    settings,
    handlers=dict.fromkeys(PROGRESS, on_progress),
    api=http,
    on_start=load_reference_data,
    state=store.TRACKING,
)
