"""What officials may read: tokens, their unit's queue, dossiers routed through their unit,
the audit trail of every attempt."""

from __future__ import annotations

from datetime import timedelta

from services.runtime import utcnow

from .routing_support import Routing


async def test_requests_need_the_token_of_an_active_official(routing: Routing) -> None:
    assert (await routing.client.get("/queue")).status_code == 401
    forged = await routing.client.get("/queue", headers={"Authorization": "Bearer e30.e30.c2ln"})
    assert forged.status_code == 401 and forged.headers["www-authenticate"].startswith("Bearer")
    stranger = await routing.officer("nobody.known")
    refused = await stranger.get("/queue")
    assert refused.status_code == 403 and "not an active official" in refused.text
    [entry] = await routing.harness.documents.find("audit", {"official": "nobody.known"})
    assert (entry["action"], entry["outcome"]) == ("GET /queue", "forbidden")

    me = (await (await routing.officer("h40101.chutich")).get("/me")).json()
    assert me == {"id": "h40101.chutich", "name": "Hoàng Văn Nam", "unit": "H40.101", "roles": ["leader"]}
    admin = await routing.officer("h40101.quantri")
    retired = {"name": "Hoàng Văn Nam", "unit": "H40.101", "roles": ["leader"], "active": False}
    assert (await admin.put("/officials/h40101.chutich", retired)).status_code == 200
    assert (await (await routing.officer("h40101.chutich")).get("/me")).status_code == 403


async def test_a_dossier_is_seen_only_by_the_units_on_its_route(routing: Routing) -> None:
    code = "H40.101-261124-0301"
    await routing.receive(code)
    team = await routing.officers("h40101.tiepnhan1", "h40102.tiepnhan1", "vpdkdd.chuyenvien1")
    own, other_commune, department = team.values()
    seen = await own.dossier(code)
    assert seen["dossier_code"] == code and seen["receiving_unit"] == "H40.101" and seen["step"] == "receive"
    refused = await other_commune.get(f"/dossiers/{code}")
    assert refused.status_code == 403 and "not routed through your unit" in refused.text
    assert (await department.get(f"/dossiers/{code}")).status_code == 403
    assert (await own.get("/dossiers/H40.101-261124-9999")).status_code == 404
    assert (await other_commune.get("/audit", dossier=code)).status_code == 404
    assert (await other_commune.get(f"/dossiers/{code}/forms/refusal.pdf")).status_code == 404
    views = await routing.harness.documents.find("audit", {"action": "view"}, order=[("_id", 1)])
    assert [(e["official"], e["outcome"], e["dossier"]) for e in views] == [
        ("h40102.tiepnhan1", "forbidden", code),
        ("vpdkdd.chuyenvien1", "forbidden", code),
    ]


async def test_the_queue_filters_by_status_due_date_and_holder(routing: Routing) -> None:
    now = utcnow()
    await routing.receive("H40.102-261124-0302", received_at=now - timedelta(days=12), due_at=now - timedelta(hours=1))
    await routing.receive("H40.102-261124-0303", received_at=now - timedelta(days=6), due_at=now + timedelta(hours=2))
    await routing.receive("H40.102-261124-0304")  # due in 7 working days
    await routing.receive("H40.101-261124-0305")  # another commune's
    reception, colleague = (await routing.officers("h40102.tiepnhan1", "h40102.tiepnhan2")).values()
    await reception.post("/dossiers/H40.102-261124-0304/claim")

    async def codes(**filters: str) -> list[str]:
        answer = (await reception.get("/queue", **filters)).json()
        assert answer["unit"] == "H40.102" and answer["count"] == len(answer["dossiers"])
        return [d["dossier_code"] for d in answer["dossiers"]]

    everything = ["H40.102-261124-0302", "H40.102-261124-0303", "H40.102-261124-0304"]
    assert await codes() == everything  # the most urgent first
    assert await codes(due="overdue") == ["H40.102-261124-0302"]
    assert await codes(due="soon") == ["H40.102-261124-0303"]
    assert await codes(holder="me") == ["H40.102-261124-0304"]
    assert await codes(holder="none") == everything[:2]
    assert await codes(holder="h40102.tiepnhan1") == ["H40.102-261124-0304"]
    assert await codes(status="waiting_for_payment") == []
    assert await codes(limit="1") == everything[:1]
    assert [d["overdue"] for d in (await reception.get("/queue")).json()["dossiers"]] == [True, False, False]
    assert (await reception.get("/queue", due="later")).status_code == 422

    refused = await colleague.post("/dossiers/H40.102-261124-0302/refusal", {"reason": "Không đủ điều kiện"})
    assert refused.status_code == 409  # unassigned: claim it first
    await colleague.post("/dossiers/H40.102-261124-0302/claim")
    await routing.withdrawal("H40.102-261124-0303")
    assert await codes() == ["H40.102-261124-0302", "H40.102-261124-0304"]  # closed dossiers leave the queue


