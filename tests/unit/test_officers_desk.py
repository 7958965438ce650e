"""The simulator working dossiers end to end against a fake platform over `httpx.MockTransport`:
routing's officer API with its rules in miniature, whose actions come back as events on the
simulator's `record` (as routing's topic would bring them), intake's supplement endpoint and
the issuer. No server, no broker."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime
from typing import Any

import httpx
from motcua_contracts import (
    DossierAssigned,
    DossierCompleted,
    DossierRefused,
    DossierStepStarted,
    Envelope,
    Event,
)

from infra.officers import Endpoints, Officers, Options

NOW = datetime(2026, 11, 23, 9, tzinfo=UTC)
OWNER = "0912345678"
STEPS = [  # commune-standard: id, role, action, assignment
    ("receive", "receiving", "forward", "pool"),
    ("review", "specialist", "forward", "auto"),
    ("approve", "leader", "approve", "auto"),
    ("sign", "system", "sign", "none"),
    ("return", "receiving", "return", "pool"),
]
STAFF = {"receiving": ["h40101.tiepnhan1"], "specialist": ["h40101.hotich"], "leader": ["h40101.chutich"]}


class Dossier:
    def __init__(self, code: str, paid: bool) -> None:
        self.code, self.paid = code, paid
        self.index, self.holder, self.closed = -1, None, False
        self.waiting_for_supplement = False
        self.approval_refused = False
        self.on_paper = True  # one component handed in on paper, to scan at receipt
        self.intake_knows = 0  # intake answers 409 this many more times before it learnt of a request


class FakePlatform:
    """Routing (officer API), intake (supplement, catalogue) and the issuer, in miniature."""

    def __init__(self, officers_events: list[Envelope]) -> None:
        self.dossiers: dict[str, Dossier] = {}
        self.events = officers_events
        self.log: list[tuple[str, str, str]] = []  # (official, method, path)
        self.bodies: dict[str, Any] = {}
        self.officers: Officers | None = None

    def submit(self, code: str, paid: bool = True) -> None:
        self.dossiers[code] = dossier = Dossier(code, paid)
        self.enter(dossier, 0)

    def emit(self, payload: Event) -> None:
        envelope = Envelope.wrap(payload, source="routing", commune="H40.101")
        self.events.append(envelope)
        if self.officers is not None:  # the topic brings it a moment later
            asyncio.get_running_loop().call_soon(self.officers.record, envelope)

    def enter(self, dossier: Dossier, index: int) -> None:
        step, role, _, assign = STEPS[index]
        dossier.index, dossier.holder = index, STAFF[role][0] if assign == "auto" else None
        common = {"workflow": "commune-standard", "workflow_version": 1, "step_name": step, "unit": "H40.101"}
        self.emit(
            DossierStepStarted(
                dossier_code=dossier.code,
                step=step,
                role=role,
                holder=dossier.holder,
                started_at=NOW,
                step_due_at=NOW,
                **common,
            )
        )
        if role == "system":  # signing signs at once
            self.enter(dossier, index + 1)

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if request.url.host == "issuer":
            username = dict(x.split("=") for x in request.content.decode().split("&"))["username"]
            return httpx.Response(200, json={"access_token": f"token-{username}", "expires_in": 3600})
        if request.url.host == "intake":
            return self.intake(request)
        who = request.headers["authorization"].removeprefix("Bearer token-")
        self.log.append((who, request.method, request.url.path))
        if request.url.host in ("digitisation", "signing"):
            return self.scanning(request, who)
        parts = request.url.path.strip("/").split("/")
        if parts == ["officials"]:
            rows = [{"id": i, "unit": "H40.101", "roles": [r]} for r, ids in STAFF.items() for i in ids]
            return httpx.Response(200, json={"officials": rows})
        if parts == ["workflows", "commune-standard"]:
            steps = [{"id": s, "role": r, "action": a, "assign": n} for s, r, a, n in STEPS]
            return httpx.Response(200, json={"versions": [{"unit": "*", "version": 1, "steps": steps}]})
        dossier = self.dossiers[parts[1]]
        if request.method == "GET":
            waiting = ["supplement"] * dossier.waiting_for_supplement + ["payment"] * (not dossier.paid)
            dossier.paid = dossier.paid or dossier.approval_refused  # the gateway paid meanwhile
            workflow = {"template": "commune-standard", "scope": "*", "version": 1}
            return httpx.Response(
                200, json={"procedure_code": "1.004194", "workflow": workflow, "waiting_for": waiting}
            )
        self.bodies[parts[2]] = json.loads(request.content or b"null")
        return self.act(dossier, parts[2], who)

    def act(self, dossier: Dossier, action: str, who: str) -> httpx.Response:
        step, _, ends_with, _ = STEPS[dossier.index]
        if dossier.closed:
            return httpx.Response(409, json={"detail": f"dossier {dossier.code} is closed"})
        if action == "claim":
            if dossier.holder is not None:
                return httpx.Response(409, json={"detail": f"step {step!r} is already held by {dossier.holder}"})
            dossier.holder = who
            self.emit(
                DossierAssigned(
                    dossier_code=dossier.code, step=step, unit="H40.101", holder=who, assigned_by=who, assigned_at=NOW
                )
            )
            return httpx.Response(200, json={})
        if dossier.holder != who:
            return httpx.Response(403, json={"detail": f"step {step!r} is held by {dossier.holder}"})
        if action == "forward" and dossier.waiting_for_supplement:
            return httpx.Response(409, json={"detail": "dossier is waiting for a supplement from the citizen"})
        if action == "approval" and not dossier.paid:
            dossier.approval_refused = True
            return httpx.Response(409, json={"detail": "cannot be approved yet: waiting for payment"})
        if action == "supplement-request":
            dossier.waiting_for_supplement, dossier.intake_knows = True, 1
            return httpx.Response(201, json={})
        if action == "refusal":
            dossier.closed = True
            self.emit(
                DossierRefused(dossier_code=dossier.code, reason="x", refused_by=who, unit="H40.101", refused_at=NOW)
            )
            return httpx.Response(200, json={})
        expected = {"forward": "forward", "approval": "approve", "return": "return"}[action]
        if expected != ends_with:
            return httpx.Response(409, json={"detail": f"step {step!r} ends with {ends_with}"})
        if action == "return":
            dossier.closed = True
            self.emit(
                DossierCompleted(
                    dossier_code=dossier.code, result_code="KQ1", completed_at=NOW, due_at=NOW, outcome="early"
                )
            )
        else:
            self.enter(dossier, dossier.index + 1)
        return httpx.Response(200, json={})

    def scanning(self, request: httpx.Request, who: str) -> httpx.Response:
        """Digitisation's scans and signing's signature on them, in miniature."""
        path = request.url.path
        if request.url.host == "signing":
            assert path == "/scans/signature" and request.headers["content-type"] == "application/pdf"
            return httpx.Response(200, content=request.content + b" signed by " + who.encode())
        if path.startswith("/scans/"):
            code = path.split("/")[2]
            if path.endswith("/copy"):
                return httpx.Response(200, content=b"%PDF- copy of " + code.encode())
            assert request.content == b"%PDF- copy of " + code.encode() + b" signed by " + who.encode()
            self.dossiers[code].on_paper = False
            return httpx.Response(200, json={"source": "scanned"})
        dossier = self.dossiers[path.split("/")[2]]
        if request.method == "GET":
            return httpx.Response(200, json={"components": [{"name": "Giấy tờ", "digitised": not dossier.on_paper}]})
        assert b'name="component"' in request.content and b'name="pages"' in request.content
        return httpx.Response(201, json={"scan_id": dossier.code, "copy_url": f"/scans/{dossier.code}/copy"})

    def intake(self, request: httpx.Request) -> httpx.Response:
        if request.url.path == "/procedures":
            components = [{"name": "Tờ khai thay đổi thông tin cư trú"}]
            return httpx.Response(200, json={"procedures": [{"code": "1.004194", "components": components}]})
        dossier = self.dossiers[request.url.path.split("/")[2]]
        body = json.loads(request.content)
        assert body["owner"] == OWNER
        if dossier.intake_knows > 0:
            dossier.intake_knows -= 1
            return httpx.Response(409, json={"detail": "dossier is received, not waiting for a supplement"})
        dossier.waiting_for_supplement = False
        return httpx.Response(200, json={"dossier_code": dossier.code})


async def simulator(platform: FakePlatform, **options: Any) -> Officers:
    endpoints = Endpoints(
        "http://routing", "http://intake", "http://issuer", "unused:9092", "http://signing", "http://digitisation"
    )
    officers = Officers(endpoints, Options(think=0, seed=5, **options), transport=httpx.MockTransport(platform))
    platform.officers = officers
    await officers.start(follow=False)
    return officers


def actions(platform: FakePlatform) -> list[tuple[str, str]]:
    """The officers' actions on dossiers at routing (scans aside)."""
    return [
        (who, path.rsplit("/", 1)[1])
        for who, method, path in platform.log
        if method == "POST" and "scan" not in path and path.count("/") == 3
    ]


