"""Channels: how a message leaves the platform. One interface, one adapter per provider:

- `email`: SMTP to the province's mail server (aiosmtplib);
- `sms`: an SMS brandname gateway's HTTP API;
- `zns`: Zalo-style template messages (ZNS) through their HTTP API;
- `webhook`: integrators' endpoints, signed the Standard Webhooks way.

An adapter answers `Accepted` (the provider took the message, with its id), or raises
`TransientFailure` (try again later: busy, rate-limited, unreachable; `retry_after` when the
provider said how long) or `PermanentFailure` (never: a number that is not a mobile number, not
a Zalo user, a mailbox that does not exist). Every adapter passes the message's own id to the
provider as its idempotency key where the protocol has one, so sending twice delivers once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class Outgoing:
    """One message, rendered, to one address."""

    message_id: str  # `<subject>:<milestone>:<channel>`, the provider's idempotency key
    to: str  # phone (0912345678), e-mail address, or the webhook subscription's name
    text: str
    subject: str | None = None
    zns_template: str | None = None
    zns_data: dict[str, str] = field(default_factory=dict)
    payload: bytes | None = None  # webhooks: the JSON body


@dataclass(frozen=True)
class Accepted:
    provider_id: str


class TransientFailure(Exception):
    """The provider could not take the message now; it may later. `rate_limited`: it asked us to
    slow down (HTTP 429), which is never a reason to give the message up."""

    def __init__(self, reason: str, retry_after: float | None = None, rate_limited: bool = False) -> None:
        super().__init__(reason)
        self.retry_after = retry_after
        self.rate_limited = rate_limited


class PermanentFailure(Exception):
    """The provider will never take this message to this address."""


class Channel(Protocol):
    name: str
    per_second: float  # the provider's rate limit; the sender stays under it

    async def send(self, message: Outgoing) -> Accepted: ...

    async def aclose(self) -> None: ...


def international(phone: str) -> str:
    """A Vietnamese mobile number as providers want it: 0912345678 -> 84912345678."""
    return "84" + phone[1:] if phone.startswith("0") else phone
