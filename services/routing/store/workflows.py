"""Workflow templates, versioned: `_id` = `template@unit@version`, never changed once saved.

A unit's override is a version of its own (`unit` = the unit's code); the province-wide
template has `unit` "*". New versions reach every replica through `WorkflowCache`
(within `cache.NEW_VERSIONS_WITHIN_S`).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

from services.runtime import Documents, Duplicate, utcnow
from services.runtime.documents import Reader

from ..domain import PROVINCE_WIDE, Step, WorkflowVersion
from .cache import Expiring, Finder

WORKFLOWS = "workflows"


async def seed(documents: Documents, templates: dict[str, Any]) -> None:
    """The template file's province-wide templates, as version 1 where none exists yet."""
    for template, body in templates.items():
        version = WorkflowVersion(
            id=WorkflowVersion.key(template, PROVINCE_WIDE, 1),
            template=template,
            unit=PROVINCE_WIDE,
            version=1,
            name=body["name"],
            steps=body["steps"],
            created_at=utcnow(),
            created_by="seed",
        )
        with contextlib.suppress(Duplicate):  # seeded before, by this replica or another
            await documents.insert(WORKFLOWS, [version.model_dump(by_alias=True)])


async def newest(finder: Finder, template: str, scope: str) -> WorkflowVersion | None:
    """The newest version of `template` saved for `scope` (a unit, or "*")."""
    found = await finder.find(WORKFLOWS, {"template": template, "unit": scope}, order=[("version", -1)], limit=1)
    return WorkflowVersion.model_validate(found[0]) if found else None


async def latest(finder: Finder, template: str, unit: str) -> WorkflowVersion | None:
    """The newest version of `unit`'s override of `template`, else of the province-wide template."""
    return await newest(finder, template, unit) or await newest(finder, template, PROVINCE_WIDE)


async def save_version(
    documents: Documents, template: str, unit: str, name: str, steps: list[Step], by: str
) -> WorkflowVersion:
    """A new version of `unit`'s override; of concurrent saves each gets its own version."""
    while True:
        previous = await newest(documents, template, unit)
        number = previous.version + 1 if previous else 1
        version = WorkflowVersion(
            id=WorkflowVersion.key(template, unit, number),
            template=template,
            unit=unit,
            version=number,
            name=name,
            steps=steps,
            created_at=utcnow(),
            created_by=by,
        )
        try:
            await documents.insert(WORKFLOWS, [version.model_dump(by_alias=True)])
            return version
        except Duplicate:
            continue  # another save took this number: take the next


async def _newest_of_each(finder: Finder) -> dict[tuple[str, str], WorkflowVersion]:
    newest: dict[tuple[str, str], WorkflowVersion] = {}
    for document in await finder.find(WORKFLOWS, order=[("version", 1)]):
        version = WorkflowVersion.model_validate(document)
        newest[(version.template, version.unit)] = version  # ascending: the last one wins
    return newest


async def versions(reader: Reader, template: str, unit: str) -> list[WorkflowVersion]:
    """Every version of `template` a unit may follow: province-wide ones, then its own."""
    where = {"template": template, "unit": {"$in": [unit, PROVINCE_WIDE]}}
    found = await reader.find(WORKFLOWS, where, order=[("unit", 1), ("version", 1)])
    return [WorkflowVersion.model_validate(document) for document in found]


class WorkflowCache:
    """The latest workflow versions: an override saved by another replica is used here
    within `NEW_VERSIONS_WITHIN_S`; one saved by this process at once (`forget`). Dossiers
    keep the version they started with. The newest version of every (template, unit) is
    read in one query and kept: a province has a few templates and a few overrides per unit,
    and a batch of dossiers from a hundred communes then costs no query at all."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.cache: Expiring[str, dict[tuple[str, str], WorkflowVersion]] = Expiring(clock=clock)

    async def latest(self, finder: Finder, template: str, unit: str) -> WorkflowVersion | None:
        newest = await self.cache.get("all", lambda: _newest_of_each(finder))
        return newest.get((template, unit)) or newest.get((template, PROVINCE_WIDE))

    def forget(self) -> None:
        self.cache.forget()
