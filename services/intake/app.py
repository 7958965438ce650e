"""Intake (tiếp nhận): receives dossiers over HTTP and publishes `dossier.received`."""

import logging
from pathlib import Path

from services.runtime import Runtime, Service
from services.runtime.calendar import WorkCalendar

from . import domain, store
from .api import catalogue, router
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
    catalogue.communes = domain.parse_units(Path(settings.units_file).read_text(encoding="utf-8"))
    catalogue.calendar = WorkCalendar.load(settings.calendar_file)


service = Service("intake", settings, api=router, on_start=load_reference_data)