async def test_every_attempt_is_in_the_audit_trail_allowed_or_not(routing: Routing) -> None:
    code = "H40.101-261124-0306"
    leader = await routing.to_approval(code)
    team = await routing.officers("h40101.tiepnhan1", "h40101.tiepnhan2", "h40101.vanhoa", "h40102.hotich")
    reception, colleague, specialist, outsider = team.values()
    await colleague.post(f"/dossiers/{code}/claim")
    await outsider.post(f"/dossiers/{code}/forward")
    await specialist.post(f"/dossiers/{code}/approval")
    await leader.post(f"/dossiers/{code}/approval")  # waiting for digitisation and payment
    await routing.digitised_and_free(code)
    assert (await leader.post(f"/dossiers/{code}/approval")).status_code == 200

    trail = (await specialist.get("/audit", dossier=code)).json()["entries"]
    attempts = [(e["official"], e["action"], e["outcome"]) for e in trail]
    assert attempts == [  # newest first
        (leader.id, "approve", "allowed"),
        (leader.id, "approve", "conflict"),
        (specialist.id, "approve", "forbidden"),
        (outsider.id, "forward", "forbidden"),
        (colleague.id, "claim", "forbidden"),  # the approval step is for the leader role
        (specialist.id, "forward", "allowed"),
        (reception.id, "forward", "allowed"),
        (reception.id, "claim", "allowed"),
    ]
    approval = trail[0]
    assert approval["from"] == {"status": "processing", "step": "approve", "unit": "H40.101", "holder": leader.id}
    assert approval["to"]["step"] == "sign" and approval["roles"] == ["leader"] and approval["unit"] == "H40.101"
    assert "waiting for digitisation, payment" in trail[1]["detail"]
    assert [e["at"] for e in trail] == sorted((e["at"] for e in trail), reverse=True)

    unit_trail = (await leader.get("/audit")).json()["entries"]
    # the outsider's attempt is filed under the unit holding the dossier as well as under their own
    assert [(e["official"], e["unit"]) for e in unit_trail if e["outcome"] == "forbidden"] == [
        (specialist.id, "H40.101"),
        (outsider.id, "H40.102"),
        (colleague.id, "H40.101"),
    ]
    assert len(unit_trail) == 8 and all("H40.101" in e["units"] for e in unit_trail)
    outsiders_unit = (await routing.officer("h40102.chutich")).get("/audit")
    assert [e["official"] for e in (await outsiders_unit).json()["entries"]] == [outsider.id]
    only_leaders = await specialist.get("/audit")
    assert only_leaders.status_code == 403 and "only leaders and administrators" in only_leaders.text


async def test_the_audit_trail_comes_newest_first_a_page_at_a_time(routing: Routing) -> None:
    codes = [f"H40.101-261124-03{n:02}" for n in range(10, 13)]
    reception, leader = (await routing.officers("h40101.tiepnhan1", "h40101.chutich")).values()
    for code in codes:
        await routing.receive(code)
        await reception.post(f"/dossiers/{code}/claim")
    whole = (await leader.get("/audit")).json()
    assert [e["dossier"] for e in whole["entries"]] == codes[::-1] and whole["next"] is None

    first = (await leader.get("/audit", limit="2")).json()
    assert [e["dossier"] for e in first["entries"]] == codes[:0:-1] and first["next"] == first["entries"][-1]["id"]
    second = (await leader.get("/audit", limit="2", before=first["next"])).json()
    assert [e["dossier"] for e in second["entries"]] == codes[:1] and second["next"] is None

    await reception.post(f"/dossiers/{codes[0]}/forward")
    trail = (await reception.get("/audit", dossier=codes[0], limit="1")).json()
    assert [e["action"] for e in trail["entries"]] == ["forward"]
    rest = (await reception.get("/audit", dossier=codes[0], limit="1", before=trail["next"])).json()
    assert [e["action"] for e in rest["entries"]] == ["claim"] and rest["next"] is None
