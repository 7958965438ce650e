"""Routing as the officers use it, against the real stack: tokens from the OIDC issuer,
the officer API over HTTP, workflow steps and transfers as events on Kafka.

The test stack runs routing's deadline watcher every half second; the deadline test
moves routing's clock by restarting it with a shifted clock, which also proves the
deadlines survive restarts."""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from motcua_contracts import DossierCompleted, Envelope, ResultSigned

from infra.dossiers import make_dossier
from infra.stack import Stack
from services.runtime.calendar import WorkCalendar

from .support import database, events, eventually, portal, told, wait_until
from .test_intake import pdf_text

pytestmark = pytest.mark.e2e


def restart_routing(stack: Stack, env: dict[str, str] | None = None) -> None:
    stack.stop("routing")
    stack.start_service("routing", env=env)
    stack.wait_ready("routing")


def deadline_sweeps(stack: Stack) -> int:
    """How many sweeps routing's deadline watcher has made since it started (from /metrics)."""
    metrics = httpx.get(f"{stack.service_url('routing')}/metrics", timeout=10).text
    for line in metrics.splitlines():
        if line.startswith("motcua_deadline_sweeps_total{"):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


async def after_two_sweeps(stack: Stack) -> None:
    """Wait until the watcher has looked twice since its (re)start and routing's outbox is
    empty: whatever was due has fired and been published."""
    await wait_until(lambda: deadline_sweeps(stack) >= 2, "two deadline sweeps")
    await wait_until(lambda: database(stack, "routing")["outbox"].count_documents({}) == 0, "routing's outbox")


class Officer:
    """An official with a token from the issuer, talking to routing over HTTP."""

    def __init__(self, stack: Stack, official_id: str) -> None:
        token = httpx.post(f"{stack.issuer_url}/token", data={"username": official_id}, timeout=10)
        token.raise_for_status()
        self.id = official_id
        self.client = httpx.AsyncClient(
            base_url=stack.service_url("routing"),
            headers={"Authorization": f"Bearer {token.json()['access_token']}"},
            timeout=30,
        )
        self.signing_url = stack.service_url("signing")

    async def sign(self, code: str) -> dict[str, Any]:
        """Sign the dossier's result, once signing has learnt of the approval."""
        response = await eventually(
            lambda: self.client.post(f"{self.signing_url}/signatures", json={"results": [f"{code}-KQ1"]}),
            lambda r: r.status_code == 200 and not r.json()["refused"],
            60,
        )
        assert response.status_code == 200 and response.json()["signed"], response.text
        return response.json()

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params)

    async def post(self, path: str, body: dict | None = None) -> httpx.Response:
        return await self.client.post(path, json=body or {})

    async def dossier(self, code: str) -> dict[str, Any]:
        response = await self.get(f"/dossiers/{code}")
        assert response.status_code == 200, response.text
        return response.json()

    async def at_step(self, code: str, step: str, timeout: float = 60) -> dict[str, Any]:
        """The dossier as the official sees it once it reached `step`."""
        response = await eventually(
            lambda: self.get(f"/dossiers/{code}"),
            lambda r: r.status_code == 200 and r.json()["step"] == step,
            timeout,
        )
        assert response.status_code == 200 and response.json()["step"] == step, f"{code}: {response.text}"
        return response.json()


def officers_of(stack: Stack, *ids: str) -> dict[str, Officer]:
    return {official_id: Officer(stack, official_id) for official_id in ids}


async def submit(stack: Stack, procedure_code: str, commune: str, seed: int, **extra: Any) -> str:
    async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as client:
        procedure = (await client.get(f"/procedures/{procedure_code}")).json()
        # online: its files are uploaded (a dossier on paper waits for its scans before approval)
        drawn = make_dossier(random.Random(seed), [procedure], [{"code": commune}], channel="online_partial")
        body = await portal(stack, drawn | extra)
        response = await client.post("/dossiers", json=body)
        assert response.status_code == 201, response.text
        return response.json()["dossier_code"]


async def routing_events(stack: Stack, code: str) -> list[Envelope]:
    return [e for e in await events(stack, DossierCompleted.TOPIC) if e.subject == code]


async def routing_history_until_completed(stack: Stack, code: str) -> list[Envelope]:
    """The dossier's events on routing's topic, once its completion is published (the relay follows the commit)."""
    return await eventually(
        lambda: routing_events(stack, code), lambda found: any(e.type == "dossier.completed" for e in found)
    )


