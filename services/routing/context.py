"""What routing holds at hand while it runs: the province's units and its authority map,
the working calendar, the workflow versions and units' rosters (cached), the officials'
token verifier, the deadline watcher's counter, the apology's horizon and the approvals' key. Built once by `start` before any event or request."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Annotated, cast

from fastapi import Depends
from prometheus_client import Counter

from services.runtime import Runtime, get_context
from services.runtime.approvals import ApprovalSigner
from services.runtime.auth import TokenVerifier
from services.runtime.calendar import WorkCalendar
from services.runtime.personal import PersonalData
from services.runtime.settings import DEVELOPMENT
from services.runtime.units import Units, load_units

from . import store
from .forms import Fonts
from .settings import RoutingSettings
from .store import officials, workflows


@dataclass(frozen=True)
class RoutingContext:
    """Routing's reference data and collaborators, handed to handlers, routes and jobs."""

    units: Units
    authorities: Mapping[str, str]  # catalogue authority names -> "receiving" or a unit code
    calendar: WorkCalendar
    workflows: workflows.WorkflowCache
    rosters: officials.Rosters  # who belongs to each unit
    verifier: TokenVerifier
    fonts: Fonts
    sweeps: Counter  # deadline sweeps done, so a watcher can tell one has run
    apology_horizon: timedelta  # how far past the due date an apology may move the return date
    approvals: ApprovalSigner  # signs each approval routing publishes
    personal: PersonalData  # opens applicants' sealed names (for the forms addressed to them)

    def unit_name(self, code: str) -> str:
        unit = self.units.get(code)
        return unit.name if unit else code


async def start(
    runtime: Runtime[RoutingContext],
    verifier: TokenVerifier | None = None,
    cache_clock: Callable[[], float] = time.monotonic,
) -> RoutingContext:
    """Create indexes, seed workflows and officials, load the reference data. A test may
    pass its own token verifier and the clock of the caches."""
    settings = cast(RoutingSettings, runtime.settings)
    templates = json.loads(Path(settings.workflows_file).read_text(encoding="utf-8"))
    await store.create_indexes(runtime.documents)
    await workflows.seed(runtime.documents, templates["templates"])
    await officials.seed(runtime.documents, Path(settings.officials_file))
    issuer = str(settings.oidc_issuer)  # required outside the development profile
    await officials.announce_all(runtime, settings.personal_data())
    return RoutingContext(
        units=load_units(settings.units_file),
        authorities=templates.get("authorities", {}),
        calendar=WorkCalendar.load(settings.calendar_file),
        workflows=workflows.WorkflowCache(clock=cache_clock),
        rosters=officials.Rosters(clock=cache_clock),
        verifier=verifier or TokenVerifier(issuer, settings.oidc_audience),
        fonts=Fonts(regular=settings.pdf_font, bold=settings.pdf_bold_font),
        sweeps=runtime.metrics.counter("motcua_deadline_sweeps", "Deadline sweeps done by the watcher."),
        apology_horizon=timedelta(days=settings.apology_horizon_days),
        personal=settings.personal_data(),
        approvals=ApprovalSigner.load(
            Path(str(settings.approval_key_file)), create_if_missing=settings.profile == DEVELOPMENT
        ),
    )


RoutingDep = Annotated[RoutingContext, Depends(get_context)]
