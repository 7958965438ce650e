"""Withdrawal: routing owns the processing status, so it alone grants the owner's request
(until the dossier is decided) or declines it; never both withdrawn and approved."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from motcua_contracts import (
    DossierApproved,
    DossierStepStarted,
    DossierWithdrawalDeclined,
    DossierWithdrawn,
    PaymentRequested,
)

from services.runtime import utcnow

from .routing_support import SUPPLEMENT, Routing

T = TypeVar("T")


async def test_an_undecided_dossier_is_withdrawn_and_its_holder_released(routing: Routing) -> None:
    code = "H40.101-261124-0501"
    await routing.receive(code, fee_vnd=20000)
    await routing.deliver(PaymentRequested(dossier_code=code, reference="PAY-1", amount_vnd=20000, gateway="sandbox"))
    reception = await routing.officer("h40101.tiepnhan1")
    await reception.post(f"/dossiers/{code}/claim")
    await reception.post(f"/dossiers/{code}/forward")
    assert (await reception.dossier(code))["status"] == "waiting_for_payment"  # not decided: it may go
    await routing.emitted()

    requested_at = utcnow()
    await routing.withdrawal(code, requested_at)
    [withdrawn] = await routing.emitted()
    assert isinstance(withdrawn, DossierWithdrawn)
    assert (withdrawn.reason, withdrawn.requested_at) == ("Không cần nữa", requested_at)
    assert withdrawn.withdrawn_at >= requested_at
    stored = await routing.state(code)
    assert (stored["status"], stored["holder"], stored["alarm_at"]) == ("withdrawn", None, None)
    specialist = await routing.officer("h40101.vanhoa")
    workloads = {o["id"]: o["open"] for o in (await specialist.get("/officials")).json()["officials"]}
    assert workloads["h40101.vanhoa"] == 0
    refused = await specialist.post(f"/dossiers/{code}/forward")
    assert refused.status_code == 409 and "withdrawn" in refused.text

    await routing.withdrawal(code)  # asked again: nothing left to withdraw
    [declined] = await routing.emitted()
    assert isinstance(declined, DossierWithdrawalDeclined)
    assert (declined.status, declined.reason) == ("withdrawn", "the dossier was already withdrawn")


async def test_a_dossier_waiting_for_a_supplement_may_be_withdrawn(routing: Routing) -> None:
    code = "H40.101-261124-0502"
    await routing.receive(code)
    reception, specialist = (await routing.officers("h40101.tiepnhan1", "h40101.vanhoa")).values()
    await reception.post(f"/dossiers/{code}/claim")
    await reception.post(f"/dossiers/{code}/forward")
    await specialist.post(f"/dossiers/{code}/supplement-request", SUPPLEMENT)
    await routing.emitted()
    await routing.withdrawal(code)
    assert [type(e) for e in await routing.emitted()] == [DossierWithdrawn]
    assert (await routing.state(code))["status"] == "withdrawn"


async def test_a_request_before_the_dossier_reached_routing_is_granted_and_the_workflow_never_starts(
    routing: Routing,
) -> None:
    code = "H40.101-261124-0503"
    await routing.withdrawal(code)
    [withdrawn] = await routing.emitted()
    assert isinstance(withdrawn, DossierWithdrawn)
    await routing.receive(code)
    assert await routing.emitted() == []  # no step started
    reception = await routing.officer("h40101.tiepnhan1")
    seen = await reception.dossier(code)
    assert (seen["status"], seen["step"], seen["holder_unit"]) == ("withdrawn", None, None)
    assert (await reception.post(f"/dossiers/{code}/claim")).status_code == 404
    assert (await reception.get("/queue")).json()["count"] == 0


async def test_a_decided_dossier_is_kept_and_the_request_declined(routing: Routing) -> None:
    approved, refused = "H40.101-261124-0504", "H40.101-261124-0505"
    leader = await routing.to_approval(approved)
    await routing.digitised_and_free(approved)
    await leader.post(f"/dossiers/{approved}/approval")
    before = await routing.state(approved)
    await routing.emitted()
    await routing.withdrawal(approved)
    [declined] = await routing.emitted()
    assert isinstance(declined, DossierWithdrawalDeclined)
    assert (declined.status, declined.reason) == ("signing", "the result was already approved")
    assert await routing.state(approved) == before  # nothing changed
    await routing.signed(approved)
    assert (await routing.state(approved))["status"] == "resolved"

    await routing.receive(refused)
    reception = await routing.officer("h40101.tiepnhan1")
    await reception.post(f"/dossiers/{refused}/claim")
    await reception.post(f"/dossiers/{refused}/forward")
    await (await routing.officer("h40101.vanhoa")).post(f"/dossiers/{refused}/refusal", {"reason": "Không đủ"})
    await routing.emitted()
    await routing.withdrawal(refused)
    [declined] = await routing.emitted()
    assert (declined.status, declined.reason) == ("refused", "the dossier was already refused")


async def after(seconds: float, work: Awaitable[T]) -> T:
    """`work`, started `seconds` later (to shift which of the two goes first)."""
    await asyncio.sleep(seconds)
    return await work


async def test_an_approval_racing_a_withdrawal_never_ends_both(routing: Routing) -> None:
    outcomes = []
    for number, delay in enumerate((0, 0, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.2, 0.5)):
        code = f"H40.101-261124-06{number:02d}"
        leader = await routing.to_approval(code)
        await routing.digitised_and_free(code)
        await routing.emitted()
        approval, _ = await asyncio.gather(
            leader.post(f"/dossiers/{code}/approval"), after(delay, routing.withdrawal(code))
        )
        kinds = {type(e) for e in await routing.emitted()}
        status = (await routing.state(code))["status"]
        if approval.status_code == 200:
            assert DossierWithdrawalDeclined in kinds and DossierWithdrawn not in kinds and status == "signing"
            assert DossierApproved in kinds and DossierStepStarted in kinds
        else:
            assert approval.status_code == 409 and "withdrawn" in approval.text, approval.text
            assert kinds == {DossierWithdrawn} and status == "withdrawn"
        outcomes.append(approval.status_code)
    assert set(outcomes) == {200, 409}, outcomes  # both orders happened