def routing_state(stack: Stack, code: str) -> dict[str, Any]:
    return database(stack, "routing")["dossiers"].find_one({"_id": code}) or {}


async def test_officers_take_a_commune_dossier_from_receipt_to_result(stack: Stack) -> None:
    team = officers_of(
        stack,
        "h40101.tiepnhan1",
        "h40101.tiepnhan2",
        "h40101.hotich",
        "h40101.chutich",
        "h40101.phochutich",
        "h40102.hotich",
    )
    reception, colleague, specialist = team["h40101.tiepnhan1"], team["h40101.tiepnhan2"], team["h40101.hotich"]
    async with httpx.AsyncClient(base_url=stack.service_url("routing"), timeout=10) as anonymous:
        assert (await anonymous.get("/queue")).status_code == 401
        forged = await anonymous.get("/queue", headers={"Authorization": "Bearer e30.e30.c2ln"})
        assert forged.status_code == 401 and forged.headers["www-authenticate"].startswith("Bearer")
    code = await submit(stack, "1.001193", "H40.101", seed=41)  # birth registration: free, one working day

    first = await reception.at_step(code, "receive")
    assert first["holder"] is None and first["holder_unit"] == "H40.101" and first["route"] == ["H40.101"]
    assert first["workflow"] == {"template": "commune-standard", "scope": "*", "version": 1}
    queue = (await reception.get("/queue", holder="none")).json()
    assert code in [d["dossier_code"] for d in queue["dossiers"]]

    # two receiving officers claim at the same moment: exactly one wins
    claims = await asyncio.gather(reception.post(f"/dossiers/{code}/claim"), colleague.post(f"/dossiers/{code}/claim"))
    assert sorted(r.status_code for r in claims) == [200, 409], [r.text for r in claims]
    winner = reception if claims[0].status_code == 200 else colleague
    loser = colleague if winner is reception else reception
    assert "already held by" in next(r for r in claims if r.status_code == 409).text
    assert (await loser.post(f"/dossiers/{code}/forward")).status_code == 403  # not the holder

    forwarded = await winner.post(f"/dossiers/{code}/forward")
    assert forwarded.status_code == 200, forwarded.text
    review = forwarded.json()
    assert review["step"] == "review" and review["holder"] == "h40101.hotich"  # assigned by field (Hộ tịch)

    outsider = team["h40102.hotich"]  # a specialist of another commune
    assert (await outsider.get(f"/dossiers/{code}")).status_code == 403
    assert (await outsider.post(f"/dossiers/{code}/forward")).status_code == 403
    only_leaders = await specialist.post(f"/dossiers/{code}/approval")
    assert only_leaders.status_code == 403 and "only a leader approves" in only_leaders.text

    to_leader = await specialist.post(f"/dossiers/{code}/forward")
    assert to_leader.status_code == 200, to_leader.text
    leader_id = to_leader.json()["holder"]
    assert to_leader.json()["step"] == "approve" and leader_id in ("h40101.chutich", "h40101.phochutich")
    leader = team[leader_id]
    await wait_until(
        lambda: routing_state(stack, code).get("fee_settled") and routing_state(stack, code).get("digitised"),
        "fee and digitisation",
    )
    approved = await leader.post(f"/dossiers/{code}/approval")
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "signing" and approved.json()["waiting_for"] == ["signature"]
    await leader.sign(code)  # the leader's own signature, then the unit's seal

    returning = await reception.at_step(code, "return")  # the signature arrived as an event
    assert returning["status"] == "resolved" and returning["holder"] is None
    done = await colleague.post(f"/dossiers/{code}/return")
    assert done.status_code == 200, done.text
    assert done.json()["status"] == "result_returned" and done.json()["outcome"] in ("early", "on_time")
    again = await colleague.post(f"/dossiers/{code}/return")
    assert again.status_code == 409

    history = await routing_history_until_completed(stack, code)
    steps = [e.data["step"] for e in history if e.type == "dossier.step_started"]
    assert steps == ["receive", "review", "approve", "sign", "return"]
    completed = [e for e in history if e.type == "dossier.completed"]
    assert len(completed) == 1 and completed[0].data["outcome"] == done.json()["outcome"]
    assert not [e for e in history if e.type == "dossier.transferred"]  # one unit all along

    trail = (await leader.get("/audit", dossier=code)).json()["entries"]
    attempts = [(e["official"], e["action"], e["outcome"]) for e in trail]
    assert (winner.id, "claim", "allowed") in attempts and (loser.id, "claim", "conflict") in attempts
    assert (loser.id, "forward", "forbidden") in attempts
    assert ("h40102.hotich", "forward", "forbidden") in attempts
    assert ("h40102.hotich", "view", "forbidden") in attempts
    assert ("h40101.hotich", "approve", "forbidden") in attempts
    assert (leader_id, "approve", "allowed") in attempts
    approval = next(e for e in trail if e["action"] == "approve" and e["outcome"] == "allowed")
    assert approval["from"] == {"status": "processing", "step": "approve", "unit": "H40.101", "holder": leader_id}
    assert approval["to"]["step"] == "sign"
    assert [e["at"] for e in trail] == sorted((e["at"] for e in trail), reverse=True)  # newest first


