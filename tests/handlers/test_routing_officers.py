"""Who may do what to a dossier, and when: every officer action's 403s, 409s and 422s."""

from __future__ import annotations

from motcua_contracts import DossierAssigned, DossierRefused, DossierSupplementRequested

from .routing_support import SUPPLEMENT, Routing


async def test_claiming_is_for_the_unit_the_role_and_an_unheld_step(routing: Routing) -> None:
    code = "H40.101-261124-0101"
    await routing.receive(code)
    team = await routing.officers("h40101.tiepnhan1", "h40101.tiepnhan2", "h40101.vanhoa", "h40102.tiepnhan1")
    reception, colleague, specialist, outsider = team.values()
    refused = await outsider.post(f"/dossiers/{code}/claim")
    assert refused.status_code == 403 and "held by unit H40.101, not yours" in refused.text
    refused = await specialist.post(f"/dossiers/{code}/claim")
    assert refused.status_code == 403 and "for the receiving role" in refused.text
    assert (await reception.post(f"/dossiers/{code}/claim")).status_code == 200
    refused = await colleague.post(f"/dossiers/{code}/claim")
    assert refused.status_code == 409 and "already held by h40101.tiepnhan1" in refused.text
    assert (await reception.post("/dossiers/H40.101-261124-9999/claim")).status_code == 404


async def test_forwarding_is_for_the_holder_of_a_forward_step(routing: Routing) -> None:
    code = "H40.101-261124-0102"
    await routing.receive(code)
    reception, colleague = (await routing.officers("h40101.tiepnhan1", "h40101.tiepnhan2")).values()
    unclaimed = await reception.post(f"/dossiers/{code}/forward")
    assert unclaimed.status_code == 409 and "claim it first" in unclaimed.text
    await reception.post(f"/dossiers/{code}/claim")
    assert (await colleague.post(f"/dossiers/{code}/forward")).status_code == 403
    wrong = await reception.post(f"/dossiers/{code}/forward", {"to": "h40101.tiepnhan2"})
    assert wrong.status_code == 422 and "not an active specialist of unit H40.101" in wrong.text
    chosen = await reception.post(f"/dossiers/{code}/forward", {"to": "h40101.hotich"})
    assert chosen.status_code == 200 and chosen.json()["holder"] == "h40101.hotich"  # not the field's specialist

    leader = await routing.to_approval("H40.101-261124-0103")
    at_approval = await leader.post("/dossiers/H40.101-261124-0103/forward")
    assert at_approval.status_code == 409 and "ends with approve" in at_approval.text


async def test_a_supplement_request_pauses_the_dossier_once(routing: Routing) -> None:
    code = "H40.101-261124-0104"
    await routing.receive(code)
    reception, specialist = (await routing.officers("h40101.tiepnhan1", "h40101.vanhoa")).values()
    await reception.post(f"/dossiers/{code}/claim")
    await reception.post(f"/dossiers/{code}/forward")
    await routing.emitted()
    assert (await reception.post(f"/dossiers/{code}/supplement-request", SUPPLEMENT)).status_code == 403
    sent_back = await specialist.post(f"/dossiers/{code}/supplement-request", SUPPLEMENT)
    assert sent_back.status_code == 201, sent_back.text
    assert sent_back.json()["status"] == "waiting_for_supplement" and "supplement" in sent_back.json()["waiting_for"]
    assert sent_back.json()["form"] == f"/dossiers/{code}/forms/supplement-request.pdf"
    [requested] = await routing.emitted()
    assert isinstance(requested, DossierSupplementRequested) and requested.unit == "H40.101"
    assert requested.requested_by == "Đặng Thị Hoa" and requested.documents == SUPPLEMENT["documents"]
    again = await specialist.post(f"/dossiers/{code}/supplement-request", SUPPLEMENT)
    assert again.status_code == 409 and "waiting for a supplement" in again.text
    assert (await specialist.post(f"/dossiers/{code}/forward")).status_code == 409


async def test_refusal_is_for_a_specialist_or_leader_holding_the_step_and_ends_the_dossier(routing: Routing) -> None:
    code = "H40.101-261124-0105"
    await routing.receive(code)
    reception, specialist = (await routing.officers("h40101.tiepnhan1", "h40101.vanhoa")).values()
    await reception.post(f"/dossiers/{code}/claim")
    by_reception = await reception.post(f"/dossiers/{code}/refusal", {"reason": "Không đủ điều kiện"})
    assert by_reception.status_code == 403 and "only a specialist or a leader refuses" in by_reception.text
    await reception.post(f"/dossiers/{code}/forward")
    await routing.emitted()
    refused = await specialist.post(f"/dossiers/{code}/refusal", {"reason": "Không đủ điều kiện"})
    assert refused.status_code == 200 and refused.json()["status"] == "refused", refused.text
    assert refused.json()["holder"] is None and refused.json()["waiting_for"] == []
    [event] = await routing.emitted()
    assert isinstance(event, DossierRefused) and (event.refused_by, event.unit) == ("Đặng Thị Hoa", "H40.101")
    assert (await specialist.post(f"/dossiers/{code}/forward")).status_code == 409
    assert (await specialist.post(f"/dossiers/{code}/refusal", {"reason": "Lần nữa"})).status_code == 409
    workloads = {o["id"]: o["open"] for o in (await specialist.get("/officials")).json()["officials"]}
    assert workloads["h40101.vanhoa"] == 0


