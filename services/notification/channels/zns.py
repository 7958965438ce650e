"""Zalo-style template messages (ZNS) through their HTTP API.

`POST {base}/message/template` with the official account's `access_token` header and `{phone,
template_id, template_data, tracking_id}`. Answers are HTTP 200 with an `error` code: 0 sent
(`data.msg_id`); -118 not a Zalo user, -108 invalid number, -1123/-1124 template data or template
invalid: refused for good; -32 system error and -124 (our token: an operator's problem) try
later; HTTP 429 rate limited. The `tracking_id` is the message's id: the provider answers a
second request with the same id without sending twice, and names it in delivery events
(`api/deliveries.py`).
"""

from __future__ import annotations

import httpx

from . import Accepted, Outgoing, PermanentFailure, TransientFailure, international
from .http import answer_json, retry_after

TIMEOUT_S = 15
TRY_LATER = {-32, -124}  # system error; access token invalid (renewed by an operator)


class ZnsChannel:
    name = "zns"

    def __init__(self, base_url: str, access_token: str, per_second: float) -> None:
        self.per_second = per_second
        self.client = httpx.AsyncClient(base_url=base_url, timeout=TIMEOUT_S, headers={"access_token": access_token})

    async def send(self, message: Outgoing) -> Accepted:
        body = {
            "phone": international(message.to),
            "template_id": message.zns_template,
            "template_data": message.zns_data,
            "tracking_id": message.message_id,
        }
        try:
            response = await self.client.post("/message/template", json=body)
        except httpx.HTTPError as error:
            raise TransientFailure(f"ZNS unreachable: {type(error).__name__}") from None
        answer = answer_json(response)
        if response.status_code == 429 or response.status_code >= 500:
            raise TransientFailure(
                f"ZNS {response.status_code} {answer.get('message', '')}",
                retry_after(response),
                rate_limited=response.status_code == 429,
            )
        code = answer.get("error")
        if response.status_code == 200 and code == 0:
            return Accepted(str((answer.get("data") or {}).get("msg_id", "")))
        reason = f"ZNS error {code}: {answer.get('message', '')}"
        if code in TRY_LATER or not isinstance(code, int):
            raise TransientFailure(reason)
        raise PermanentFailure(reason)

    async def aclose(self) -> None:
        await self.client.aclose()