async def test_claim_race_has_one_winner_every_time(stack: Stack) -> None:
    team = officers_of(stack, "h40102.tiepnhan1", "h40102.tiepnhan2")
    a, b = team.values()
    codes = [await submit(stack, "1.001193", "H40.102", seed=60 + i) for i in range(5)]
    for code in codes:
        await a.at_step(code, "receive")
        results = await asyncio.gather(a.post(f"/dossiers/{code}/claim"), b.post(f"/dossiers/{code}/claim"))
        assert sorted(r.status_code for r in results) == [200, 409], [r.text for r in results]
        holder = routing_state(stack, code)["holder"]
        assert holder == (a.id if results[0].status_code == 200 else b.id)

    async def assigned() -> list[str]:
        found = await events(stack, DossierCompleted.TOPIC)
        return [e.subject for e in found if e.type == "dossier.assigned" and e.subject in codes]

    # a leader moves a step to a colleague; nobody else may, and only to someone of the step's role
    leader = Officer(stack, "h40102.chutich")
    taken_by = routing_state(stack, codes[0])["holder"]
    other = b.id if taken_by == a.id else a.id
    by_peer = await (a if taken_by == a.id else b).post(f"/dossiers/{codes[0]}/reassignment", {"to": other})
    assert by_peer.status_code == 403 and "only a leader" in by_peer.text
    wrong_role = await leader.post(f"/dossiers/{codes[0]}/reassignment", {"to": "h40102.hotich"})
    assert wrong_role.status_code == 422 and "receiving" in wrong_role.text
    before = {o["id"]: o["open"] for o in (await leader.get("/officials")).json()["officials"]}
    moved = await leader.post(f"/dossiers/{codes[0]}/reassignment", {"to": other})
    assert moved.status_code == 200 and moved.json()["holder"] == other
    after = {o["id"]: o["open"] for o in (await leader.get("/officials")).json()["officials"]}
    assert after[other] == before[other] + 1 and after[taken_by] == before[taken_by] - 1

    found = await eventually(assigned, lambda found: len(found) >= len(codes) + 1)
    assert sorted(found) == sorted([*codes, codes[0]])  # each claim's winner, and the reassignment