async def test_only_the_leader_holding_the_approval_step_approves(routing: Routing) -> None:
    code = "H40.101-261124-0106"
    leader = await routing.to_approval(code)
    await routing.digitised_and_free(code)
    other_leader = await routing.officer("h40101.phochutich" if leader.id == "h40101.chutich" else "h40101.chutich")
    team = await routing.officers("h40101.vanhoa", "h40102.chutich")
    specialist, foreign_leader = team.values()
    refused = await specialist.post(f"/dossiers/{code}/approval")
    assert refused.status_code == 403 and "only a leader approves" in refused.text
    assert (await foreign_leader.post(f"/dossiers/{code}/approval")).status_code == 403
    held = await other_leader.post(f"/dossiers/{code}/approval")
    assert held.status_code == 403 and f"held by {leader.id}" in held.text
    assert (await leader.post(f"/dossiers/{code}/approval")).status_code == 200
    again = await leader.post(f"/dossiers/{code}/approval")
    assert again.status_code == 409 and "ends with sign" in again.text
    assert (await leader.post(f"/dossiers/{code}/claim")).status_code == 409  # the sign step is nobody's


async def test_only_a_receiving_officer_returns_and_only_a_signed_result(routing: Routing) -> None:
    code = "H40.101-261124-0107"
    leader = await routing.to_approval(code)
    await routing.digitised_and_free(code)
    reception = await routing.officer("h40101.tiepnhan2")
    # the dossier is with the commune's leader at the approval step, not at the return step
    early = await reception.post(f"/dossiers/{code}/return")
    assert early.status_code == 409 and "ends with approve" in early.text
    await leader.post(f"/dossiers/{code}/approval")
    await routing.signed(code)
    by_leader = await leader.post(f"/dossiers/{code}/return")
    assert by_leader.status_code == 403 and "only a receiving officer returns results" in by_leader.text
    assert (await reception.post(f"/dossiers/{code}/return")).status_code == 200


async def test_a_leader_reassigns_to_an_official_of_the_unit_with_the_role(routing: Routing) -> None:
    code = "H40.102-261124-0108"
    await routing.receive(code)
    team = await routing.officers("h40102.tiepnhan1", "h40102.tiepnhan2", "h40102.chutich", "h40101.chutich")
    a, b, leader, foreign_leader = team.values()
    await a.post(f"/dossiers/{code}/claim")
    await routing.emitted()
    by_peer = await a.post(f"/dossiers/{code}/reassignment", {"to": b.id})
    assert by_peer.status_code == 403 and "only a leader" in by_peer.text
    assert (await foreign_leader.post(f"/dossiers/{code}/reassignment", {"to": b.id})).status_code == 403
    wrong_role = await leader.post(f"/dossiers/{code}/reassignment", {"to": "h40102.hotich"})
    assert wrong_role.status_code == 422 and "receiving" in wrong_role.text
    other_unit = await leader.post(f"/dossiers/{code}/reassignment", {"to": "h40101.tiepnhan1"})
    assert other_unit.status_code == 422
    before = {o["id"]: o["open"] for o in (await leader.get("/officials")).json()["officials"]}
    moved = await leader.post(f"/dossiers/{code}/reassignment", {"to": b.id})
    assert moved.status_code == 200 and moved.json()["holder"] == b.id
    after = {o["id"]: o["open"] for o in (await leader.get("/officials")).json()["officials"]}
    assert (after[b.id], after[a.id]) == (before[b.id] + 1, before[a.id] - 1)
    [assigned] = await routing.emitted()
    assert isinstance(assigned, DossierAssigned) and (assigned.holder, assigned.assigned_by) == (b.id, leader.id)
    assert (await a.post(f"/dossiers/{code}/forward")).status_code == 403  # no longer the holder


async def test_automatic_assignment_balances_the_workload(routing: Routing) -> None:
    reception = await routing.officer("vpdkdd.chuyenvien1")  # the department has two land specialists
    holders = []
    for number in range(4):
        code = f"H40.101-261124-02{number:02d}"
        await routing.receive(
            code,
            field="Đất đai",
            level="province",
            competent_authority="Văn phòng đăng ký đất đai",
            workflow="province-department",
        )
        commune_reception = await routing.officer("h40101.tiepnhan1")
        await commune_reception.post(f"/dossiers/{code}/claim")
        holders.append((await commune_reception.post(f"/dossiers/{code}/forward")).json()["holder"])
    assert sorted(holders) == ["vpdkdd.chuyenvien1"] * 2 + ["vpdkdd.chuyenvien2"] * 2
    workloads = {o["id"]: o["open"] for o in (await reception.get("/officials")).json()["officials"]}
    assert (workloads["vpdkdd.chuyenvien1"], workloads["vpdkdd.chuyenvien2"]) == (2, 2)
