"""Routing in process for the fast tests: the real subscriber and HTTP app on the
harness, officials' tokens from the development issuer running in process too, and
its caches on a clock the test moves."""

from __future__ import annotations

import subprocess
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from motcua_contracts import (
    DossierDigitised,
    DossierReceived,
    DossierWithdrawalRequested,
    Envelope,
    Event,
    OfficialUpdated,
    PaymentNotRequired,
)

from infra.issuer import create_app
from services.routing.app import create
from services.routing.context import RoutingContext
from services.routing.settings import RoutingSettings
from services.runtime import utcnow
from services.runtime.auth import TokenVerifier
from services.runtime.calendar import WorkCalendar
from tests.harness import Harness

from .events import APPROVAL_KEY, received, signed

ISSUER = "http://issuer.test"
BYTES = "application/octet-stream"
SUPPLEMENT = {"documents": ["Giấy tờ chứng minh chỗ ở"], "reason": "Giấy tờ chưa rõ"}
CALENDAR = WorkCalendar()


@dataclass
class Ticks:
    """A monotonic clock the test moves by hand (routing's caches')."""

    now: float = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Officer:
    """An official with a token from the issuer, talking to routing's HTTP app."""

    id: str
    client: httpx.AsyncClient
    token: str

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.client.get(path, params=params, headers=self.auth)

    async def post(self, path: str, body: dict[str, Any] | None = None) -> httpx.Response:
        return await self.client.post(path, json=body or {}, headers=self.auth)

    async def put(self, path: str, body: dict[str, Any]) -> httpx.Response:
        return await self.client.put(path, json=body, headers=self.auth)

    async def dossier(self, code: str) -> dict[str, Any]:
        response = await self.get(f"/dossiers/{code}")
        assert response.status_code == 200, response.text
        return response.json()


@dataclass
class Routing:
    harness: Harness[RoutingContext]
    client: httpx.AsyncClient
    issuer: FastAPI
    ticks: Ticks
    tokens: dict[str, str] = field(default_factory=dict)

    async def officer(self, official_id: str) -> Officer:
        if official_id not in self.tokens:
            transport = httpx.ASGITransport(app=self.issuer)
            async with httpx.AsyncClient(transport=transport, base_url=ISSUER) as issuer:
                response = await issuer.post("/token", data={"username": official_id})
            assert response.status_code == 200, response.text
            self.tokens[official_id] = response.json()["access_token"]
        return Officer(official_id, self.client, self.tokens[official_id])

    async def officers(self, *ids: str) -> dict[str, Officer]:
        return {official_id: await self.officer(official_id) for official_id in ids}

    async def deliver(self, event: Event) -> Envelope:
        """Publish `event` as its owner would; returns once routing has handled it."""
        envelope = Envelope.wrap(event, source=event.TOPIC.owner, commune=event.dossier_code.split("-")[0])
        # Marked as bytes: a dead-lettered copy keeps the record's headers, and the harness's
        # dead-letter listener takes bytes (FastStream would decode an unmarked JSON body).
        await self.harness.deliver_raw(
            envelope.to_bytes(), event.TOPIC.name, event.dossier_code.encode(), {"content-type": BYTES}
        )
        return envelope

    async def emitted(self, *types: type[Event]) -> list[Any]:
        return await self.harness.emitted(*types)

    async def state(self, code: str) -> dict[str, Any]:
        """The dossier as routing stored it."""
        return await self.harness.documents.get("dossiers", code) or {}

    async def receive(self, code: str, **changes: Any) -> DossierReceived:
        """Intake received the dossier just now; due in 7 working days unless told otherwise."""
        event = fresh(code, **changes)
        await self.deliver(event)
        return event

    async def digitised_and_free(self, code: str) -> None:
        """Digitisation and payment have said their piece: nothing stops an approval."""
        await self.deliver(DossierDigitised(dossier_code=code, components=[], digitised_at=utcnow()))
        await self.deliver(PaymentNotRequired(dossier_code=code))

    async def signed(self, code: str) -> None:
        await self.deliver(signed(code, utcnow()))

    async def withdrawal(self, code: str, requested_at: datetime | None = None) -> Envelope:
        request = DossierWithdrawalRequested(
            dossier_code=code, reason="Không cần nữa", requested_at=requested_at or utcnow()
        )
        return await self.deliver(request)

    async def to_approval(self, code: str, **changes: Any) -> Officer:
        """Receive a commune dossier and walk it to its approval step; the leader who holds it."""
        await self.receive(code, **changes)
        commune = code.split("-")[0].replace(".", "").lower()
        reception = await self.officer(f"{commune}.tiepnhan1")
        assert (await reception.post(f"/dossiers/{code}/claim")).status_code == 200
        review = await reception.post(f"/dossiers/{code}/forward")
        assert review.status_code == 200, review.text
        specialist = await self.officer(review.json()["holder"])
        approval = await specialist.post(f"/dossiers/{code}/forward")
        assert approval.status_code == 200 and approval.json()["step"] == "approve", approval.text
        return await self.officer(approval.json()["holder"])


def fresh(code: str, **changes: Any) -> DossierReceived:
    """`dossier.received` as intake sends it now, due in 7 working days."""
    now = utcnow()
    return received(code, **({"received_at": now, "due_at": CALENDAR.due_at(now, 7)} | changes))


def settings(**changes: Any) -> RoutingSettings:
    return RoutingSettings(
        profile="development",
        oidc_issuer=ISSUER,
        retry_backoff_s=0.001,
        approval_key_file=str(APPROVAL_KEY),
        **changes,
    )


@asynccontextmanager
async def running(tmp_path: Path, **changes: Any) -> AsyncIterator[Routing]:
    """Routing with the development issuer in process (its key under `tmp_path`)."""
    issuer = create_app(ISSUER, tmp_path / "issuer-key.pem")
    verifier = TokenVerifier(ISSUER, "motcua", transport=httpx.ASGITransport(app=issuer))
    ticks = Ticks()
    async with Harness.running(create(settings(**changes), verifier=verifier, cache_clock=ticks)) as harness:
        roster = await harness.emitted()  # the roster, announced at start (official.updated)
        assert roster and all(isinstance(event, OfficialUpdated) for event in roster)
        async with harness.http() as client:
            yield Routing(harness, client, issuer, ticks)


def pdf_text(pdf: bytes, tmp_path: Path) -> str:
    """The text of a PDF as poppler's pdftotext reads it, whitespace collapsed."""
    path = tmp_path / "form.pdf"
    path.write_bytes(pdf)
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(out.split())