async def test_inter_agency_dossier_goes_to_the_department_and_back(stack: Stack) -> None:
    team = officers_of(
        stack,
        "h40101.tiepnhan1",
        "h40101.diachinh2",
        "h40101.chutich",
        "h40101.phochutich",
        "vpdkdd.chuyenvien1",
        "vpdkdd.chuyenvien2",
        "vpdkdd.giamdoc",
    )
    reception = team["h40101.tiepnhan1"]
    code = await submit(stack, "1.004227", "H40.101", seed=77, area="Thôn 4")  # land: commune then land office
    await reception.at_step(code, "receive")
    assert (await reception.post(f"/dossiers/{code}/claim")).status_code == 200
    review = (await reception.post(f"/dossiers/{code}/forward")).json()
    assert review["step"] == "commune-review" and review["holder"] == "h40101.diachinh2"  # land, area Thôn 4
    assert review["route"] == ["H40.101", "000.16.01.H40", "H40.101"]
    leader_step = (await team["h40101.diachinh2"].post(f"/dossiers/{code}/forward")).json()
    assert leader_step["step"] == "commune-leader"
    transferred = await team[leader_step["holder"]].post(f"/dossiers/{code}/forward")
    assert transferred.status_code == 200, transferred.text
    department = transferred.json()
    assert department["holder_unit"] == "000.16.01.H40" and department["step"] == "review"
    assert department["holder"] in ("vpdkdd.chuyenvien1", "vpdkdd.chuyenvien2")

    # the commune still sees where its dossier is, but cannot act while the department holds it
    seen = await reception.dossier(code)
    assert seen["holder_unit"] == "000.16.01.H40" and seen["status"] in ("processing", "waiting_for_payment")
    assert (await reception.post(f"/dossiers/{code}/forward")).status_code == 403
    workloads = {o["id"]: o["open"] for o in (await team["vpdkdd.giamdoc"].get("/officials")).json()["officials"]}
    assert workloads[department["holder"]] >= 1

    approval = (await team[department["holder"]].post(f"/dossiers/{code}/forward")).json()
    assert approval["step"] == "approve" and approval["holder"] == "vpdkdd.giamdoc"
    await wait_until(lambda: routing_state(stack, code).get("fee_settled"), "the land fee to be paid")
    await wait_until(lambda: routing_state(stack, code).get("digitised"), "digitisation")
    assert (await team["vpdkdd.giamdoc"].post(f"/dossiers/{code}/approval")).status_code == 200
    await team["vpdkdd.giamdoc"].sign(code)
    back = await reception.at_step(code, "return")
    assert back["holder_unit"] == "H40.101"
    assert (await reception.post(f"/dossiers/{code}/return")).status_code == 200

    history = await routing_history_until_completed(stack, code)
    moves = [(e.data["from_unit"], e.data["to_unit"]) for e in history if e.type == "dossier.transferred"]
    assert moves == [("H40.101", "000.16.01.H40"), ("000.16.01.H40", "H40.101")]
    approved = next(e for e in history if e.type == "dossier.approved")
    assert approved.data["competent_unit"] == "000.16.01.H40"


async def test_a_unit_overrides_a_workflow_and_dossiers_in_flight_keep_their_version(stack: Stack) -> None:
    team = officers_of(stack, "h40102.quantri", "h40102.tiepnhan1", "h40102.hotich", "h40101.quantri", "h40.quantri")
    admin, reception = team["h40102.quantri"], team["h40102.tiepnhan1"]
    in_flight = await submit(stack, "1.001193", "H40.102", seed=90)
    await reception.at_step(in_flight, "receive")

    template = (await admin.get("/workflows/commune-standard")).json()["versions"][-1]
    steps = template["steps"]
    check = {
        "id": "check",
        "name": "Kiểm tra chéo",
        "unit": "competent",
        "role": "specialist",
        "action": "forward",
        "assign": "pool",
        "share": 0.1,
    }
    own = [steps[0] | {"share": 0.05}, steps[1] | {"share": 0.45}, check, *steps[2:]]
    breaking = [s | {"role": "specialist"} if s["action"] == "approve" else s for s in steps]
    refused = await admin.client.put("/workflows/commune-standard/units/H40.102", json={"name": "x", "steps": breaking})
    assert refused.status_code == 422 and "only a leader approves" in refused.text
    other_unit = await team["h40101.quantri"].client.put(
        "/workflows/commune-standard/units/H40.102", json={"name": "x", "steps": own}
    )
    assert other_unit.status_code == 403
    not_admin = await reception.client.put(
        "/workflows/commune-standard/units/H40.102", json={"name": "x", "steps": own}
    )
    assert not_admin.status_code == 403
    saved = await admin.client.put(
        "/workflows/commune-standard/units/H40.102", json={"name": "Xã An Hòa: kiểm tra chéo", "steps": own}
    )
    assert saved.status_code == 201, saved.text
    version = saved.json()["version"]
    assert saved.json()["unit"] == "H40.102" and version >= 1

    fresh = await submit(stack, "1.001193", "H40.102", seed=91)  # the replica that saved it uses it at once
    first = await reception.at_step(fresh, "receive")
    assert first["workflow"] == {"template": "commune-standard", "scope": "H40.102", "version": version}
    assert (await reception.dossier(in_flight))["workflow"] == {
        "template": "commune-standard",
        "scope": "*",
        "version": 1,
    }
    for code in (in_flight, fresh):
        assert (await reception.post(f"/dossiers/{code}/claim")).status_code == 200
        assert (await reception.post(f"/dossiers/{code}/forward")).status_code == 200
        after_review = (await team["h40102.hotich"].post(f"/dossiers/{code}/forward")).json()
        assert after_review["step"] == ("check" if code == fresh else "approve")
    other = (await team["h40.quantri"].get("/workflows/commune-standard", unit="H40.102")).json()["versions"]
    assert [(v["unit"], v["version"]) for v in other][-1] == ("H40.102", version)