async def test_officials_take_a_dossier_from_receipt_to_result_approving_once_the_fee_is_paid() -> None:
    platform = FakePlatform([])
    officers = await simulator(platform, supplements=0, refusals=0)
    try:
        platform.submit("C1", paid=False)
        officers.add("C1", owner=OWNER)
        assert await officers.wait(["C1"], timeout=10) == []
    finally:
        await officers.stop()
    assert actions(platform) == [
        ("h40101.tiepnhan1", "claim"),
        ("h40101.tiepnhan1", "forward"),
        ("h40101.hotich", "forward"),
        ("h40101.chutich", "approval"),  # 409: waiting for payment
        ("h40101.chutich", "approval"),
        ("h40101.tiepnhan1", "claim"),
        ("h40101.tiepnhan1", "return"),
    ]
    assert officers.settlements["C1"].ending == "completed" and officers.settlements["C1"].outcome == "early"
    # before forwarding, the receiving officer scanned the paper, signed the copy and handed it back
    scanning = [(who, method, path) for who, method, path in platform.log if "scan" in path]
    assert scanning == [
        ("h40101.tiepnhan1", "POST", "/dossiers/C1/scans"),
        ("h40101.tiepnhan1", "GET", "/scans/C1/copy"),
        ("h40101.tiepnhan1", "POST", "/scans/signature"),
        ("h40101.tiepnhan1", "POST", "/scans/C1/signed"),
    ]
    assert platform.dossiers["C1"].on_paper is False
    assert officers.tally.approvals_waited == 1 and officers.tally.taken == 10
    assert officers.tally.outcomes == {"approval: waiting": 1} and officers.tally.problems == []


