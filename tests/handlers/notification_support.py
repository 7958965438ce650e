"""Notification in process: channels that record what they are given (and fail when told to),
the sender's rounds run by the test, officials' tokens from the development issuer."""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from motcua_contracts import OfficialContact, OfficialUpdated

from services.notification import sender
from services.notification.app import create
from services.notification.channels import Accepted, Outgoing
from services.notification.context import Notifier
from services.notification.settings import NotificationSettings
from services.runtime import utcnow
from tests.harness import Harness

from .events import PERSONAL
from .payment_support import ISSUER, with_issuer

CODE = "H40.101-261124-0004"


class Recorder:
    """A channel that records each message it is given; `script` holds outcomes to give first
    (an exception to raise, or None to accept), then it accepts."""

    def __init__(self, name: str, per_second: float = 1000) -> None:
        self.name, self.per_second = name, per_second
        self.given: list[Outgoing] = []
        self.script: deque[Exception | None] = deque()

    async def send(self, message: Outgoing) -> Accepted:
        self.given.append(message)
        if self.script and (failure := self.script.popleft()) is not None:
            raise failure
        return Accepted(f"{self.name}-{len(self.given)}")

    async def aclose(self) -> None:
        return None

    def to(self, address: str) -> list[Outgoing]:
        return [m for m in self.given if m.to == address]


def settings(**changes: Any) -> NotificationSettings:
    chosen: dict[str, Any] = {
        "profile": "development",
        "quiet_hours": "00:00-00:00",
        "send_retry_s": 0.01,
        "oidc_issuer": ISSUER,
    }
    return NotificationSettings(**(chosen | changes))


@asynccontextmanager
async def notification_running(**changes: Any) -> AsyncIterator[Harness[Notifier]]:
    async with Harness.running(create(settings(**changes))) as harness:
        harness.context.channels = {name: Recorder(name) for name in ("sms", "zns", "email", "webhook")}
        with_issuer(harness)  # type: ignore[arg-type]
        yield harness


def channel(harness: Harness[Notifier], name: str) -> Recorder:
    found = harness.context.channels[name]
    assert isinstance(found, Recorder)
    return found


async def send(harness: Harness[Notifier], now: datetime | None = None) -> int:
    """One round of the sender (as the background job runs them)."""
    return await sender.send_round(harness.runtime, now or utcnow())


def official(
    official_id: str, unit: str = "H40.101", roles: tuple[str, ...] = ("specialist",), **contact: Any
) -> OfficialUpdated:
    details = OfficialContact(name=contact.pop("name", "Phạm Thị Lan"), **contact)
    return OfficialUpdated(
        dossier_code=official_id,
        unit=unit,
        roles=list(roles),
        active=True,
        contact=PERSONAL.seal_official(details, official_id),
        updated_at=utcnow(),
    )