async def test_supplement_request_and_refusal_with_their_forms(stack: Stack, tmp_path: Path) -> None:
    team = officers_of(stack, "h40101.tiepnhan1", "h40101.vanhoa", "h40101.chutich")
    reception, specialist = team["h40101.tiepnhan1"], team["h40101.vanhoa"]
    async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as intake:
        procedure = (await intake.get("/procedures/1.004194")).json()  # residence (Cư trú): 7 working days
        body = await portal(
            stack, make_dossier(random.Random(25), [procedure], [{"code": "H40.101"}], "online_partial")
        )
        receipt = (await intake.post("/dossiers", json=body)).json()
        code, owner = receipt["dossier_code"], body["applicant"]["phone"]
        token = {"token": receipt["access_token"]}  # the receipt's: the owner's requests need it
        await reception.at_step(code, "receive")
        await reception.post(f"/dossiers/{code}/claim")
        review = (await reception.post(f"/dossiers/{code}/forward")).json()
        assert review["holder"] == "h40101.vanhoa"
        document = procedure["components"][1]["name"]

        not_holder = await reception.post(
            f"/dossiers/{code}/supplement-request", {"documents": [document], "reason": "Giấy tờ chưa rõ"}
        )
        assert not_holder.status_code == 403
        sent_back = await specialist.post(
            f"/dossiers/{code}/supplement-request",
            {"documents": [document], "reason": "Giấy tờ chứng minh chỗ ở chưa rõ"},
        )
        assert sent_back.status_code == 201, sent_back.text
        assert sent_back.json()["status"] == "waiting_for_supplement"
        assert routing_state(stack, code)["alarm_at"] is None  # the clock is paused
        again = await specialist.post(f"/dossiers/{code}/supplement-request", {"documents": ["X"], "reason": "lần nữa"})
        assert again.status_code == 409
        form = await specialist.get(sent_back.json()["form"])
        assert form.status_code == 200
        (tmp_path / "supplement.pdf").write_bytes(form.content)
        text = pdf_text(tmp_path / "supplement.pdf")
        assert "PHIẾU YÊU CẦU BỔ SUNG, HOÀN THIỆN HỒ SƠ" in text and document in text and code in text

        # the citizen resubmits at intake once the request reached it
        supplement = {"owner": owner, "components": [{"name": document, "form": "paper"}]}

        resumed = await eventually(
            lambda: intake.post(f"/dossiers/{code}/supplement", params=token, json=supplement),
            lambda r: r.status_code != 409,
        )
        assert resumed.status_code == 200, resumed.text
        await wait_until(lambda: not routing_state(stack, code).get("waiting_for_supplement"), "the clock to resume")
        assert routing_state(stack, code)["alarm_at"] is not None
        assert (await specialist.dossier(code))["status"] in ("processing", "waiting_for_payment")

        refused = await specialist.post(
            f"/dossiers/{code}/refusal", {"reason": "Không đủ điều kiện đăng ký thường trú"}
        )
        assert refused.status_code == 200, refused.text
        assert refused.json()["status"] == "refused"
        form = await specialist.get(f"/dossiers/{code}/forms/refusal.pdf")
        (tmp_path / "refusal.pdf").write_bytes(form.content)
        text = pdf_text(tmp_path / "refusal.pdf")
        assert "PHIẾU TỪ CHỐI GIẢI QUYẾT HỒ SƠ" in text and "Không đủ điều kiện đăng ký thường trú" in text
        assert (await specialist.post(f"/dossiers/{code}/forward")).status_code == 409

        async def tracked() -> list[str]:
            found = (await intake.post("/api/track", json={"code": code, "owner": owner})).json()
            return [step["status"] for step in found["history"]]

        history = await eventually(tracked, lambda history: "Từ chối giải quyết hồ sơ" in history)
        for status in (
            "Yêu cầu bổ sung hồ sơ (tạm dừng thời hạn)",
            "Đã nhận hồ sơ bổ sung",
            "Từ chối giải quyết hồ sơ",
        ):
            assert status in history
        withdraw = await intake.post(
            f"/dossiers/{code}/withdrawal", params=token, json={"owner": owner, "reason": "Không cần nữa"}
        )
        assert withdraw.status_code == 409  # refused: nothing left to withdraw

    def citizen_told() -> list[str]:
        return [name for name in told(stack, code) if not name.startswith("payment_")]  # the fee's own aside

    await wait_until(
        lambda: citizen_told() == ["received", "refused", "supplement_requested"], "the citizen to be told"
    )


