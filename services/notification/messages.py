"""A message's life (one per recipient, milestone and channel): queued → sending → sent →
delivered or undelivered; or failed, for good, with the reason.

- Its id, `<subject>:<milestone>:<channel>` (an official's id in it too), is the only key: the
  same milestone told twice (a redelivered event, a replica, a restart) finds it there.
- A message is claimed for a lease before it is sent; one whose sender died is claimed again
  when its lease runs out, and sent again under the same id, which SMS and ZNS providers take as
  their idempotency key: the citizen gets it once.
- A transient failure (busy, rate-limited, unreachable) waits and tries again, the pause
  doubling, `Retry-After` honoured; after `send_attempts` tries it counts as permanent.
- A permanent failure, or an undelivered report, ends the message `failed` and queues the same
  milestone on the citizen's next channel (`fallback`), if any.
- SMS and ZNS are not sent in the recipient's quiet hours: they wait for the morning.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from typing import Any, Literal

from motcua_contracts.events import MessageChannel
from pydantic import BaseModel, ConfigDict, Field

from services.runtime.clock import LOCAL_TZ, local

State = Literal["queued", "sending", "sent", "delivered", "undelivered", "failed"]
Audience = Literal["citizen", "official", "integrator"]
Channel = MessageChannel | Literal["webhook"]
PHONE_CHANNELS = ("sms", "zns")
FINAL = ("delivered", "undelivered", "failed")


def message_id(subject: str, milestone: str, channel: str, official: str | None = None) -> str:
    return ":".join(part for part in (subject, milestone, official, channel) if part)


class Message(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    id: str = Field(alias="_id")
    subject: str  # the dossier code (or the unit, for a digest)
    milestone: str  # its key: a template, optionally `@` what makes it distinct
    channel: Channel
    audience: Audience
    to: str  # phone, e-mail address, or the webhook subscription's name
    values: dict[str, Any] = Field(default_factory=dict)
    commune: str
    official: str | None = None
    role: Literal["holder", "leader"] | None = None
    fallback: list[MessageChannel] = Field(default_factory=list, description="Channels to try next, in order.")
    addresses: dict[str, str] = Field(default_factory=dict, description="The recipient's address on each fallback.")
    quiet_hours: str | None = None  # "21:00-07:00": not sent between on SMS or ZNS (e-mail goes at once)
    state: State = "queued"
    attempts: int = 0
    next_at: datetime
    lease_until: datetime | None = None
    provider_id: str | None = None
    reason: str | None = None
    notified: bool = False  # its `citizen.notified` / `official.notified` is out
    trace: dict[str, str] = Field(default_factory=dict, description="The dossier's trace: sending stays in it.")
    created_at: datetime
    sent_at: datetime | None = None
    reported_at: datetime | None = None

    @property
    def template(self) -> str:
        return self.milestone.split("@")[0]

    def due(self, now: datetime) -> bool:
        if self.state == "queued":
            return self.next_at <= now
        return self.state == "sending" and self.lease_until is not None and self.lease_until <= now

    def claim(self, now: datetime, lease: timedelta) -> bool:
        """Take the message for sending; False (and postponed) in the recipient's quiet hours."""
        quiet = self.quiet_hours if self.channel in PHONE_CHANNELS else None
        if quiet and (ends := quiet_until(quiet, now)) is not None:
            self.state, self.next_at, self.lease_until = "queued", ends, None
            return False
        self.state, self.lease_until = "sending", now + lease
        self.attempts += 1
        return True

    def sent(self, provider_id: str, now: datetime) -> bool:
        """The provider took it; True when its `notified` event is due now (once)."""
        if self.state in ("queued", "sending"):
            self.state, self.lease_until = "sent", None
        self.provider_id = self.provider_id or provider_id
        self.sent_at = self.sent_at or now
        first, self.notified = not self.notified, True
        return first

    def retry(self, reason: str, now: datetime, pause: timedelta) -> None:
        self.state, self.reason, self.next_at, self.lease_until = "queued", reason, now + pause, None

    def fail(self, reason: str) -> None:
        self.state, self.reason, self.lease_until = "failed", reason, None

    def reported(self, delivered: bool, reason: str | None, now: datetime) -> bool:
        """The provider's delivery report; False when it changes nothing (a report seen before)."""
        state: State = "delivered" if delivered else "undelivered"
        if self.state in FINAL:
            return False
        self.state, self.reported_at, self.lease_until = state, now, None
        if not delivered:
            self.reason = reason
        return True

    def next_channel(self, now: datetime) -> Message | None:
        """The same milestone on the next channel, when this one cannot carry it."""
        if not self.fallback:
            return None
        channel, *rest = self.fallback
        return self.model_copy(
            update={
                "id": message_id(self.subject, self.milestone, channel, self.official),
                "channel": channel,
                "to": self.addresses[channel],
                "fallback": rest,
                "state": "queued",
                "attempts": 0,
                "next_at": now,
                "lease_until": None,
                "provider_id": None,
                "reason": None,
                "notified": False,
                "created_at": now,
                "sent_at": None,
                "reported_at": None,
            }
        )

    def document(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True)


def quiet_until(window: str, now: datetime) -> datetime | None:
    """When the quiet window `HH:MM-HH:MM` (local time) that `now` falls in ends; None outside it."""
    start_text, end_text = window.split("-")
    start, end = time.fromisoformat(start_text), time.fromisoformat(end_text)
    moment = local(now)
    clock = moment.time().replace(tzinfo=None)
    inside = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not inside or start == end:
        return None
    ends = datetime.combine(moment.date(), end, tzinfo=LOCAL_TZ)
    return ends if ends > moment else ends + timedelta(days=1)


def mask(address: str) -> str:
    """An address as events and logs may show it: 091****678, n***@gmail.com."""
    if "@" in address:
        name, _, domain = address.partition("@")
        return f"{name[:1]}***@{domain}"
    return address[:3] + "****" + address[-3:] if len(address) >= 7 else "****"
