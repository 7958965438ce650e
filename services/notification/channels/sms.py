"""SMS through a brandname gateway's HTTP API (tin nhắn thương hiệu).

`POST {base}/sms/v1/messages` with a bearer API key and `{brandname, phone, text, request_id,
callback_url}`: 202 accepted (200 with the same `message_id` for a `request_id` seen before, so
a retry never sends a second SMS); 400 refused for good (an invalid number or text); 429 rate
limited (`Retry-After`); 5xx try later. Delivery reports come back to `callback_url`, signed
with HMAC-SHA256 over the body (`X-Signature`, hex): `api/deliveries.py` checks them.
"""

from __future__ import annotations

import httpx

from . import Accepted, Outgoing, PermanentFailure, TransientFailure, international
from .http import answer_json, retry_after

TIMEOUT_S = 15


class SmsChannel:
    name = "sms"

    def __init__(self, base_url: str, api_key: str, brandname: str, callback_url: str, per_second: float) -> None:
        self.brandname, self.callback_url, self.per_second = brandname, callback_url, per_second
        self.client = httpx.AsyncClient(
            base_url=base_url, timeout=TIMEOUT_S, headers={"Authorization": f"Bearer {api_key}"}
        )

    async def send(self, message: Outgoing) -> Accepted:
        body = {
            "brandname": self.brandname,
            "phone": international(message.to),
            "text": message.text,
            "request_id": message.message_id,
            "callback_url": self.callback_url,
        }
        try:
            response = await self.client.post("/sms/v1/messages", json=body)
        except httpx.HTTPError as error:
            raise TransientFailure(f"SMS gateway unreachable: {type(error).__name__}") from None
        answer = answer_json(response)
        if response.status_code in (200, 202) and answer.get("message_id"):
            return Accepted(str(answer["message_id"]))
        reason = f"SMS gateway {response.status_code} {answer.get('error', '')} {answer.get('message', '')}".strip()
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientFailure(reason, retry_after(response), rate_limited=response.status_code == 429)
        if response.status_code in (401, 403):  # our key: an operator's problem, not the message's
            raise TransientFailure(reason)
        raise PermanentFailure(reason)

    async def aclose(self) -> None:
        await self.client.aclose()
