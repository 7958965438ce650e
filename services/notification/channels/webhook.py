"""Integrators' webhooks, signed the Standard Webhooks way (standardwebhooks.com): headers
`webhook-id` (the message's id: the receiver drops a replay), `webhook-timestamp` (the receiver
refuses one older than its tolerance, five minutes by default) and `webhook-signature`
(`v1,` + base64 HMAC-SHA256 over `id.timestamp.body` under the subscription's secret)."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from standardwebhooks.webhooks import Webhook

from ..settings import WebhookSubscription
from . import Accepted, Outgoing, PermanentFailure, TransientFailure

TIMEOUT_S = 15


class WebhookChannel:
    name = "webhook"

    def __init__(self, subscriptions: list[WebhookSubscription], per_second: float = 50) -> None:
        self.subscriptions = {s.name: s for s in subscriptions}
        self.signers = {s.name: Webhook(s.secret) for s in subscriptions}
        self.per_second = per_second
        self.client = httpx.AsyncClient(timeout=TIMEOUT_S)

    def headers(self, message: Outgoing, body: bytes, now: datetime | None = None) -> dict[str, str]:
        now = now or datetime.now(UTC)
        signature = self.signers[message.to].sign(message.message_id, now, body.decode())
        return {
            "content-type": "application/json",
            "webhook-id": message.message_id,
            "webhook-timestamp": str(int(now.timestamp())),
            "webhook-signature": signature,
        }

    async def send(self, message: Outgoing) -> Accepted:
        subscription = self.subscriptions.get(message.to)
        if subscription is None:
            raise PermanentFailure(f"no webhook subscription named {message.to!r}")
        body = message.payload or b"{}"
        try:  # signed at each try: the timestamp must be fresh
            response = await self.client.post(subscription.url, content=body, headers=self.headers(message, body))
        except httpx.HTTPError as error:
            raise TransientFailure(f"webhook unreachable: {type(error).__name__}") from None
        if 200 <= response.status_code < 300:
            return Accepted(message.message_id)
        reason = f"webhook answered {response.status_code}"
        if response.status_code in (408, 429) or response.status_code >= 500:
            raise TransientFailure(reason, rate_limited=response.status_code == 429)
        raise PermanentFailure(reason)

    async def aclose(self) -> None:
        await self.client.aclose()