async def test_a_dossier_waiting_on_payment_shows_why_and_nothing_blocks(stack: Stack) -> None:
    team = officers_of(stack, "h40101.tiepnhan1", "h40101.vanhoa", "h40101.chutich", "h40101.phochutich")
    reception = team["h40101.tiepnhan1"]
    stack.stop("payment")
    try:
        code = await submit(stack, "1.004194", "H40.101", seed=120)  # carries a 20,000 VND fee
        await reception.at_step(code, "receive")
        await reception.post(f"/dossiers/{code}/claim")
        review = (await reception.post(f"/dossiers/{code}/forward")).json()
        to_leader = (await team[review["holder"]].post(f"/dossiers/{code}/forward")).json()
        assert to_leader["step"] == "approve" and "payment" in to_leader["waiting_for"]
        blocked = await team[to_leader["holder"]].post(f"/dossiers/{code}/approval")
        assert blocked.status_code == 409 and "waiting for" in blocked.text and "payment" in blocked.text
    finally:
        stack.start_service("payment")
        stack.wait_ready("payment")
    await wait_until(lambda: routing_state(stack, code).get("fee_settled"), "the fee to be paid", timeout=90)
    assert "payment" not in (await reception.dossier(code))["waiting_for"]
    await wait_until(lambda: routing_state(stack, code).get("digitised"), "digitisation")
    approved = await team[to_leader["holder"]].post(f"/dossiers/{code}/approval")
    assert approved.status_code == 200, approved.text


async def test_deadlines_survive_restarts_and_an_apology_is_allowed_once(stack: Stack) -> None:
    calendar = WorkCalendar()
    team = officers_of(stack, "h40101.tiepnhan1", "h40101.vanhoa", "h40101.chutich")
    reception, specialist = team["h40101.tiepnhan1"], team["h40101.vanhoa"]
    code = await submit(stack, "1.004194", "H40.101", seed=140)  # 7 working days
    await reception.at_step(code, "receive")
    await reception.post(f"/dossiers/{code}/claim")
    assert (await reception.post(f"/dossiers/{code}/forward")).json()["holder"] == "h40101.vanhoa"
    due = routing_state(stack, code)["due_at"].replace(tzinfo=UTC)

    def shifted_to(moment: datetime) -> dict[str, str]:
        return {"MOTCUA_CLOCK_SHIFT_S": str((moment - datetime.now(moment.tzinfo)).total_seconds())}

    async def alarms() -> list[tuple[str, str, str]]:
        found = await routing_events(stack, code)
        return [
            (e.type, e.data.get("scope", ""), e.data["due_at"])
            for e in found
            if e.type in ("dossier.due_soon", "dossier.overdue")
        ]

    async def wait_alarms(count: int) -> list[tuple[str, str, str]]:
        return await eventually(alarms, lambda found: len(found) >= count)

    # one working day before the due date: "due soon" (and the review step is past its budget)
    restart_routing(stack, shifted_to(calendar.working_day_before(due) + timedelta(minutes=5)))
    first = await wait_alarms(2)
    assert sorted((kind, scope) for kind, scope, _ in first) == [("dossier.due_soon", ""), ("dossier.overdue", "step")]
    soon = (await specialist.get("/queue", due="soon")).json()["dossiers"]
    assert code in [d["dossier_code"] for d in soon]

    # the apology with a new date, once
    new_date = calendar.postpone(due, 3)
    apology = await specialist.post(
        f"/dossiers/{code}/apology", {"reason": "Chờ xác minh thông tin cư trú", "new_due_at": new_date.isoformat()}
    )
    assert apology.status_code == 201, apology.text
    assert apology.json()["new_due_at"] == new_date.isoformat()
    twice = await specialist.post(
        f"/dossiers/{code}/apology", {"reason": "Lần nữa", "new_due_at": calendar.postpone(due, 5).isoformat()}
    )
    assert twice.status_code == 409 and "once" in twice.text
    form = await specialist.get(f"/dossiers/{code}/forms/apology.pdf")
    assert form.status_code == 200 and form.content.startswith(b"%PDF")

    # past the original due date but before the new one: no dossier alarm; restarting changes nothing
    restart_routing(stack, shifted_to(due + timedelta(hours=1)))
    await after_two_sweeps(stack)
    assert len(await alarms()) == 2
    # past the new date: overdue, once, however often routing restarts
    restart_routing(stack, shifted_to(new_date + timedelta(minutes=5)))
    after = await wait_alarms(3)
    restart_routing(stack, shifted_to(new_date + timedelta(minutes=10)))
    await after_two_sweeps(stack)
    assert await alarms() == after
    overdue = [a for a in after if a[0] == "dossier.overdue" and a[1] == "dossier"]
    assert len(overdue) == 1
    assert (await specialist.get("/queue", due="overdue")).json()["count"] >= 1
    restart_routing(stack)  # back to the real clock


