"""What intake holds at hand while it runs, built once at start: its settings, the
procedure catalogue (seeded into the store when the file's version is new, then read
back, so every replica serves the same version), the units, the working calendar and the
owner look-ups' rate limiter. Handlers get it as `context`, routes through `IntakeDep`."""

from __future__ import annotations

import logging
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, cast

from fastapi import Depends

from services.runtime import Runtime, get_context
from services.runtime.calendar import WorkCalendar
from services.runtime.units import Units, load_units

from . import store
from .catalogue import Catalogue, parse_catalogue
from .settings import IntakeSettings

log = logging.getLogger(__name__)
WINDOW_S = 60.0  # the rate limit counts look-ups in any sliding minute
FORGET_AFTER = 10_000  # clients remembered before quiet ones are forgotten


class TooManyLookups(Exception):
    """A client made more owner look-ups in the last minute than allowed."""


@dataclass
class RateLimit:
    """At most `per_minute` look-ups per client in any sliding minute (per process)."""

    per_minute: int
    seen: dict[str, deque[float]] = field(default_factory=lambda: defaultdict(deque))

    def check(self, client: str) -> None:
        """Count a look-up by `client`; `TooManyLookups` if it is one too many."""
        now = time.monotonic()
        if len(self.seen) > FORGET_AFTER:  # so the table stays small
            for quiet in [c for c, times in self.seen.items() if not times or times[-1] <= now - WINDOW_S]:
                del self.seen[quiet]
        recent = self.seen[client]
        while recent and recent[0] <= now - WINDOW_S:
            recent.popleft()
        if len(recent) >= self.per_minute:
            raise TooManyLookups(client)
        recent.append(now)


@dataclass(frozen=True)
class IntakeContext:
    settings: IntakeSettings
    catalogue: Catalogue
    units: Units
    calendar: WorkCalendar
    lookups: RateLimit


async def start(runtime: Runtime[Any]) -> IntakeContext:
    """Seed the catalogue file's version if the store holds another, then serve what the store holds."""
    settings = cast(IntakeSettings, runtime.settings)
    from_file = parse_catalogue(Path(settings.catalogue_file).read_text(encoding="utf-8"))
    if await store.seed_catalogue(runtime, from_file):
        log.info(
            "procedure catalogue loaded",
            extra={"fields": {"version": from_file.version, "procedures": len(from_file.procedures)}},
        )
    return IntakeContext(
        settings=settings,
        catalogue=await store.stored_catalogue(runtime),
        units=load_units(settings.units_file),
        calendar=WorkCalendar.load(settings.calendar_file),
        lookups=RateLimit(settings.tracking_per_minute),
    )


IntakeDep = Annotated[IntakeContext, Depends(get_context)]
