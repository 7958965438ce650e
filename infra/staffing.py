"""Staffing (bố trí cán bộ): every unit the simulator works in has a receiving officer, a
specialist and a leader.

The sample officials serve two communes and three departments; before a load run the
missing ones are added through routing's API as the province administrator, with ids
`sim.<unit code>.<role>`. A leader takes two administrators (routing's four eyes): the
province administrator asks for the role and a second province administrator confirms
it. Officials on record are kept, so staffing twice changes nothing.
"""

from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from .casework import LEADER, RECEIVING, STAFFED_ROLES
from .dossiers import person_name
from .platform_api import PlatformApi

PROVINCE_ADMIN = "h40.quantri"
SECOND_PROVINCE_ADMIN = "h40.quantri2"  # confirms the leader roles the first one asks for
NOT_AT_COMMUNE = ("province", "inter_agency")


def units_to_staff(procedures: list[dict[str, Any]], units: dict[str, Any], communes: Iterable[str]) -> list[str]:
    """The communes dossiers are received in, then every department a procedure of the catalogue
    may be routed to: the one its competent authority names, or, when an authority names no
    department (routing resolves such names from its own map), every department."""
    departments = {unit["name"]: unit["code"] for unit in units.get("departments", [])}
    wanted = list(dict.fromkeys(communes))
    for procedure in procedures:
        if procedure.get("level") not in NOT_AT_COMMUNE or procedure.get("online_level") == "information":
            continue
        code = departments.get(procedure.get("competent_unit") or "")
        for department in [code] if code else departments.values():
            if department not in wanted:
                wanted.append(department)
    return wanted


def simulated_signers(units: Iterable[str]) -> list[dict[str, Any]]:
    """The leaders and receiving officers the simulator may add to `units`, as `missing_officials`
    would name them: a local stack has the CA issue their personal certificates beforehand, as a
    province's CA would for a new official, so that leaders can sign what they approve and
    receiving officers the copies they scan."""
    return [
        {
            "id": f"sim.{unit}.{role}",
            "name": person_name(random.Random(f"sim.{unit}.{role}")),
            "unit": unit,
            "roles": [role],
        }
        for unit in units
        for role in (LEADER, RECEIVING)
    ]


def missing_officials(unit: str, officials: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Officials to add so that `unit` has an active official of every staffed role; an id already
    on record (say an administrator deactivated it) is left as it is."""
    taken = {official["id"] for official in officials}
    active = [official for official in officials if official.get("active", True)]
    added = []
    for role in STAFFED_ROLES:
        official_id = f"sim.{unit}.{role}"
        if any(role in official.get("roles", ()) for official in active) or official_id in taken:
            continue
        name = person_name(random.Random(official_id))
        added.append({"id": official_id, "name": name, "unit": unit, "roles": [role], "fields": [], "areas": []})
    return added


def by_role(officials: list[dict[str, Any]]) -> dict[str, list[str]]:
    """Active officials' ids by role."""
    roles: dict[str, list[str]] = defaultdict(list)
    for official in officials:
        if official.get("active", True):
            for role in official.get("roles", ()):
                roles[role].append(official["id"])
    return dict(roles)


class Roster:
    """Who works in each unit, as routing lists them to the province administrator; a unit
    lacking a role is staffed the first time a dossier needs it (`confirming` confirms the
    leader roles `admin` asks for)."""

    def __init__(self, api: PlatformApi, admin: str = PROVINCE_ADMIN, confirming: str = SECOND_PROVINCE_ADMIN) -> None:
        self.api, self.admin, self.confirming = api, admin, confirming
        self.units: dict[str, dict[str, list[str]]] = {}  # unit → role → active official ids
        self.locks: defaultdict[str, asyncio.Lock] = defaultdict(asyncio.Lock)
        self.added: list[str] = []

    async def staff(self, units: Iterable[str]) -> list[str]:
        """Make sure each unit has every staffed role; returns the ids added."""
        before = len(self.added)
        await asyncio.gather(*(self.officials(unit) for unit in units))
        return self.added[before:]

    async def pick(self, unit: str, role: str, rng: random.Random) -> str | None:
        """An official of `unit` with `role`, or None if the unit has none (and none could be added)."""
        ids = (await self.officials(unit)).get(role, [])
        return rng.choice(ids) if ids else None

    async def officials(self, unit: str) -> dict[str, list[str]]:
        async with self.locks[unit]:
            if unit not in self.units:
                self.units[unit] = await self._staffed(unit)
            return self.units[unit]

    async def _staffed(self, unit: str) -> dict[str, list[str]]:
        response = await self.api.routing(self.admin, "GET", "/officials", params={"unit": unit})
        response.raise_for_status()
        officials = response.json()["officials"]
        for official in missing_officials(unit, officials):
            official_id = official.pop("id")
            put = await self.api.routing(self.admin, "PUT", f"/officials/{official_id}", json=official)
            put.raise_for_status()
            if put.status_code == 202:  # a leader: pending until a second administrator confirms
                path = f"/role-changes/{put.json()['id']}/confirmation"
                confirmed = await self.api.routing(self.confirming, "POST", path)
                if confirmed.status_code != 409 or not await self._holds(unit, official_id, official["roles"]):
                    confirmed.raise_for_status()  # 409 after a retry: the first attempt confirmed it
            officials.append({"id": official_id, **official})
            self.added.append(official_id)
        return by_role(officials)

    async def _holds(self, unit: str, official_id: str, roles: list[str]) -> bool:
        """Whether routing has `official_id` in `unit` with `roles` now."""
        response = await self.api.routing(self.admin, "GET", "/officials", params={"unit": unit})
        response.raise_for_status()
        found = [o for o in response.json()["officials"] if o["id"] == official_id and o.get("active", True)]
        return bool(found) and set(roles) <= set(found[0]["roles"])
