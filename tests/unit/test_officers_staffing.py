"""Staffing before a load run: which units need officials, which are added, and the exchange with
routing's officials API (as the province administrator, a second one confirming each leader role)
checked on a fake over `httpx.MockTransport`."""

from __future__ import annotations

import json
import random
from typing import Any

import httpx

from infra.casework import STAFFED_ROLES
from infra.dossiers import FAMILY
from infra.platform_api import PlatformApi
from infra.staffing import Roster, missing_officials, units_to_staff

UNITS = {
    "province": {"code": "H40", "name": "Tỉnh mẫu"},
    "departments": [
        {"code": "000.07.01.H40", "name": "Sở Xây dựng"},
        {"code": "000.16.01.H40", "name": "Văn phòng đăng ký đất đai"},
        {"code": "000.18.01.H40", "name": "Bảo hiểm xã hội tỉnh"},
    ],
    "communes": [{"code": "H40.101", "name": "Xã A"}, {"code": "H40.102", "name": "Xã B"}],
}


def procedure(level: str, authority: str, online_level: str = "full") -> dict[str, Any]:
    return {"code": "x", "level": level, "competent_unit": authority, "online_level": online_level}


def test_the_communes_used_and_the_departments_the_catalogue_names_are_staffed() -> None:
    catalogue = [
        procedure("commune", "UBND cấp xã"),
        procedure("province", "Sở Xây dựng"),
        procedure("inter_agency", "Văn phòng đăng ký đất đai"),
        procedure("province", "Sở Xây dựng", online_level="information"),  # takes no dossiers
    ]
    assert units_to_staff(catalogue, UNITS, ["H40.102", "H40.101", "H40.102"]) == [
        "H40.102",
        "H40.101",
        "000.07.01.H40",
        "000.16.01.H40",
    ]


def test_an_authority_that_names_no_department_brings_every_department() -> None:
    catalogue = [procedure("inter_agency", "Bảo hiểm xã hội cơ sở")]  # routing maps it from its own data
    assert units_to_staff(catalogue, UNITS, ["H40.101"]) == [
        "H40.101",
        "000.07.01.H40",
        "000.16.01.H40",
        "000.18.01.H40",
    ]


def official(official_id: str, *roles: str, active: bool = True) -> dict[str, Any]:
    return {"id": official_id, "roles": list(roles), "active": active}


def test_only_missing_roles_are_added_with_simulator_ids_and_vietnamese_names() -> None:
    complete = [official("a", "receiving"), official("b", "specialist", "leader")]
    assert missing_officials("H40.101", complete) == []

    added = missing_officials("000.16.01.H40", [official("vpdkdd.chuyenvien1", "specialist")])
    assert [row["id"] for row in added] == ["sim.000.16.01.H40.receiving", "sim.000.16.01.H40.leader"]
    assert all(row["name"].split()[0] in FAMILY and row["unit"] == "000.16.01.H40" for row in added)
    assert all(row["fields"] == [] and row["areas"] == [] and len(row["roles"]) == 1 for row in added)
    assert added == missing_officials("000.16.01.H40", [official("vpdkdd.chuyenvien1", "specialist")])


def test_an_inactive_official_does_not_count_and_an_existing_simulator_id_is_kept() -> None:
    officials = [official("old", *STAFFED_ROLES, active=False), official("sim.H40.101.leader", "leader", active=False)]
    assert [row["id"] for row in missing_officials("H40.101", officials)] == [
        "sim.H40.101.receiving",
        "sim.H40.101.specialist",
    ]


