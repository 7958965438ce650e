"""Routing's workflow from receipt to completion, through its real subscriber and HTTP app."""

from __future__ import annotations

import asyncio

from motcua_contracts import (
    DossierApproved,
    DossierAssigned,
    DossierCompleted,
    DossierDigitised,
    DossierStepStarted,
    DossierTransferred,
    PaymentCompleted,
    PaymentRequested,
)

from services.runtime import utcnow

from .routing_support import Routing


async def test_a_commune_dossier_from_receipt_to_its_result(routing: Routing) -> None:
    code = "H40.101-261124-0001"
    team = await routing.officers("h40101.tiepnhan1", "h40101.tiepnhan2", "h40101.hotich")
    reception, colleague, specialist = team.values()
    await routing.receive(code, field="Hộ tịch", fee_vnd=8000)
    [started] = await routing.emitted()
    assert isinstance(started, DossierStepStarted)
    assert (started.step, started.unit, started.holder, started.workflow_version) == ("receive", "H40.101", None, 1)

    first = await reception.dossier(code)
    assert first["holder"] is None and first["route"] == ["H40.101"] and first["status"] == "processing"
    assert first["workflow"] == {"template": "commune-standard", "scope": "*", "version": 1}
    assert code in [d["dossier_code"] for d in (await reception.get("/queue", holder="none")).json()["dossiers"]]

    assert (await reception.post(f"/dossiers/{code}/claim")).status_code == 200
    assert (await colleague.post(f"/dossiers/{code}/forward")).status_code == 403  # not the holder
    review = (await reception.post(f"/dossiers/{code}/forward")).json()
    assert review["step"] == "review" and review["holder"] == "h40101.hotich"  # by field: Hộ tịch
    to_leader = (await specialist.post(f"/dossiers/{code}/forward")).json()
    leader = await routing.officer(to_leader["holder"])
    assert to_leader["step"] == "approve" and leader.id in ("h40101.chutich", "h40101.phochutich")
    assert to_leader["waiting_for"] == ["digitisation", "payment"]

    # nothing arrived yet from digitisation and payment: an approval names what is missing
    blocked = await leader.post(f"/dossiers/{code}/approval")
    assert blocked.status_code == 409 and "waiting for digitisation, payment" in blocked.text
    await routing.deliver(PaymentRequested(dossier_code=code, reference="PAY-1", amount_vnd=8000, gateway="sandbox"))
    assert (await leader.dossier(code))["status"] == "waiting_for_payment"
    await routing.deliver(DossierDigitised(dossier_code=code, components=[], digitised_at=utcnow()))
    blocked = await leader.post(f"/dossiers/{code}/approval")
    assert blocked.status_code == 409 and "waiting for payment" in blocked.text
    paid = PaymentCompleted(
        dossier_code=code, reference="PAY-1", amount_vnd=8000, gateway_transaction="T1", paid_at=utcnow()
    )
    await routing.deliver(paid)
    await routing.emitted()

    approved = await leader.post(f"/dossiers/{code}/approval", {"result_title": "Giấy khai sinh"})
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "signing" and approved.json()["waiting_for"] == ["signature"]
    decision, signing = await routing.emitted()
    assert isinstance(decision, DossierApproved) and decision.result_title == "Giấy khai sinh"
    assert decision.competent_unit == "H40.101" and decision.approved_by == (await leader.get("/me")).json()["name"]
    assert isinstance(signing, DossierStepStarted) and signing.step == "sign" and signing.holder is None

    await routing.signed(code)
    returning = await colleague.dossier(code)
    assert returning["step"] == "return" and returning["status"] == "resolved" and returning["holder"] is None
    done = await colleague.post(f"/dossiers/{code}/return")  # taken from the pool by returning it
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "result_returned" and done.json()["outcome"] in ("early", "on_time")
    assert (await colleague.post(f"/dossiers/{code}/return")).status_code == 409
    *_, taken, completed = await routing.emitted()
    assert isinstance(taken, DossierAssigned) and taken.holder == colleague.id
    assert isinstance(completed, DossierCompleted) and completed.outcome == done.json()["outcome"]
    assert completed.result_code == f"{code}-KQ1" and not completed.apologised

    workloads = {o["id"]: o["open"] for o in (await leader.get("/officials")).json()["officials"]}
    assert set(workloads.values()) == {0}  # every holder released once the dossier is done