async def test_a_dossier_sent_back_is_resubmitted_by_its_owner_then_forwarded() -> None:
    platform = FakePlatform([])
    officers = await simulator(platform, supplements=1.0, refusals=0)
    try:
        platform.submit("C2")
        officers.add("C2", owner=OWNER)
        assert await officers.wait(timeout=15) == []
    finally:
        await officers.stop()
    assert platform.bodies["supplement-request"]["documents"] == ["Tờ khai thay đổi thông tin cư trú"]
    assert ("h40101.hotich", "supplement-request") in actions(platform)
    assert officers.tally.supplements_answered == 1
    assert officers.tally.outcomes["supplement: not yet"] == 1
    assert officers.settlements["C2"].ending == "completed" and not officers.tally.problems


async def test_a_dossier_drawn_for_refusal_is_refused_by_its_specialist_with_a_reason() -> None:
    platform = FakePlatform([])
    officers = await simulator(platform, supplements=0, refusals=1.0)
    try:
        platform.submit("C3")
        officers.add("C3", owner=OWNER)
        assert await officers.wait(timeout=10) == []
    finally:
        await officers.stop()
    assert actions(platform)[-1] == ("h40101.hotich", "refusal")
    assert len(platform.bodies["refusal"]["reason"]) > 10
    assert officers.settlements["C3"].ending == "refused"


async def test_a_lost_claim_leaves_the_step_to_the_official_who_holds_it() -> None:
    platform = FakePlatform([])
    officers = await simulator(platform, supplements=0, refusals=0)
    try:
        platform.submit("C4")
        platform.dossiers["C4"].holder = "h40101.tiepnhan2"  # a colleague was quicker
        officers.add("C4", owner=OWNER)
        await asyncio.sleep(0.05)
        platform.emit(
            DossierAssigned(
                dossier_code="C4",
                step="receive",
                unit="H40.101",
                holder="h40101.tiepnhan2",
                assigned_by="h40101.tiepnhan2",
                assigned_at=NOW,
            )
        )
        assert await officers.wait(timeout=10) == []
    finally:
        await officers.stop()
    assert actions(platform)[:2] == [("h40101.tiepnhan1", "claim"), ("h40101.tiepnhan2", "forward")]
    assert officers.tally.outcomes["claim: already held"] == 1 and not officers.tally.problems


async def test_only_the_dossiers_given_are_worked_and_earlier_events_wait_for_them() -> None:
    events: list[Envelope] = []
    platform = FakePlatform(events)
    officers = await simulator(platform, supplements=0, refusals=0)
    try:
        platform.officers = None  # the topic brings these before the simulator is told of C5
        platform.submit("OTHER")
        platform.submit("C5")
        for envelope in events:
            officers.record(envelope)
        platform.officers = officers
        officers.add("C5")
        assert await officers.wait(["C5"], timeout=10) == []
        assert await officers.wait(["OTHER"], timeout=0.2) == ["OTHER"]
    finally:
        await officers.stop()
    assert "OTHER" not in {path.split("/")[2] for _, _, path in platform.log if path.startswith("/dossiers/")}
