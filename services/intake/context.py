"""What intake holds at hand while it runs, built once at start: its settings, the
procedure catalogue (seeded into the store when the file's version is new, then read
back, so every replica serves the same version), the units, the working calendar and the
limits that keep it answering (owner look-ups per client, submissions in flight). Handlers
get it as `context`, routes through `IntakeDep`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends

from services.runtime import Runtime, get_context
from services.runtime.calendar import WorkCalendar
from services.runtime.limits import InFlight, PerWindow, limited_counter
from services.runtime.personal import PersonalData
from services.runtime.units import Units, load_units

from . import store
from .catalogue import Catalogue, parse_catalogue
from .settings import IntakeSettings

log = logging.getLogger(__name__)
LOOKUP_WINDOW_S = 60  # owner look-ups are counted per client and minute
SUBMISSION_RETRY_AFTER_S = 2  # what a busy intake asks a submitter to wait


@dataclass(frozen=True)
class IntakeContext:
    settings: IntakeSettings
    catalogue: Catalogue
    units: Units
    calendar: WorkCalendar
    lookups: PerWindow  # owner look-ups per client and minute, shared by every replica
    submissions: InFlight  # submissions this process works on at once
    personal: PersonalData  # seals the applicant's name and contact in `dossier.received`


async def start(runtime: Runtime[Any]) -> IntakeContext:
    """Seed the catalogue file's version if the store holds another, then serve what the store holds."""
    settings = cast(IntakeSettings, runtime.settings)
    from_file = parse_catalogue(Path(settings.catalogue_file).read_text(encoding="utf-8"))
    if await store.seed_catalogue(runtime, from_file):
        log.info(
            "procedure catalogue loaded",
            extra={"fields": {"version": from_file.version, "procedures": len(from_file.procedures)}},
        )
    refused = limited_counter(runtime.metrics)
    lookups = PerWindow(
        runtime.documents, "lookups_per_minute", settings.tracking_per_minute, LOOKUP_WINDOW_S, refused, runtime.name
    )
    await lookups.prepare()
    return IntakeContext(
        settings=settings,
        catalogue=await store.stored_catalogue(runtime),
        units=load_units(settings.units_file),
        calendar=WorkCalendar.load(settings.calendar_file),
        lookups=lookups,
        personal=settings.personal_data(),
        submissions=InFlight(
            "submissions_in_flight",
            settings.max_submissions_in_flight,
            settings.submission_wait_s,
            SUBMISSION_RETRY_AFTER_S,
            refused,
            runtime.name,
        ),
    )


IntakeDep = Annotated[IntakeContext, Depends(get_context)]