async def test_a_withdrawal_racing_an_approval_ends_one_way_or_the_other_never_both(stack: Stack) -> None:
    team = officers_of(stack, "h40101.tiepnhan1", "h40101.hotich", "h40101.chutich", "h40101.phochutich")
    reception, specialist = team["h40101.tiepnhan1"], team["h40101.hotich"]
    owners: dict[str, str] = {}
    tokens: dict[str, str] = {}  # each receipt's access token: the owner's withdrawal needs it
    leaders: dict[str, Officer] = {}
    async with httpx.AsyncClient(base_url=stack.service_url("intake"), timeout=30) as intake:
        procedure = (await intake.get("/procedures/1.001193")).json()  # birth registration: no fee
        for i in range(4):
            drawn = make_dossier(random.Random(150 + i), [procedure], [{"code": "H40.101"}], "online_partial")
            body = await portal(stack, drawn)
            receipt = (await intake.post("/dossiers", json=body)).json()
            owners[receipt["dossier_code"]] = body["applicant"]["phone"]
            tokens[receipt["dossier_code"]] = receipt["access_token"]
        for code in owners:  # each to the leader's approval step, ready to be approved
            await reception.at_step(code, "receive")
            assert (await reception.post(f"/dossiers/{code}/claim")).status_code == 200
            assert (await reception.post(f"/dossiers/{code}/forward")).json()["holder"] == specialist.id
            at_approval = (await specialist.post(f"/dossiers/{code}/forward")).json()
            assert at_approval["step"] == "approve", at_approval
            leaders[code] = team[at_approval["holder"]]
            await wait_until(
                lambda code=code: (
                    routing_state(stack, code).get("fee_settled") and routing_state(stack, code).get("digitised")
                ),
                "fee and digitisation",
            )
        # the leader approves while the owner withdraws, each of the four at the same moment
        races = await asyncio.gather(
            *(
                asyncio.gather(
                    leaders[code].post(f"/dossiers/{code}/approval"),
                    intake.post(
                        f"/dossiers/{code}/withdrawal",
                        params={"token": tokens[code]},
                        json={"owner": owner, "reason": "Đổi ý"},
                    ),
                )
                for code, owner in owners.items()
            )
        )
    for approval, request in races:
        assert approval.status_code in (200, 409), approval.text
        assert request.status_code in (202, 409), request.text

    async def answered() -> dict[str, list[str]]:
        found = await events(stack, DossierCompleted.TOPIC)
        return {
            code: [e.type for e in found if e.subject == code and e.type in ("dossier.approved", "dossier.withdrawn")]
            for code in owners
        }

    outcomes = await eventually(answered, lambda found: all(found.values()))
    for (approval, _), (code, decided) in zip(races, outcomes.items(), strict=True):
        assert decided in (["dossier.approved"], ["dossier.withdrawn"]), (code, decided)
        state = routing_state(stack, code)
        if decided == ["dossier.withdrawn"]:
            assert approval.status_code == 409 and state["status"] == "withdrawn"
        else:
            assert approval.status_code == 200 and state["status"] != "withdrawn"
    signed = await eventually(
        lambda: signed_codes(stack),
        lambda found: all(c in found for c, d in outcomes.items() if d == ["dossier.approved"]),
    )
    assert {c for c, d in outcomes.items() if d == ["dossier.withdrawn"]}.isdisjoint(signed)


async def signed_codes(stack: Stack) -> set[str]:
    return {e.subject for e in await events(stack, ResultSigned.TOPIC) if e.type == ResultSigned.TYPE}
