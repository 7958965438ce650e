"""What notification's handlers, jobs and pages share: templates, channels, keys, calendar."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, cast

from prometheus_client import Counter
from pydantic import SecretStr

from services.runtime import Runtime
from services.runtime.auth import TokenVerifier
from services.runtime.calendar import WorkCalendar
from services.runtime.personal import PersonalData
from services.runtime.units import Units, load_units

from . import store, templates
from .channels import Channel
from .channels.email import EmailChannel
from .channels.sms import SmsChannel
from .channels.webhook import WebhookChannel
from .channels.zns import ZnsChannel
from .settings import NotificationSettings
from .templates import Templates


class Pace:
    """Keeps one channel under its provider's rate: each send starts at its own slot, at least
    1/rate seconds after the previous one. A provider that says "too many" (429) holds the
    channel for its `Retry-After` and halves the pace; each message it takes brings the pace
    back a little towards the configured rate (so a provider whose real limit is lower than
    the setting is still kept to)."""

    SLOWEST = 10.0  # seconds between sends, at most

    def __init__(self, per_second: float) -> None:
        self.fastest = self.interval = 1 / per_second
        self.next_slot = 0.0
        self.held_until = 0.0

    async def wait(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        slot = max(now, self.next_slot, self.held_until)
        self.next_slot = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)

    def too_many(self, retry_after: float) -> None:
        """The provider said "too many": hold the channel, and halve the pace (once per hold,
        however many sends in flight heard it)."""
        now = asyncio.get_running_loop().time()
        if now >= self.held_until:
            self.interval = min(self.SLOWEST, self.interval * 2)
        self.held_until = max(self.held_until, now + retry_after)

    def speed_up(self) -> None:
        self.interval = max(self.fastest, self.interval * 0.9)


@dataclass
class Notifier:
    settings: NotificationSettings
    templates: Templates
    channels: dict[str, Channel]
    personal: PersonalData
    calendar: WorkCalendar
    units: Units
    verifier: TokenVerifier
    paces: dict[str, Pace] = field(default_factory=dict)
    sent: Counter | None = None
    failed: Counter | None = None

    def pace(self, channel: str) -> Pace:
        if channel not in self.paces:
            self.paces[channel] = Pace(self.channels[channel].per_second)
        return self.paces[channel]

    def unit_name(self, code: str | None) -> str:
        unit = self.units.get(code) if code else None
        return unit.name if unit is not None else (code or "")

    async def aclose(self) -> None:
        for channel in self.channels.values():
            await channel.aclose()


def secret(value: SecretStr | None) -> str:
    assert value is not None  # required: the settings check fills it or refuses to start
    return value.get_secret_value()


def channels(settings: NotificationSettings) -> dict[str, Channel]:
    """Every channel, from the settings (the providers' addresses and credentials)."""
    password = settings.smtp_password.get_secret_value() if settings.smtp_password else None
    found: list[Any] = [
        EmailChannel(
            settings.smtp_host,
            settings.smtp_port,
            settings.mail_from,
            settings.smtp_username,
            password,
            settings.smtp_starttls,
        ),
        SmsChannel(
            str(settings.sms_url),
            secret(settings.sms_api_key),
            settings.sms_brandname,
            f"{settings.public_url}/deliveries/sms",
            settings.sms_per_second,
        ),
        ZnsChannel(str(settings.zns_url), secret(settings.zns_access_token), settings.zns_per_second),
        WebhookChannel(settings.subscriptions()),
    ]
    return {channel.name: channel for channel in found}


async def start(runtime: Runtime[Notifier]) -> Notifier:
    """Create indexes; load the templates (a bad file stops the start), the channels, the keys."""
    await store.create_indexes(runtime)
    settings = cast(NotificationSettings, runtime.settings)
    metrics = runtime.metrics
    return Notifier(
        settings,
        templates.load(),
        channels(settings),
        settings.personal_data(),
        WorkCalendar.load(settings.calendar_file),
        load_units(settings.units_file),
        TokenVerifier(str(settings.oidc_issuer), settings.oidc_audience),
        sent=metrics.counter("motcua_messages_sent", "Messages providers took, by channel.", "channel", "outcome"),
        failed=metrics.counter(
            "motcua_messages_not_sent", "Sends that failed, by channel and kind of failure.", "channel", "outcome"
        ),
    )