async def test_an_inter_agency_dossier_goes_to_the_department_and_back(routing: Routing) -> None:
    code = "H40.101-261124-0002"
    reception = await routing.officer("h40101.tiepnhan1")
    await routing.receive(
        code,
        procedure_code="1.004227",
        field="Đất đai",
        area="Thôn 4",
        level="inter_agency",
        competent_authority="Văn phòng đăng ký đất đai",
        workflow="inter-agency",
    )
    await reception.post(f"/dossiers/{code}/claim")
    review = (await reception.post(f"/dossiers/{code}/forward")).json()
    assert review["step"] == "commune-review" and review["holder"] == "h40101.diachinh2"  # land, area Thôn 4
    assert review["route"] == ["H40.101", "000.16.01.H40", "H40.101"] and review["competent_unit"] == "000.16.01.H40"
    commune_leader = (await (await routing.officer("h40101.diachinh2")).post(f"/dossiers/{code}/forward")).json()
    assert commune_leader["step"] == "commune-leader" and commune_leader["holder_unit"] == "H40.101"
    await routing.emitted()

    sent = await (await routing.officer(commune_leader["holder"])).post(f"/dossiers/{code}/forward")
    department = sent.json()
    assert department["holder_unit"] == "000.16.01.H40" and department["step"] == "review"
    assert department["holder"] in ("vpdkdd.chuyenvien1", "vpdkdd.chuyenvien2")
    transferred, started = await routing.emitted()
    assert isinstance(transferred, DossierTransferred) and (transferred.from_unit, transferred.to_unit) == (
        "H40.101",
        "000.16.01.H40",
    )
    assert isinstance(started, DossierStepStarted) and started.unit == "000.16.01.H40"

    # the commune still sees where its dossier is, but cannot act while the department holds it
    seen = await reception.dossier(code)
    assert seen["holder_unit"] == "000.16.01.H40"
    refused = await reception.post(f"/dossiers/{code}/forward")
    assert refused.status_code == 403 and "held by unit 000.16.01.H40" in refused.text
    director = await routing.officer("vpdkdd.giamdoc")
    workloads = {o["id"]: o["open"] for o in (await director.get("/officials")).json()["officials"]}
    assert workloads[department["holder"]] == 1

    approval = (await (await routing.officer(department["holder"])).post(f"/dossiers/{code}/forward")).json()
    assert approval["step"] == "approve" and approval["holder"] == "vpdkdd.giamdoc"
    await routing.digitised_and_free(code)
    assert (await director.post(f"/dossiers/{code}/approval")).status_code == 200
    await routing.emitted()
    await routing.signed(code)
    back, returning = await routing.emitted()
    assert isinstance(back, DossierTransferred) and (back.from_unit, back.to_unit) == ("000.16.01.H40", "H40.101")
    assert returning.step == "return" and returning.unit == "H40.101"
    assert (await reception.post(f"/dossiers/{code}/return")).status_code == 200
    approved = await routing.harness.outbox()
    assert next(e for e in approved if e.type == "dossier.approved").data["competent_unit"] == "000.16.01.H40"


async def test_of_two_officials_claiming_at_once_one_wins(routing: Routing) -> None:
    team = await routing.officers("h40102.tiepnhan1", "h40102.tiepnhan2")
    a, b = team.values()
    for number in range(1, 4):
        code = f"H40.102-261124-000{number}"
        await routing.receive(code)
        claims = await asyncio.gather(a.post(f"/dossiers/{code}/claim"), b.post(f"/dossiers/{code}/claim"))
        assert sorted(r.status_code for r in claims) == [200, 409], [r.text for r in claims]
        assert "already held by" in next(r for r in claims if r.status_code == 409).text
        winner = a if claims[0].status_code == 200 else b
        assert (await routing.state(code))["holder"] == winner.id
        assigned = await routing.emitted(DossierAssigned)
        assert [(e.holder, e.assigned_by) for e in assigned] == [(winner.id, winner.id)]


async def test_events_may_arrive_in_any_order(routing: Routing) -> None:
    code = "H40.101-261124-0003"
    await routing.digitised_and_free(code)  # before intake's own event reached routing
    assert await routing.emitted() == []
    assert (await routing.state(code))["status"] == "received"
    leader = await routing.to_approval(code)
    assert (await leader.dossier(code))["waiting_for"] == []
    assert (await leader.post(f"/dossiers/{code}/approval")).status_code == 200


async def test_a_competent_authority_without_a_unit_is_dead_lettered_with_the_reason(routing: Routing) -> None:
    code = "H40.101-261124-0004"
    await routing.receive(code, level="province", competent_authority="Sở Không Có", workflow="province-department")
    [(key, reason)] = routing.harness.dead_letters
    assert key == code.encode() and "no unit for competent authority 'Sở Không Có'" in reason
    assert await routing.state(code) == {} and await routing.emitted() == []
