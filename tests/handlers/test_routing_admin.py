"""Administration: a unit's workflow overrides (rules, who may, versions in flight, how soon
replicas use them) and its officials."""

from __future__ import annotations

import asyncio
from typing import Any

from motcua_contracts import OfficialUpdated

from services.routing.domain import Step
from services.routing.store import workflows

from .routing_support import Routing

OVERRIDE = "/workflows/commune-standard/units/H40.102"


def with_a_cross_check(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    check = {
        "id": "check",
        "name": "Kiểm tra chéo",
        "unit": "competent",
        "role": "specialist",
        "action": "forward",
        "assign": "pool",
        "share": 0.1,
    }
    return [steps[0] | {"share": 0.05}, steps[1] | {"share": 0.45}, check, *steps[2:]]


# A receiving officer an administrator adds to H40.101, with the contact notification alerts them at.
NEWCOMER = {
    "name": "Ngô Văn Mới",
    "unit": "H40.101",
    "roles": ["receiving"],
    "fields": [],
    "areas": [],
    "email": "moi.nv@h40101.gov.vn",
    "phone": "0912000999",
}


async def test_a_unit_overrides_a_workflow_and_dossiers_in_flight_keep_their_version(routing: Routing) -> None:
    team = await routing.officers("h40102.quantri", "h40102.tiepnhan1", "h40101.quantri", "h40.quantri")
    admin, reception, other_admin, province_admin = team.values()
    in_flight = "H40.102-261124-0701"
    await routing.receive(in_flight)
    [template] = (await admin.get("/workflows/commune-standard")).json()["versions"]
    assert (template["unit"], template["version"]) == ("*", 1)
    steps = template["steps"]
    own = with_a_cross_check(steps)

    breaking = [s | {"role": "specialist"} if s["action"] == "approve" else s for s in steps]
    refused = await admin.put(OVERRIDE, {"name": "x", "steps": breaking})
    assert refused.status_code == 422 and "only a leader approves" in refused.text
    assert refused.json()["detail"]["message"] == "the workflow breaks the rules"
    assert (await other_admin.put(OVERRIDE, {"name": "x", "steps": own})).status_code == 403
    assert (await reception.put(OVERRIDE, {"name": "x", "steps": own})).status_code == 403
    assert (await admin.put("/workflows/no-such/units/H40.102", {"name": "x", "steps": own})).status_code == 404
    assert (
        await province_admin.put("/workflows/commune-standard/units/X.999", {"name": "x", "steps": own})
    ).status_code == 404

    saved = await admin.put(OVERRIDE, {"name": "Xã An Hòa: kiểm tra chéo", "steps": own})
    assert saved.status_code == 201, saved.text
    assert (saved.json()["unit"], saved.json()["version"], saved.json()["created_by"]) == ("H40.102", 1, admin.id)
    fresh = "H40.102-261124-0702"
    await routing.receive(fresh)  # saved in this process: used at once
    assert (await reception.dossier(fresh))["workflow"] == {
        "template": "commune-standard",
        "scope": "H40.102",
        "version": 1,
    }
    assert (await reception.dossier(in_flight))["workflow"] == {
        "template": "commune-standard",
        "scope": "*",
        "version": 1,
    }
    specialist = await routing.officer("h40102.vanhoa")  # field Cư trú
    for code in (in_flight, fresh):
        await reception.post(f"/dossiers/{code}/claim")
        assert (await reception.post(f"/dossiers/{code}/forward")).json()["holder"] == specialist.id
        after_review = (await specialist.post(f"/dossiers/{code}/forward")).json()
        assert after_review["step"] == ("check" if code == fresh else "approve")

    again = await province_admin.put(OVERRIDE, {"name": "Lần hai", "steps": own})
    assert again.status_code == 201 and again.json()["version"] == 2
    seen = (await province_admin.get("/workflows/commune-standard", unit="H40.102")).json()["versions"]
    assert [(v["unit"], v["version"]) for v in seen] == [("*", 1), ("H40.102", 1), ("H40.102", 2)]
    trail = await routing.harness.documents.find("audit", {"action": "override_workflow"}, order=[("_id", 1)])
    assert [(e["official"], e["outcome"]) for e in trail] == [
        (admin.id, "invalid"),
        (other_admin.id, "forbidden"),
        (reception.id, "forbidden"),
        (admin.id, "allowed"),
        (province_admin.id, "allowed"),
    ]


async def test_a_version_saved_by_another_replica_is_used_within_five_seconds(routing: Routing) -> None:
    reception = await routing.officer("h40102.tiepnhan1")

    async def scope_of(code: str) -> str:
        await routing.receive(code)
        return (await reception.dossier(code))["workflow"]["scope"]

    assert await scope_of("H40.102-261124-0711") == "*"
    template = await workflows.newest(routing.harness.documents, "commune-standard", "*")
    assert template is not None
    steps = [Step.model_validate(s) for s in with_a_cross_check([s.model_dump() for s in template.steps])]
    await workflows.save_version(routing.harness.documents, "commune-standard", "H40.102", "elsewhere", steps, "x")
    routing.ticks.advance(4.9)
    assert await scope_of("H40.102-261124-0712") == "*"  # this replica has not looked again yet
    routing.ticks.advance(0.1)
    assert await scope_of("H40.102-261124-0713") == "H40.102"


async def test_concurrent_saves_get_distinct_versions(routing: Routing) -> None:
    admin = await routing.officer("h40102.quantri")
    steps = (await admin.get("/workflows/commune-standard")).json()["versions"][0]["steps"]
    saves = await asyncio.gather(*(admin.put(OVERRIDE, {"name": f"v{n}", "steps": steps}) for n in range(3)))
    assert sorted(r.json()["version"] for r in saves) == [1, 2, 3]


async def test_administrators_manage_their_units_officials(routing: Routing) -> None:
    team = await routing.officers("h40101.quantri", "h40102.quantri", "h40.quantri", "h40101.tiepnhan1")
    admin, other_admin, province_admin, reception = team.values()
    listed = (await reception.get("/officials")).json()["officials"]
    assert {o["unit"] for o in listed} == {"H40.101"} and all(o["open"] == 0 for o in listed)
    assert (await reception.get("/officials", unit="H40.102")).status_code == 403
    assert (await province_admin.get("/officials", unit="H40.102")).status_code == 200

    newcomer = dict(NEWCOMER)
    assert (await reception.put("/officials/h40101.tiepnhan3", newcomer)).status_code == 403
    assert (await other_admin.put("/officials/h40101.tiepnhan3", newcomer)).status_code == 403
    added = await admin.put("/officials/h40101.tiepnhan3", newcomer)
    assert added.status_code == 200 and added.json() == {
        "id": "h40101.tiepnhan3",
        **newcomer,
        "active": True,
        "open": 0,
    }
    # announced for notification, the contact sealed
    [announced] = [e for e in await routing.harness.emitted(OfficialUpdated) if e.dossier_code == "h40101.tiepnhan3"]
    assert announced.unit == "H40.101" and announced.roles == ["receiving"] and announced.contact is not None
    contact = routing.harness.context.personal.open_official(announced.contact, "h40101.tiepnhan3")
    assert (contact.name, contact.email, contact.phone) == ("Ngô Văn Mới", "moi.nv@h40101.gov.vn", "0912000999")
    assert "0912000999" not in announced.model_dump_json()
    assert (await (await routing.officer("h40101.tiepnhan3")).get("/me")).json()["unit"] == "H40.101"
    bad_role = await admin.put("/officials/h40101.tiepnhan3", newcomer | {"roles": ["mayor"]})
    assert bad_role.status_code == 422

    code = "H40.101-261124-0721"
    await routing.receive(code)
    await reception.post(f"/dossiers/{code}/claim")
    kept = await admin.put("/officials/h40101.tiepnhan1", newcomer | {"name": "Trần Thị Thu", "areas": ["Thôn 1"]})
    assert kept.json()["open"] == 1 and kept.json()["areas"] == ["Thôn 1"]  # the workload is kept
    moved = await other_admin.put("/officials/h40101.tiepnhan1", newcomer | {"unit": "H40.102"})
    assert moved.status_code == 403  # moving an official out needs their unit's administrator too
    assert (await province_admin.put("/officials/h40101.tiepnhan2", newcomer | {"unit": "H40.102"})).status_code == 200


async def test_a_new_official_is_assigned_work_at_once_here_and_within_five_seconds_elsewhere(
    routing: Routing,
) -> None:
    admin, reception = (await routing.officers("h40101.quantri", "h40101.tiepnhan1")).values()

    async def reviewer(code: str) -> str:
        await routing.receive(code)  # field Cư trú
        await reception.post(f"/dossiers/{code}/claim")
        return (await reception.post(f"/dossiers/{code}/forward")).json()["holder"]

    assert await reviewer("H40.101-261124-0731") == "h40101.vanhoa"
    residence = {"name": "Lý Thị Cư", "unit": "H40.101", "roles": ["specialist"], "fields": ["Cư trú"]}
    assert (await admin.put("/officials/h40101.cutru", residence)).status_code == 200
    assert await reviewer("H40.101-261124-0732") == "h40101.cutru"  # the least busy of the field

    # another replica adds one more: this one assigns to them once its roster is five seconds old
    other = residence | {"_id": "h40101.cutru2", "active": True, "open": 0, "areas": []}
    await routing.harness.documents.insert("officials", [other])
    routing.ticks.advance(4.9)
    assert await reviewer("H40.101-261124-0733") != "h40101.cutru2"
    routing.ticks.advance(0.1)
    assert await reviewer("H40.101-261124-0734") == "h40101.cutru2"


LEADER_RECORD = {"name": "Hoàng Văn Nam", "unit": "H40.101", "roles": ["leader"], "fields": [], "areas": []}


async def test_no_one_grants_a_role_to_themself(routing: Routing) -> None:
    admin, province_admin = (await routing.officers("h40101.quantri", "h40.quantri")).values()
    own = {"name": "Quản trị xã", "unit": "H40.101", "fields": [], "areas": []}
    for roles in (["admin", "leader"], ["admin", "specialist"], ["admin", "receiving"]):
        refused = await admin.put("/officials/h40101.quantri", own | {"roles": roles})
        assert refused.status_code == 403 and "no one grants roles to themself" in refused.text
    moved = await province_admin.put("/officials/h40.quantri", own | {"unit": "H40.101", "roles": ["admin"]})
    assert moved.status_code == 403  # a move is a grant too: administrator of the commune
    assert (await admin.get("/me")).json()["roles"] == ["admin"]
    renamed = await admin.put("/officials/h40101.quantri", own | {"name": "Quản trị xã An Bình", "roles": ["admin"]})
    assert renamed.status_code == 200  # one's own name and fields, without a new role, are one's own business
    refusals = await routing.harness.documents.find("audit", {"action": "put_official", "outcome": "forbidden"})
    assert {e["official"] for e in refusals} == {admin.id, province_admin.id} and len(refusals) == 4


async def test_an_administrator_grants_itself_the_leader_role_and_then_approves_refused(routing: Routing) -> None:
    code = "H40.101-261124-0741"
    await routing.to_approval(code)
    await routing.digitised_and_free(code)
    admin = await routing.officer("h40101.quantri")
    grant = await admin.put("/officials/h40101.quantri", {**LEADER_RECORD, "roles": ["admin", "leader"]})
    assert grant.status_code == 403
    assert (await admin.post(f"/dossiers/{code}/approval")).status_code == 403
    assert (await admin.get("/me")).json()["roles"] == ["admin"]


async def test_the_leader_role_takes_a_second_administrator(routing: Routing) -> None:
    team = await routing.officers("h40101.quantri", "h40.quantri", "h40102.quantri", "h40101.hotich")
    admin, province_admin, other_unit_admin, specialist = team.values()
    promotion = {"name": "Phạm Thị Lan", "unit": "H40.101", "roles": ["specialist", "leader"], "fields": ["Hộ tịch"]}

    asked = await admin.put("/officials/h40101.hotich", promotion)
    assert asked.status_code == 202, asked.text
    change = asked.json()
    assert (change["status"], change["official"], change["requested_by"]) == ("pending", specialist.id, admin.id)
    assert change["before"]["roles"] == ["specialist"] and change["after"]["roles"] == ["specialist", "leader"]
    assert (await specialist.get("/me")).json()["roles"] == ["specialist"]  # nothing yet
    assert [c["id"] for c in (await province_admin.get("/role-changes", unit="H40.101")).json()["role_changes"]] == [
        change["id"]
    ]
    assert (await specialist.get("/role-changes")).status_code == 403

    confirm = f"/role-changes/{change['id']}/confirmation"
    by_asker = await admin.post(confirm)
    assert by_asker.status_code == 403 and "a second administrator must confirm" in by_asker.text
    assert (await specialist.post(confirm)).status_code == 403  # neither the official concerned
    assert (await other_unit_admin.post(confirm)).status_code == 403  # nor another unit's administrator
    assert (await specialist.get("/me")).json()["roles"] == ["specialist"]

    confirmed = await province_admin.post(confirm)
    assert confirmed.status_code == 200 and confirmed.json()["roles"] == ["specialist", "leader"]
    assert (await specialist.get("/me")).json()["roles"] == ["specialist", "leader"]
    again = await province_admin.post(confirm)
    assert again.status_code == 409 and "confirmed already" in again.text
    assert (await province_admin.get("/role-changes", unit="H40.101")).json()["role_changes"] == []

    trail = (await admin.get("/audit")).json()["entries"]
    steps = [e for e in trail if e.get("subject") == specialist.id and e["outcome"] == "allowed"]
    assert [e["action"] for e in steps] == ["confirm_role_change", "ask_role_change"]
    for entry in steps:
        assert entry["from"] == {"unit": "H40.101", "roles": ["specialist"], "active": True}
        assert entry["to"] == {"unit": "H40.101", "roles": ["specialist", "leader"], "active": True}
    assert steps[0]["role_change"] | {"id": None} == {
        "id": None,
        "status": "confirmed",
        "requested_by": admin.id,
        "decided_by": province_admin.id,
    }
    assert steps[1]["official"] == admin.id and steps[1]["role_change"]["decided_by"] is None
    refused = [e for e in trail if e["action"] == "confirm_role_change" and e["outcome"] != "allowed"]
    assert [(e["official"], e["outcome"]) for e in refused] == [
        (province_admin.id, "conflict"),
        (other_unit_admin.id, "forbidden"),
        (specialist.id, "forbidden"),
        (admin.id, "forbidden"),
    ]


async def test_lesser_roles_take_one_administrator_and_every_grant_is_audited_with_the_roles(routing: Routing) -> None:
    admin = await routing.officer("h40101.quantri")
    newcomer = dict(NEWCOMER)
    added = await admin.put("/officials/h40101.tiepnhan3", newcomer)
    assert added.status_code == 200 and added.json()["roles"] == ["receiving"]
    both = await admin.put("/officials/h40101.tiepnhan3", newcomer | {"roles": ["receiving", "specialist"]})
    assert both.status_code == 200 and both.json()["roles"] == ["receiving", "specialist"]
    [first, second] = await routing.harness.documents.find("audit", {"subject": "h40101.tiepnhan3"}, order=[("_id", 1)])
    assert (first["from"], first["to"]["roles"]) == (None, ["receiving"])
    assert (second["from"]["roles"], second["to"]["roles"]) == (["receiving"], ["receiving", "specialist"])


async def test_making_an_administrator_moving_a_leader_or_reactivating_one_takes_two(routing: Routing) -> None:
    admin, province_admin, second = (await routing.officers("h40101.quantri", "h40.quantri", "h40.quantri2")).values()
    new_admin = {"name": "Lý Văn Quản", "unit": "H40.101", "roles": ["admin"], "fields": [], "areas": []}
    asked = await province_admin.put("/officials/h40101.quantri2", new_admin)
    assert asked.status_code == 202 and asked.json()["before"] is None
    assert (await (await routing.officer("h40101.quantri2")).get("/me")).status_code == 403  # not yet an official
    assert (await second.post(asked.json()["confirm"])).status_code == 200
    assert (await (await routing.officer("h40101.quantri2")).get("/me")).json()["roles"] == ["admin"]

    moved = await province_admin.put("/officials/h40101.chutich", LEADER_RECORD | {"unit": "H40.102"})
    assert moved.status_code == 202  # a leader of another commune now
    retired = await admin.put("/officials/h40101.phochutich", LEADER_RECORD | {"active": False})
    assert retired.status_code == 200  # taking a role away takes one
    back = await admin.put("/officials/h40101.phochutich", LEADER_RECORD)
    assert back.status_code == 202

    stale = await admin.put("/officials/h40101.chutich", LEADER_RECORD | {"active": False})
    assert stale.status_code == 200
    late = await second.post(moved.json()["confirm"])
    assert late.status_code == 409 and "record changed since" in late.text  # confirmed what no longer is

    cancelled = await second.post(f"/role-changes/{back.json()['id']}/cancellation")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert (await province_admin.post(back.json()["confirm"])).status_code == 409
    assert (await province_admin.post("/role-changes/nothing/confirmation")).status_code == 404