class FakeRouting:
    """Routing's officials API and the issuer, as far as staffing uses them."""

    def __init__(self) -> None:
        self.officials: dict[str, dict[str, Any]] = {
            "h40101.tiepnhan1": {"name": "Trần Thị Thu", "unit": "H40.101", "roles": ["receiving"], "active": True},
            "h40101.hotich": {"name": "Phạm Thị Lan", "unit": "H40.101", "roles": ["specialist"], "active": True},
            "h40101.chutich": {"name": "Hoàng Văn Nam", "unit": "H40.101", "roles": ["leader"], "active": True},
        }
        self.writes: list[tuple[str, str]] = []  # (official acting, official written)
        self.pending: dict[str, tuple[str, str, dict[str, Any]]] = {}  # role changes: (asker, official, record)
        self.confirmed: list[tuple[str, str, str]] = []  # (asker, confirmer, official)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "issuer":
            username = dict(x.split("=") for x in request.content.decode().split("&"))["username"]
            return httpx.Response(200, json={"access_token": f"token-{username}", "expires_in": 3600})
        who = request.headers["authorization"].removeprefix("Bearer token-")
        if request.method == "GET" and request.url.path == "/officials":
            unit = request.url.params["unit"]
            rows = [{"id": key, **row} for key, row in self.officials.items() if row["unit"] == unit]
            return httpx.Response(200, json={"officials": rows})
        if request.method == "PUT" and request.url.path.startswith("/officials/"):
            official_id = request.url.path.removeprefix("/officials/")
            record = json.loads(request.content) | {"active": True}
            if "leader" in record["roles"]:  # routing's four eyes: a second administrator confirms
                change_id = f"change-{len(self.pending) + len(self.confirmed) + 1}"
                self.pending[change_id] = (who, official_id, record)
                return httpx.Response(202, json={"id": change_id, "status": "pending"})
            self.officials[official_id] = record
            self.writes.append((who, official_id))
            return httpx.Response(200, json={"id": official_id})
        if request.method == "POST" and request.url.path.endswith("/confirmation"):
            change_id = request.url.path.split("/")[2]
            asker, official_id, record = self.pending[change_id]
            if who == asker:
                return httpx.Response(403, json={"detail": "a second administrator must confirm it"})
            del self.pending[change_id]
            self.officials[official_id] = record
            self.writes.append((who, official_id))
            self.confirmed.append((asker, who, official_id))
            return httpx.Response(200, json={"id": official_id})
        return httpx.Response(404, json={"detail": "not found"})


def roster(fake: FakeRouting) -> tuple[Roster, httpx.AsyncClient]:
    client = httpx.AsyncClient(transport=httpx.MockTransport(fake))
    api = PlatformApi(client, "http://routing", "http://intake", "http://issuer")
    return Roster(api), client


async def test_staffing_adds_missing_officials_as_the_province_administrator_and_twice_changes_nothing() -> None:
    fake = FakeRouting()
    first, client = roster(fake)
    async with client:
        added = await first.staff(["H40.101", "H40.102"])
    assert sorted(added) == ["sim.H40.102.leader", "sim.H40.102.receiving", "sim.H40.102.specialist"]
    assert fake.writes == [
        ("h40.quantri", "sim.H40.102.receiving"),
        ("h40.quantri", "sim.H40.102.specialist"),
        ("h40.quantri2", "sim.H40.102.leader"),  # the leader role: asked by one, confirmed by another
    ]
    assert fake.confirmed == [("h40.quantri", "h40.quantri2", "sim.H40.102.leader")] and not fake.pending
    assert fake.officials["sim.H40.102.leader"]["roles"] == ["leader"]

    again, client = roster(fake)
    async with client:
        assert await again.staff(["H40.101", "H40.102"]) == []
    assert len(fake.writes) == 3


async def test_an_official_is_picked_from_the_unit_and_role_and_a_unit_is_staffed_when_first_needed() -> None:
    fake = FakeRouting()
    picker, client = roster(fake)
    async with client:
        assert await picker.pick("H40.101", "specialist", random.Random(1)) == "h40101.hotich"
        assert await picker.pick("H40.130", "leader", random.Random(1)) == "sim.H40.130.leader"
        assert await picker.pick("H40.101", "admin", random.Random(1)) is None
    assert [written for _, written in fake.writes] == [
        "sim.H40.130.receiving",
        "sim.H40.130.specialist",
        "sim.H40.130.leader",
    ]
